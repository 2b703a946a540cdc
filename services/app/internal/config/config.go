// Package config turns the app's environment into a validated Config. Only
// main reads the environment; it hands the lookup function in here.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/shipyard-ecs/shipyard/services/app/internal/fault"
)

// Defaults. docs/shutdown.md argues the timings against ECS's 30 s
// stopTimeout and the target group's 60 s deregistration delay.
const (
	DefaultPort            = 5000
	DefaultDrainDelay      = 5 * time.Second
	DefaultShutdownTimeout = 15 * time.Second
)

// Config is everything the app reads from its environment.
type Config struct {
	// Host is the address to listen on; empty means all interfaces.
	Host string
	Port int
	// Fault is the fault injected on purpose for rollback drills.
	Fault fault.Fault
	// DrainDelay is how long the app keeps serving new requests after
	// SIGTERM while /health already answers 503.
	DrainDelay time.Duration
	// ShutdownTimeout bounds how long in-flight requests get to finish
	// after the drain delay before the remaining connections are closed.
	ShutdownTimeout time.Duration
	// LogLevel is the minimum level logged; health checks log at debug.
	LogLevel slog.Level
	// OTLPEndpoint is the OTLP/HTTP base URL; empty disables tracing.
	OTLPEndpoint string
	// ECSMetadataURI is ECS_CONTAINER_METADATA_URI_V4; empty off ECS.
	ECSMetadataURI string
}

// Addr is the host:port to listen on.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// FromEnv reads the configuration through getenv (os.Getenv in main) and
// reports every invalid variable at once, each naming what it accepts.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Host:            getenv("HOST"),
		Port:            DefaultPort,
		DrainDelay:      DefaultDrainDelay,
		ShutdownTimeout: DefaultShutdownTimeout,
		LogLevel:        slog.LevelInfo,
		OTLPEndpoint:    strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")),
		ECSMetadataURI:  strings.TrimSpace(getenv("ECS_CONTAINER_METADATA_URI_V4")),
	}
	var errs []error
	if v := getenv("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			errs = append(errs, fmt.Errorf("parse PORT %q: want a port number from 1 to 65535", v))
		}
		c.Port = p
	}
	f, err := fault.Parse(getenv("APP_FAULT"))
	if err != nil {
		errs = append(errs, err)
	}
	c.Fault = f
	if v := getenv("APP_DRAIN_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("parse APP_DRAIN_DELAY %q: want a duration of 0s or more, e.g. 5s", v))
		}
		c.DrainDelay = d
	}
	if v := getenv("APP_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("parse APP_SHUTDOWN_TIMEOUT %q: want a positive duration, e.g. 15s", v))
		}
		c.ShutdownTimeout = d
	}
	if v := getenv("APP_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("parse APP_LOG_LEVEL %q: want debug, info, warn or error", v))
		}
	}
	if c.OTLPEndpoint != "" && !strings.HasPrefix(c.OTLPEndpoint, "http://") && !strings.HasPrefix(c.OTLPEndpoint, "https://") {
		errs = append(errs, fmt.Errorf("parse OTEL_EXPORTER_OTLP_ENDPOINT %q: want an http:// or https:// base URL of an OTLP/HTTP collector, e.g. http://localhost:4318", c.OTLPEndpoint))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}
