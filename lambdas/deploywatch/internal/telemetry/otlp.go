//go:build otlp

package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

const otlpBuilt = true

// newOTLP returns the OTLP/HTTP exporter, configured by the standard
// variables: OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT (default
// http://localhost:4318, where the ADOT and OpenTelemetry Lambda layers'
// collector listens), _HEADERS, _TIMEOUT, _COMPRESSION, _CERTIFICATE.
func newOTLP(ctx context.Context) (sdktrace.SpanExporter, error) {
	return otlptracehttp.New(ctx)
}
