package server

import (
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Request id headers. The ALB adds X-Amzn-Trace-Id to every request it
// forwards; a caller may send its own X-Request-Id, which wins.
const (
	HeaderRequestID = "X-Request-Id"
	HeaderAmznTrace = "X-Amzn-Trace-Id"

	maxIDLen = 128
)

// requestID gives every request an id, taken from the request when it
// carries a sane one, and echoes it in the X-Request-Id response header.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header()[HeaderRequestID] = []string{requestIDFrom(c.Request().Header)}
		return next(c)
	}
}

// RequestID returns the id the request id middleware gave c. It lives in
// the response header only: echo.Context.Set would cost a map per request.
func RequestID(c echo.Context) string {
	if v := c.Response().Header()[HeaderRequestID]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func requestIDFrom(h http.Header) string {
	if id := h.Get(HeaderRequestID); validID(id) {
		return id
	}
	// "Root=1-67891233-abcdef012345678912345678;Parent=...;Sampled=1": the
	// Root is what ALB access logs and X-Ray show.
	for field := range strings.SplitSeq(h.Get(HeaderAmznTrace), ";") {
		if root, ok := strings.CutPrefix(strings.TrimSpace(field), "Root="); ok && validID(root) {
			return root
		}
	}
	return newID()
}

// validID accepts ids that are safe to log and echo: short, printable, no
// spaces or quotes.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case strings.IndexByte("-_.:=/+@", b) >= 0:
		default:
			return false
		}
	}
	return true
}

// newID returns 128 random bits in hex. math/rand/v2's global source is
// seeded from the OS and cheap; the ids need to be unique, not secret.
func newID() string {
	var b [16]byte
	hi, lo := rand.Uint64(), rand.Uint64() //nolint:gosec // G404: request ids must be unique, not unguessable

	for i := range 8 {
		b[i], b[8+i] = byte(hi>>(8*i)), byte(lo>>(8*i))
	}
	return hex.EncodeToString(b[:])
}
