package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Error codes, stable for clients; the message is for people.
const (
	CodeInvalidArgument  = "invalid_argument"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeTooLarge         = "request_too_large"
	CodeFaultInjected    = "fault_injected"
	CodeInternal         = "internal"
)

// Error is the typed error handlers return. The error handler renders it
// with Status as {"code", "message", "field", "request_id"}; Err, the cause,
// is logged and never shown.
type Error struct {
	Status  int
	Code    string
	Message string
	// Field names the invalid input, for CodeInvalidArgument.
	Field string
	Err   error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// errorBody is the JSON of every error response.
type errorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id"`
}

// handleError is the Echo HTTPErrorHandler: the one place an error becomes
// a response.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return // the handler already answered; the access log has the error
	}
	e := s.toError(err, c)
	body := errorBody{Code: e.Code, Message: e.Message, Field: e.Field, RequestID: RequestID(c)}
	if werr := writeJSON(c, e.Status, body); werr != nil {
		s.log.WarnContext(c.Request().Context(), "write error response", "err", werr, "request_id", body.RequestID)
	}
}

// toError maps any error to an *Error.
func (s *Server) toError(err error, c echo.Context) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errTooLarge(tooLarge.Limit, err)
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		r := c.Request()
		switch he.Code {
		case http.StatusNotFound:
			return &Error{Status: he.Code, Code: CodeNotFound,
				Message: fmt.Sprintf("no route for %s %s; GET / describes this service", r.Method, r.URL.Path), Err: err}
		case http.StatusMethodNotAllowed:
			return &Error{Status: he.Code, Code: CodeMethodNotAllowed,
				Message: fmt.Sprintf("method %s not allowed on %s; allowed: %s", r.Method, r.URL.Path, c.Response().Header().Get(echo.HeaderAllow)), Err: err}
		case http.StatusRequestEntityTooLarge:
			return errTooLarge(s.bodyLimit, err)
		}
		code := strings.ReplaceAll(strings.ToLower(http.StatusText(he.Code)), " ", "_")
		if code == "" {
			code = CodeInternal
		}
		return &Error{Status: he.Code, Code: code, Message: strings.ToLower(fmt.Sprint(he.Message)), Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal,
		Message: "internal error; quote the request id when reporting it", Err: err}
}

func errTooLarge(limit int64, err error) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
		Message: fmt.Sprintf("request body is larger than %d bytes; send a smaller one", limit), Err: err}
}
