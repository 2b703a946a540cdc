package server

import (
	"net/http"
	"testing"
)

func TestSecurityHeaders(t *testing.T) {
	s, _, _ := newTestServer(t)
	for _, target := range []string{"/", "/api/greeting", "/nope", "/health/"} {
		r := do(t, s, http.MethodGet, target, nil, nil)
		for k, v := range securityHeaderValues {
			if got := r.header.Get(k); got != v[0] {
				t.Errorf("GET %s: header %s = %q, want %q", target, k, got, v[0])
			}
		}
	}
	// /health answers the ALB's checks: never cached nor sniffed, and
	// without the browser-facing policies its constant body does not need.
	r := do(t, s, http.MethodGet, "/health", nil, nil)
	for k, v := range healthHeaderValues {
		if got := r.header.Get(k); got != v[0] {
			t.Errorf("GET /health: header %s = %q, want %q", k, got, v[0])
		}
	}
	if got := r.header.Get("Content-Security-Policy"); got != "" {
		t.Errorf("GET /health: Content-Security-Policy = %q, want none", got)
	}
	if got := securityHeaderValues["X-Content-Type-Options"][0]; got != "nosniff" {
		t.Errorf("X-Content-Type-Options value = %q, want nosniff", got)
	}
}
