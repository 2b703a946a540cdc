package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// shipBinary builds ship once for the package's tests, for the runs that
// need a process of their own: their own environment, main's exit code.
func shipBinary(t *testing.T) string { return buildOnce(t, "ship", ".") }

// shipExec runs the ship binary with env as its whole environment and
// returns stdout, stderr and the exit code.
func shipExec(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, shipBinary(t), args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run ship %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// estateOf lists, through the SDK, what of an environment exists: stacks,
// the service, active task definitions, and the named resources (bucket,
// table, repository, log groups), as "kind name" strings.
func estateOf(ctx context.Context, t *testing.T, cfg aws.Config, spec platform.Spec, bucket string) []string {
	t.Helper()
	var have []string
	// ours adds the names that carry the environment's prefix
	// (shipyard-local), wherever in the name.
	ours := func(kind string, names ...string) {
		for _, n := range names {
			if strings.Contains(n, spec.Prefix()) {
				have = append(have, kind+" "+n)
			}
		}
	}
	stacks, err := cloudformation.NewFromConfig(cfg).ListStacks(ctx, &cloudformation.ListStacksInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stacks.StackSummaries {
		if s.StackStatus != cftypes.StackStatusDeleteComplete && strings.HasPrefix(aws.ToString(s.StackName), spec.Prefix()+"-") {
			have = append(have, "stack "+aws.ToString(s.StackName))
		}
	}
	ecsc := ecs.NewFromConfig(cfg)
	svcs, err := ecsc.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(stack.ClusterName(spec)), Services: []string{stack.ServiceName(spec)}})
	var cnf *ecstypes.ClusterNotFoundException
	if err != nil && !errors.As(err, &cnf) {
		t.Fatal(err)
	}
	if err == nil {
		for _, s := range svcs.Services {
			if aws.ToString(s.Status) != "INACTIVE" {
				have = append(have, "service "+aws.ToString(s.ServiceName)+" "+aws.ToString(s.Status))
			}
		}
	}
	tds, err := ecsc.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(spec.Prefix()), Status: ecstypes.TaskDefinitionStatusActive})
	if err != nil {
		t.Fatal(err)
	}
	for _, arn := range tds.TaskDefinitionArns {
		have = append(have, "task definition "+family(arn))
	}
	buckets, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range buckets.Buckets {
		if aws.ToString(b.Name) == bucket || strings.Contains(aws.ToString(b.Name), spec.Prefix()) {
			have = append(have, "bucket "+aws.ToString(b.Name))
		}
	}
	tables, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	ours("table", tables.TableNames...)
	repos, err := ecr.NewFromConfig(cfg).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range repos.Repositories {
		ours("repository", aws.ToString(r.RepositoryName))
	}
	groups, err := cloudwatchlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups.LogGroups {
		ours("log group", aws.ToString(g.LogGroupName))
	}
	return have
}

// lifecycleManifest is the local environment of TestEnvironmentLifecycle,
// with a ci section (the bootstrap stack's deployer role, which ship up
// names and ship destroy removes), and a staging environment on AWS for
// the lack of credentials.
const lifecycleManifest = `name: shipyard
region: us-east-1
environments:
  local:
    account: "000000000000"
    network:
      nat: single
    loadBalancer:
      testListener: false
    alarms:
      target5xxThreshold: 3
    logs:
      retentionDays: 1
    ci:
      github: {repository: acme/shipyard}
  staging:
    account: "111111111111"
`

// TestEnvironmentLifecycle runs on one localcloud: bad input that changes
// nothing (a broken manifest, an unknown environment, no credentials),
// ship up, ship logs (merged, by revision, followed), a deploy of a missing
// image that changes nothing, SIGINT to a ship deploy process (the
// deployment goes on), ship destroy refused without a terminal,
// ship destroy --yes that leaves nothing behind, ship destroy again with
// nothing to do, and ship up again.
func TestEnvironmentLifecycle(t *testing.T) {
	t.Parallel()
	start := time.Now()
	e := startEnvironment(t, "starts localcloud, creates an environment and destroys it", lifecycleManifest)
	ctx, mpath, spec, cfg := e.ctx, e.manifest, e.spec, e.cfg

	badInput(t, e)
	t.Logf("bad input (before ship up) took %s", time.Since(start).Round(time.Millisecond))

	upArgs := []string{"up", "--yes", "--manifest", mpath, "--package", e.appDir, "--lambda", e.lambdaDir, "--poll", "100ms", "--timeout", "2m"}
	up := time.Now()
	upOut, stderr, code := shipIn(ctx, upArgs...)
	if code != exitOK {
		t.Fatalf("ship up exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, upOut, stderr)
	}
	t.Logf("ship up took %s", time.Since(up).Round(time.Millisecond))
	boot, err := deploy.Outputs(ctx, cloudformation.NewFromConfig(cfg), stack.BootstrapName(spec))
	if err != nil {
		t.Fatal(err)
	}
	// With a ci section, ship up names the deployer role for docs/ci.md's
	// next step.
	if role := boot[stack.OutputDeployerRole]; !strings.HasPrefix(role, "arn:aws:iam::000000000000:role/") ||
		!strings.Contains(upOut, "deployer role (runs of acme/shipyard on main may assume it): "+role) ||
		!strings.Contains(upOut, "gh variable set AWS_DEPLOY_ROLE_ARN --body "+role) {
		t.Errorf("ship up with a ci section: the bootstrap stack's %s is %q; want ship up to print it and the gh command to set it\nstdout:\n%s", stack.OutputDeployerRole, role, upOut)
	}
	bucket := boot[stack.OutputArtifactBucket]

	lt := time.Now()
	logsEndToEnd(t, e)
	t.Logf("ship logs took %s", time.Since(lt).Round(time.Millisecond))

	missingImage(t, e, boot[stack.OutputRepositoryURI])
	it := time.Now()
	interruptDeploy(t, e)
	t.Logf("SIGINT to ship deploy, then re-attached: %s", time.Since(it).Round(time.Millisecond))

	// Without a terminal and without --yes, destroy refuses and deletes
	// nothing.
	before := estateOf(ctx, t, cfg, spec, bucket)
	env := e.environ()
	_, stderr, code = shipExec(t, env, "destroy", "--manifest", mpath)
	if code != exitUsage || !strings.Contains(stderr, "pass --yes") {
		t.Errorf("ship destroy without a terminal or --yes: exit %d, stderr %q; want %d saying to pass --yes", code, stderr, exitUsage)
	}
	if after := estateOf(ctx, t, cfg, spec, bucket); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("a refused ship destroy changed the environment:\n before %v\n after  %v", before, after)
	}
	for _, want := range []string{"stack shipyard-local-environment", "stack shipyard-local-bootstrap", "service shipyard ACTIVE", "bucket " + bucket,
		"table shipyard-local-deployments", "repository shipyard-local", "log group /ecs/shipyard-local"} {
		if !strings.Contains(strings.Join(before, ","), want) {
			t.Errorf("before ship destroy, the environment lacks %q: %v (the check after it would prove nothing)", want, before)
		}
	}

	d := time.Now()
	destroyArgs := []string{"destroy", "--yes", "--manifest", mpath, "--poll", "100ms", "--timeout", "2m"}
	stdout, stderr, code := shipIn(ctx, destroyArgs...)
	if code != exitOK {
		t.Fatalf("ship destroy --yes exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"deployment history, goes too", "service shipyard: INACTIVE", "task definition revision(s) of shipyard-local",
		"shipyard-local-environment: DELETE_COMPLETE", "image(s) deleted", "object(s) deleted", "shipyard-local-bootstrap: DELETE_COMPLETE", "environment local destroyed"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("ship destroy output lacks %q:\n%s", want, stdout)
		}
	}
	if left := estateOf(ctx, t, cfg, spec, bucket); len(left) > 0 {
		t.Errorf("after ship destroy, left behind: %v", left)
	}
	t.Logf("ship destroy took %s", time.Since(d).Round(time.Millisecond))

	stdout, stderr, code = shipIn(ctx, destroyArgs...)
	if code != exitOK || !strings.Contains(stdout, "nothing to destroy") {
		t.Errorf("ship destroy of a destroyed environment: exit %d, want 0 saying there is nothing to destroy\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	again := time.Now()
	stdout, stderr, code = shipIn(ctx, upArgs...)
	if code != exitOK || !strings.Contains(stdout, "SUCCEEDED: SUCCESSFUL") {
		t.Errorf("ship up after ship destroy: exit %d, want 0 with the service created again\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("ship up after destroy took %s; the whole lifecycle %s", time.Since(again).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// jsonLines decodes one JSON object a line.
func jsonLines[T any](t *testing.T, out string) []T {
	t.Helper()
	var vs []T
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("decode %q: %v", line, err)
		}
		vs = append(vs, v)
	}
	return vs
}
