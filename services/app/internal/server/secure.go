package server

import "github.com/labstack/echo/v4"

// securityHeaderValues are set on every response but health checks'. The
// app serves JSON to machines and people reading it in a browser; nothing
// should render it as a page, frame it, sniff it into another type or cache
// it. HSTS is left to the TLS terminator (the ALB listener), since the app
// itself speaks HTTP.
var securityHeaderValues = map[string][]string{
	"X-Content-Type-Options":       {"nosniff"},
	"X-Frame-Options":              {"DENY"},
	"Content-Security-Policy":      {"default-src 'none'; frame-ancestors 'none'"},
	"Referrer-Policy":              {"no-referrer"},
	"Cross-Origin-Resource-Policy": {"same-origin"},
	"Cache-Control":                {"no-store"},
}

// healthHeaderValues are what /health answers carry instead. Its body is
// constant (status, version, commit, uptime: nothing from the request), so
// framing, referrer and resource policies protect nothing there, while the
// ALB asks for it every few seconds per node and it must stay cheap under
// full load (docs/performance.md). It must never be cached, nor sniffed.
var healthHeaderValues = map[string][]string{
	"X-Content-Type-Options": {"nosniff"},
	"Cache-Control":          {"no-store"},
}

// securityHeaders sets securityHeaderValues (healthHeaderValues on /health)
// on every response, errors included. The value slices are shared: net/http
// only reads them.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		values := securityHeaderValues
		if c.Path() == healthPath {
			values = healthHeaderValues
		}
		h := c.Response().Header()
		for k, v := range values {
			h[k] = v
		}
		return next(c)
	}
}
