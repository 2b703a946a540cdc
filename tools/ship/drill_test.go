package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
)

// TestDrillFlags: bad flags are usage errors (exit 2) that name the flag
// and what it wants, before ship looks at any environment.
func TestDrillFlags(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // nothing listens: a flag check that reached AWS would fail otherwise
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no fault", nil, []string{"--fault is required", "health, errors, latency, crash"}},
		{"unknown fault", []string{"--fault", "boom"}, []string{`--fault "boom"`, "health, errors, latency, crash"}},
		{"rate zero", []string{"--fault", "errors", "--rate", "0"}, []string{"--rate 0", "above 0 and at most 1"}},
		{"rate above one", []string{"--fault", "errors", "--rate", "1.5"}, []string{"--rate 1.5", "at most 1"}},
		{"rate not a number", []string{"--fault", "errors", "--rate", "half"}, []string{"half", "--rate", "ship drill --help"}},
		{"rate NaN", []string{"--fault", "errors", "--rate", "NaN"}, []string{"--rate NaN"}},
		{"rate with health", []string{"--fault", "health", "--rate", "0.5"}, []string{"--rate applies to --fault errors only"}},
		{"latency too long", []string{"--fault", "latency", "--latency", "11s"}, []string{"--latency 11s", "at most 10s"}},
		{"latency with errors", []string{"--fault", "errors", "--latency", "1s"}, []string{"--latency applies to --fault latency only"}},
		{"rps zero", []string{"--fault", "health", "--rps", "0"}, []string{"--rps 0", "1 to 50"}},
		{"rps too many", []string{"--fault", "health", "--rps", "500"}, []string{"--rps 500", "1 to 50"}},
		{"bad url", []string{"--fault", "health", "--url", "ftp://lb"}, []string{`--url "ftp://lb"`, "http or https"}},
		{"bad output", []string{"--fault", "health", "--output", "yaml"}, []string{`--output "yaml"`}},
		{"stray argument", []string{"health"}, []string{"drill takes no arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"drill", "--manifest", repoManifest}, tt.args...)
			_, stderr, code := shipIn(context.Background(), args...)
			if code != exitUsage {
				t.Errorf("ship %s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), code, exitUsage, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("ship %s: stderr = %q, want it to say %q", strings.Join(args, " "), stderr, w)
				}
			}
		})
	}
}

func TestDrillAppFault(t *testing.T) {
	spec := func(ms int) platform.Spec {
		s := platform.Defaults("local")
		s.Alarms.LatencyThresholdMs = ms
		return s
	}
	tests := []struct {
		name string
		f    drillFlags
		spec platform.Spec
		want string
	}{
		{"health", drillFlags{fault: faultHealth}, spec(1000), "health"},
		{"crash", drillFlags{fault: faultCrash}, spec(1000), "crash"},
		{"errors", drillFlags{fault: faultErrors, rate: 0.5}, spec(1000), "errors=0.5"},
		{"errors rate", drillFlags{fault: faultErrors, rate: 0.25, rateSet: true}, spec(1000), "errors=0.25"},
		{"latency twice the threshold", drillFlags{fault: faultLatency}, spec(1000), "latency=2s"},
		{"latency capped", drillFlags{fault: faultLatency}, spec(7000), "latency=10s"},
		{"latency given", drillFlags{fault: faultLatency, latency: 300 * time.Millisecond, latencySet: true}, spec(1000), "latency=300ms"},
	}
	for _, tt := range tests {
		got, err := tt.f.appFault(tt.spec)
		if err != nil || got != tt.want {
			t.Errorf("%s: appFault = %q, %v, want %q", tt.name, got, err, tt.want)
		}
	}
	_, err := drillFlags{fault: faultLatency}.appFault(spec(10000))
	if exitCode(err) != exitUsage || !strings.Contains(fmt.Sprint(err), "alarms.latencyThresholdMs is 10000") {
		t.Errorf("appFault with a threshold the app cannot reach = %v (exit %d), want a usage error naming the threshold", err, exitCode(err))
	}
}

func TestFaultyCopy(t *testing.T) {
	td := &ecstypes.TaskDefinition{
		TaskDefinitionArn: aws.String("arn:aws:ecs:us-east-1:000000000000:task-definition/shipyard-local:3"),
		Family:            aws.String("shipyard-local"), Cpu: aws.String("256"), Memory: aws.String("512"),
		NetworkMode: ecstypes.NetworkModeAwsvpc, ExecutionRoleArn: aws.String("arn:aws:iam::000000000000:role/exec"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("repo@sha256:abc"),
			Environment: []ecstypes.KeyValuePair{{Name: aws.String("DEPLOY"), Value: aws.String("2")}},
		}},
	}
	tags := []ecstypes.Tag{{Key: aws.String("shipyard:env"), Value: aws.String("local")}}
	in, image, err := faultyCopy(td, tags, "errors=0.5")
	if err != nil {
		t.Fatal(err)
	}
	if image != "repo@sha256:abc" || aws.ToString(in.ContainerDefinitions[0].Image) != image {
		t.Errorf("faultyCopy image = %q (container %q), want the running digest repo@sha256:abc", image, aws.ToString(in.ContainerDefinitions[0].Image))
	}
	env := map[string]string{}
	for _, kv := range in.ContainerDefinitions[0].Environment {
		env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	if len(env) != 2 || env["DEPLOY"] != "2" || env["APP_FAULT"] != "errors=0.5" {
		t.Errorf("faultyCopy environment = %v, want DEPLOY=2 kept and APP_FAULT=errors=0.5 added", env)
	}
	if aws.ToString(in.Family) != "shipyard-local" || aws.ToString(in.Cpu) != "256" || in.NetworkMode != ecstypes.NetworkModeAwsvpc ||
		aws.ToString(in.ExecutionRoleArn) == "" || len(in.Tags) != 1 {
		t.Errorf("faultyCopy = %+v, want the family, size, network, roles and tags of the running one", in)
	}
	if n := len(td.ContainerDefinitions[0].Environment); n != 1 {
		t.Errorf("faultyCopy changed the described task definition: %d variables, want 1", n)
	}

	td.ContainerDefinitions[0].Environment = append(td.ContainerDefinitions[0].Environment, ecstypes.KeyValuePair{Name: aws.String("APP_FAULT"), Value: aws.String("health")})
	if _, _, err := faultyCopy(td, nil, "errors=0.5"); exitCode(err) != exitUsage || !strings.Contains(err.Error(), "already sets APP_FAULT=health") {
		t.Errorf("faultyCopy of a faulty revision = %v, want a usage error saying it already injects a fault", err)
	}
}

func TestWhatCaught(t *testing.T) {
	enforced := &ledger.Deployment{Enforcement: &ledger.Action{Kind: ledger.ActionStopRollback, Alarm: "web-target-5xx", Reason: "alarm web-target-5xx in ALARM"}}
	dry := &ledger.Deployment{Enforcement: &ledger.Action{Kind: ledger.ActionStopRollback, Alarm: "web-target-5xx", DryRun: true}}
	hook := []ledger.Entry{{Kind: "lifecycle hook", Summary: "POST_TEST_TRAFFIC_SHIFT hook FAILED", Detail: map[string]string{"hookStatus": "FAILED", "smokeTest": "failed", "checks": "GET /health -> 503 (want 200)"}}}
	stop := "Service deployment rolled back because a rollback was requested with StopServiceDeployment."
	tests := []struct {
		name     string
		s        deploy.Snapshot
		d        *ledger.Deployment
		timeline []ledger.Entry
		want     catch
	}{
		{"succeeded", deploy.Snapshot{Status: "SUCCESSFUL"}, nil, nil, catch{}},
		{"ecs alarm", deploy.Snapshot{Status: "ROLLBACK_SUCCESSFUL", TriggeredAlarms: []string{"web-target-5xx"}, RollbackReason: "alarm web-target-5xx went into the ALARM state."},
			nil, nil, catch{Mechanism: caughtByAlarm, Alarm: "web-target-5xx", Detail: "alarm web-target-5xx went into the ALARM state."}},
		{"deploywatch", deploy.Snapshot{Status: "ROLLBACK_SUCCESSFUL", RollbackReason: stop}, enforced, nil,
			catch{Mechanism: caughtByDeploywatch, Alarm: "web-target-5xx", Detail: "alarm web-target-5xx in ALARM"}},
		{"dry run is a request", deploy.Snapshot{Status: "ROLLBACK_SUCCESSFUL", RollbackReason: stop}, dry, nil, catch{Mechanism: caughtByRequest, Detail: stop}},
		{"hook", deploy.Snapshot{Status: "ROLLBACK_SUCCESSFUL", RollbackReason: "Service deployment rolled back because the lifecycle hook arn:fn returned FAILED at POST_TEST_TRAFFIC_SHIFT."}, nil, hook,
			catch{Mechanism: caughtByHook, Detail: "POST_TEST_TRAFFIC_SHIFT hook FAILED: GET /health -> 503 (want 200)"}},
		{"health", deploy.Snapshot{Status: "ROLLBACK_SUCCESSFUL", RollbackReason: "2 tasks of the target revision failed to start or failed ELB health checks"}, nil, nil,
			catch{Mechanism: caughtByHealth, Detail: "2 tasks of the target revision failed to start or failed ELB health checks"}},
		{"alarm in the reason only", deploy.Snapshot{Status: "ROLLBACK_IN_PROGRESS", Reason: "rolled back because alarm web-latency went into the ALARM state."}, nil, nil,
			catch{Mechanism: caughtByAlarm, Alarm: "web-latency", Detail: "rolled back because alarm web-latency went into the ALARM state."}},
		{"stopped", deploy.Snapshot{Status: "STOPPED", Reason: "stopped"}, nil, nil, catch{Mechanism: caughtByRequest, Detail: "stopped"}},
		{"other", deploy.Snapshot{Status: "ROLLBACK_SUCCESSFUL", RollbackReason: "something else"}, nil, nil, catch{Mechanism: caughtByECS, Detail: "something else"}},
	}
	for _, tt := range tests {
		if got := whatCaught(tt.s, tt.d, tt.timeline); got != tt.want {
			t.Errorf("%s: whatCaught = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestFurthestStage(t *testing.T) {
	for _, tt := range []struct{ a, b, want string }{
		{"SCALE_UP", "POST_TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT"},
		{"BAKE_TIME", "TEST_TRAFFIC_SHIFT", "BAKE_TIME"},
		{"", "SCALE_UP", "SCALE_UP"},
		{"BAKE_TIME", "", "BAKE_TIME"},
	} {
		if got := furthestStage(tt.a, tt.b); got != tt.want {
			t.Errorf("furthestStage(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestDrillJudge(t *testing.T) {
	alarm := &catch{Mechanism: caughtByAlarm, Alarm: "web-target-5xx"}
	health := &catch{Mechanism: caughtByHealth}
	tests := []struct {
		name     string
		r        drillReport
		fault    string
		settled  bool
		wantCode int
		want     string
	}{
		{"errors caught", drillReport{Status: "ROLLBACK_SUCCESSFUL", CaughtBy: alarm, Production: "web:3", Traffic: trafficStats{Bad: 20}}, faultErrors, true, exitOK, "caught APP_FAULT=errors=0.5: alarm web-target-5xx"},
		{"health caught", drillReport{Status: "ROLLBACK_SUCCESSFUL", CaughtBy: health, Production: "web:3"}, faultHealth, true, exitOK, "health checks"},
		{"health served", drillReport{Status: "ROLLBACK_SUCCESSFUL", CaughtBy: health, Production: "web:3", Traffic: trafficStats{Bad: 2}}, faultHealth, true, exitFailed, "answered 2 production requests"},
		{"succeeded", drillReport{Status: "SUCCESSFUL", Production: "web:4"}, faultErrors, true, exitFailed, "did not catch"},
		{"request", drillReport{Status: "ROLLBACK_SUCCESSFUL", CaughtBy: &catch{Mechanism: caughtByRequest}, Production: "web:3"}, faultErrors, true, exitFailed, "not by the rollback machinery"},
		{"not settled", drillReport{Status: "ROLLBACK_SUCCESSFUL", CaughtBy: alarm, Production: "web:3"}, faultErrors, false, exitFailed, "does not answer from web:3"},
		{"service elsewhere", drillReport{Status: "ROLLBACK_SUCCESSFUL", CaughtBy: alarm, Production: "web:4"}, faultErrors, true, exitFailed, "the service runs web:4"},
		{"rollback failed", drillReport{Status: "ROLLBACK_FAILED", CaughtBy: health, Production: "web:4"}, faultHealth, true, exitFailed, "the rollback ended ROLLBACK_FAILED"},
	}
	for _, tt := range tests {
		r := tt.r
		r.Good, r.Bad = "web:3", "web:4"
		value := tt.fault
		if tt.fault == faultErrors {
			value = "errors=0.5"
		}
		r.judge(value, tt.fault, tt.settled)
		if r.ExitCode != tt.wantCode || !strings.Contains(r.Verdict, tt.want) || r.Caught != (tt.wantCode == exitOK) {
			t.Errorf("%s: judge = exit %d, caught %v, %q; want exit %d saying %q", tt.name, r.ExitCode, r.Caught, r.Verdict, tt.wantCode, tt.want)
		}
	}
}

// TestProbe drives the drill's traffic at a real HTTP server that answers
// as the good revision, then as the faulty one (injected 500s and slowed
// answers included), then as the load balancer with no target, then as the
// good revision again: every answer is told apart.
func TestProbe(t *testing.T) {
	var phase atomic.Int32
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch phase.Load() {
		case 0, 3:
			fmt.Fprint(w, `{"service":"app","ecs":{"family":"web","revision":"3"}}`)
		case 1:
			if n.Add(1)%2 == 0 {
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, `{"code":"fault_injected","message":"APP_FAULT=errors=0.5 failed this request on purpose"}`)
				return
			}
			fmt.Fprint(w, `{"service":"app","fault":"errors=0.5","ecs":{"family":"web","revision":"4"}}`)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "no healthy target")
		}
	}))
	defer srv.Close()
	good, bad := revisionID{"web", "3"}, revisionID{"web", "4"}
	p := newProbe(srv.URL, maxDrillRPS, good, bad)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.run(ctx) }()
	wait := func(what string, ok func(trafficStats) bool) {
		t.Helper()
		if !waitFor(context.Background(), 10*time.Second, func() bool { st, _, _ := p.snapshot(); return ok(st) }) {
			st, _, _ := p.snapshot()
			t.Fatalf("%s: not within 10s; traffic %+v", what, st)
		}
	}
	wait("good answers", func(st trafficStats) bool { return st.Good >= 3 })
	phase.Store(1)
	wait("faulty answers", func(st trafficStats) bool { return st.Bad >= 6 && st.BadErrors >= 2 })
	phase.Store(2)
	wait("failures", func(st trafficStats) bool { return st.Failed >= 2 })
	_, lastBad, backAt := p.snapshot()
	if lastBad.IsZero() || !backAt.IsZero() {
		t.Errorf("while the faulty revision was last to answer: lastBad %v, backAt %v; want lastBad set and no way back yet", lastBad, backAt)
	}
	phase.Store(3)
	p.restartRun()
	if !waitFor(context.Background(), 10*time.Second, func() bool { return p.goodInARow() >= 5 }) {
		t.Fatalf("five good answers in a row: not within 10s")
	}
	cancel()
	<-done
	st, lastBad, backAt := p.snapshot()
	if !backAt.After(lastBad) {
		t.Errorf("back on the good revision at %v, the faulty one's last answer at %v: want back after it", backAt, lastBad)
	}
	if st.Total != st.Good+st.Bad+st.Failed || st.ByRevision["web:3"] != st.Good || st.ByRevision["web:4"] != st.Bad || st.BadErrors == 0 || st.BadErrors >= st.Bad {
		t.Errorf("traffic = %+v, want every request counted once, by revision, with some of the faulty ones injected errors", st)
	}
	if !strings.Contains(st.LastFailure, "503") {
		t.Errorf("last failure = %q, want the load balancer's 503", st.LastFailure)
	}
}

// TestProbeBaseline: a URL where the running revision does not answer
// stops the drill before it deploys anything, saying to pass --url.
func TestProbeBaseline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"ecs":{"family":"web","revision":"2"}}`)
	}))
	defer srv.Close()
	err := newProbe(srv.URL, maxDrillRPS, revisionID{"web", "3"}, revisionID{}).baseline(context.Background(), 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "none answered by the running revision web:3") || !strings.Contains(err.Error(), "--url") {
		t.Errorf("baseline against another revision = %v, want an error naming web:3 and --url", err)
	}
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello")
	}))
	defer plain.Close()
	err = newProbe(plain.URL, maxDrillRPS, revisionID{"web", "3"}, revisionID{}).baseline(context.Background(), 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "200 OK without a revision") || !strings.Contains(err.Error(), "ecs.revision") {
		t.Errorf("baseline against an app that does not say its revision = %v, want an error saying what the drill reads", err)
	}
	// A load balancer name that resolves nowhere (.onion never resolves in
	// Go): HTTP_PROXY is the way through, besides --url.
	err = newProbe("http://shipyard-local-1.elb.onion/", maxDrillRPS, revisionID{"web", "3"}, revisionID{}).baseline(context.Background(), 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "--url") || !strings.Contains(err.Error(), "HTTP_PROXY") {
		t.Errorf("baseline against a name that does not resolve = %v, want an error saying --url or HTTP_PROXY", err)
	}
	closed := freeAddr(t) // nothing listens there
	if err := newProbe("http://"+closed+"/", maxDrillRPS, revisionID{"web", "3"}, revisionID{}).baseline(context.Background(), 500*time.Millisecond); err == nil ||
		!strings.Contains(err.Error(), "--url") || strings.Contains(err.Error(), "HTTP_PROXY") {
		t.Errorf("baseline against an IP address nothing listens on = %v, want --url and no word of HTTP_PROXY", err)
	}
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"ecs":{"family":"web","revision":"3"}}`)
	}))
	defer srv2.Close()
	if err := newProbe(srv2.URL, maxDrillRPS, revisionID{"web", "3"}, revisionID{}).baseline(context.Background(), 10*time.Second); err != nil {
		t.Errorf("baseline against the running revision = %v, want nil", err)
	}
}

// TestDrillReportTraffic: the summary tells the requests the drill's
// fault failed (users got those 500s) from those that failed otherwise.
func TestDrillReportTraffic(t *testing.T) {
	r := drillReport{Fault: "errors=0.5", Good: "shipyard-local:1", Bad: "shipyard-local:2", Status: "ROLLBACK_SUCCESSFUL",
		Traffic: trafficStats{Total: 80, Good: 58, Bad: 22, BadErrors: 11, Failed: 0, ByRevision: map[string]int{"shipyard-local:1": 58, "shipyard-local:2": 22}}}
	var b strings.Builder
	r.print(newPrinter(&b, outputText))
	want := "80 requests, 22 answered by the faulty revision shipyard-local:2; 11 answered 500 by the drill's fault, 0 other failures"
	if !strings.Contains(b.String(), want) {
		t.Errorf("drill report =\n%s\nwant its traffic line to say %q", b.String(), want)
	}
}
