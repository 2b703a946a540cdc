package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/shipyard-ecs/shipyard/platform"
)

// BenchmarkInit measures the cold start's own work: validating the
// configuration and building the AWS clients and the handler (the Runtime
// Interface Emulator test logs the whole process's Init Duration).
func BenchmarkInit(b *testing.B) {
	env := map[string]string{
		platform.EnvLedgerTable: "t", platform.EnvCluster: "c", platform.EnvService: "s", platform.EnvWatchedAlarms: "a,b",
		platform.EnvEnforcement: platform.EnforceRollback, platform.EnvGuardWindowMinutes: "15",
		platform.EnvTestListenerURL: "http://127.0.0.1:8080", platform.EnvHealthCheckPath: "/health",
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true",
	}
	for k, v := range env {
		b.Setenv(k, v)
	}
	log := slog.New(slog.DiscardHandler)
	for b.Loop() {
		if _, err := setup(context.Background(), func(k string) string { return env[k] }, log); err != nil {
			b.Fatal(err)
		}
	}
}
