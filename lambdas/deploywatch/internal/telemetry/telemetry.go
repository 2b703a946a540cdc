// Package telemetry turns deploywatch's OpenTelemetry tracing on when the
// function's environment configures an exporter, with the standard
// variables (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT), and leaves
// it off otherwise: then no SDK is built and nothing is instrumented, so
// tracing that is off costs nothing per event.
//
// The exporters: "console" (the SDK's stdout exporter: one JSON line per
// span, into the function's CloudWatch Logs) is in every build; "otlp"
// (OTLP/HTTP, to a collector such as the ADOT or OpenTelemetry Lambda
// layer's on localhost:4318) only in a bootstrap built with -tags otlp, as
// it brings protobuf and gRPC and takes the binary past its 15 MB budget
// (docs/decisions/0004-deploywatch-tracing.md).
//
// The spans continue the trace Lambda hands each invocation (its X-Ray
// trace header), use X-Ray compatible trace ids, carry the Lambda resource
// attributes, and wrap the AWS SDK calls (otelaws) and the smoke test's
// HTTP requests (otelhttp).
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	lambdadetector "go.opentelemetry.io/contrib/detectors/aws/lambda"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws" //nolint:staticcheck // deprecated for the SDK's own tracing, whose adapter cannot be verified here (decision 0004)
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// The standard OpenTelemetry variables deploywatch reads. The SDK and the
// OTLP exporter read the others themselves (OTEL_TRACES_SAMPLER_ARG,
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS,
// OTEL_EXPORTER_OTLP_TIMEOUT, …).
const (
	EnvSampler        = "OTEL_TRACES_SAMPLER"
	EnvExporter       = "OTEL_TRACES_EXPORTER"
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	EnvSDKDisabled    = "OTEL_SDK_DISABLED"
)

// Exporters.
const (
	ExporterNone    = "none"
	ExporterConsole = "console"
	ExporterOTLP    = "otlp"
)

// OTLPBuilt reports whether this build has the OTLP exporter (-tags otlp).
const OTLPBuilt = otlpBuilt

// ExporterFromEnv returns the span exporter the environment asks for, or
// ExporterNone. OTEL_TRACES_EXPORTER names it; left unset, an OTLP endpoint
// (OTEL_EXPORTER_OTLP_ENDPOINT or …_TRACES_ENDPOINT) means otlp, as it does
// for the app, and no endpoint means none. OTEL_SDK_DISABLED=true turns
// tracing off whatever else is set.
func ExporterFromEnv(getenv func(string) string) (string, error) {
	if strings.EqualFold(strings.TrimSpace(getenv(EnvSDKDisabled)), "true") {
		return ExporterNone, nil
	}
	exp := strings.ToLower(strings.TrimSpace(getenv(EnvExporter)))
	if exp == "" {
		exp = ExporterNone
		if getenv(EnvEndpoint) != "" || getenv(EnvTracesEndpoint) != "" {
			exp = ExporterOTLP
		}
	}
	switch exp {
	case ExporterNone, ExporterConsole:
		return exp, nil
	case ExporterOTLP:
		if !OTLPBuilt {
			return "", fmt.Errorf("%s=otlp (or %s set): this bootstrap was built without the OTLP exporter, which would take it past its 15 MB budget; "+
				"build it with -tags lambda.norpc,otlp,grpcnotrace (docs/deploywatch.md, Tracing), or set %s=console to write spans to the function's log",
				EnvExporter, EnvEndpoint, EnvExporter)
		}
		for _, v := range []string{EnvTracesProtocol, EnvProtocol} {
			if p := getenv(v); p != "" && p != "http/protobuf" {
				return "", fmt.Errorf("%s=%q: deploywatch exports OTLP over HTTP only; set it to http/protobuf, or unset it", v, p)
			}
		}
		return exp, nil
	}
	return "", fmt.Errorf("%s=%q: want %s, %s or %s (one exporter)", EnvExporter, getenv(EnvExporter), ExporterOTLP, ExporterConsole, ExporterNone)
}

// SamplerFromEnv is the sampler: the SDK's reading of OTEL_TRACES_SAMPLER
// when it is set (nil), else always_on. Not the SDK's default
// (parentbased_always_on): Lambda's trace header says Sampled=0 whenever
// the function's X-Ray tracing is PassThrough, as it is unless X-Ray is
// turned on, and following it would drop every span of a function whose
// owner configured an exporter to get them. The spans still join Lambda's
// trace. OTEL_TRACES_SAMPLER=parentbased_always_on follows Lambda's
// decision instead.
func SamplerFromEnv(getenv func(string) string) sdktrace.Sampler {
	if getenv(EnvSampler) != "" {
		return nil
	}
	return sdktrace.AlwaysSample()
}

// Tracing is deploywatch's tracer provider and the instrumentation that
// reports to it.
type Tracing struct {
	tp   *sdktrace.TracerProvider
	prop propagation.TextMapPropagator
	log  *slog.Logger
}

// Setup builds tracing for the exporter ExporterFromEnv chose: nil for
// ExporterNone. The console exporter writes to stdout. A nil sampler is the
// SDK's default, which reads OTEL_TRACES_SAMPLER.
func Setup(ctx context.Context, exporter string, sampler sdktrace.Sampler, stdout io.Writer, version string, log *slog.Logger) (*Tracing, error) {
	var sp sdktrace.SpanProcessor
	switch exporter {
	case ExporterNone, "":
		return nil, nil
	case ExporterConsole:
		// A line per span as it ends: nothing is left to flush.
		exp, err := stdouttrace.New(stdouttrace.WithWriter(stdout))
		if err != nil {
			return nil, fmt.Errorf("create the console span exporter: %w", err)
		}
		sp = sdktrace.NewSimpleSpanProcessor(exp)
	case ExporterOTLP:
		exp, err := newOTLP(ctx)
		if err != nil {
			return nil, fmt.Errorf("create the OTLP span exporter: %w", err)
		}
		// One request per invocation: Handler flushes the batch at its end.
		sp = sdktrace.NewBatchSpanProcessor(exp)
	default:
		return nil, fmt.Errorf("unknown span exporter %q", exporter)
	}
	return New(ctx, sp, sampler, version, log)
}

// New returns tracing that hands spans to sp (tests give an in-memory
// exporter's).
func New(ctx context.Context, sp sdktrace.SpanProcessor, sampler sdktrace.Sampler, version string, log *slog.Logger) (*Tracing, error) {
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName("deploywatch"), semconv.ServiceVersion(version)),
		resource.WithTelemetrySDK(),
		resource.WithDetectors(lambdadetector.NewResourceDetector()),
		// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, last: they win.
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("describe the trace resource: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithSpanProcessor(sp),
		sdktrace.WithResource(res),
		// X-Ray accepts these and W3C trace context carries them.
		sdktrace.WithIDGenerator(xray.NewIDGenerator()),
	}
	if sampler != nil {
		opts = append(opts, sdktrace.WithSampler(sampler))
	}
	return &Tracing{
		tp:   sdktrace.NewTracerProvider(opts...),
		prop: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, xray.Propagator{}),
		log:  log,
	}, nil
}

// TracerProvider is where deploywatch's own spans go.
func (t *Tracing) TracerProvider() trace.TracerProvider { return t.tp }

// InstrumentAWS makes every client built from cfg report its calls as
// spans (service, operation, region, request id; the table for DynamoDB).
func (t *Tracing) InstrumentAWS(cfg *aws.Config) {
	otelaws.AppendMiddlewares(&cfg.APIOptions, otelaws.WithTracerProvider(t.tp), otelaws.WithTextMapPropagator(t.prop))
}

// Transport reports the requests made through rt as client spans, and
// passes the trace on to the server (traceparent, X-Amzn-Trace-Id).
func (t *Tracing) Transport(rt http.RoundTripper) http.RoundTripper {
	return otelhttp.NewTransport(rt,
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(t.prop),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "HTTP " + r.Method + " " + r.URL.Path }),
	)
}

// lambdaTraceKey is where aws-lambda-go puts the invocation's X-Ray trace
// header (Lambda-Runtime-Trace-Id) in the context: a string key of its own.
const lambdaTraceKey = "x-amzn-trace-id"

// Handler wraps h so that its spans continue the trace Lambda started for
// the invocation, and are exported before the invocation ends.
func (t *Tracing) Handler(h lambda.Handler) lambda.Handler { return &handler{t: t, next: h} }

type handler struct {
	t    *Tracing
	next lambda.Handler
}

func (h *handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	ctx = h.t.Continue(ctx)
	out, err := h.next.Invoke(ctx, payload)
	h.t.Flush(ctx)
	return out, err
}

// Continue returns ctx with the invocation's X-Ray trace as the remote
// parent, when Lambda gave one.
func (t *Tracing) Continue(ctx context.Context) context.Context {
	if v, _ := ctx.Value(lambdaTraceKey).(string); v != "" {
		return xray.Propagator{}.Extract(ctx, propagation.MapCarrier{"X-Amzn-Trace-Id": v})
	}
	return ctx
}

// Flush exports the spans a batching exporter still holds: Lambda may
// freeze the process as soon as the invocation returns.
func (t *Tracing) Flush(ctx context.Context) {
	if err := t.tp.ForceFlush(context.WithoutCancel(ctx)); err != nil {
		t.log.Warn("export spans", "err", err)
	}
}

// Shutdown flushes and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.tp.Shutdown(ctx) }
