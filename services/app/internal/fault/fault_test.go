package fault

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Fault
	}{
		{"", Fault{}},
		{"health", Fault{Kind: Health}},
		{"crash", Fault{Kind: Crash}},
		{"errors=0.5", Fault{Kind: Errors, ErrorRate: 0.5}},
		{"errors=0", Fault{Kind: Errors, ErrorRate: 0}},
		{"errors=1", Fault{Kind: Errors, ErrorRate: 1}},
		{"latency=300ms", Fault{Kind: Latency, Latency: 300 * time.Millisecond}},
		{"latency=10s", Fault{Kind: Latency, Latency: 10 * time.Second}},
		{" health ", Fault{Kind: Health}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v, want %+v, nil", tt.in, got, err, tt.want)
		}
		if tt.in != "" && strings.TrimSpace(tt.in) != got.String() {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got.String(), strings.TrimSpace(tt.in))
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{
		"boom", "HEALTH", "health=1", "crash=yes", "=1",
		"errors", "errors=", "errors=abc", "errors=1.5", "errors=-0.1", "errors=NaN",
		"latency", "latency=", "latency=300", "latency=-1s", "latency=0s", "latency=11s",
	} {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) = nil error, want one", in)
			continue
		}
		msg := err.Error()
		for _, want := range []string{`"` + in + `"`, "health", "errors=", "latency=", "crash"} {
			if !strings.Contains(msg, want) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", in, msg, want)
			}
		}
	}
}
