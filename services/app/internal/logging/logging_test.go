package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestTraceIDs(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	})
	tests := []struct {
		name          string
		ctx           context.Context
		trace, span   string
		wantTraceKeys bool
	}{
		{"with span", trace.ContextWithSpanContext(context.Background(), sc), "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", true},
		{"without span", context.Background(), "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := New(&buf, slog.LevelInfo).With("component", "test")
			log.InfoContext(tt.ctx, "hello", "n", 1)
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("log line %q is not JSON: %v", buf.String(), err)
			}
			if line["msg"] != "hello" || line["component"] != "test" || line["n"] != float64(1) {
				t.Errorf("log line = %v, want msg, component and n kept", line)
			}
			_, hasTrace := line["trace_id"]
			if hasTrace != tt.wantTraceKeys {
				t.Fatalf("log line %v has trace_id = %v, want %v", line, hasTrace, tt.wantTraceKeys)
			}
			if tt.wantTraceKeys && (line["trace_id"] != tt.trace || line["span_id"] != tt.span) {
				t.Errorf("trace_id, span_id = %v, %v, want %s, %s", line["trace_id"], line["span_id"], tt.trace, tt.span)
			}
		})
	}
}

func TestLevel(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelInfo)
	log.Debug("hidden")
	if buf.Len() != 0 {
		t.Errorf("debug line logged at info level: %q", buf.String())
	}
}
