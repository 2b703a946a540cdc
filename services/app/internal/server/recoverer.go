package server

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"
)

// recoverer turns a panic in a handler into an internal error, so the
// client gets a JSON 500 and the log gets the stack, and the process lives.
// http.ErrAbortHandler keeps its meaning: abort the response silently.
func (s *Server) recoverer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if perr, ok := p.(error); ok && errors.Is(perr, http.ErrAbortHandler) {
				panic(p)
			}
			s.log.ErrorContext(c.Request().Context(), "handler panicked",
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()), "request_id", RequestID(c))
			err = &Error{Status: http.StatusInternalServerError, Code: CodeInternal,
				Message: "internal error; quote the request id when reporting it",
				Err:     fmt.Errorf("panic: %v", p)}
		}()
		return next(c)
	}
}
