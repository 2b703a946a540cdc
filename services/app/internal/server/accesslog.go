package server

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
)

// accessLog writes one line per request once its response is complete.
// Errors are rendered here (through the error handler) so the line carries
// the status the client saw. Health checks log at debug: the ALB and ECS
// probe every few seconds and would drown everything else.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := s.now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		r, res := c.Request(), c.Response()
		route := c.Path()
		level := slog.LevelInfo
		switch {
		case route == healthPath:
			level = slog.LevelDebug
		case res.Status >= http.StatusInternalServerError:
			level = slog.LevelError
		}
		ctx := r.Context()
		if !s.log.Enabled(ctx, level) {
			return nil
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", r.URL.Path),
			slog.Int("status", res.Status),
			slog.Float64("duration_ms", float64(s.now().Sub(start).Microseconds())/1000),
			slog.Int64("bytes", res.Size),
			slog.String("request_id", RequestID(c)),
		}
		if err != nil && res.Status >= http.StatusInternalServerError {
			attrs = append(attrs, slog.String("err", err.Error()))
		}
		s.log.LogAttrs(ctx, level, "request", attrs...)
		return nil
	}
}
