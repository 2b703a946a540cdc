package main

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// drillManifest is the local environment of the end-to-end tests with
// the default smoke test, which checks /health only: an errors or latency
// fault passes the smoke-test hook and reaches production, where the
// alarms must catch it (a smoke check of / would catch errors first). The
// bake is long enough (15 min, 18 s at the tests' time scale) for an alarm
// to have periods to fire in on a busy machine; only a faulty revision
// nothing caught would wait it out, and the service's first deployment has
// nothing to bake against.
const drillManifest = `name: shipyard
region: us-east-1
environments:
  local:
    account: "000000000000"
    network:
      nat: single
    alarms:
      target5xxThreshold: 3
    deployment:
      bakeTimeInMinutes: 15
    logs:
      retentionDays: 1
`

// TestDrill runs ship drill against a real localcloud, from nothing: ship
// up, then a health drill (the faulty revision never answers production
// traffic, the health checks catch it), an errors drill (the 5XX alarm
// rolls it back during the bake, and the ledger names the alarm), a
// latency drill (the latency alarm does) and, once ship up added a smoke
// check of /, an errors drill the smoke-test hook catches. Each exits 0
// with production back on the revision that ran before.
func TestDrill(t *testing.T) {
	t.Parallel()
	start := time.Now()
	e := startEnvironment(t, "starts localcloud and runs three drills", drillManifest)
	ctx, mpath, spec, cfg := e.ctx, e.manifest, e.spec, e.cfg
	stdout, stderr, code := shipIn(ctx, "up", "--yes", "--manifest", mpath, "--package", e.appDir, "--lambda", e.lambdaDir, "--poll", "100ms", "--timeout", "2m")
	if code != exitOK {
		t.Fatalf("ship up exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	outs, url := e.serving(t)
	t.Logf("ship up and serving in %s", time.Since(start).Round(time.Millisecond))
	good := spec.Prefix() + ":1"
	args := []string{"drill", "--manifest", mpath, "--url", url, "--poll", "100ms", "--timeout", "2m"}
	cw := cloudwatch.NewFromConfig(cfg)
	alarms := strings.Split(outs[stack.OutputDeploymentAlarms], ",")
	allOK := func() bool {
		out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: alarms})
		return err == nil && len(out.MetricAlarms) == len(alarms) &&
			!slices.ContainsFunc(out.MetricAlarms, func(a cwtypes.MetricAlarm) bool { return a.StateValue == cwtypes.StateValueAlarm })
	}

	// Health: caught before production traffic moves. Steady traffic of
	// its own, ten times the drill's, sees no failure and no answer from
	// the faulty revision.
	d := time.Now()
	tr := startTraffic(url)
	stdout, stderr, code = shipIn(ctx, append(args, "--fault", "health")...)
	tr.halt()
	if code != exitOK {
		t.Fatalf("ship drill --fault health: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"with APP_FAULT=health", "caught by:   health checks", "never left " + good,
		"0 answered by the faulty revision " + spec.Prefix() + ":2", "CAUGHT: the rollback machinery caught APP_FAULT=health"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("ship drill --fault health output lacks %q:\n%s", want, stdout)
		}
	}
	if n, failed := tr.total.Load(), tr.failed.Load(); failed != 0 || tr.revisions["2"] != 0 || n < 50 {
		t.Errorf("traffic during the health drill: %d of %d failed (last: %s), by revision %v; want none failed, none from revision 2, at least 50", failed, n, tr.lastFailure, tr.revisions)
	}
	t.Logf("health drill took %s\n%s", time.Since(d).Round(time.Millisecond), stdout)

	// Errors: production moves, the 5XX alarm rolls it back during the
	// bake, and the ledger names the alarm.
	eventually(t, "the alarms are OK before the errors drill", 30*time.Second, allOK)
	d = time.Now()
	stdout, stderr, code = shipIn(ctx, append(args, "--fault", "errors", "--rps", "20", "--output", "json")...)
	if code != exitOK {
		t.Fatalf("ship drill --fault errors: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	r := lastDrillReport(t, stdout)
	target5xx := stack.Target5xxAlarmName(spec)
	if !r.Caught || r.CaughtBy == nil || r.CaughtBy.Alarm != target5xx || r.Stage != "BAKE_TIME" || r.Status != "ROLLBACK_SUCCESSFUL" ||
		r.Production != good || r.Traffic.Bad == 0 || r.Traffic.BadErrors == 0 || r.RollbackStartedSeconds == nil || r.ProductionBackSeconds == nil || r.ExitCode != exitOK {
		t.Errorf("ship drill --fault errors report = %+v (caught by %+v), want caught by %s during BAKE_TIME, rolled back to %s, with the faulty revision's answers and the times",
			r, r.CaughtBy, target5xx, good)
	}
	l := ledger.New(dynamodb.NewFromConfig(cfg), outs[stack.OutputLedgerTable])
	var rec ledger.Deployment
	eventually(t, "the ledger names the alarm", 10*time.Second, func() bool {
		ds, err := l.Deployments(ctx, outs[stack.OutputCluster], stack.ServiceName(spec), 5)
		if err != nil {
			return false
		}
		i := slices.IndexFunc(ds, func(x ledger.Deployment) bool { return x.Arn == r.Deployment })
		if i < 0 {
			return false
		}
		rec = ds[i]
		return rec.Status == "ROLLBACK_SUCCESSFUL" &&
			(slices.Contains(rec.TriggeredAlarms, target5xx) || rec.Enforcement != nil && rec.Enforcement.Alarm == target5xx)
	})
	if !strings.Contains(rec.Image, "@sha256:") || !strings.HasSuffix(rec.TaskDefinition, ":3") || rec.Initiator.Drill != "errors=0.5" {
		t.Errorf("ledger record of the errors drill = %+v, want the faulty revision :3 pinned by digest, marked as the drill errors=0.5", rec)
	}
	t.Logf("errors drill took %s: rollback started at %.1fs, production back at %.1fs, %d of %d requests answered by the faulty revision",
		time.Since(d).Round(time.Millisecond), *r.RollbackStartedSeconds, *r.ProductionBackSeconds, r.Traffic.Bad, r.Traffic.Total)

	// Latency: the latency alarm catches a revision that answers right but
	// slowly. A second drill meanwhile refuses (exit 7) and changes nothing.
	eventually(t, "the alarms are OK before the latency drill", 30*time.Second, allOK)
	d = time.Now()
	type result struct {
		stdout, stderr string
		code           int
	}
	done := make(chan result, 1)
	go func() {
		o, e, c := shipIn(ctx, append(args, "--fault", "latency", "--output", "json")...)
		done <- result{o, e, c}
	}()
	ecsc := ecs.NewFromConfig(cfg)
	eventually(t, "the latency drill is in flight", 60*time.Second, func() bool {
		out, err := ecsc.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(outs[stack.OutputCluster]), Service: aws.String(stack.ServiceName(spec)),
			Status: []ecstypes.ServiceDeploymentStatus{ecstypes.ServiceDeploymentStatusInProgress}})
		return err == nil && len(out.ServiceDeployments) > 0
	})
	_, refused, code := shipIn(ctx, append(args, "--fault", "health")...)
	if code != deploy.ExitInFlight || !strings.Contains(refused, "ship status --watch") {
		t.Errorf("ship drill during a drill: exit %d, stderr %q; want %d saying how to watch the other", code, refused, deploy.ExitInFlight)
	}
	res := <-done
	stdout, stderr, code = res.stdout, res.stderr, res.code
	if code != exitOK {
		t.Fatalf("ship drill --fault latency: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	r = lastDrillReport(t, stdout)
	if latency := stack.LatencyAlarmName(spec); !r.Caught || r.CaughtBy == nil || r.CaughtBy.Alarm != latency || r.Fault != "latency=2s" || r.Production != good {
		t.Errorf("ship drill --fault latency report = %+v (caught by %+v), want latency=2s caught by %s, back on %s", r, r.CaughtBy, latency, good)
	}
	t.Logf("latency drill took %s", time.Since(d).Round(time.Millisecond))

	// With a smoke check of /, the smoke-test hook catches errors through
	// the test listener before production traffic moves, and the drill
	// shows its checks.
	d = time.Now()
	hooked := writeManifest(t, drillManifest+"    deploywatch:\n      smokeChecks: [\"/=200\"]\n")
	stdout, stderr, code = shipIn(ctx, "up", "--yes", "--manifest", hooked, "--package", e.appDir, "--lambda", e.lambdaDir, "--poll", "100ms", "--timeout", "2m")
	if code != exitOK {
		t.Fatalf("ship up with a smoke check of /: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	eventually(t, "the alarms are OK before the hook's drill", 30*time.Second, allOK)
	// --rate 1: the smoke test makes one GET /, which a rate of 0.5 would
	// let through half the time (the 5XX alarm then catches it instead).
	stdout, stderr, code = shipIn(ctx, "drill", "--manifest", hooked, "--url", url, "--poll", "100ms", "--timeout", "2m", "--fault", "errors", "--rate", "1")
	if code != exitOK {
		t.Fatalf("ship drill --fault errors with a smoke check of /: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"caught by:   the smoke-test lifecycle hook during POST_TEST_TRAFFIC_SHIFT", "GET / -> 500", "never left " + good} {
		if !strings.Contains(stdout, want) {
			t.Errorf("ship drill --fault errors with a smoke check of / lacks %q:\n%s", want, stdout)
		}
	}
	t.Logf("ship up and the hook's drill took %s", time.Since(d).Round(time.Millisecond))

	// ship history marks each drill with its fault, and only the drills:
	// the service's first deployment is a real one.
	stdout, stderr, code = shipIn(ctx, "history", "--manifest", hooked, "--output", "json")
	var hist []historyEntry
	if err := json.Unmarshal([]byte(stdout), &hist); code != exitOK || err != nil {
		t.Fatalf("ship history --output json: exit %d, %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	drills := map[string]string{}
	for _, h := range hist {
		drills[family(h.TaskDefinition)] = h.Drill
	}
	p := spec.Prefix()
	if want := map[string]string{p + ":1": "", p + ":2": "health", p + ":3": "errors=0.5", p + ":4": "latency=2s", p + ":5": "errors=1"}; !maps.Equal(drills, want) {
		t.Errorf("ship history's drills by revision = %v, want %v", drills, want)
	}
	stdout, _, _ = shipIn(ctx, "history", "--manifest", hooked)
	if !regexp.MustCompile(`(?m)^.*`+regexp.QuoteMeta(p+":3")+`.*ROLLBACK_SUCCESSFUL.*errors=0\.5`).MatchString(stdout) ||
		!regexp.MustCompile(`(?m)^.*`+regexp.QuoteMeta(p+":1")+`\s.*SUCCESSFUL\s+-\s`).MatchString(stdout) {
		t.Errorf("ship history =\n%s\nwant the errors drill's row showing errors=0.5 in DRILL, and - for the first deployment", stdout)
	}
	t.Logf("drills end to end in %s", time.Since(start).Round(time.Millisecond))
}

// lastDrillReport reads the drill's report, the last line of --output json.
func lastDrillReport(t *testing.T, stdout string) drillReport {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var r drillReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil || r.Event != "drill" {
		t.Fatalf("ship drill --output json last line = %s (%v), want the drill's report", lines[len(lines)-1], err)
	}
	return r
}
