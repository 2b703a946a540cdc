package watch

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shipyard-ecs/shipyard/platform"
)

func env(over map[string]string) func(string) string {
	base := map[string]string{
		platform.EnvLedgerTable: "prod-deployments", platform.EnvCluster: "prod", platform.EnvService: "web",
		platform.EnvWatchedAlarms: "web-target-5xx, web-elb-5xx", platform.EnvEnforcement: platform.EnforceRollback,
		platform.EnvGuardWindowMinutes: "15", platform.EnvTestListenerURL: "http://internal-alb:8080/",
		platform.EnvHealthCheckPath: "/health",
	}
	for k, v := range over {
		base[k] = v
	}
	return func(k string) string { return base[k] }
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	c, err := ConfigFromEnv(env(map[string]string{platform.EnvSmokeChecks: "/=200, /missing=404"}))
	if err != nil {
		t.Fatalf("ConfigFromEnv(good) error = %v", err)
	}
	want := Config{Table: "prod-deployments", Cluster: "prod", Service: "web", WatchedAlarms: []string{"web-target-5xx", "web-elb-5xx"},
		GuardWindow: 15 * time.Minute, Cooldown: 10 * time.Minute, TestListenerURL: "http://internal-alb:8080",
		SmokeChecks: []Check{{"/health", 200}, {"/", 200}, {"/missing", 404}}, SmokeWarmup: 300 * time.Second,
		SmokeBudget: 20 * time.Second, CallBackDelay: 15 * time.Second}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("ConfigFromEnv(good) = %+v,\nwant %+v", c, want)
	}
	dry, err := ConfigFromEnv(env(map[string]string{platform.EnvEnforcement: platform.EnforceDryRun, platform.EnvTestListenerURL: ""}))
	if err != nil || !dry.DryRun || dry.TestListenerURL != "" {
		t.Errorf("ConfigFromEnv(dry-run, no test listener) = %+v, %v; want DryRun and no URL", dry, err)
	}
}

func TestConfigFromEnvNamesTheVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
	}{
		{platform.EnvLedgerTable, ""},
		{platform.EnvCluster, ""},
		{platform.EnvCluster, "arn:aws:ecs:us-east-1:1:cluster/prod"},
		{platform.EnvService, " "},
		{platform.EnvWatchedAlarms, " , "},
		{platform.EnvEnforcement, "yes"},
		{platform.EnvEnforcement, ""},
		{platform.EnvGuardWindowMinutes, ""},
		{platform.EnvGuardWindowMinutes, "-1"},
		{platform.EnvGuardWindowMinutes, "15m"},
		{platform.EnvCooldownMinutes, "lots"},
		{platform.EnvSmokeWarmupSeconds, "999999"},
		{platform.EnvTestListenerURL, "internal-alb:8080"},
		{platform.EnvTestListenerURL, "ftp://x"},
		{platform.EnvHealthCheckPath, "health"},
		{platform.EnvSmokeChecks, "/=ok"},
		{platform.EnvSmokeChecks, "no-slash=200"},
		{platform.EnvSmokeChecks, "/=99"},
	}
	for _, tt := range tests {
		_, err := ConfigFromEnv(env(map[string]string{tt.name: tt.value}))
		if err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("ConfigFromEnv(%s=%q) error = %v, want one naming %s", tt.name, tt.value, err, tt.name)
		}
	}
}
