package server

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shipyard-ecs/shipyard/services/app/internal/logging"
)

func TestAccessLog(t *testing.T) {
	s, logs, clock := newTestServer(t)
	s.echo.GET("/slow", func(c echo.Context) error {
		clock.Add(1500 * time.Microsecond)
		return c.JSON(http.StatusOK, map[string]string{"ok": "yes"})
	})
	tests := []struct {
		target string
		want   map[string]any
	}{
		{"/slow", map[string]any{"level": "INFO", "method": "GET", "route": "/slow", "path": "/slow", "status": 200.0, "duration_ms": 1.5, "bytes": 13.0}},
		{"/api/greeting?name=Ada", map[string]any{"level": "INFO", "route": "/api/greeting", "path": "/api/greeting", "status": 200.0}},
		{"/api/greeting", map[string]any{"level": "INFO", "route": "/api/greeting", "status": 400.0}},
		{"/nope/42", map[string]any{"level": "INFO", "route": "", "path": "/nope/42", "status": 404.0}},
		{"/health", map[string]any{"level": "DEBUG", "route": "/health", "status": 200.0}},
	}
	for _, tt := range tests {
		r := do(t, s, http.MethodGet, tt.target, nil, nil)
		line := logs.requestLine(t, r.header.Get(HeaderRequestID))
		wantFields(t, "access log of GET "+tt.target, line, tt.want)
		if line["bytes"] != float64(len(r.raw)) {
			t.Errorf("access log of GET %s: bytes = %v, want %d", tt.target, line["bytes"], len(r.raw))
		}
	}
	n := 0
	for _, l := range logs.lines(t) {
		if l["msg"] == "request" {
			n++
		}
	}
	if n != len(tests) {
		t.Errorf("%d access log lines for %d requests, want one each", n, len(tests))
	}
}

func TestAccessLogSkipsHealthAtInfo(t *testing.T) {
	logs := &logBuffer{}
	s := New(Options{Logger: logging.New(logs, slog.LevelInfo)})
	do(t, s, http.MethodGet, "/health", nil, nil)
	do(t, s, http.MethodGet, "/", nil, nil)
	lines := logs.lines(t)
	if len(lines) != 1 || lines[0]["route"] != "/" {
		t.Errorf("log at info after GET /health and GET / = %v, want only the GET / line", lines)
	}
}
