// Command deploywatch is the Lambda (runtime provided.al2023, binary
// bootstrap) that records every ECS deployment and CloudWatch alarm event
// of one service in the deployment ledger, enforces rollbacks when a
// watched alarm goes off, and answers the ECS lifecycle hook that
// smoke-tests a green revision. See docs/deploywatch.md.
//
// main reads the environment, builds the AWS clients and hands the handler
// to the Lambda runtime; internal/watch does the work.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/telemetry"
	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/watch"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
)

// Set by the build (-ldflags -X).
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("function", "deploywatch", "version", version, "commit", commit)
	f, err := setup(context.Background(), os.Getenv, os.Stdout, log)
	if err != nil {
		// Lambda reports the init failure with this output.
		log.Error("init failed", "err", err)
		fmt.Fprintln(os.Stderr, "deploywatch: init:", err)
		os.Exit(1)
	}
	var opts []lambda.Option
	if f.tracing != nil {
		// Lambda sends SIGTERM before it ends the process only when an
		// extension (the ADOT or OpenTelemetry layer's collector) runs.
		opts = append(opts, lambda.WithEnableSIGTERM(func() { _ = f.tracing.Shutdown(context.Background()) }))
	}
	lambda.StartWithOptions(f.handler, opts...)
}

// function is the built function: its handler, and its tracing when on.
type function struct {
	handler lambda.Handler
	tracing *telemetry.Tracing
}

// setup validates the configuration and builds the handler: the cold start.
// Metric lines, and spans when the console exporter is on, go to stdout.
func setup(ctx context.Context, getenv func(string) string, stdout io.Writer, log *slog.Logger) (function, error) {
	cfg, err := watch.ConfigFromEnv(getenv)
	if err != nil {
		return function{}, err
	}
	exporter, err := telemetry.ExporterFromEnv(getenv)
	if err != nil {
		return function{}, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return function{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	tracing, err := telemetry.Setup(ctx, exporter, telemetry.SamplerFromEnv(getenv), stdout, version, log)
	if err != nil {
		return function{}, err
	}
	httpClient := &http.Client{Timeout: 5 * time.Second}
	deps := watch.Deps{Log: log, Metrics: stdout, HTTP: httpClient}
	if tracing != nil {
		// Instrumented only when on: tracing that is off costs nothing.
		tracing.InstrumentAWS(&awsCfg)
		httpClient.Transport = tracing.Transport(http.DefaultTransport)
		deps.TracerProvider = tracing.TracerProvider()
	}
	deps.ECS = ecs.NewFromConfig(awsCfg)
	deps.Ledger = ledger.New(dynamodb.NewFromConfig(awsCfg), cfg.Table)
	f := function{handler: watch.New(cfg, deps), tracing: tracing}
	if tracing != nil {
		f.handler = tracing.Handler(f.handler)
		log.Info("tracing on", "exporter", exporter)
	}
	return f, nil
}
