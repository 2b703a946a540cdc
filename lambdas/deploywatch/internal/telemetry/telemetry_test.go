package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/telemetry"
)

func TestExporterFromEnv(t *testing.T) {
	otlpOr := func(otherwise string) string {
		if telemetry.OTLPBuilt {
			return telemetry.ExporterOTLP
		}
		return otherwise
	}
	tests := []struct {
		name string
		env  map[string]string
		want string // an exporter, or "error: <text the error contains>"
	}{
		{"nothing set", nil, "none"},
		{"none", map[string]string{"OTEL_TRACES_EXPORTER": "none"}, "none"},
		{"console", map[string]string{"OTEL_TRACES_EXPORTER": "console"}, "console"},
		{"spelled loosely", map[string]string{"OTEL_TRACES_EXPORTER": " Console "}, "console"},
		{"SDK disabled wins", map[string]string{"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}, "none"},
		{"an endpoint means otlp", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, otlpOr("error: -tags lambda.norpc,otlp,grpcnotrace")},
		{"a traces endpoint means otlp", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, otlpOr("error: OTEL_TRACES_EXPORTER=console")},
		{"otlp", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, otlpOr("error: OTEL_TRACES_EXPORTER=otlp")},
		{"console beats an endpoint", map[string]string{"OTEL_TRACES_EXPORTER": "console", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, "console"},
		{"unknown exporter", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, `error: OTEL_TRACES_EXPORTER="zipkin": want otlp, console or none`},
		{"two exporters", map[string]string{"OTEL_TRACES_EXPORTER": "otlp,console"}, "error: (one exporter)"},
	}
	if telemetry.OTLPBuilt {
		tests = append(tests, struct {
			name string
			env  map[string]string
			want string
		}{"otlp over gRPC", map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, `error: OTEL_EXPORTER_OTLP_PROTOCOL="grpc"`})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := telemetry.ExporterFromEnv(func(k string) string { return tt.env[k] })
			if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("ExporterFromEnv(%v) = %q, %v; want an error containing %q", tt.env, got, err, want)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ExporterFromEnv(%v) = %q, %v; want %q", tt.env, got, err, tt.want)
			}
		})
	}
}

// spanning is a Lambda handler that makes one span.
type spanning struct{ tr *telemetry.Tracing }

func (s spanning) Invoke(ctx context.Context, _ []byte) ([]byte, error) {
	_, span := s.tr.TracerProvider().Tracer("test").Start(ctx, "work")
	span.End()
	return []byte(`{}`), nil
}

var _ lambda.Handler = spanning{}

// lambdaContext is the context aws-lambda-go hands a handler, with the
// invocation's X-Ray trace header under its string key.
func lambdaContext(header string) context.Context {
	//nolint:revive,staticcheck // aws-lambda-go's own key is this plain string.
	return context.WithValue(context.Background(), "x-amzn-trace-id", header)
}

func TestHandlerContinuesLambdasTraceAndFlushes(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	// A batching processor holds spans for seconds: only Handler's flush
	// exports them before Invoke returns.
	tr, err := telemetry.New(context.Background(), sdktrace.NewBatchSpanProcessor(exp), telemetry.SamplerFromEnv(func(string) string { return "" }), "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	h := tr.Handler(spanning{tr})

	if _, err := h.Invoke(lambdaContext("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"), nil); err != nil {
		t.Fatal(err)
	}
	got := exp.GetSpans()
	if len(got) != 1 {
		t.Fatalf("spans exported when Invoke returned: %d, want 1", len(got))
	}
	s := got[0]
	if s.SpanContext.TraceID().String() != "5759e988bd862e3fe1be46a994272793" || s.Parent.SpanID().String() != "53995c3f42cd8ad8" || !s.Parent.IsRemote() {
		t.Errorf("span trace %s, parent %s (remote %v); want Lambda's trace 5759e988bd862e3fe1be46a994272793 under 53995c3f42cd8ad8",
			s.SpanContext.TraceID(), s.Parent.SpanID(), s.Parent.IsRemote())
	}

	// Lambda's tracing is PassThrough (Sampled=0): the spans are wanted all
	// the same, in Lambda's trace.
	exp.Reset()
	if _, err := h.Invoke(lambdaContext("Root=1-5759e988-bd862e3fe1be46a994272794;Parent=53995c3f42cd8ad8;Sampled=0"), nil); err != nil {
		t.Fatal(err)
	}
	if got := exp.GetSpans(); len(got) != 1 || got[0].SpanContext.TraceID().String() != "5759e988bd862e3fe1be46a994272794" {
		t.Errorf("spans exported under Sampled=0: %v, want one in Lambda's trace", got)
	}

	// No trace from Lambda: a new root, with an X-Ray compatible id (its
	// first 4 bytes are the time).
	exp.Reset()
	if _, err := h.Invoke(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := exp.GetSpans(); len(got) != 1 || got[0].Parent.IsValid() {
		t.Fatalf("spans without a Lambda trace = %v, want one root span", got)
	}
}

func TestSamplerFromEnv(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	// OTEL_TRACES_SAMPLER set: the SDK reads it; parentbased_always_on
	// follows Lambda's Sampled=0.
	t.Setenv("OTEL_TRACES_SAMPLER", "parentbased_always_on")
	sampler := telemetry.SamplerFromEnv(os.Getenv)
	if sampler != nil {
		t.Fatalf("SamplerFromEnv with OTEL_TRACES_SAMPLER set = %v, want nil (the SDK's)", sampler.Description())
	}
	tr, err := telemetry.New(context.Background(), sdktrace.NewSimpleSpanProcessor(exp), sampler, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	h := tr.Handler(spanning{tr})
	for _, sampled := range []string{"0", "1"} {
		exp.Reset()
		if _, err := h.Invoke(lambdaContext("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled="+sampled), nil); err != nil {
			t.Fatal(err)
		}
		if n, want := len(exp.GetSpans()), map[string]int{"0": 0, "1": 1}[sampled]; n != want {
			t.Errorf("parentbased_always_on under Sampled=%s: %d spans, want %d", sampled, n, want)
		}
	}
}

func TestSetup(t *testing.T) {
	if tr, err := telemetry.Setup(context.Background(), telemetry.ExporterNone, nil, nil, "v1", nil); tr != nil || err != nil {
		t.Errorf("Setup(none) = %v, %v; want no tracing at all", tr, err)
	}
	var out bytes.Buffer
	tr, err := telemetry.Setup(context.Background(), telemetry.ExporterConsole, nil, &out, "v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	if _, err := tr.Handler(spanning{tr}).Invoke(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	// One JSON line per span, as CloudWatch Logs keeps them.
	var span struct {
		Name     string
		Resource []struct {
			Key   string
			Value struct{ Value any }
		}
	}
	if err := json.Unmarshal(out.Bytes(), &span); err != nil || strings.Count(strings.TrimSpace(out.String()), "\n") != 0 {
		t.Fatalf("console output %q: %v; want one JSON line", out.String(), err)
	}
	res := map[string]any{}
	for _, kv := range span.Resource {
		res[kv.Key] = kv.Value.Value
	}
	if span.Name != "work" || res["service.name"] != "deploywatch" || res["service.version"] != "v1" {
		t.Errorf("console span = %s, resource %v; want work, service deploywatch v1", span.Name, res)
	}
	if _, err := telemetry.Setup(context.Background(), "zipkin", nil, &out, "v1", nil); err == nil {
		t.Error("Setup(zipkin): no error")
	}
}
