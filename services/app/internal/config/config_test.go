package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/shipyard-ecs/shipyard/services/app/internal/fault"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{
			name: "defaults",
			env:  nil,
			want: Config{Port: 5000, DrainDelay: 5 * time.Second, ShutdownTimeout: 15 * time.Second, LogLevel: slog.LevelInfo},
		},
		{
			name: "everything set",
			env: map[string]string{
				"HOST": "127.0.0.7", "PORT": "8080", "APP_FAULT": "latency=300ms",
				"APP_DRAIN_DELAY": "200ms", "APP_SHUTDOWN_TIMEOUT": "2s", "APP_LOG_LEVEL": "debug",
				"OTEL_EXPORTER_OTLP_ENDPOINT":   "http://127.0.0.1:4318",
				"ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/abc",
			},
			want: Config{
				Host: "127.0.0.7", Port: 8080,
				Fault:      fault.Fault{Kind: fault.Latency, Latency: 300 * time.Millisecond},
				DrainDelay: 200 * time.Millisecond, ShutdownTimeout: 2 * time.Second, LogLevel: slog.LevelDebug,
				OTLPEndpoint: "http://127.0.0.1:4318", ECSMetadataURI: "http://169.254.170.2/v4/abc",
			},
		},
		{
			name: "zero drain delay",
			env:  map[string]string{"APP_DRAIN_DELAY": "0s"},
			want: Config{Port: 5000, ShutdownTimeout: 15 * time.Second, LogLevel: slog.LevelInfo},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnv(env(tt.env))
			if err != nil || got != tt.want {
				t.Errorf("FromEnv(%v) = %+v, %v, want %+v, nil", tt.env, got, err, tt.want)
			}
		})
	}
}

func TestFromEnvRejects(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		wants []string // substrings of the error
	}{
		{"port not a number", map[string]string{"PORT": "http"}, []string{`PORT "http"`, "1 to 65535"}},
		{"port out of range", map[string]string{"PORT": "70000"}, []string{`PORT "70000"`}},
		{"port zero", map[string]string{"PORT": "0"}, []string{`PORT "0"`}},
		{"fault", map[string]string{"APP_FAULT": "explode"}, []string{`APP_FAULT "explode"`, "latency=", "crash"}},
		{"drain delay", map[string]string{"APP_DRAIN_DELAY": "5"}, []string{`APP_DRAIN_DELAY "5"`, "duration"}},
		{"negative drain delay", map[string]string{"APP_DRAIN_DELAY": "-1s"}, []string{`APP_DRAIN_DELAY "-1s"`}},
		{"shutdown timeout", map[string]string{"APP_SHUTDOWN_TIMEOUT": "0s"}, []string{`APP_SHUTDOWN_TIMEOUT "0s"`}},
		{"log level", map[string]string{"APP_LOG_LEVEL": "loud"}, []string{`APP_LOG_LEVEL "loud"`}},
		{"otlp endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, []string{`"collector:4318"`, "http://"}},
		{"all at once", map[string]string{"PORT": "x", "APP_FAULT": "y"}, []string{`PORT "x"`, `APP_FAULT "y"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(env(tt.env))
			if err == nil {
				t.Fatalf("FromEnv(%v) = nil error, want one", tt.env)
			}
			for _, want := range tt.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("FromEnv(%v) error = %q, want it to contain %q", tt.env, err, want)
				}
			}
		})
	}
}
