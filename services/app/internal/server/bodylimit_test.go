package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestBodyLimit(t *testing.T) {
	s, _, _ := newTestServer(t, func(o *Options) { o.BodyLimit = 16 })
	s.echo.POST("/echo", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]int{"read": len(b)})
	})
	tests := []struct {
		name          string
		body          string
		contentLength int64 // -1: unknown (chunked)
		status        int
	}{
		{"under", "0123456789", 10, 200},
		{"at limit", "0123456789abcdef", 16, 200},
		{"declared over", "0123456789abcdefg", 17, 413},
		{"chunked over", strings.Repeat("x", 100), -1, 413},
		{"chunked under", "tiny", -1, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/echo", strings.NewReader(tt.body))
			req.ContentLength = tt.contentLength
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("POST /echo with %d bytes (Content-Length %d) = %d %s, want %d", len(tt.body), tt.contentLength, rec.Code, rec.Body, tt.status)
			}
			if tt.status == 413 && !strings.Contains(rec.Body.String(), `"code":"request_too_large"`) {
				t.Errorf("413 body = %s, want code request_too_large", rec.Body)
			}
		})
	}
}
