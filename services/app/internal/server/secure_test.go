package server

import (
	"net/http"
	"testing"
)

func TestSecurityHeaders(t *testing.T) {
	s, _, _ := newTestServer(t)
	for _, target := range []string{"/health", "/", "/api/greeting", "/nope"} {
		r := do(t, s, http.MethodGet, target, nil, nil)
		for k, v := range securityHeaderValues {
			if got := r.header.Get(k); got != v[0] {
				t.Errorf("GET %s: header %s = %q, want %q", target, k, got, v[0])
			}
		}
	}
	if got := securityHeaderValues["X-Content-Type-Options"][0]; got != "nosniff" {
		t.Errorf("X-Content-Type-Options value = %q, want nosniff", got)
	}
}
