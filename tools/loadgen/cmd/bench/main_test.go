package main

import (
	"os"
	"testing"
	"time"
)

func TestWrkOutput(t *testing.T) {
	const out = `Running 5s test @ http://127.0.0.1:40123/health
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   520.12us  210.33us   9.87ms   90.12%
    Req/Sec    61.23k     2.01k   64.50k    80.00%
  304622 requests in 5.00s, 61.87MB read
Requests/sec:  60913.42
Transfer/sec:     12.37MB
`
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil || m[1] != "60913.42" {
		t.Errorf("wrkRPS in wrk's output = %v, want 60913.42", m)
	}
}

func TestProcReaders(t *testing.T) {
	pid := os.Getpid()
	if got := rss(pid); got < 1<<20 {
		t.Errorf("rss(self) = %d bytes, want at least 1 MiB", got)
	}
	// Burn CPU until the counter moves (it ticks every 10 ms).
	before := cpuTime(pid)
	after := before
	for deadline := time.Now().Add(5 * time.Second); after == before && time.Now().Before(deadline); {
		after = cpuTime(pid)
	}
	if after <= before || after > time.Hour {
		t.Errorf("cpuTime(self) went from %s to %s while spinning for up to 5s, want it to grow", before, after)
	}
	busy, total := machineCPU()
	if busy <= 0 || total < busy {
		t.Errorf("machineCPU() = %s busy of %s, want 0 < busy <= total", busy, total)
	}
	if rss(1<<30) != 0 || cpuTime(1<<30) != 0 {
		t.Error("rss and cpuTime of a missing process are not 0")
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 3}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
