//go:build aws

// Tests against a real AWS account: `make test-aws SHIP_AWS_ENV=<env>`
// (docs/ci.md). They run only with the aws build tag, never in make test or
// CI; make lint compiles them so they do not rot.

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/manifest"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// awsEnv is the environment of ship.yaml (or SHIP_AWS_MANIFEST) the tests
// deploy to, with its AWS configuration from the default chain; it skips
// the test, saying what to set, when SHIP_AWS_ENV is not set.
func awsEnv(t *testing.T) (mpath string, spec platform.Spec, cfg aws.Config) {
	t.Helper()
	env := os.Getenv("SHIP_AWS_ENV")
	if env == "" {
		t.Skip("SHIP_AWS_ENV is not set: name a ship.yaml environment in an AWS account you can spend on, e.g. make test-aws SHIP_AWS_ENV=staging (docs/ci.md)")
	}
	if env == localEnv {
		t.Skip("SHIP_AWS_ENV=local is the local cloud, which make test covers; name an AWS environment")
	}
	if env == "production" && os.Getenv("SHIP_AWS_ALLOW_PRODUCTION") != "1" {
		t.Skip("SHIP_AWS_ENV=production: these tests deploy and roll back; use a staging environment, or set SHIP_AWS_ALLOW_PRODUCTION=1 if you mean it")
	}
	mpath = os.Getenv("SHIP_AWS_MANIFEST")
	if mpath == "" {
		mpath = repoManifest
	}
	mpath, err := filepath.Abs(mpath)
	if err != nil {
		t.Fatal(err)
	}
	spec, err = manifest.LoadSpec(mpath, env)
	if err != nil {
		t.Fatalf("SHIP_AWS_ENV=%s: %v", env, err)
	}
	ctx := context.Background()
	cfg, err = config.LoadDefaultConfig(ctx, config.WithRegion(spec.Region))
	if err != nil {
		t.Fatalf("load the AWS configuration: %v", err)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		t.Fatalf("no AWS credentials in the default chain for SHIP_AWS_ENV=%s: %v (aws sso login, AWS_PROFILE, ...)", env, err)
	}
	return mpath, spec, cfg
}

// shipAWS runs ship against the environment and fails the test unless it
// exits with want.
func shipAWS(ctx context.Context, t *testing.T, want int, args ...string) string {
	t.Helper()
	start := time.Now()
	stdout, stderr, code := shipIn(ctx, args...)
	t.Logf("ship %s: exit %d in %s", strings.Join(args, " "), code, time.Since(start).Round(time.Second))
	if code != want {
		t.Fatalf("ship %s = exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout, stderr)
	}
	return stdout
}

// runningTaskDefinition is the task definition of the service's primary
// deployment.
func runningTaskDefinition(ctx context.Context, t *testing.T, cfg aws.Config, spec platform.Spec) string {
	t.Helper()
	out, err := ecs.NewFromConfig(cfg).DescribeServices(ctx, &ecs.DescribeServicesInput{
		Cluster: aws.String(stack.ClusterName(spec)), Services: []string{stack.ServiceName(spec)},
	})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("DescribeServices(%s) = %v, %v", stack.ServiceName(spec), out, err)
	}
	return aws.ToString(out.Services[0].TaskDefinition)
}

// serviceAnswers polls the service URL until it answers 200, and returns the body.
func serviceAnswers(ctx context.Context, t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(5 * time.Minute)
	var last string
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(body)
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(5 * time.Second) // an ALB's DNS name takes minutes to resolve everywhere
	}
	t.Fatalf("GET %s: no 200 within 5 minutes; last: %s", url, last)
	return ""
}

// TestAWSUpDeployStatusRollback runs the product's main path on AWS: ship up
// (twice: the second changes nothing), a deployment, ship status, a second
// deployment, and a rollback that redeploys the first. It leaves the
// environment running; ship destroy --env $SHIP_AWS_ENV removes it.
func TestAWSUpDeployStatusRollback(t *testing.T) {
	mpath, spec, cfg := awsEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Minute)
	defer cancel()
	env := []string{"--manifest", mpath, "--env", spec.Env}

	shipAWS(ctx, t, exitOK, append([]string{"up", "--yes"}, env...)...)
	outputs, err := deploy.Outputs(ctx, cloudformation.NewFromConfig(cfg), stack.EnvironmentName(spec))
	if err != nil {
		t.Fatalf("read the environment stack's outputs after ship up: %v", err)
	}
	url, err := outputs.Get(stack.OutputServiceURL)
	if err != nil {
		t.Fatal(err)
	}

	run := time.Now().UTC().Format("20060102T150405")
	shipAWS(ctx, t, exitOK, append([]string{"deploy", "--env-var", "SHIP_AWS_TEST=" + run + "-1"}, env...)...)
	first := runningTaskDefinition(ctx, t, cfg, spec)
	if body := serviceAnswers(ctx, t, url); !strings.Contains(body, "revision") {
		t.Errorf("GET %s = %s, want the app's answer naming its revision", url, body)
	}
	if status := shipAWS(ctx, t, exitOK, append([]string{"status"}, env...)...); !strings.Contains(status, family(first)) {
		t.Errorf("ship status does not name the running task definition %s:\n%s", first, status)
	}

	shipAWS(ctx, t, exitOK, append([]string{"deploy", "--env-var", "SHIP_AWS_TEST=" + run + "-2"}, env...)...)
	second := runningTaskDefinition(ctx, t, cfg, spec)
	if second == first {
		t.Fatalf("second deploy left task definition %s running, want a new revision", second)
	}

	shipAWS(ctx, t, exitOK, append([]string{"rollback"}, env...)...)
	if got := runningTaskDefinition(ctx, t, cfg, spec); got != first {
		t.Errorf("after ship rollback the service runs %s, want the first deployment's %s", got, first)
	}
	serviceAnswers(ctx, t, url)

	// Drift safety on AWS: ship up after deploys and a rollback changes
	// nothing live.
	shipAWS(ctx, t, exitOK, append([]string{"up", "--yes"}, env...)...)
	if got := runningTaskDefinition(ctx, t, cfg, spec); got != first {
		t.Errorf("ship up changed the running task definition to %s, want %s", got, first)
	}
}
