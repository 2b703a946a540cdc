package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shipyard-ecs/shipyard/services/app/internal/logging"
)

// BenchmarkServeHTTP measures the app's own cost per request, above
// net/http: routing, middlewares, handler and JSON, logging at info to
// io.Discard. `make bench` measures the whole binary against a baseline.
func BenchmarkServeHTTP(b *testing.B) {
	s := New(Options{Logger: logging.New(io.Discard, slog.LevelInfo), Version: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567"})
	for _, path := range []string{"/health", "/", "/api/greeting?name=Ada"} {
		b.Run(path, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			b.ReportAllocs()
			for b.Loop() {
				w := &discardWriter{h: http.Header{}}
				s.ServeHTTP(w, req)
			}
		})
	}
}

type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkPlainHealth is the same answer from a bare net/http handler,
// the yardstick for BenchmarkServeHTTP//health.
func BenchmarkPlainHealth(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(healthBody{Status: "ok", Version: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", Uptime: time.Since(start).Round(time.Second).String()})
	})
	req := httptest.NewRequest(http.MethodGet, "/health", nil)
	b.ReportAllocs()
	for b.Loop() {
		mux.ServeHTTP(&discardWriter{h: http.Header{}}, req)
	}
}
