// Command testapp is a tiny stand-in for the sample app in task-runner and
// scheduler tests: it listens on HOST:PORT, serves /health (503 once
// draining or with APP_FAULT=health), answers / with the task metadata it
// read from ECS_CONTAINER_METADATA_URI_V4 (500 with APP_FAULT=errors=1),
// exits 3 at once with APP_FAULT=crash, burns a core with APP_FAULT=cpu,
// GETs another URL on /fetch?url= (through HTTP_PROXY), and on SIGTERM drains for
// APP_DRAIN_DELAY before exiting 0. "testapp healthcheck" probes /health as
// a container health check does.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(healthcheck())
	}
	fault := os.Getenv("APP_FAULT")
	if fault == "crash" {
		fmt.Fprintln(os.Stderr, "crashing as asked")
		os.Exit(3)
	}
	if fault == "cpu" {
		go burn()
	}
	addr := net.JoinHostPort(os.Getenv("HOST"), os.Getenv("PORT"))
	var draining atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() || fault == "health" {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"status":"draining"}`)
			return
		}
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	// /fetch?url=U GETs U with net/http's default client, which honours
	// HTTP_PROXY, and answers its status and body.
	mux.HandleFunc("/fetch", func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(r.URL.Query().Get("url"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": resp.StatusCode, "body": string(body)})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if fault == "errors=1" {
			http.Error(w, "injected fault", http.StatusInternalServerError)
			return
		}
		out := map[string]any{"version": os.Getenv("APP_VERSION"), "host": os.Getenv("HOST")}
		if uri := os.Getenv("ECS_CONTAINER_METADATA_URI_V4"); uri != "" {
			if resp, err := http.Get(uri + "/task"); err == nil {
				var task map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&task)
				resp.Body.Close()
				out["task"] = task
			}
		}
		_ = json.NewEncoder(w).Encode(out)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	fmt.Println("listening on", ln.Addr())
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	draining.Store(true)
	fmt.Println("draining")
	if d, err := time.ParseDuration(os.Getenv("APP_DRAIN_DELAY")); err == nil {
		time.Sleep(d) // the app under test drains for a while, as the real one does
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	fmt.Println("stopped")
}

// burn keeps one core busy, for autoscaling tests.
func burn() {
	x := 0
	for {
		x++
	}
}

// healthcheck probes the running app's /health, as a container health check.
func healthcheck() int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort(os.Getenv("HOST"), os.Getenv("PORT")) + "/health")
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}
