package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
	"github.com/shipyard-ecs/shipyard/platform/manifest"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// cloud is a localcloud process started for a test.
type cloud struct {
	endpoint string
	mu       sync.Mutex
	log      bytes.Buffer
}

func (c *cloud) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.Write(p)
}

func (c *cloud) logText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

// listener is the loopback address the local cloud serves a load
// balancer's listener port on, from its log.
func (c *cloud) listener(t *testing.T, lb string, port int) string {
	t.Helper()
	re := regexp.MustCompile(`load_balancer=` + regexp.QuoteMeta(lb) + ` port=` + fmt.Sprint(port) + ` addr=http://(\S+)`)
	if m := re.FindStringSubmatch(c.logText()); m != nil {
		return m[1]
	}
	t.Fatalf("localcloud's log names no address for %s port %d:\n%s", lb, port, c.logText())
	return ""
}

var (
	binDir  string
	buildMu sync.Mutex
	built   = map[string]bool{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ship-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// localcloudBinary builds tools/localcloud once for the package's tests.
func localcloudBinary(t *testing.T) string { return buildOnce(t, "localcloud", "../localcloud") }

// buildOnce builds the package pkg into binDir/name the first time a test
// asks for it, and returns its path.
func buildOnce(t *testing.T, name, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	bin := filepath.Join(binDir, name)
	if built[name] {
		return bin
	}
	build := exec.Command("go", "build", "-o", bin, pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, out)
	}
	built[name] = true
	return bin
}

// freeAddr is a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startLocalcloud runs tools/localcloud on a free loopback port with a
// temporary state and time compressed by scale.
func startLocalcloud(t *testing.T, scale float64) *cloud {
	t.Helper()
	dir := t.TempDir()
	bin := localcloudBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := &cloud{endpoint: "http://" + addr}
	cmd := exec.Command(bin, "--addr", addr, "--state", filepath.Join(dir, "state"), "--time-scale", fmt.Sprint(scale), "--listener-port-offset", "-1")
	cmd.Stdout, cmd.Stderr = c, c
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("localcloud log:\n%s", c.logText())
		}
	})
	eventually(t, "localcloud answers", 30*time.Second, func() bool { return answers(context.Background(), addr) })
	return c
}

func eventually(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(50 * time.Millisecond) // polling an external process; nothing to wait on
	}
}

// traffic sends steady requests through a listener and counts them.
type traffic struct {
	total, failed atomic.Int64
	mu            sync.Mutex
	lastFailure   string
	revisions     map[string]int
	stop          chan struct{}
	done          chan struct{}
}

func startTraffic(url string) *traffic {
	tr := &traffic{revisions: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second}
	go func() {
		defer close(tr.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tr.stop:
				return
			case <-tick.C:
			}
			tr.total.Add(1)
			resp, err := client.Get(url)
			if err != nil {
				tr.fail(err.Error())
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				tr.fail(fmt.Sprintf("%d %s", resp.StatusCode, body))
				continue
			}
			var doc struct {
				ECS struct {
					Revision string `json:"revision"`
				} `json:"ecs"`
			}
			_ = json.Unmarshal(body, &doc)
			tr.mu.Lock()
			tr.revisions[doc.ECS.Revision]++
			tr.mu.Unlock()
		}
	}()
	return tr
}

func (tr *traffic) fail(why string) {
	tr.failed.Add(1)
	tr.mu.Lock()
	tr.lastFailure = why
	tr.mu.Unlock()
}

func (tr *traffic) halt() { close(tr.stop); <-tr.done }

// shipIn runs ship with a context and returns stdout, stderr and the exit
// code. A context from startEnvironment makes ship reach that
// environment's local cloud.
func shipIn(ctx context.Context, args ...string) (string, string, int) {
	var stdout, stderr bytes.Buffer
	err := runIn(ctx, args, &stdout, &stderr)
	if err != nil {
		fmt.Fprintln(&stderr, "ship:", err)
	}
	return stdout.String(), stderr.String(), exitCode(err)
}

// runIn is run, reaching the local cloud of the environment whose context
// ctx is (startEnvironment) when it is one.
func runIn(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	getenv := os.Getenv
	if endpoint, ok := ctx.Value(endpointKey{}).(string); ok {
		getenv = func(k string) string {
			if k == "AWS_ENDPOINT_URL" {
				return endpoint
			}
			return os.Getenv(k)
		}
	}
	return runEnv(ctx, args, stdout, stderr, getenv)
}

// endpointKey carries in a context the AWS_ENDPOINT_URL that shipIn's runs
// of ship see: each end-to-end test has a local cloud of its own, which
// the process environment, shared by the package's tests, cannot name.
type endpointKey struct{}

// environment is an end-to-end test's local environment: a local cloud of
// its own, the manifest, the local spec, an AWS configuration that reaches
// the cloud, and the app's and deploywatch's package directories.
type environment struct {
	ctx               context.Context
	cloud             *cloud
	manifest          string
	spec              platform.Spec
	cfg               aws.Config
	appDir, lambdaDir string
}

// startEnvironment skips the test in -short mode (why says what it would
// run), and otherwise starts a local cloud and writes the manifest text
// for it. Its ctx makes shipIn reach the cloud; environ is the process
// environment that makes a ship process reach it.
func startEnvironment(t *testing.T, why, manifestText string) environment {
	t.Helper()
	if testing.Short() {
		t.Skip(why)
	}
	c := startLocalcloud(t, 0.02)
	mpath := writeManifest(t, manifestText)
	m, err := manifest.Load(mpath)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := m.Spec("local")
	if err != nil {
		t.Fatal(err)
	}
	abs := func(rel string) string {
		dir, err := filepath.Abs(rel)
		if err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return environment{
		ctx:       context.WithValue(context.Background(), endpointKey{}, c.endpoint),
		cloud:     c,
		manifest:  mpath,
		spec:      spec,
		cfg:       aws.Config{Region: spec.Region, Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), BaseEndpoint: aws.String(c.endpoint)},
		appDir:    abs("../../services/app"),
		lambdaDir: abs("../../lambdas/deploywatch"),
	}
}

// serving waits until the service ship up created answers through the
// production listener, and returns the environment stack's outputs and the
// listener's URL.
func (e environment) serving(t *testing.T) (outs map[string]string, url string) {
	t.Helper()
	outs, err := deploy.Outputs(e.ctx, cloudformation.NewFromConfig(e.cfg), stack.EnvironmentName(e.spec))
	if err != nil {
		t.Fatal(err)
	}
	url = "http://" + e.cloud.listener(t, stack.ClusterName(e.spec), e.spec.LoadBalancer.ListenerPort) + "/"
	eventually(t, "the service answers through the listener", 30*time.Second, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return outs, url
}

// environ is the process environment of a ship process that reaches the
// environment's local cloud.
func (e environment) environ() []string {
	return append(os.Environ(), "AWS_ENDPOINT_URL="+e.cloud.endpoint)
}

const e2eManifest = `name: shipyard
region: us-east-1
environments:
  local:
    account: "000000000000"
    network:
      nat: single
    alarms:
      target5xxThreshold: 3
    logs:
      retentionDays: 1
    deploywatch:
      smokeChecks: ["/=200"]
`

// TestDeployBlueGreen creates an environment with ship up on a real
// localcloud and runs ship deploy twice with
// steady traffic through the production listener: every request answers
// 200 across both blue/green switches, a deploy started while one is in
// flight refuses with exit 7, ship status shows the revision that runs,
// and the ledger has both requests. Then the rollbacks, and a last ship up
// that moves nothing live. Every deployment runs deploywatch's smoke-test
// hook through the test listener, which the Lambda reaches by the load
// balancer's DNS name (localcloud's VPC proxy).
func TestDeployBlueGreen(t *testing.T) {
	t.Parallel()
	start := time.Now()
	e := startEnvironment(t, "starts localcloud and runs two blue/green deployments", e2eManifest)
	ctx, mpath, spec, cfg, appDir, lambdaDir := e.ctx, e.manifest, e.spec, e.cfg, e.appDir, e.lambdaDir
	cf, ecsc := cloudformation.NewFromConfig(cfg), ecs.NewFromConfig(cfg)

	// ship up creates both stacks and the service from nothing.
	upArgs := []string{"up", "--yes", "--manifest", mpath, "--package", appDir, "--lambda", lambdaDir, "--poll", "100ms", "--timeout", "2m"}
	planArgs := []string{"plan", "--manifest", mpath, "--lambda", lambdaDir}
	// ship plan on nothing: everything to create (exit 2), nothing created.
	stdout, stderr, code := shipIn(ctx, planArgs...)
	if code != exitChanges || !strings.Contains(stdout, "stack shipyard-local-bootstrap: create with") || !strings.Contains(stdout, "service: created") {
		t.Errorf("ship plan on an empty cloud: exit %d, want %d listing what ship up creates\nstdout:\n%s\nstderr:\n%s", code, exitChanges, stdout, stderr)
	}
	if _, err := deploy.Outputs(ctx, cf, stack.BootstrapName(spec)); !errors.Is(err, deploy.ErrStackNotFound) {
		t.Errorf("after ship plan, the bootstrap stack: %v, want it not created", err)
	}
	stdout, stderr, code = shipIn(ctx, upArgs...)
	if code != exitOK {
		t.Fatalf("ship up exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"stack shipyard-local-bootstrap: create", "stack shipyard-local-environment: create", "CREATE_COMPLETE",
		"deploywatch package s3://", "first deployment", "SUCCEEDED: SUCCESSFUL", "up to date"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("ship up output lacks %q:\n%s", want, stdout)
		}
	}
	t.Logf("ship up from nothing took %s", time.Since(start).Round(time.Millisecond))
	// Again, nothing to do: same templates, same package, the service left alone.
	again := time.Now()
	stdout, stderr, code = shipIn(ctx, upArgs...)
	if code != exitOK {
		t.Fatalf("second ship up exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"stack shipyard-local-bootstrap: no changes", "stack shipyard-local-environment: no changes", "uploaded false", "service shipyard exists"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("second ship up output lacks %q:\n%s", want, stdout)
		}
	}
	t.Logf("second ship up took %s", time.Since(again).Round(time.Millisecond))
	stdout, stderr, code = shipIn(ctx, planArgs...)
	if code != exitOK || strings.Count(stdout, ": no changes") != 2 || !strings.Contains(stdout, "exists; left alone") {
		t.Errorf("ship plan after ship up: exit %d, want 0 with no changes\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	outs, url := e.serving(t)
	t.Logf("service created and serving in %s", time.Since(start).Round(time.Millisecond))

	// Issue #7, test 1: from an empty local cloud, two healthy tasks in
	// the live target group, and the URL answers with the commit ship
	// deployed (the one the ledger has; HEAD may move meanwhile).
	cluster, svcName := outs[stack.OutputCluster], stack.ServiceName(spec)
	elbc := elb.NewFromConfig(cfg)
	liveTG := liveTargetGroup(ctx, t, elbc, outs[stack.OutputProductionRule])
	eventually(t, "two healthy targets in the live target group", 30*time.Second, func() bool {
		out, err := elbc.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(liveTG)})
		return err == nil && len(out.TargetHealthDescriptions) == 2 &&
			!slices.ContainsFunc(out.TargetHealthDescriptions, func(d elbtypes.TargetHealthDescription) bool {
				return d.TargetHealth.State != elbtypes.TargetHealthStateEnumHealthy
			})
	})
	l := ledger.New(dynamodb.NewFromConfig(cfg), outs[stack.OutputLedgerTable])
	first, err := l.Deployments(ctx, cluster, svcName, 1)
	if err != nil || len(first) != 1 || first[0].Initiator.GitCommit == "" {
		t.Fatalf("the ledger's first deployment = %+v (%v), want ship up's request with its commit", first, err)
	}
	deployed := strings.TrimSuffix(first[0].Initiator.GitCommit, "-dirty")
	for range 4 { // both tasks, whichever answers
		var info struct{ Commit string }
		if body := get(t, url); json.Unmarshal(body, &info) != nil || info.Commit != deployed || len(deployed) != 40 {
			t.Errorf("GET %s = %s, want the commit ship deployed, %s", url, body, deployed)
			break
		}
	}

	tr := startTraffic(url)
	args := []string{"deploy", "--manifest", mpath, "--package", appDir, "--poll", "100ms", "--timeout", "2m"}

	// The first ship deploy after ship up builds the image the service
	// runs: it says so and changes nothing — no push, no task definition,
	// no deployment.
	deployments := func() int {
		out, err := ecsc.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String(svcName)})
		if err != nil {
			t.Fatalf("list the service's deployments: %v", err)
		}
		return len(out.ServiceDeployments)
	}
	n := deployments()
	stdout, stderr, code = shipIn(ctx, args...)
	if code != exitOK || !strings.Contains(stdout, "already runs "+spec.Prefix()+":1 (image sha256:") || !strings.Contains(stdout, "--force") {
		t.Errorf("ship deploy of the revision ship up created: exit %d, want 0 saying the service already runs %s:1 and its digest\nstdout:\n%s\nstderr:\n%s", code, spec.Prefix(), stdout, stderr)
	}
	if strings.Contains(stdout, "pushed in") {
		t.Errorf("ship deploy of the revision ship up created pushed the image again; want it compared before the push\nstdout:\n%s", stdout)
	}
	tds, err := ecsc.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(spec.Prefix())})
	if err != nil || len(tds.TaskDefinitionArns) != 1 || deployments() != n {
		t.Errorf("after a ship deploy of the running revision: task definitions %v (%v), %d deployments (was %d); want nothing new", tds.TaskDefinitionArns, err, deployments(), n)
	}

	// Deploy 1, the same revision again with --force, as JSON lines.
	d1 := time.Now()
	stdout, stderr, code = shipIn(ctx, append(args, "--force", "--output", "json")...)
	if code != exitOK {
		t.Fatalf("ship deploy (1) exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var last struct {
		Event, Status, Outcome string
		ExitCode               int
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Event != "outcome" || last.Status != "SUCCESSFUL" || last.Outcome != "succeeded" {
		t.Errorf("ship deploy --output json last line = %s (%v), want the SUCCESSFUL outcome", lines[len(lines)-1], err)
	}
	t.Logf("deploy 1 took %s", time.Since(d1).Round(time.Millisecond))

	// ship up after a deployment moved production to green moves nothing
	// live: the weights, the live target group and the task definition
	// stay, and no request fails (DESIGN §3; the traffic check below covers
	// it).
	live := func() string {
		rules, err := elb.NewFromConfig(cfg).DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{outs[stack.OutputProductionRule]}})
		if err != nil || len(rules.Rules) != 1 || rules.Rules[0].Actions[0].ForwardConfig == nil {
			t.Fatalf("describe the production rule: %v", err)
		}
		var w []string
		for _, tg := range rules.Rules[0].Actions[0].ForwardConfig.TargetGroups {
			w = append(w, fmt.Sprintf("%s=%d", aws.ToString(tg.TargetGroupArn), aws.ToInt32(tg.Weight)))
		}
		svc, err := ecsc.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{svcName}})
		if err != nil || len(svc.Services) != 1 {
			t.Fatalf("describe the service: %v", err)
		}
		slices.Sort(w) // the order of a forward's target groups carries no meaning
		return strings.Join(w, ",") + " " + aws.ToString(svc.Services[0].TaskDefinition)
	}
	liveBefore := live()
	up := time.Now()
	if !strings.Contains(liveBefore, "shipyard-local-green/") || !regexp.MustCompile(`green/[0-9a-f]+=100`).MatchString(liveBefore) {
		t.Errorf("live state after deploy 1 = %s, want production on green (the case a provisioner must not reset)", liveBefore)
	}
	stdout, stderr, code = shipIn(ctx, upArgs...)
	if code != exitOK || !strings.Contains(stdout, "service shipyard exists") {
		t.Errorf("ship up after deploy 1: exit %d, want 0 leaving the service alone\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if after := live(); after != liveBefore {
		t.Errorf("ship up after deploy 1 moved live state:\n before %s\n after  %s", liveBefore, after)
	}
	t.Logf("ship up after deploy 1 took %s; live state %s", time.Since(up).Round(time.Millisecond), liveBefore)

	// Deploy 2, and a second deploy while it is in flight.
	d2 := time.Now()
	type result struct {
		stdout, stderr string
		code           int
	}
	done := make(chan result, 1)
	go func() {
		o, e, c := shipIn(ctx, append(args, "--env-var", "DEPLOY=2")...)
		done <- result{o, e, c}
	}()
	eventually(t, "deploy 2 is in flight", 60*time.Second, func() bool {
		out, err := ecsc.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String(svcName),
			Status: []ecstypes.ServiceDeploymentStatus{ecstypes.ServiceDeploymentStatusInProgress}})
		return err == nil && len(out.ServiceDeployments) > 0
	})
	_, refused, code := shipIn(ctx, append(args, "--env-var", "DEPLOY=3")...)
	if code != deploy.ExitInFlight || !strings.Contains(refused, "ship status --watch") || !strings.Contains(refused, "ship rollback") {
		t.Errorf("ship deploy during a deployment: exit %d, stderr %q; want exit %d saying how to watch or roll back", code, refused, deploy.ExitInFlight)
	}
	r := <-done
	if r.code != exitOK {
		t.Fatalf("ship deploy (2) exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"image ", "deployment ", "BAKE_TIME", "SUCCEEDED: SUCCESSFUL", "url: http://shipyard-local-", "local cloud's VPC proxy"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("ship deploy (2) output lacks %q:\n%s", want, r.stdout)
		}
	}
	// The progress shows production moving from one target group to the other.
	weights := regexp.MustCompile(`prod blue (\d+) green (\d+)`).FindAllString(r.stdout, -1)
	if len(weights) < 2 || weights[0] == weights[len(weights)-1] {
		t.Errorf("ship deploy (2) production weights went %v, want them switched", weights)
	}
	t.Logf("deploy 2 took %s", time.Since(d2).Round(time.Millisecond))
	// Requests now reach revision 3 only; keep sending a little longer.
	seen3 := func() int { tr.mu.Lock(); defer tr.mu.Unlock(); return tr.revisions["3"] }
	before := seen3()
	eventually(t, "traffic reaches revision 3", 10*time.Second, func() bool { return seen3() > before+5 })
	tr.halt()
	if n, failed := tr.total.Load(), tr.failed.Load(); failed != 0 || n < 100 {
		t.Errorf("traffic during both deployments: %d of %d requests failed (last: %s), want 0 of at least 100", failed, n, tr.lastFailure)
	} else {
		t.Logf("traffic: %d requests, 0 failed, by revision %v", n, tr.revisions)
	}

	// ship status shows the revision that runs.
	stdout, stderr, code = shipIn(ctx, "status", "--manifest", mpath)
	if code != exitOK {
		t.Fatalf("ship status exit code = %d\n%s\n%s", code, stdout, stderr)
	}
	want := "revision  " + spec.Prefix() + ":3"
	if !strings.Contains(stdout, want) || !strings.Contains(stdout, "nothing in flight") {
		t.Errorf("ship status =\n%s\nwant %q and nothing in flight", stdout, want)
	}
	stdout, _, _ = shipIn(ctx, "status", "--manifest", mpath, "--output", "json")
	var st serviceStatus
	if err := json.Unmarshal([]byte(stdout), &st); err != nil || !strings.HasSuffix(st.TaskDefinition, ":3") || !strings.Contains(st.Image, "@sha256:") {
		t.Errorf("ship status --output json = %s (%v), want task definition :3 pinned by digest", stdout, err)
	}

	// The ledger has both requests, with who asked.
	ds, err := l.Deployments(ctx, cluster, svcName, 10)
	if err != nil {
		t.Fatal(err)
	}
	var requested int
	for _, d := range ds {
		if d.Initiator.User != "" && d.Status == "SUCCESSFUL" {
			requested++
		}
	}
	if requested != 3 {
		t.Errorf("ledger deployments with a requester that succeeded = %d, want 3: the service's creation and both deploys (%+v)", requested, ds)
	}
	// Deploy 2's record is complete: identity, revisions, who, every
	// status with its time, the stage reached, the smoke test's SUCCEEDED
	// with its evidence (and ECS's hook events), the duration.
	rec, timeline := deploymentRecord(ctx, t, l, cluster, svcName, "3", "SUCCESSFUL")
	checkRecord(t, rec, timeline, cluster, svcName, "3")
	if !stageReached(rec, "CLEAN_UP") && !stageReached(rec, "BAKE_TIME") {
		t.Errorf("deploy 2's stages = %v, want it through BAKE_TIME", rec.Stages)
	}
	if tr := transition(rec, "SUCCESSFUL"); tr.At.IsZero() || !tr.At.After(transition(rec, "IN_PROGRESS").At) {
		t.Errorf("deploy 2's transitions = %+v, want IN_PROGRESS then SUCCESSFUL, each with its time", rec.Transitions)
	}
	hook := hookAnswer(timeline)
	if hook == nil || hook.Detail["hookStatus"] != "SUCCEEDED" || hook.Detail["smokeTest"] != "passed" ||
		!strings.Contains(hook.Detail["checks"], "GET /health -> 200") || !strings.Contains(hook.Detail["checks"], "GET / -> 200") {
		t.Errorf("deploy 2's smoke-test hook in the ledger = %+v, want SUCCEEDED with the evidence of GET /health and GET / answering 200", hook)
	}
	if got := hookEvents(timeline); !slices.Contains(got, "HOOK_IN_PROGRESS POST_TEST_TRAFFIC_SHIFT") || !slices.Contains(got, "HOOK_SUCCEEDED POST_TEST_TRAFFIC_SHIFT") {
		t.Errorf("deploy 2's ECS Hook State Change events in the ledger = %v, want HOOK_IN_PROGRESS and HOOK_SUCCEEDED at POST_TEST_TRAFFIC_SHIFT", got)
	}
	if d := rec.Duration(); d <= 0 || d > 2*time.Minute {
		t.Errorf("deploy 2's duration in the ledger = %s (started %s, finished %s), want the time it ran", d, rec.StartedAt, rec.FinishedAt)
	}

	stdout, stderr, code = shipIn(ctx, "history", "--manifest", mpath, "--output", "json")
	var hist []historyEntry
	if err := json.Unmarshal([]byte(stdout), &hist); code != exitOK || err != nil || len(hist) < 3 || hist[0].Status != "SUCCESSFUL" || hist[0].User == "" ||
		!strings.HasSuffix(hist[0].TaskDefinition, ":3") || !strings.Contains(hist[0].Image, "@sha256:") {
		t.Errorf("ship history --output json: exit %d, %v; want the newest first, deploy 2 SUCCESSFUL with who and what\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	stdout, _, _ = shipIn(ctx, "history", "--manifest", mpath, "-n", "2")
	if lines := strings.Split(strings.TrimSpace(stdout), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "WHEN") || !strings.Contains(lines[1], "shipyard-local:3") {
		t.Errorf("ship history -n 2 =\n%s\nwant a header and two rows, deploy 2's first", stdout)
	}

	rollbacks(ctx, t, cfg, mpath, url, args, ecsc, cluster, svcName, strings.Split(outs[stack.OutputDeploymentAlarms], ",")[0])
	smokeTestFails(ctx, t, l, url, args, ecsc, cluster, svcName)

	// Issue #7, test 7: after the deploys, the alarm's rollback, the failed
	// deploys and both kinds of ship rollback, ship up still moves nothing
	// live, and no request fails while it runs.
	tr = startTraffic(url)
	liveBefore = live()
	up = time.Now()
	stdout, stderr, code = shipIn(ctx, upArgs...)
	tr.halt()
	if code != exitOK || !strings.Contains(stdout, "service shipyard exists") {
		t.Errorf("ship up after the rollbacks: exit %d, want 0 leaving the service alone\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if after := live(); after != liveBefore || !strings.HasSuffix(after, "task-definition/shipyard-local:6") {
		t.Errorf("ship up after the rollbacks moved live state:\n before %s\n after  %s\n(want revision 6 running throughout)", liveBefore, after)
	}
	if n, failed := tr.total.Load(), tr.failed.Load(); failed != 0 || n < 20 {
		t.Errorf("traffic during ship up after the rollbacks: %d of %d requests failed (last: %s), want 0 of at least 20", failed, n, tr.lastFailure)
	}
	t.Logf("ship up after the rollbacks took %s; live state %s", time.Since(up).Round(time.Millisecond), liveBefore)

	t.Logf("end to end in %s", time.Since(start).Round(time.Millisecond))
}

// liveTargetGroup is the target group the production listener rule sends
// most of its traffic to.
func liveTargetGroup(ctx context.Context, t *testing.T, elbc *elb.Client, rule string) string {
	t.Helper()
	out, err := elbc.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{rule}})
	if err != nil || len(out.Rules) != 1 || len(out.Rules[0].Actions) == 0 || out.Rules[0].Actions[0].ForwardConfig == nil {
		t.Fatalf("describe the production rule %s: %v", rule, err)
	}
	tgs := out.Rules[0].Actions[0].ForwardConfig.TargetGroups
	live := slices.MaxFunc(tgs, func(a, b elbtypes.TargetGroupTuple) int { return int(aws.ToInt32(a.Weight) - aws.ToInt32(b.Weight)) })
	return aws.ToString(live.TargetGroupArn)
}

// get answers a GET's body, failing the test on an error or a status
// other than 200.
func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s (%v), want 200", url, resp.StatusCode, body, err)
	}
	return body
}

// rollbacks continues TestDeployBlueGreen on its service (revision 3
// running, 2 before it): an alarm during the bake rolls a deployment back
// with exit 3, naming the alarm; a revision that never gets healthy is rolled back
// with exit 4 and its tasks' last log lines; ship rollback with nothing in
// flight redeploys the last good revision; ship rollback during a
// deployment rolls it back, and the interrupted deploy exits 6; Ctrl-C
// stops a deploy's watch (exit 130) and not the deployment, which ship
// status shows and follows. No request fails throughout.
func rollbacks(ctx context.Context, t *testing.T, cfg aws.Config, mpath, url string, args []string, ecsc *ecs.Client, cluster, svcName, alarm string) {
	tr := startTraffic(url)
	defer func() {
		tr.halt()
		if n, failed := tr.total.Load(), tr.failed.Load(); failed != 0 {
			t.Errorf("traffic during the rollbacks: %d of %d requests failed (last: %s), want 0", failed, n, tr.lastFailure)
		} else {
			t.Logf("traffic during the rollbacks: %d requests, 0 failed, by revision %v", n, tr.revisions)
		}
	}()
	running := func() string {
		out, err := ecsc.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{svcName}})
		if err != nil || len(out.Services) == 0 {
			t.Fatalf("describe service: %v", err)
		}
		return family(aws.ToString(out.Services[0].TaskDefinition))
	}

	// An alarm in ALARM during the bake rolls the deployment back: exit 3,
	// naming the alarm.
	d := time.Now()
	type result struct {
		stdout, stderr string
		code           int
	}
	done := make(chan result, 1)
	go func() {
		o, e, c := shipIn(ctx, append(args, "--env-var", "DEPLOY=alarm")...)
		done <- result{o, e, c}
	}()
	eventually(t, "the deployment bakes", 60*time.Second, func() bool {
		out, err := ecsc.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String(svcName),
			Status: []ecstypes.ServiceDeploymentStatus{ecstypes.ServiceDeploymentStatusInProgress}})
		if err != nil || len(out.ServiceDeployments) == 0 {
			return false
		}
		ds, err := ecsc.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(out.ServiceDeployments[0].ServiceDeploymentArn)}})
		return err == nil && len(ds.ServiceDeployments) == 1 && ds.ServiceDeployments[0].LifecycleStage == ecstypes.ServiceDeploymentLifecycleStageBakeTime
	})
	cw := cloudwatch.NewFromConfig(cfg)
	if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(alarm), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("e2e drill")}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != deploy.ExitAlarm || !strings.Contains(r.stdout, "triggered alarms: "+alarm) {
		t.Errorf("ship deploy rolled back by an alarm: exit %d, want %d naming %s\nstdout:\n%s\nstderr:\n%s", r.code, deploy.ExitAlarm, alarm, r.stdout, r.stderr)
	}
	if got, want := running(), "shipyard-local:3"; got != want {
		t.Errorf("service runs %s after the alarm's rollback, want %s", got, want)
	}
	eventually(t, "the alarm is OK again", 30*time.Second, func() bool {
		out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarm}})
		return err == nil && len(out.MetricAlarms) == 1 && out.MetricAlarms[0].StateValue != cwtypes.StateValueAlarm
	})
	t.Logf("alarm rollback took %s", time.Since(d).Round(time.Millisecond))

	d = time.Now()
	stdout, stderr, code := shipIn(ctx, append(args, "--env-var", "APP_FAULT=health")...)
	if code != deploy.ExitFailed || !strings.Contains(stdout, "last lines:") {
		t.Errorf("ship deploy of an unhealthy revision: exit %d, want %d with its tasks' last log lines\nstdout:\n%s\nstderr:\n%s", code, deploy.ExitFailed, stdout, stderr)
	}
	if got, want := running(), "shipyard-local:3"; got != want {
		t.Errorf("service runs %s after the failed deployment, want %s", got, want)
	}
	// Its / answers 200, so only the revisions seen tell: ECS rolled it back
	// before any traffic shift (the smoke-test hook never ran), and no
	// production request reached revision 5.
	tr.mu.Lock()
	unhealthyServed := tr.revisions["5"]
	tr.mu.Unlock()
	if unhealthyServed != 0 {
		t.Errorf("production traffic reached the unhealthy revision 5: %d requests", unhealthyServed)
	}
	t.Logf("failed deploy took %s", time.Since(d).Round(time.Millisecond))

	d = time.Now()
	rb := []string{"rollback", "--manifest", mpath, "--poll", "100ms", "--timeout", "2m"}
	stdout, stderr, code = shipIn(ctx, rb...)
	if code != exitOK || !strings.Contains(stdout, "shipyard-local:3 → shipyard-local:2") {
		t.Errorf("ship rollback after a finished deployment: exit %d, want 0 going 3 → 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if got, want := running(), "shipyard-local:2"; got != want {
		t.Errorf("service runs %s after ship rollback, want %s", got, want)
	}
	t.Logf("rollback to the last good revision took %s", time.Since(d).Round(time.Millisecond))

	// Ctrl-C stops watching, never the deployment: ship status shows it,
	// and ship status --watch follows it to its end.
	d = time.Now()
	ictx, interrupt := context.WithCancel(ctx)
	go func() {
		defer interrupt()
		eventually(t, "the deploy to interrupt is in flight", 60*time.Second, func() bool {
			out, err := ecsc.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String(svcName),
				Status: []ecstypes.ServiceDeploymentStatus{ecstypes.ServiceDeploymentStatusInProgress}})
			return err == nil && len(out.ServiceDeployments) > 0
		})
	}()
	_, stderr, code = shipIn(ictx, append(args, "--env-var", "DEPLOY=6")...)
	if code != deploy.ExitInterrupted || !strings.Contains(stderr, "ship status --watch") {
		t.Errorf("interrupted ship deploy: exit %d, stderr %q; want %d saying ship status --watch follows it", code, stderr, deploy.ExitInterrupted)
	}
	stdout, stderr, code = shipIn(ctx, "status", "--manifest", mpath)
	if code != exitOK || !strings.Contains(stdout, "deploying arn:") {
		t.Errorf("ship status after the interrupt: exit %d, want the deployment in flight\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = shipIn(ctx, "status", "--watch", "--poll", "100ms", "--manifest", mpath)
	if code != exitOK || !strings.Contains(stdout, "SUCCEEDED: SUCCESSFUL") {
		t.Errorf("ship status --watch: exit %d, want the interrupted deployment followed to SUCCESSFUL\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if got, want := running(), "shipyard-local:6"; got != want {
		t.Errorf("service runs %s after the interrupted deployment ended, want %s", got, want)
	}
	t.Logf("interrupted deploy, re-attached, took %s", time.Since(d).Round(time.Millisecond))

	d = time.Now()
	go func() {
		o, e, c := shipIn(ctx, append(args, "--env-var", "DEPLOY=7")...)
		done <- result{o, e, c}
	}()
	eventually(t, "the deploy to roll back is in flight", 60*time.Second, func() bool {
		out, err := ecsc.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String(svcName),
			Status: []ecstypes.ServiceDeploymentStatus{ecstypes.ServiceDeploymentStatusInProgress}})
		return err == nil && len(out.ServiceDeployments) > 0
	})
	stdout, stderr, code = shipIn(ctx, rb...)
	if code != exitOK || !strings.Contains(stdout, "asked ECS to roll back") || !strings.Contains(stdout, "ROLLBACK_SUCCESSFUL") {
		t.Errorf("ship rollback during a deployment: exit %d, want 0 after ROLLBACK_SUCCESSFUL\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	r = <-done
	if r.code != deploy.ExitStopped {
		t.Errorf("the rolled-back ship deploy exit code = %d, want %d (stopped on request)\nstdout:\n%s\nstderr:\n%s", r.code, deploy.ExitStopped, r.stdout, r.stderr)
	}
	if got, want := running(), "shipyard-local:6"; got != want {
		t.Errorf("service runs %s after rolling the deployment back, want %s", got, want)
	}
	t.Logf("rollback in flight took %s", time.Since(d).Round(time.Millisecond))
}

// smokeTestFails continues TestDeployBlueGreen (revision 6 running): a
// revision whose / answers 500 while /health stays healthy passes the
// target group's health checks, and deploywatch's smoke test (GET / for
// 200, through the test listener) fails it at POST_TEST_TRAFFIC_SHIFT. ECS
// rolls back before production traffic moves: ship deploy exits 4 naming
// the hook, production never reaches the bad revision, the service runs
// the previous one, and the ledger has the hook's FAILED with its evidence
// and the rollback's reason.
func smokeTestFails(ctx context.Context, t *testing.T, l *ledger.Ledger, url string, args []string, ecsc *ecs.Client, cluster, svcName string) {
	tr := startTraffic(url)
	d := time.Now()
	stdout, stderr, code := shipIn(ctx, append(args, "--env-var", "APP_FAULT=errors=1")...)
	tr.halt()
	if code != deploy.ExitFailed || !strings.Contains(stdout, "lifecycle hook") || !strings.Contains(stdout, "FAILED") {
		t.Errorf("ship deploy of a revision the smoke test fails: exit %d, want %d naming the lifecycle hook's FAILED\nstdout:\n%s\nstderr:\n%s", code, deploy.ExitFailed, stdout, stderr)
	}
	out, err := ecsc.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{svcName}})
	if err != nil || len(out.Services) == 0 {
		t.Fatalf("describe service: %v", err)
	}
	if got, want := family(aws.ToString(out.Services[0].TaskDefinition)), "shipyard-local:6"; got != want {
		t.Errorf("service runs %s after the smoke test failed, want %s", got, want)
	}
	// Every production request answered 200 from a good revision: the bad
	// one (8; 7 was rolled back in flight) never had production traffic, or
	// its 500s would be failures here.
	tr.mu.Lock()
	revisions := maps.Clone(tr.revisions)
	tr.mu.Unlock()
	if n, failed := tr.total.Load(), tr.failed.Load(); failed != 0 || revisions["8"] != 0 || n < 50 {
		t.Errorf("production traffic during the smoke-tested deploy: %d of %d failed (last: %s), by revision %v; want none failed and none to revision 8", failed, n, tr.lastFailure, revisions)
	} else {
		t.Logf("production traffic during the smoke-tested deploy: %d requests, 0 failed, by revision %v", n, revisions)
	}
	rec, timeline := deploymentRecord(ctx, t, l, cluster, svcName, "8", "ROLLBACK_SUCCESSFUL")
	checkRecord(t, rec, timeline, cluster, svcName, "8")
	hook := hookAnswer(timeline)
	if hook == nil || hook.Detail["hookStatus"] != "FAILED" || hook.Detail["smokeTest"] != "failed" ||
		!strings.Contains(hook.Detail["checks"], "GET /health -> 200") || !strings.Contains(hook.Detail["checks"], "GET / -> 500 (want 200)") {
		t.Errorf("the smoke-test hook in the ledger = %+v, want FAILED with the evidence: /health 200, / 500 where 200 was wanted", hook)
	}
	if rb := rec.Rollback; rb == nil || !strings.Contains(rb.Reason, "lifecycle hook") || !strings.Contains(rb.Reason, "FAILED") {
		t.Errorf("the ledger's rollback = %+v, want the reason naming the lifecycle hook's FAILED", rb)
	}
	if stageReached(rec, "PRODUCTION_TRAFFIC_SHIFT") {
		t.Errorf("the ledger's stages = %v: the deployment reached PRODUCTION_TRAFFIC_SHIFT, want it stopped at POST_TEST_TRAFFIC_SHIFT", rec.Stages)
	}
	if got := hookEvents(timeline); !slices.Contains(got, "HOOK_FAILED POST_TEST_TRAFFIC_SHIFT") {
		t.Errorf("ECS Hook State Change events in the ledger = %v, want HOOK_FAILED at POST_TEST_TRAFFIC_SHIFT", got)
	}
	t.Logf("smoke-test failure caught and rolled back in %s", time.Since(d).Round(time.Millisecond))
}

// deploymentRecord waits for the ledger's record of the service's
// deployment of task definition revision rev to reach status, with the
// smoke-test hook's answer on its timeline (deploywatch writes from
// EventBridge, after ship has returned), and returns both.
func deploymentRecord(ctx context.Context, t *testing.T, l *ledger.Ledger, cluster, svc, rev, status string) (ledger.Deployment, []ledger.Entry) {
	t.Helper()
	var rec ledger.Deployment
	var timeline []ledger.Entry
	eventually(t, fmt.Sprintf("the ledger records revision %s %s with its hook", rev, status), 30*time.Second, func() bool {
		ds, err := l.Deployments(ctx, cluster, svc, 20)
		if err != nil {
			return false
		}
		for _, d := range ds {
			if !strings.HasSuffix(d.TaskDefinition, ":"+rev) {
				continue
			}
			rec = d
			timeline, err = l.Timeline(ctx, d.Arn)
			return err == nil && d.Status == status && hookAnswer(timeline) != nil && len(hookEvents(timeline)) >= 2
		}
		return false
	})
	return rec, timeline
}

// checkRecord checks the facts every deployment's record has: identity,
// revisions, image, who asked, and times.
func checkRecord(t *testing.T, d ledger.Deployment, timeline []ledger.Entry, cluster, svc, rev string) {
	t.Helper()
	var problems []string
	want := func(ok bool, format string, a ...any) {
		if !ok {
			problems = append(problems, fmt.Sprintf(format, a...))
		}
	}
	want(strings.Contains(d.Arn, ":service-deployment/"+cluster+"/"+svc+"/"), "service deployment ARN %q", d.Arn)
	want(d.Cluster == cluster && d.Service == svc, "cluster/service %s/%s", d.Cluster, d.Service)
	want(len(d.LegacyIDs) > 0 && strings.HasPrefix(d.LegacyIDs[0], "ecs-svc/"), "legacy ids %v (want ecs-svc/…)", d.LegacyIDs)
	want(strings.Contains(d.TargetRevision, ":service-revision/"+cluster+"/"+svc+"/"), "target revision %q", d.TargetRevision)
	want(len(d.SourceRevisions) > 0 && !slices.Contains(d.SourceRevisions, d.TargetRevision), "source revisions %v", d.SourceRevisions)
	want(strings.HasSuffix(d.TaskDefinition, "task-definition/shipyard-local:"+rev), "task definition %q", d.TaskDefinition)
	want(strings.HasPrefix(d.ImageDigest, "sha256:") && strings.Contains(d.Image, "@"+d.ImageDigest), "image %q digest %q", d.Image, d.ImageDigest)
	want(d.Initiator.User != "" && d.Initiator.GitCommit != "", "initiator %+v (want user and commit)", d.Initiator)
	for _, st := range []string{"IN_PROGRESS", d.Status} {
		want(!transition(d, st).At.IsZero(), "no time for status %s in %+v", st, d.Transitions)
	}
	want(stageReached(d, "POST_TEST_TRAFFIC_SHIFT"), "stages %v (want POST_TEST_TRAFFIC_SHIFT reached)", d.Stages)
	for _, s := range d.Stages {
		want(!s.At.IsZero(), "no time for stage %s", s.Name)
	}
	want(!d.StartedAt.IsZero() && !d.FinishedAt.IsZero() && d.Duration() > 0, "started %s, finished %s", d.StartedAt, d.FinishedAt)
	want(len(timeline) > 0, "an empty timeline")
	if len(problems) > 0 {
		t.Errorf("ledger record of revision %s is incomplete:\n  %s\nrecord: %+v", rev, strings.Join(problems, "\n  "), d)
	}
}

func transition(d ledger.Deployment, name string) ledger.Transition {
	for _, tr := range d.Transitions {
		if tr.Name == name {
			return tr
		}
	}
	return ledger.Transition{}
}

func stageReached(d ledger.Deployment, name string) bool {
	return slices.ContainsFunc(d.Stages, func(s ledger.Transition) bool { return s.Name == name })
}

// hookAnswer is deploywatch's last recorded answer to the smoke-test hook.
func hookAnswer(timeline []ledger.Entry) *ledger.Entry {
	for i := len(timeline) - 1; i >= 0; i-- {
		if e := &timeline[i]; e.Source == "deploywatch" && e.Detail["hookStatus"] != "" && e.Detail["smokeTest"] != "" {
			return e
		}
	}
	return nil
}

// hookEvents lists the "ECS Hook State Change" events on a timeline as
// "<eventName> <lifecycleStage>".
func hookEvents(timeline []ledger.Entry) []string {
	var out []string
	for _, e := range timeline {
		if e.Kind == "ECS Hook State Change" {
			out = append(out, e.Detail["eventName"]+" "+e.Detail["lifecycleStage"])
		}
	}
	return out
}
