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
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

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
	h, err := setup(context.Background(), os.Getenv, log)
	if err != nil {
		// Lambda reports the init failure with this output.
		log.Error("init failed", "err", err)
		fmt.Fprintln(os.Stderr, "deploywatch: init:", err)
		os.Exit(1)
	}
	lambda.Start(h)
}

// setup validates the configuration and builds the handler: the cold start.
func setup(ctx context.Context, getenv func(string) string, log *slog.Logger) (*watch.Handler, error) {
	cfg, err := watch.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return watch.New(cfg, watch.Deps{
		ECS:     ecs.NewFromConfig(awsCfg),
		Ledger:  ledger.New(dynamodb.NewFromConfig(awsCfg), cfg.Table),
		HTTP:    &http.Client{Timeout: 5 * time.Second},
		Log:     log,
		Metrics: os.Stdout,
	}), nil
}
