package server

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestRequestID(t *testing.T) {
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name   string
		header http.Header
		want   string // "" means a generated id
	}{
		{"none", nil, ""},
		{"x-request-id", http.Header{"X-Request-Id": {"req-42"}}, "req-42"},
		{"amzn trace root", http.Header{"X-Amzn-Trace-Id": {"Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1"}}, "1-67891233-abcdef012345678912345678"},
		{"amzn trace root not first", http.Header{"X-Amzn-Trace-Id": {"Self=1-1-1; Root=1-5759e988-bd862e3fe1be46a994272793"}}, "1-5759e988-bd862e3fe1be46a994272793"},
		{"x-request-id wins", http.Header{"X-Request-Id": {"mine"}, "X-Amzn-Trace-Id": {"Root=1-2-3"}}, "mine"},
		{"unsafe id replaced", http.Header{"X-Request-Id": {"a b\"\n{}"}}, ""},
		{"overlong id replaced", http.Header{"X-Request-Id": {strings.Repeat("a", 129)}}, ""},
		{"unsafe falls back to amzn", http.Header{"X-Request-Id": {"<x>"}, "X-Amzn-Trace-Id": {"Root=1-2-3"}}, "1-2-3"},
		{"amzn without root", http.Header{"X-Amzn-Trace-Id": {"Parent=53995c3f42cd8ad8"}}, ""},
	}
	s, logs, _ := newTestServer(t)
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, http.MethodGet, "/api/greeting?name=Ada", tt.header, nil)
			got := r.header.Get(HeaderRequestID)
			switch {
			case tt.want != "" && got != tt.want:
				t.Errorf("request id for %v = %q, want %q", tt.header, got, tt.want)
			case tt.want == "" && !generated.MatchString(got):
				t.Errorf("request id for %v = %q, want 32 hex digits", tt.header, got)
			case tt.want == "" && seen[got]:
				t.Errorf("generated request id %q twice", got)
			}
			seen[got] = true
			logs.requestLine(t, got) // the access log carries the same id
		})
	}
}
