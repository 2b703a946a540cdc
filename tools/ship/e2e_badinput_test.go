package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// badInput runs the ship binary on bad input against a running localcloud
// that has nothing yet (issue #7, test 8): a broken ship.yaml (a syntax
// error, an unknown key, a bad value), an unknown environment, and an AWS
// environment without credentials. Each is exit 2 with an error naming the
// problem and what to do, and the cloud still has no stack.
func badInput(t *testing.T, e environment) {
	t.Helper()
	ctx, c, cfg := e.ctx, e.cloud, e.cfg
	good := lifecycleManifest
	withCloud := e.environ()
	// No credentials anywhere: no AWS_* variables, an empty home (no
	// ~/.aws), and no instance metadata service to wait for.
	var bare []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			bare = append(bare, kv)
		}
	}
	bare = append(bare, "HOME="+t.TempDir(), "AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL="+c.endpoint)

	tests := []struct {
		name     string
		manifest string
		args     []string
		env      []string
		want     []string
	}{
		{"syntax error", "name: shipyard\nenvironments:\n  local:\n    account: \"000000000000\"\n   bad: [\n", nil, withCloud,
			[]string{"ship.yaml:5", "syntax"}},
		{"unknown key", strings.Replace(good, "network:", "vpc:", 1), nil, withCloud,
			[]string{"ship.yaml:6:", "environments.local.vpc: is not a known key; want one of", "network"}},
		{"bad value", strings.Replace(good, "retentionDays: 1", "retentionDays: 2", 1), nil, withCloud,
			[]string{"ship.yaml:13:", "environments.local.logs.retentionDays: 2 is not a CloudWatch Logs retention; want one of 1, 3"}},
		{"unknown environment", good, []string{"--env", "nowhere"}, withCloud,
			[]string{"environments.nowhere: no such environment; want one of local, staging"}},
		{"no credentials", good, []string{"--env", "staging"}, bare,
			[]string{"no AWS credentials for environment staging", "aws configure", "--env local"}},
	}
	for _, tc := range tests {
		mpath := writeManifest(t, tc.manifest)
		for _, cmd := range [][]string{{"up", "--yes"}, {"deploy"}, {"destroy", "--yes"}} {
			args := append(append(cmd, "--manifest", mpath), tc.args...)
			began := time.Now()
			stdout, stderr, code := shipExec(t, tc.env, args...)
			if code != exitUsage {
				t.Errorf("%s: ship %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.name, cmd[0], code, exitUsage, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%s: ship %s: stderr lacks %q:\n%s", tc.name, cmd[0], w, stderr)
				}
			}
			if took := time.Since(began); took > 20*time.Second {
				t.Errorf("%s: ship %s took %s to refuse, want it quick", tc.name, cmd[0], took)
			}
		}
	}
	stacks, err := cloudformation.NewFromConfig(cfg).ListStacks(ctx, &cloudformation.ListStacksInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stacks.StackSummaries {
		if s.StackStatus != cftypes.StackStatusDeleteComplete {
			t.Errorf("after bad input, the cloud has stack %s (%s), want none", aws.ToString(s.StackName), s.StackStatus)
		}
	}
}

// missingImage deploys an image reference the registry does not have, and
// rolls back to a revision never registered: exit 2 naming it, and no task
// definition registered, the service on the same one, no ledger write.
func missingImage(t *testing.T, e environment, repo string) {
	t.Helper()
	ctx, cfg, spec, mpath := e.ctx, e.cfg, e.spec, e.manifest
	ecsc := ecs.NewFromConfig(cfg)
	outs, err := deploy.Outputs(ctx, cloudformation.NewFromConfig(cfg), stack.EnvironmentName(spec))
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(dynamodb.NewFromConfig(cfg), outs[stack.OutputLedgerTable])
	look := func() string {
		tds, err := ecsc.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(spec.Prefix()), Status: ecstypes.TaskDefinitionStatusActive})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := ecsc.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(outs[stack.OutputCluster]), Services: []string{stack.ServiceName(spec)}})
		if err != nil || len(svc.Services) != 1 {
			t.Fatalf("describe the service: %v", err)
		}
		ds, err := l.Deployments(ctx, outs[stack.OutputCluster], stack.ServiceName(spec), 0)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(tds.TaskDefinitionArns, ",") + " " + aws.ToString(svc.Services[0].TaskDefinition) + " " + strings.Repeat("d", len(ds))
	}
	before := look()
	ref := repo + ":no-such-tag"
	env := e.environ()
	stdout, stderr, code := shipExec(t, env, "deploy", "--manifest", mpath, "--image", ref)
	if code != exitUsage || !strings.Contains(stderr, ref+" is not in its registry") || !strings.Contains(stderr, "push it first") {
		t.Errorf("ship deploy --image %s: exit %d, want %d naming the image and what to do\nstdout:\n%s\nstderr:\n%s", ref, code, exitUsage, stdout, stderr)
	}
	if after := look(); after != before {
		t.Errorf("ship deploy of a missing image changed task definitions, service or ledger:\n before %s\n after  %s", before, after)
	}
	// So is a --package that is no Go main package: caught before a build
	// whose tasks could never start.
	platformDir, err := filepath.Abs("../../platform")
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = shipExec(t, env, "deploy", "--manifest", mpath, "--package", platformDir)
	if code != exitUsage || !strings.Contains(stderr, "not a Go main package") {
		t.Errorf("ship deploy --package %s: exit %d, want %d saying it is not a main package\nstdout:\n%s\nstderr:\n%s", platformDir, code, exitUsage, stdout, stderr)
	}
	// A rollback to a revision that was never registered is as much a
	// usage error, and changes as little.
	stdout, stderr, code = shipExec(t, env, "rollback", "--manifest", mpath, "--to", "99")
	if code != exitUsage || !strings.Contains(stderr, "--to 99: no such task definition") || !strings.Contains(stderr, "ship history") {
		t.Errorf("ship rollback --to 99: exit %d, want %d naming the revision and ship history\nstdout:\n%s\nstderr:\n%s", code, exitUsage, stdout, stderr)
	}
	if after := look(); after != before {
		t.Errorf("ship rollback to a missing revision changed task definitions, service or ledger:\n before %s\n after  %s", before, after)
	}
}
