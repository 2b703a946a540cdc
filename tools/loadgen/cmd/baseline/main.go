// Command baseline is the benchmark's yardstick: the smallest net/http
// server that answers /health and / with the same JSON as the app, so the
// bench can state the app's cost over plain net/http as ratios.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

func run() error {
	port := os.Getenv("PORT")
	if port == "" {
		port = "5001"
	}
	version := flag.String("version", "dev", "version to answer, as the app does")
	commit := flag.String("commit", "unknown", "commit to answer, as the app does")
	flag.Parse()
	started := time.Now()
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	// The same shapes, field order and values as the app's answers.
	type health struct {
		Status  string `json:"status"`
		Version string `json:"version"`
		Commit  string `json:"commit"`
		Uptime  string `json:"uptime"`
	}
	type info struct {
		Service   string    `json:"service"`
		Version   string    `json:"version"`
		Commit    string    `json:"commit"`
		StartedAt time.Time `json:"started_at"`
		Uptime    string    `json:"uptime"`
	}
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, health{Status: "ok", Version: *version, Commit: *commit,
			Uptime: time.Since(started).Round(time.Second).String()})
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, info{Service: "app", Version: *version, Commit: *commit,
			StartedAt: started.UTC(), Uptime: time.Since(started).Round(time.Second).String()})
	})
	ln, err := net.Listen("tcp", net.JoinHostPort(os.Getenv("HOST"), port))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return srv.Serve(ln)
}
