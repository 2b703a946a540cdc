package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// appBinary builds the real app binary once per test run, with version and
// commit stamped the way the Makefile and Dockerfile stamp them. It is built
// with the test's own build flags (and -race when the test has it), so the
// packages compiled for the test are reused and only the link is new.
var appBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "app-test-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "app")
	args := []string{"build"}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "-ldflags", "-X main.version=v9.9.9-test -X main.commit=feedface", "-o", bin, ".")
	cmd := exec.Command("go", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	code := m.Run()
	if bin, err := appBinary(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

func buildApp(t *testing.T) string {
	t.Helper()
	bin, err := appBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// syncBuffer collects a process's output safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSIGTERMDrainsWithoutFailedRequests runs the real binary under steady
// concurrent load and sends SIGTERM mid-stream, as ECS does. The clients act
// like a load balancer: they stop sending new requests once /health says
// draining. No request may fail, requests in flight when the listener
// closes must finish, and the process must exit 0 within the bound.
func TestSIGTERMDrainsWithoutFailedRequests(t *testing.T) {
	bin := buildApp(t)
	const (
		workers         = 16
		latency         = 1500 * time.Millisecond // every non-health request is in flight this long
		drainDelay      = time.Second
		shutdownTimeout = 5 * time.Second
	)
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	var stdout syncBuffer
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"HOST=127.0.0.1", "PORT=" + port,
		"APP_FAULT=latency=" + latency.String(),
		"APP_DRAIN_DELAY=" + drainDelay.String(),
		"APP_SHUTDOWN_TIMEOUT=" + shutdownTimeout.String(),
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("app output:\n%s", stdout.String())
		}
	})

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers + 2}}
	get := func(path string) (int, []byte, error) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}

	// Ready: /health answers 200 with the stamped version.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body, err := get("/health")
		if err == nil && code == http.StatusOK {
			if !bytes.Contains(body, []byte(`"version":"v9.9.9-test"`)) || !bytes.Contains(body, []byte(`"commit":"feedface"`)) {
				t.Errorf("GET /health = %s, want the version and commit stamped by -ldflags", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("app not healthy within 10s: %d %v", code, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := runHealthcheck(t, bin, port); code != 0 {
		t.Errorf("app healthcheck against the running app exited %d, want 0", code)
	}

	var (
		stop      = make(chan struct{}) // closed when the "load balancer" sees draining
		ok, fails atomic.Int64
		failMu    sync.Mutex
		failures  []string
		wg        sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		fails.Add(1)
		failMu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		failMu.Unlock()
	}
	for w := range workers {
		wg.Go(func() {
			path := "/"
			if w%2 == 1 {
				path = "/api/greeting?name=Worker"
			}
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, _, err := get(path)
				if err != nil || code != http.StatusOK {
					fail("GET %s = %d, %v", path, code, err)
					continue
				}
				ok.Add(1)
			}
		})
	}

	// Mid-stream: once requests are flowing.
	deadline = time.Now().Add(10 * time.Second)
	for ok.Load() < workers {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests answered within 10s", ok.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	// The load balancer's health check sees draining and stops routing new
	// requests; one request sent right after still gets served.
	var drainBody []byte
	deadline = time.Now().Add(drainDelay)
	for {
		code, body, err := get("/health")
		if err != nil {
			t.Fatalf("GET /health after SIGTERM: %v", err)
		}
		if code == http.StatusServiceUnavailable {
			drainBody = body
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /health still %d %s %s after SIGTERM, want 503", code, time.Since(sent), body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	var status struct{ Status string }
	if err := json.Unmarshal(drainBody, &status); err != nil || status.Status != "draining" {
		t.Errorf("GET /health while draining = %s, want {\"status\":\"draining\"}", drainBody)
	}
	if code, _, err := get("/api/greeting?name=Late"); err != nil || code != http.StatusOK {
		t.Errorf("GET /api/greeting during the drain delay = %d, %v, want 200", code, err)
	}
	wg.Wait()

	bound := drainDelay + shutdownTimeout
	select {
	case err := <-exited:
		took := time.Since(sent)
		if err != nil {
			t.Errorf("app exited with %v after SIGTERM, want exit status 0", err)
		}
		if took > bound {
			t.Errorf("app exited %s after SIGTERM, want within %s", took, bound)
		}
	case <-time.After(bound + 2*time.Second):
		t.Fatalf("app still running %s after SIGTERM, bound %s", time.Since(sent), bound)
	}
	if n := fails.Load(); n != 0 {
		t.Errorf("%d of %d requests failed during the SIGTERM drain, want 0:\n%s", n, n+ok.Load(), strings.Join(failures, "\n"))
	}

	// Requests in flight when the listener closed finished: their access
	// log lines come after "shutting down".
	var afterShutdown, lines int
	shuttingDown := false
	sc := bufio.NewScanner(strings.NewReader(stdout.String()))
	for sc.Scan() {
		var l struct{ Msg string }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Errorf("app wrote a line that is not JSON: %q", sc.Text())
			continue
		}
		lines++
		switch {
		case strings.HasPrefix(l.Msg, "shutting down"):
			shuttingDown = true
		case l.Msg == "request" && shuttingDown:
			afterShutdown++
		}
	}
	if !shuttingDown || afterShutdown == 0 {
		t.Errorf("saw shutting down = %v and %d requests completing after it, want requests in flight across the shutdown", shuttingDown, afterShutdown)
	}
	if code := runHealthcheck(t, bin, port); code != 1 {
		t.Errorf("app healthcheck after exit = %d, want 1", code)
	}
	t.Logf("%d requests ok, %d completed after the listener closed, exit %s after SIGTERM", ok.Load(), afterShutdown, time.Since(sent).Round(time.Millisecond))
}

func runHealthcheck(t *testing.T, bin, port string) int {
	t.Helper()
	cmd := exec.Command(bin, "healthcheck")
	cmd.Env = []string{"PORT=" + port}
	out, err := cmd.CombinedOutput()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run app healthcheck: %v\n%s", err, out)
	}
	return 0
}

// TestStartRefusals runs the real binary with environments it must refuse.
func TestStartRefusals(t *testing.T) {
	bin := buildApp(t)
	tests := []struct {
		name  string
		env   []string
		code  int
		wants []string
	}{
		{"crash fault", []string{"APP_FAULT=crash"}, 1, []string{"APP_FAULT=crash", "on purpose"}},
		{"invalid fault", []string{"APP_FAULT=errors=lots"}, 2, []string{`APP_FAULT \"errors=lots\"`, "health", "errors=", "latency=", "crash"}},
		{"invalid port", []string{"PORT=5000x"}, 2, []string{`PORT \"5000x\"`}},
		{"unknown command", nil, 2, []string{"unknown command"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var args []string
			if tt.name == "unknown command" {
				args = []string{"serve-please"}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Env = append([]string{"HOST=127.0.0.1", "PORT=" + freePort(t)}, tt.env...)
			out, err := cmd.CombinedOutput()
			code := 0
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			if code != tt.code {
				t.Errorf("app with %v exited %d (%v), want %d; output:\n%s", tt.env, code, err, tt.code, out)
			}
			for _, want := range tt.wants {
				if !strings.Contains(string(out), want) {
					t.Errorf("app with %v output = %q, want it to contain %q", tt.env, out, want)
				}
			}
		})
	}
}

func TestHealthcheck(t *testing.T) {
	var status atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	tests := []struct {
		name   string
		env    map[string]string
		status int32
		want   int
	}{
		{"healthy", map[string]string{"HOST": host, "PORT": port}, 200, 0},
		{"draining", map[string]string{"HOST": host, "PORT": port}, 503, 1},
		{"wildcard host probes loopback", map[string]string{"HOST": "0.0.0.0", "PORT": port}, 200, 0},
		{"unset host probes loopback", map[string]string{"PORT": port}, 200, 0},
		{"nothing listening", map[string]string{"HOST": host, "PORT": freePort(t)}, 200, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status.Store(tt.status)
			var stderr bytes.Buffer
			got := run(context.Background(), []string{"healthcheck"}, func(k string) string { return tt.env[k] }, io.Discard, &stderr)
			if got != tt.want {
				t.Errorf("app healthcheck with %v against status %d = %d, want %d (stderr %q)", tt.env, tt.status, got, tt.want, stderr.String())
			}
			if got != 0 && !strings.Contains(stderr.String(), "/health") {
				t.Errorf("app healthcheck failure message = %q, want it to name the URL", stderr.String())
			}
		})
	}
}

func TestProbeHost(t *testing.T) {
	for in, want := range map[string]string{"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1", "127.0.0.9": "127.0.0.9"} {
		if got := probeHost(in); got != want {
			t.Errorf("probeHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSecondSIGTERMStopsAtOnce: a person who does not want to wait for the
// drain sends the signal again.
func TestSecondSIGTERMStopsAtOnce(t *testing.T) {
	bin := buildApp(t)
	port := freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = []string{"HOST=127.0.0.1", "PORT=" + port, "APP_DRAIN_DELAY=1m"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// health polls /health until it answers want, within 10s.
	health := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Get("http://127.0.0.1:" + port + "/health")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == want {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET /health did not answer %d within 10s (last error %v)", want, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	health(http.StatusOK)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	health(http.StatusServiceUnavailable) // draining, for a minute
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err == nil {
			t.Error("app exited 0 after a second SIGTERM, want killed by the signal")
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("app still running %s after a second SIGTERM during a 1m drain", time.Since(sent))
	}
}
