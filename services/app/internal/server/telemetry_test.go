package server

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/shipyard-ecs/shipyard/services/app/internal/telemetry"
)

// otlpReceiver is an in-process OTLP/HTTP trace receiver: it decodes
// ExportTraceServiceRequest protobufs posted to /v1/traces.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
	attrs map[string]string // resource attributes, last seen
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want POST /v1/traces application/x-protobuf", http.StatusBadRequest)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = gz
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req collectorpb.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		o.attrs = map[string]string{}
		for _, kv := range rs.GetResource().GetAttributes() {
			o.attrs[kv.GetKey()] = kv.GetValue().GetStringValue()
		}
		for _, ss := range rs.GetScopeSpans() {
			o.spans = append(o.spans, ss.GetSpans()...)
		}
	}
	o.mu.Unlock()
	out, _ := proto.Marshal(&collectorpb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (o *otlpReceiver) spanNames() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var names []string
	for _, s := range o.spans {
		names = append(names, s.GetName())
	}
	return names
}

func (o *otlpReceiver) span(traceID string) *tracepb.Span {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.spans {
		if hex.EncodeToString(s.GetTraceId()) == traceID {
			return s
		}
	}
	return nil
}

func spanAttr(s *tracepb.Span, key string) string {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() == key {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}

func TestTelemetry(t *testing.T) {
	recv := &otlpReceiver{}
	collector := httptest.NewServer(recv)
	defer collector.Close()
	ctx := context.Background()
	tp, err := telemetry.NewTracerProvider(ctx, telemetry.Config{
		Endpoint: collector.URL, ServiceName: ServiceName, Version: "v1.2.3", Commit: "abc123",
		ECS: &telemetry.ECSTask{TaskARN: "arn:aws:ecs:us-east-1:111122223333:task/shipyard/0123", Family: "shipyard-app", Revision: "4", AvailabilityZone: "us-east-1b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, logs, _ := newTestServer(t, func(o *Options) { o.TracerProvider = tp })
	app := httptest.NewServer(s)
	defer app.Close()

	send := func(path string, header http.Header) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, app.URL+path, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.Header.Get(HeaderRequestID)
	}
	const parentTrace, parentSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	greetID := send("/api/greeting?name=Ada", nil)
	propagatedID := send("/api/greeting?name=Bo", http.Header{"Traceparent": {"00-" + parentTrace + "-" + parentSpan + "-01"}})
	notFoundID := send("/nope", nil)
	send("/health", nil)
	if err := tp.Shutdown(ctx); err != nil { // flushes the batch
		t.Fatalf("flush spans: %v", err)
	}

	tests := []struct {
		name      string
		requestID string
		span      string
		route     string
		trace     string // "" when the app starts the trace
	}{
		{"own trace", greetID, "GET /api/greeting", "/api/greeting", ""},
		{"propagated trace", propagatedID, "GET /api/greeting", "/api/greeting", parentTrace},
		{"no route", notFoundID, "GET", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := logs.requestLine(t, tt.requestID)
			traceID, _ := line["trace_id"].(string)
			if tt.trace != "" && traceID != tt.trace {
				t.Errorf("log trace_id = %q, want the caller's %q (W3C propagation)", traceID, tt.trace)
			}
			span := recv.span(traceID)
			if span == nil {
				t.Fatalf("no span with the log line's trace_id %q; got spans %v", traceID, recv.spanNames())
			}
			if span.GetName() != tt.span {
				t.Errorf("span name = %q, want %q", span.GetName(), tt.span)
			}
			if got := hex.EncodeToString(span.GetSpanId()); got != line["span_id"] {
				t.Errorf("span id = %s, want the log line's span_id %v", got, line["span_id"])
			}
			if got := spanAttr(span, "http.route"); got != tt.route {
				t.Errorf("span http.route = %q, want %q", got, tt.route)
			}
			if span.GetKind() != tracepb.Span_SPAN_KIND_SERVER {
				t.Errorf("span kind = %v, want SERVER", span.GetKind())
			}
			if tt.trace != "" && hex.EncodeToString(span.GetParentSpanId()) != parentSpan {
				t.Errorf("span parent = %x, want the caller's %s", span.GetParentSpanId(), parentSpan)
			}
		})
	}
	if names := recv.spanNames(); len(names) != 3 {
		t.Errorf("spans = %v, want 3 (/health is not traced)", names)
	}
	for k, want := range map[string]string{
		"service.name": "app", "service.version": "v1.2.3", "vcs.ref.head.revision": "abc123",
		"aws.ecs.task.arn": "arn:aws:ecs:us-east-1:111122223333:task/shipyard/0123", "cloud.availability_zone": "us-east-1b",
		"aws.ecs.task.revision": "4", "cloud.platform": "aws_ecs",
	} {
		if got := recv.attrs[k]; got != want {
			t.Errorf("resource attribute %s = %q, want %q", k, got, want)
		}
	}
}

func TestNoTracingWithoutProvider(t *testing.T) {
	s, logs, _ := newTestServer(t)
	r := do(t, s, http.MethodGet, "/api/greeting?name=Ada", http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}, nil)
	if _, ok := logs.requestLine(t, r.header.Get(HeaderRequestID))["trace_id"]; ok {
		t.Error("access log has a trace_id with tracing off, want none")
	}
	if s.handler != http.Handler(s.echo) {
		t.Error("handler is wrapped with tracing although tracing is off")
	}
}
