package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipyard-ecs/shipyard/services/app/internal/logging"
)

// logBuffer collects JSON log lines safely from concurrent handlers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the log lines decoded, failing t on a line that is not JSON.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(b.buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// requestLine returns the access log line of the request with id.
func (b *logBuffer) requestLine(t *testing.T, id string) map[string]any {
	t.Helper()
	for _, l := range b.lines(t) {
		if l["msg"] == "request" && l["request_id"] == id {
			return l
		}
	}
	t.Fatalf("no access log line with request_id %q in:\n%s", id, b.buf.String())
	return nil
}

// fixedClock is a clock that tests move by hand.
type fixedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fixedClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var start = time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)

// newTestServer returns a Server with a debug-level logger into a buffer
// and a hand-moved clock; opts may adjust the options first.
func newTestServer(t *testing.T, opts ...func(*Options)) (*Server, *logBuffer, *fixedClock) {
	t.Helper()
	logs := &logBuffer{}
	clock := &fixedClock{now: start}
	o := Options{
		Logger:  logging.New(logs, slog.LevelDebug),
		Version: "v1.2.3",
		Commit:  "abc123",
		Now:     clock.Now,
	}
	for _, f := range opts {
		f(&o)
	}
	return New(o), logs, clock
}

// response is what a test sees of one response.
type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// do sends one request through s (the full handler, middlewares included).
func do(t *testing.T, s http.Handler, method, target string, header http.Header, body io.Reader) response {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	r := response{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if method != http.MethodHead {
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: Content-Type = %q, want application/json; body %q", method, target, ct, r.raw)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &r.body); err != nil {
			t.Fatalf("%s %s: body %q is not a JSON object: %v", method, target, r.raw, err)
		}
	}
	return r
}

// wantFields checks that body has every field of want with the same value.
func wantFields(t *testing.T, what string, body map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s: body[%q] = %v, want %v (body %v)", what, k, body[k], v, body)
		}
	}
}

// do2 is do without the JSON checks, for handlers that answer otherwise.
func do2(t *testing.T, s http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

// String returns everything logged so far.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
