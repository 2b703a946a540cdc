package main

import (
	"errors"
	"io"
	"log/slog"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    options
		wantErr bool
	}{
		{"defaults", nil, options{addr: "127.0.0.1:4566", stateDir: ".localcloud", timeScale: 1, logLevel: slog.LevelInfo, portOffset: 8000}, false},
		{"all set", []string{"--addr", "localhost:5000", "--state", "/tmp/s", "--time-scale", "0.05", "--log-level", "debug", "--listener-port-offset", "-1"},
			options{addr: "localhost:5000", stateDir: "/tmp/s", timeScale: 0.05, logLevel: slog.LevelDebug, portOffset: -1}, false},
		{"not loopback", []string{"--addr", "0.0.0.0:4566"}, options{}, true},
		{"no port", []string{"--addr", "127.0.0.1"}, options{}, true},
		{"zero scale", []string{"--time-scale", "0"}, options{}, true},
		{"bad level", []string{"--log-level", "loud"}, options{}, true},
		{"bad offset", []string{"--listener-port-offset", "-2"}, options{}, true},
		{"stray argument", []string{"serve"}, options{}, true},
		{"unknown flag", []string{"--nope"}, options{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr {
				if !errors.Is(err, errUsage) {
					t.Errorf("parseFlags(%q) error = %v, want errUsage", tt.args, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q) error = %v", tt.args, err)
			}
			if got != tt.want {
				t.Errorf("parseFlags(%q) = %+v, want %+v", tt.args, got, tt.want)
			}
		})
	}
}
