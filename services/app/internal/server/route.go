package server

import (
	"github.com/labstack/echo/v4"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// traceRoute names the request's server span after its route
// ("GET /api/greeting"), once Echo has routed it. otelhttp starts the span
// before routing, so it cannot know the route; setting the request's Pattern
// also lets otelhttp use the route for http.route and its metrics. Requests
// that match no route keep the method-only name, which keeps span names few.
func traceRoute(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if route := c.Path(); route != "" {
			r := c.Request()
			r.Pattern = route
			span := trace.SpanFromContext(r.Context())
			span.SetName(r.Method + " " + route)
			span.SetAttributes(semconv.HTTPRoute(route))
		}
		return next(c)
	}
}
