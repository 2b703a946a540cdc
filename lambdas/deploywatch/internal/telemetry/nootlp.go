//go:build !otlp

package telemetry

import (
	"context"
	"errors"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Without -tags otlp the bootstrap has no OTLP exporter, and none of the
// protobuf and gRPC code it brings (TestNoOTLPInTheDefaultBuild).
const otlpBuilt = false

func newOTLP(context.Context) (sdktrace.SpanExporter, error) {
	return nil, errors.New("this bootstrap was built without the OTLP exporter (-tags otlp)")
}
