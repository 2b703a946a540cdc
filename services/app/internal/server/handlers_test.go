package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shipyard-ecs/shipyard/services/app/internal/ecsmeta"
	"github.com/shipyard-ecs/shipyard/services/app/internal/fault"
)

func TestHealth(t *testing.T) {
	s, _, clock := newTestServer(t)
	clock.Add(90 * time.Second)
	r := do(t, s, http.MethodGet, "/health", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /health status = %d, want 200", r.status)
	}
	wantFields(t, "GET /health", r.body, map[string]any{"status": "ok", "version": "v1.2.3", "commit": "abc123", "uptime": "1m30s"})

	if r := do(t, s, http.MethodHead, "/health", nil, nil); r.status != http.StatusOK {
		t.Errorf("HEAD /health status = %d, want 200", r.status)
	}

	s.StartDraining()
	r = do(t, s, http.MethodGet, "/health", nil, nil)
	if r.status != http.StatusServiceUnavailable || r.raw != "{\"status\":\"draining\"}\n" {
		t.Errorf("GET /health while draining = %d %q, want 503 {\"status\":\"draining\"}", r.status, r.raw)
	}
	if got := r.header.Get("Connection"); got != "close" {
		t.Errorf("Connection header while draining = %q, want close", got)
	}
	if r := do(t, s, http.MethodHead, "/health", nil, nil); r.status != http.StatusServiceUnavailable {
		t.Errorf("HEAD /health while draining status = %d, want 503", r.status)
	}
	// Everything else is still served while draining.
	if r := do(t, s, http.MethodGet, "/api/greeting?name=Ada", nil, nil); r.status != http.StatusOK {
		t.Errorf("GET /api/greeting while draining status = %d, want 200", r.status)
	}
}

func TestInfo(t *testing.T) {
	s, _, clock := newTestServer(t)
	clock.Add(3 * time.Second)
	r := do(t, s, http.MethodGet, "/", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET / status = %d, want 200", r.status)
	}
	wantFields(t, "GET /", r.body, map[string]any{
		"service": "app", "version": "v1.2.3", "commit": "abc123",
		"started_at": "2026-11-25T17:00:00Z", "uptime": "3s",
	})
	for _, absent := range []string{"ecs", "fault"} {
		if _, ok := r.body[absent]; ok {
			t.Errorf("GET / off ECS without a fault has %q: %v", absent, r.body)
		}
	}
}

func TestInfoOnECS(t *testing.T) {
	const task = `{"Cluster":"shipyard","TaskARN":"arn:aws:ecs:us-east-1:111122223333:task/shipyard/0123456789abcdef","Family":"shipyard-app","Revision":"12","AvailabilityZone":"us-east-1a","LaunchType":"FARGATE"}`
	calls := 0
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.URL.Path != "/v4/abc/task" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(task))
	}))
	defer meta.Close()
	s, _, _ := newTestServer(t, func(o *Options) { o.Tasks = ecsmeta.New(meta.URL + "/v4/abc") })

	for range 3 {
		r := do(t, s, http.MethodGet, "/", nil, nil)
		ecs, _ := r.body["ecs"].(map[string]any)
		wantFields(t, "GET / on ECS: ecs", ecs, map[string]any{
			"task_arn":          "arn:aws:ecs:us-east-1:111122223333:task/shipyard/0123456789abcdef",
			"availability_zone": "us-east-1a", "family": "shipyard-app", "revision": "12",
		})
	}
	if calls != 1 {
		t.Errorf("task metadata endpoint called %d times for 3 requests, want 1 (cached)", calls)
	}
}

func TestInfoShowsMetadataFailure(t *testing.T) {
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer meta.Close()
	s, _, _ := newTestServer(t, func(o *Options) { o.Tasks = ecsmeta.New(meta.URL) })
	r := do(t, s, http.MethodGet, "/", nil, nil)
	ecs, _ := r.body["ecs"].(map[string]any)
	if r.status != http.StatusOK || !strings.Contains(ecs["error"].(string), "task metadata unavailable") {
		t.Errorf("GET / with a failing metadata endpoint = %d %v, want 200 with ecs.error", r.status, r.body)
	}
}

func TestGreeting(t *testing.T) {
	s, _, _ := newTestServer(t)
	tests := []struct {
		query  string
		status int
		want   map[string]any
		msg    string // substring of the error message
	}{
		{"name=Ada", 200, map[string]any{"greeting": "Hello, Ada!", "version": "v1.2.3"}, ""},
		{"name=%20Ada%20Lovelace%20", 200, map[string]any{"greeting": "Hello, Ada Lovelace!"}, ""},
		{"name=Zo%C3%AB+O%27Brien-Smith", 200, map[string]any{"greeting": "Hello, Zoë O'Brien-Smith!"}, ""},
		{"", 400, map[string]any{"code": "invalid_argument", "field": "name"}, "name is required"},
		{"name=+++", 400, map[string]any{"code": "invalid_argument", "field": "name"}, "name is required"},
		{"name=" + strings.Repeat("a", 65), 400, map[string]any{"code": "invalid_argument"}, "at most 64"},
		{"name=%3Cscript%3E", 400, map[string]any{"code": "invalid_argument"}, "remove '<'"},
		{"name=%FF", 400, map[string]any{"code": "invalid_argument"}, "UTF-8"},
	}
	for _, tt := range tests {
		r := do(t, s, http.MethodGet, "/api/greeting?"+tt.query, nil, nil)
		if r.status != tt.status {
			t.Errorf("GET /api/greeting?%s status = %d, want %d (body %s)", tt.query, r.status, tt.status, r.raw)
		}
		wantFields(t, "GET /api/greeting?"+tt.query, r.body, tt.want)
		if tt.msg != "" {
			if msg, _ := r.body["message"].(string); !strings.Contains(msg, tt.msg) {
				t.Errorf("GET /api/greeting?%s message = %q, want it to contain %q", tt.query, msg, tt.msg)
			}
			if r.body["request_id"] != r.header.Get(HeaderRequestID) || r.body["request_id"] == "" {
				t.Errorf("GET /api/greeting?%s request_id = %v, want the X-Request-Id header %q", tt.query, r.body["request_id"], r.header.Get(HeaderRequestID))
			}
		}
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		fault  fault.Fault
		rand   float64
		path   string
		status int
		want   map[string]any
	}{
		{"health fails health", fault.Fault{Kind: fault.Health}, 0, "/health", 503, map[string]any{"status": "unhealthy", "fault": "health"}},
		{"health spares the rest", fault.Fault{Kind: fault.Health}, 0, "/", 200, map[string]any{"fault": "health"}},
		{"errors hit", fault.Fault{Kind: fault.Errors, ErrorRate: 0.5}, 0.49, "/api/greeting?name=Ada", 500, map[string]any{"code": "fault_injected"}},
		{"errors miss", fault.Fault{Kind: fault.Errors, ErrorRate: 0.5}, 0.5, "/api/greeting?name=Ada", 200, map[string]any{"greeting": "Hello, Ada!"}},
		{"errors spare health", fault.Fault{Kind: fault.Errors, ErrorRate: 1}, 0, "/health", 200, map[string]any{"status": "ok"}},
		{"errors at 0 never hit", fault.Fault{Kind: fault.Errors, ErrorRate: 0}, 0, "/", 200, map[string]any{"fault": "errors=0"}},
		{"errors hit unknown routes too", fault.Fault{Kind: fault.Errors, ErrorRate: 1}, 0.99, "/nope", 500, map[string]any{"code": "fault_injected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := newTestServer(t, func(o *Options) {
				o.Fault = tt.fault
				o.Rand = func() float64 { return tt.rand }
			})
			r := do(t, s, http.MethodGet, tt.path, nil, nil)
			if r.status != tt.status {
				t.Errorf("GET %s with APP_FAULT=%s status = %d, want %d (body %s)", tt.path, tt.fault, r.status, tt.status, r.raw)
			}
			wantFields(t, "GET "+tt.path, r.body, tt.want)
		})
	}
}

func TestLatencyFault(t *testing.T) {
	const latency = 200 * time.Millisecond
	s, _, _ := newTestServer(t, func(o *Options) { o.Fault = fault.Fault{Kind: fault.Latency, Latency: latency} })
	for _, tt := range []struct {
		path string
		slow bool
	}{{"/api/greeting?name=Ada", true}, {"/health", false}} {
		began := time.Now()
		r := do(t, s, http.MethodGet, tt.path, nil, nil)
		took := time.Since(began)
		if r.status != http.StatusOK || (took >= latency) != tt.slow {
			t.Errorf("GET %s with APP_FAULT=latency=%s = %d after %s, want 200 and slowed = %v", tt.path, latency, r.status, took, tt.slow)
		}
	}

	// A client that gives up does not hold the handler for the full latency.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("GET / with a cancelled request under latency fault = %d, want 500", rec.Code)
	}
}
