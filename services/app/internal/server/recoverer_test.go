package server

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestRecoverer(t *testing.T) {
	s, logs, _ := newTestServer(t)
	s.echo.GET("/panic", func(c echo.Context) error { panic("nil map somewhere") })
	r := do(t, s, http.MethodGet, "/panic", nil, nil)
	if r.status != http.StatusInternalServerError || r.body["code"] != CodeInternal {
		t.Fatalf("GET /panic = %d %s, want a JSON 500 with code internal", r.status, r.raw)
	}
	if strings.Contains(r.raw, "nil map") {
		t.Errorf("GET /panic leaks the panic value: %s", r.raw)
	}
	id := r.header.Get(HeaderRequestID)
	var sawStack bool
	for _, l := range logs.lines(t) {
		if l["msg"] == "handler panicked" && l["request_id"] == id && l["panic"] == "nil map somewhere" &&
			strings.Contains(l["stack"].(string), "recoverer_test.go") {
			sawStack = true
		}
	}
	if !sawStack {
		t.Errorf("no panic log line with the stack for request %s", id)
	}
	if line := logs.requestLine(t, id); line["status"] != 500.0 {
		t.Errorf("access log of the panic: status = %v, want 500", line["status"])
	}
	// The server still serves after a panic.
	if r := do(t, s, http.MethodGet, "/health", nil, nil); r.status != http.StatusOK {
		t.Errorf("GET /health after a panic = %d, want 200", r.status)
	}
}

func TestRecovererKeepsAbortHandler(t *testing.T) {
	s, _, _ := newTestServer(t)
	s.echo.GET("/abort", func(c echo.Context) error { panic(http.ErrAbortHandler) })
	defer func() {
		if err, _ := recover().(error); !errors.Is(err, http.ErrAbortHandler) {
			t.Errorf("panic after http.ErrAbortHandler = %v, want it re-panicked for net/http", err)
		}
	}()
	do2(t, s, http.MethodGet, "/abort")
}
