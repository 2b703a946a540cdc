package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/shipyard-ecs/shipyard/services/app/internal/config"
)

// healthcheckTimeout stays under ECS's default health check timeout (5 s).
const healthcheckTimeout = 3 * time.Second

// healthcheck probes the local /health, for the ECS container health check
// in an image that has no shell or curl. It reads only HOST and PORT, so a
// bad APP_FAULT does not make the probe itself fail.
func healthcheck(ctx context.Context, getenv func(string) string, stderr io.Writer) int {
	port := getenv("PORT")
	if port == "" {
		port = strconv.Itoa(config.DefaultPort)
	}
	url := "http://" + net.JoinHostPort(probeHost(getenv("HOST")), port) + "/health"
	if err := probe(ctx, url, healthcheckTimeout); err != nil {
		fmt.Fprintf(stderr, "healthcheck: %v\n", err)
		return exitFail
	}
	return exitOK
}

// probeHost maps the listen host to one to dial: the wildcard addresses
// mean "this machine".
func probeHost(host string) string {
	switch host {
	case "", "0.0.0.0":
		return "127.0.0.1"
	case "::", "[::]":
		return "::1"
	}
	return host
}

// probe GETs url and wants 200.
func probe(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("probe %s: status %s", url, resp.Status)
	}
	return nil
}
