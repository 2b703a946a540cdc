package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// limitBody refuses request bodies larger than s.bodyLimit: at once when
// Content-Length says so, otherwise when a handler reads past the limit
// (the read fails with *http.MaxBytesError, rendered as 413).
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > s.bodyLimit {
			return errTooLarge(s.bodyLimit, nil)
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, s.bodyLimit)
		}
		return next(c)
	}
}
