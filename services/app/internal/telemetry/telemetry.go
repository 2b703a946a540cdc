// Package telemetry sets up OpenTelemetry tracing for the app: an OTLP/HTTP
// exporter behind a batching tracer provider, with resource attributes that
// say which service, version and (on ECS) which task produced a span.
//
// Without an endpoint nothing is installed at all: the server then skips the
// tracing middleware, so disabled tracing costs nothing per request.
package telemetry

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Config says where to export and what to stamp on every span.
type Config struct {
	// Endpoint is the OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT);
	// spans go to Endpoint + "/v1/traces".
	Endpoint string
	// ServiceName, Version and Commit identify the build.
	ServiceName, Version, Commit string
	// ECS describes the task, when the app runs on ECS.
	ECS *ECSTask
}

// ECSTask is the task identity stamped on spans on ECS.
type ECSTask struct {
	TaskARN, Family, Revision, AvailabilityZone string
}

// NewTracerProvider returns a tracer provider exporting to cfg.Endpoint.
// The caller must Shutdown it to flush the last spans.
func NewTracerProvider(ctx context.Context, cfg Config) (*sdktrace.TracerProvider, error) {
	if cfg.Endpoint == "" {
		return nil, fmt.Errorf("create tracer provider: no OTLP endpoint; leave tracing off instead")
	}
	exp, err := otlptracehttp.New(ctx,
		otlptracehttp.WithEndpointURL(strings.TrimRight(cfg.Endpoint, "/")+"/v1/traces"))
	if err != nil {
		return nil, fmt.Errorf("create OTLP trace exporter for %s: %w", cfg.Endpoint, err)
	}
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithTelemetrySDK(),
		resource.WithAttributes(Attributes(cfg)...),
	)
	if err != nil {
		return nil, fmt.Errorf("describe the trace resource: %w", err)
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		// Follow the caller's sampling decision; sample roots.
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
	), nil
}

// Attributes are the resource attributes for cfg.
func Attributes(cfg Config) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		semconv.ServiceName(cfg.ServiceName),
		semconv.ServiceVersion(cfg.Version),
		semconv.VCSRefHeadRevision(cfg.Commit),
	}
	if t := cfg.ECS; t != nil {
		attrs = append(attrs,
			semconv.CloudProviderAWS,
			semconv.CloudPlatformAWSECS,
			semconv.AWSECSTaskARN(t.TaskARN),
			semconv.AWSECSTaskFamily(t.Family),
			semconv.AWSECSTaskRevision(t.Revision),
			semconv.CloudAvailabilityZone(t.AvailabilityZone),
		)
	}
	return attrs
}
