package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shipyard-ecs/shipyard/services/app/internal/fault"
)

// injectFault makes every request but health checks misbehave as APP_FAULT
// says, for rollback drills: a share of 500s, or added latency. The health
// fault lives in the health handler; crash is handled by main at start.
func (s *Server) injectFault(next echo.HandlerFunc) echo.HandlerFunc {
	switch s.fault.Kind {
	case fault.Errors, fault.Latency:
	default:
		return next
	}
	return func(c echo.Context) error {
		if c.Path() == healthPath {
			return next(c)
		}
		switch s.fault.Kind {
		case fault.Errors:
			if s.rand() < s.fault.ErrorRate {
				return &Error{Status: http.StatusInternalServerError, Code: CodeFaultInjected,
					Message: fmt.Sprintf("APP_FAULT=%s failed this request on purpose (rollback drill)", s.fault)}
			}
		case fault.Latency:
			t := time.NewTimer(s.fault.Latency)
			defer t.Stop()
			select {
			case <-t.C:
			case <-c.Request().Context().Done():
				return fmt.Errorf("wait out injected latency: %w", c.Request().Context().Err())
			}
		}
		return next(c)
	}
}
