// Package awsprototest serves localcloud backends on an awsproto.Mux over
// loopback HTTP, so a test drives them with the real aws-sdk-go-v2 clients,
// as callers of localcloud do.
package awsprototest

import (
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// Serve mounts each backend's Register on one Mux, serves it on an httptest
// server that closes when the test ends, and returns the server's URL.
func Serve(t testing.TB, register ...func(*awsproto.Mux)) string {
	t.Helper()
	mux := awsproto.NewMux(slog.New(slog.DiscardHandler))
	for _, r := range register {
		r(mux)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Config is the aws.Config for an SDK client of endpoint: us-east-1 and
// static credentials, which the backends do not check. It retries what the
// SDK deems retryable, as ship's clients do, with short waits: a local
// answer now and then loses the SDK's race between closing the request
// body and reading the answer ("use of closed network connection",
// aws-sdk-go-v2#2737), and a test that does not retry that flakes.
func Config(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 50 * time.Millisecond })
		},
	}
}
