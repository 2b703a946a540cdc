// Package loadgen drives HTTP/1.1 load at one URL over keep-alive
// connections and measures throughput and latency. It has two modes:
//
//   - closed loop (Rate == 0): Conns connections each send the next request
//     as soon as the last answer arrived, which finds the saturation rate;
//   - open loop (Rate > 0): requests are due on a fixed schedule and each
//     latency is measured from when the request was due, not when it was
//     sent, so a stalled server cannot hide its stall by slowing the
//     generator down (no coordinated omission).
//
// Requests go out as pre-built bytes and answers are parsed with
// net/http's response reader: far cheaper than a full http.Client, so on a
// small machine the generator takes less CPU from the server it measures.
package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Config describes one run.
type Config struct {
	// URL is the http:// URL to GET.
	URL string
	// Conns is the number of keep-alive connections (default 32).
	Conns int
	// Duration is how long to measure.
	Duration time.Duration
	// Warmup runs before measuring and is not counted.
	Warmup time.Duration
	// Rate is the open-loop request rate per second; 0 means closed loop.
	Rate float64
	// Timeout bounds one request (default 5 s).
	Timeout time.Duration
}

// Result is what one run measured.
type Result struct {
	Requests int           // answered with 2xx during the measurement
	Errors   int           // transport errors and non-2xx answers
	Elapsed  time.Duration // measurement time
	// Late counts open-loop requests sent more than 2 ms after they were
	// due, because every connection was busy or the generator did not get
	// the CPU; their latency includes the wait.
	Late      int
	latencies []time.Duration
}

// RPS is the throughput of successful requests.
func (r Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Percentile returns the latency at p in [0, 100] (nearest rank).
func (r Result) Percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(p/100*float64(len(r.latencies))+0.5) - 1
	i = max(0, min(i, len(r.latencies)-1))
	return r.latencies[i]
}

// lateAfter is how late a request may leave before it counts as Late. Go's
// timers wake about 1 ms late when the process is idle, so requests leave
// in small bursts; only lateness beyond that says the generator stalled.
const lateAfter = 2 * time.Millisecond

// Run executes cfg until its duration has passed or ctx is done.
func Run(ctx context.Context, cfg Config) (Result, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return Result{}, fmt.Errorf("parse load URL %q: want http://host:port/path", cfg.URL)
	}
	if cfg.Duration <= 0 {
		return Result{}, errors.New("run load: want a positive duration")
	}
	if cfg.Conns <= 0 {
		cfg.Conns = 32
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	path := u.RequestURI()
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: shipyard-loadgen\r\n\r\n")

	start := time.Now()
	measureFrom := start.Add(cfg.Warmup)
	end := measureFrom.Add(cfg.Duration)
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()

	// Open loop: a scheduler hands out due times; closed loop: none.
	var due chan time.Time
	if cfg.Rate > 0 {
		due = make(chan time.Time, cfg.Conns)
		go schedule(ctx, start, end, cfg.Rate, due)
	}

	var (
		mu  sync.Mutex
		res Result
		wg  sync.WaitGroup
	)
	for range cfg.Conns {
		wg.Go(func() {
			w := worker{addr: u.Host, req: req, timeout: cfg.Timeout}
			defer w.close()
			var lat []time.Duration
			var ok, bad, late int
			for {
				var t0 time.Time
				if due != nil {
					var open bool
					select {
					case t0, open = <-due:
					case <-ctx.Done():
					}
					if !open {
						break
					}
					if time.Since(t0) > lateAfter {
						late++
					}
				} else {
					if ctx.Err() != nil {
						break
					}
					t0 = time.Now()
				}
				err := w.do()
				done := time.Now()
				if t0.Before(measureFrom) || done.After(end) {
					continue // warmup, or cut off by the end of the run
				}
				if err != nil {
					bad++
					continue
				}
				ok++
				lat = append(lat, done.Sub(t0))
			}
			mu.Lock()
			res.Requests += ok
			res.Errors += bad
			res.Late += late
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.Elapsed = cfg.Duration
	if now := time.Now(); now.Before(end) {
		res.Elapsed = now.Sub(measureFrom) // ctx cancelled early
	}
	slices.Sort(res.latencies)
	if res.Requests == 0 && res.Errors > 0 {
		return res, fmt.Errorf("load %s: all %d requests failed; is the server up?", cfg.URL, res.Errors)
	}
	return res, nil
}

// schedule sends the due time of each request at rate per second until end.
func schedule(ctx context.Context, start, end time.Time, rate float64, due chan<- time.Time) {
	defer close(due)
	interval := time.Duration(float64(time.Second) / rate)
	for i := 0; ; i++ {
		t := start.Add(time.Duration(i) * interval)
		if !t.Before(end) {
			return
		}
		if d := time.Until(t); d > 0 {
			timer := time.NewTimer(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				return
			}
		}
		select {
		case due <- t:
		case <-ctx.Done():
			return
		}
	}
}

// worker owns one keep-alive connection, redialled after any error.
type worker struct {
	addr    string
	req     []byte
	timeout time.Duration
	conn    net.Conn
	br      *bufio.Reader
}

func (w *worker) do() error {
	if w.conn == nil {
		c, err := net.DialTimeout("tcp", w.addr, w.timeout)
		if err != nil {
			return err
		}
		w.conn, w.br = c, bufio.NewReaderSize(c, 16<<10)
	}
	err := w.roundTrip()
	if err != nil {
		w.close()
	}
	return err
}

func (w *worker) roundTrip() error {
	_ = w.conn.SetDeadline(time.Now().Add(w.timeout))
	if _, err := w.conn.Write(w.req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %s", resp.Status)
	}
	if resp.Close {
		w.close()
	}
	return nil
}

func (w *worker) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn, w.br = nil, nil
	}
}
