package watch

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shipyard-ecs/shipyard/platform"
)

// Config is deploywatch's configuration, from the function's environment.
type Config struct {
	Table   string
	Cluster string
	Service string
	// WatchedAlarms are the alarms whose ALARM state rolls a deployment back.
	WatchedAlarms []string
	// DryRun records what enforcement would do, and does nothing.
	DryRun bool
	// GuardWindow is how long after a deployment finished an alarm still
	// rolls it back (by redeploying the previous revision).
	GuardWindow time.Duration
	// Cooldown is the least time between two enforced rollbacks.
	Cooldown time.Duration

	// TestListenerURL is the base URL of the test listener; empty skips the
	// smoke test.
	TestListenerURL string
	// SmokeChecks are the requests the smoke test makes; the health check
	// comes first.
	SmokeChecks []Check
	// SmokeWarmup is how long the hook answers IN_PROGRESS while green
	// warms up, before it fails.
	SmokeWarmup time.Duration
	// SmokeBudget bounds one invocation's smoke test.
	SmokeBudget time.Duration
	// CallBackDelay is how long ECS waits before it invokes the hook again.
	CallBackDelay time.Duration
}

// Check is one smoke-test request: GET Path answers Status.
type Check struct {
	Path   string
	Status int
}

// ConfigFromEnv reads and validates the configuration; an error names the
// variable to fix. getenv is os.Getenv in main.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Table: getenv(platform.EnvLedgerTable), Cluster: getenv(platform.EnvCluster), Service: getenv(platform.EnvService),
		SmokeBudget: 20 * time.Second, CallBackDelay: 15 * time.Second,
	}
	for _, req := range []struct{ name, v string }{
		{platform.EnvLedgerTable, c.Table}, {platform.EnvCluster, c.Cluster}, {platform.EnvService, c.Service},
	} {
		if strings.TrimSpace(req.v) == "" {
			return Config{}, fmt.Errorf("%s is empty: set it to the %s", req.name, map[string]string{
				platform.EnvLedgerTable: "deployment ledger's DynamoDB table name",
				platform.EnvCluster:     "ECS cluster's name", platform.EnvService: "ECS service's name"}[req.name])
		}
		if strings.ContainsAny(req.v, "/ \t") {
			return Config{}, fmt.Errorf("%s %q: want a name, not an ARN or a path", req.name, req.v)
		}
	}
	for _, a := range strings.Split(getenv(platform.EnvWatchedAlarms), ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.WatchedAlarms = append(c.WatchedAlarms, a)
		}
	}
	if len(c.WatchedAlarms) == 0 {
		return Config{}, fmt.Errorf("%s is empty: name the alarms (comma-separated) whose ALARM state rolls a deployment back", platform.EnvWatchedAlarms)
	}
	switch e := getenv(platform.EnvEnforcement); e {
	case platform.EnforceRollback:
	case platform.EnforceDryRun:
		c.DryRun = true
	default:
		return Config{}, fmt.Errorf("%s %q: want %q or %q", platform.EnvEnforcement, e, platform.EnforceRollback, platform.EnforceDryRun)
	}
	var err error
	if c.GuardWindow, err = duration(getenv, platform.EnvGuardWindowMinutes, "", time.Minute, 0, 24*60); err != nil {
		return Config{}, err
	}
	if c.Cooldown, err = duration(getenv, platform.EnvCooldownMinutes, "10", time.Minute, 0, 24*60); err != nil {
		return Config{}, err
	}
	if c.SmokeWarmup, err = duration(getenv, platform.EnvSmokeWarmupSeconds, "300", time.Second, 0, 24*3600); err != nil {
		return Config{}, err
	}
	if u := getenv(platform.EnvTestListenerURL); u != "" {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return Config{}, fmt.Errorf("%s %q: want an http(s) URL such as http://internal-alb:8080", platform.EnvTestListenerURL, u)
		}
		c.TestListenerURL = strings.TrimRight(u, "/")
	}
	health := getenv(platform.EnvHealthCheckPath)
	if health == "" {
		health = "/health"
	}
	if !strings.HasPrefix(health, "/") {
		return Config{}, fmt.Errorf("%s %q: want a path starting with /", platform.EnvHealthCheckPath, health)
	}
	c.SmokeChecks = []Check{{Path: health, Status: 200}}
	for _, pair := range strings.Split(getenv(platform.EnvSmokeChecks), ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		path, st, ok := strings.Cut(pair, "=")
		code, err := strconv.Atoi(st)
		if !ok || !strings.HasPrefix(path, "/") || err != nil || code < 100 || code > 599 {
			return Config{}, fmt.Errorf("%s: %q, want path=status such as /=200", platform.EnvSmokeChecks, pair)
		}
		c.SmokeChecks = append(c.SmokeChecks, Check{Path: path, Status: code})
	}
	return c, nil
}

func duration(getenv func(string) string, name, def string, unit time.Duration, lo, hi int) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		v = def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s %q: want a whole number from %d to %d", name, v, lo, hi)
	}
	return time.Duration(n) * unit, nil
}

func (c Config) watches(alarm string) bool {
	for _, a := range c.WatchedAlarms {
		if a == alarm {
			return true
		}
	}
	return false
}
