package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// serve runs s.Serve on a loopback port and returns its base URL, a cancel
// that starts the drain, and the channel Serve's result arrives on.
func serve(t *testing.T, s *Server, tm Timings) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, tm) }()
	t.Cleanup(cancel)
	return "http://" + ln.Addr().String(), cancel, done
}

func get(t *testing.T, url string) (int, map[string]any, error) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m, nil
}

func TestServeDrainsThenShutsDown(t *testing.T) {
	s, logs, _ := newTestServer(t)
	entered, release := make(chan struct{}), make(chan struct{})
	s.echo.GET("/inflight", func(c echo.Context) error {
		close(entered)
		<-release
		return c.JSON(http.StatusOK, map[string]string{"done": "yes"})
	})
	// The drain delay is the window in which the test sees /health turn 503
	// and is still served: long enough for a loaded machine.
	base, drain, done := serve(t, s, Timings{DrainDelay: 2 * time.Second, ShutdownTimeout: 5 * time.Second})

	if code, _, err := get(t, base+"/health"); err != nil || code != http.StatusOK {
		t.Fatalf("GET /health before SIGTERM = %d, %v, want 200", code, err)
	}
	inflight := make(chan int, 1)
	go func() {
		code, _, err := get(t, base+"/inflight")
		if err != nil {
			t.Errorf("in-flight request failed: %v", err)
		}
		inflight <- code
	}()
	<-entered

	drain()
	// /health turns 503 as soon as Serve sees the signal; other requests
	// are still served.
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body, err := get(t, base+"/health")
		if err != nil {
			t.Fatalf("GET /health after SIGTERM: %v", err)
		}
		if code == http.StatusServiceUnavailable {
			if body["status"] != "draining" {
				t.Errorf("GET /health after SIGTERM = %d %v, want 503 draining", code, body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /health still %d 5s after SIGTERM, want 503", code)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code, _, err := get(t, base+"/api/greeting?name=Ada"); err != nil || code != http.StatusOK {
		t.Errorf("GET /api/greeting while draining = %d, %v, want 200", code, err)
	}

	// After the drain delay the listener closes, but Serve waits for the
	// in-flight request.
	deadline = time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "shutting down") {
		if time.Now().After(deadline) {
			t.Fatal("no \"shutting down\" log line within 5s of the drain delay")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v while a request was in flight", err)
	default:
	}
	close(release)
	if code := <-inflight; code != http.StatusOK {
		t.Errorf("in-flight request across shutdown = %d, want 200", code)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve after a clean drain = %v, want nil", err)
	}
	if _, _, err := get(t, base+"/health"); err == nil {
		t.Errorf("GET /health after shutdown succeeded, want the connection refused")
	}
}

func TestServeGivesUpAfterShutdownTimeout(t *testing.T) {
	s, _, _ := newTestServer(t)
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	s.echo.GET("/stuck", func(c echo.Context) error {
		close(entered)
		<-release
		return nil
	})
	base, drain, done := serve(t, s, Timings{DrainDelay: 0, ShutdownTimeout: 100 * time.Millisecond})
	go func() { _, _, _ = get(t, base+"/stuck") }()
	<-entered
	drain()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "APP_SHUTDOWN_TIMEOUT") {
			t.Errorf("Serve with a stuck request = %v, want an error naming APP_SHUTDOWN_TIMEOUT", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5s of a 100ms shutdown timeout")
	}
}

func TestServeReportsListenerFailure(t *testing.T) {
	s, _, _ := newTestServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if err := s.Serve(context.Background(), ln, Timings{}); err == nil {
		t.Error("Serve on a closed listener = nil, want an error")
	}
}
