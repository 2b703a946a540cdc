package server

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestErrorHandler(t *testing.T) {
	s, logs, _ := newTestServer(t)
	s.echo.GET("/typed", func(c echo.Context) error {
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "already there", Err: errors.New("cause")}
	})
	s.echo.GET("/plain", func(c echo.Context) error { return errors.New("database exploded") })
	s.echo.GET("/echo", func(c echo.Context) error { return echo.NewHTTPError(http.StatusTeapot, "short and stout") })
	s.echo.GET("/committed", func(c echo.Context) error {
		_ = c.String(http.StatusAccepted, "partial")
		return errors.New("after the response")
	})

	tests := []struct {
		method, path string
		status       int
		code, msg    string
	}{
		{"GET", "/nope", 404, "not_found", "no route for GET /nope"},
		{"DELETE", "/api/greeting", 405, "method_not_allowed", "allowed: OPTIONS, GET"},
		{"GET", "/typed", 409, "conflict", "already there"},
		{"GET", "/plain", 500, "internal", "quote the request id"},
		{"GET", "/echo", 418, "i'm_a_teapot", "short and stout"},
	}
	for _, tt := range tests {
		r := do(t, s, tt.method, tt.path, nil, nil)
		if r.status != tt.status || r.body["code"] != tt.code {
			t.Errorf("%s %s = %d %v, want %d code %q", tt.method, tt.path, r.status, r.body["code"], tt.status, tt.code)
		}
		if msg, _ := r.body["message"].(string); !strings.Contains(msg, tt.msg) {
			t.Errorf("%s %s message = %q, want it to contain %q", tt.method, tt.path, msg, tt.msg)
		}
		if id := r.header.Get(HeaderRequestID); id == "" || r.body["request_id"] != id {
			t.Errorf("%s %s request_id = %v, want the X-Request-Id header %q", tt.method, tt.path, r.body["request_id"], id)
		}
		if strings.Contains(r.raw, "database exploded") || strings.Contains(r.raw, "cause") {
			t.Errorf("%s %s leaks the cause: %s", tt.method, tt.path, r.raw)
		}
	}
	if r := do(t, s, http.MethodDelete, "/api/greeting", nil, nil); r.header.Get("Allow") == "" {
		t.Errorf("405 response has no Allow header")
	}

	// The cause of a 500 is in the log, not in the response.
	r := do(t, s, http.MethodGet, "/plain", nil, nil)
	line := logs.requestLine(t, r.header.Get(HeaderRequestID))
	if line["level"] != "ERROR" || !strings.Contains(line["err"].(string), "database exploded") {
		t.Errorf("access log line of a 500 = %v, want level ERROR with the cause", line)
	}

	// A handler that answered and then failed keeps its answer.
	req := do2(t, s, http.MethodGet, "/committed")
	if req.Code != http.StatusAccepted || req.Body.String() != "partial" {
		t.Errorf("GET /committed = %d %q, want 202 \"partial\"", req.Code, req.Body.String())
	}
}
