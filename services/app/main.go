// Command app is the sample web service that shipyard deploys: an Echo v4
// JSON service on port 5000 with a health check that turns 503 while the
// task drains, OpenTelemetry tracing, JSON logs and fault injection for
// rollback drills.
//
// Usage:
//
//	app              serve (configured by the environment, see docs/shutdown.md and the README)
//	app healthcheck  probe the local /health and exit 0 when healthy, 1 otherwise
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/shipyard-ecs/shipyard/services/app/internal/config"
	"github.com/shipyard-ecs/shipyard/services/app/internal/ecsmeta"
	"github.com/shipyard-ecs/shipyard/services/app/internal/fault"
	"github.com/shipyard-ecs/shipyard/services/app/internal/logging"
	"github.com/shipyard-ecs/shipyard/services/app/internal/server"
	"github.com/shipyard-ecs/shipyard/services/app/internal/telemetry"
)

// Stamped at build time: -ldflags "-X main.version=... -X main.commit=...".
var version, commit string

// Exit codes.
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2 // bad usage or environment: fix it, do not retry
)

// flushTimeout bounds the final export of buffered spans at exit.
const flushTimeout = 2 * time.Second

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if version == "" {
		version = "dev"
	}
	if commit == "" {
		commit = "unknown"
	}
	if len(args) > 0 {
		switch args[0] {
		case "healthcheck":
			return healthcheck(ctx, getenv, stderr)
		case "version":
			fmt.Fprintf(stdout, "app %s (%s)\n", version, commit)
			return exitOK
		default:
			fmt.Fprintf(stderr, "app: unknown command %q; usage: app [healthcheck|version]\n", args[0])
			return exitConfig
		}
	}

	cfg, err := config.FromEnv(getenv)
	if err != nil {
		logging.New(stdout, slog.LevelInfo).Error("refuse to start: fix the environment", "err", err.Error())
		return exitConfig
	}
	log := logging.New(stdout, cfg.LogLevel)
	if cfg.Fault.Kind == fault.Crash {
		log.Error("APP_FAULT=crash: exiting at start on purpose (rollback drill)", "version", version)
		return exitFail
	}
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("stopped with an error", "err", err.Error())
		return exitFail
	}
	return exitOK
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	// The first SIGTERM (or Ctrl-C) starts the drain. Signals get their
	// default action back before the drain becomes visible, so a second
	// one stops the app at once.
	signalled, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, drain := context.WithCancel(ctx)
	defer drain()
	go func() {
		<-signalled.Done()
		stop()
		drain()
	}()

	opts := server.Options{Logger: log, Version: version, Commit: commit, Fault: cfg.Fault}
	tcfg := telemetry.Config{Endpoint: cfg.OTLPEndpoint, ServiceName: server.ServiceName, Version: version, Commit: commit}
	if cfg.ECSMetadataURI != "" {
		tasks := ecsmeta.New(cfg.ECSMetadataURI)
		opts.Tasks = tasks
		// Fetch now so the first GET / and the trace resource have it; a
		// failure is retried lazily by GET /.
		if t, err := tasks.Task(ctx); err != nil {
			log.Warn("read ECS task metadata; GET / will retry", "err", err.Error())
		} else {
			log.Info("running on ECS", "task_arn", t.TaskARN, "family", t.Family, "revision", t.Revision, "availability_zone", t.AvailabilityZone)
			tcfg.ECS = &telemetry.ECSTask{TaskARN: t.TaskARN, Family: t.Family, Revision: t.Revision, AvailabilityZone: t.AvailabilityZone}
		}
	}
	if cfg.OTLPEndpoint != "" {
		tp, err := telemetry.NewTracerProvider(ctx, tcfg)
		if err != nil {
			return err
		}
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			log.Warn("export traces", "err", err.Error())
		}))
		opts.TracerProvider = tp
		defer func() {
			fctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
			defer cancel()
			if err := tp.Shutdown(fctx); err != nil {
				log.Warn("flush traces at exit", "err", err.Error())
			}
		}()
	}

	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w; set PORT or HOST to a free address", cfg.Addr(), err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "version", version, "commit", commit,
		"fault", cfg.Fault.String(), "tracing", cfg.OTLPEndpoint != "")
	return server.New(opts).Serve(ctx, ln, server.Timings{DrainDelay: cfg.DrainDelay, ShutdownTimeout: cfg.ShutdownTimeout})
}
