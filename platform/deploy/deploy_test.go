package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		s    deploy.Snapshot
		want deploy.Class
		exit int
	}{
		{"successful", deploy.Snapshot{Status: "SUCCESSFUL"}, deploy.ClassSucceeded, 0},
		{"alarm", deploy.Snapshot{Status: "ROLLBACK_SUCCESSFUL", TriggeredAlarms: []string{"web-5xx"}}, deploy.ClassAlarm, 3},
		{"alarm by reason", deploy.Snapshot{Status: "ROLLBACK_SUCCESSFUL", RollbackReason: "Service deployment rolled back because alarm web-5xx went into the ALARM state."}, deploy.ClassAlarm, 3},
		{"health", deploy.Snapshot{Status: "ROLLBACK_SUCCESSFUL", RollbackReason: "Service deployment rolled back because 3 tasks of the target revision failed to start or failed ELB health checks"}, deploy.ClassFailed, 4},
		{"hook", deploy.Snapshot{Status: "ROLLBACK_SUCCESSFUL", RollbackReason: "lifecycle hook failed"}, deploy.ClassFailed, 4},
		{"rollback failed", deploy.Snapshot{Status: "ROLLBACK_FAILED", RollbackReason: "There is no previous service revision to roll back to."}, deploy.ClassFailed, 4},
		{"requested", deploy.Snapshot{Status: "ROLLBACK_SUCCESSFUL", RollbackReason: "Service deployment rolled back because a rollback was requested with StopServiceDeployment."}, deploy.ClassStopped, 6},
		{"circuit breaker stop", deploy.Snapshot{Status: "STOPPED", Reason: "ECS deployment circuit breaker: tasks failed to start."}, deploy.ClassFailed, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := deploy.Classify(tt.s)
			if got != tt.want || got.ExitCode() != tt.exit {
				t.Errorf("Classify(%+v) = %v (exit %d), want %v (exit %d)", tt.s, got, got.ExitCode(), tt.want, tt.exit)
			}
		})
	}
}

func TestSnapshotLine(t *testing.T) {
	s := deploy.Snapshot{
		Status: "IN_PROGRESS", Stage: "BAKE_TIME",
		Production: map[string]int{"blue": 0, "green": 100},
		Targets:    map[string]map[string]int{"blue": {"healthy": 2}, "green": {"healthy": 1, "initial": 1}},
		Alarms:     map[string]string{"b": "OK", "a": "INSUFFICIENT_DATA"},
		BakeLeft:   90 * time.Second,
	}
	want := "IN_PROGRESS BAKE_TIME | prod blue 0 green 100 | blue 2 healthy | green 1 healthy, 1 initial | alarms a=INSUFFICIENT_DATA b=OK | bake 1m30s left"
	if got := s.Line(); got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
	// The service alone, with no deployment: no status, no leading bar.
	s.Status, s.Stage, s.BakeLeft = "", "", 0
	want = "prod blue 0 green 100 | blue 2 healthy | green 1 healthy, 1 initial | alarms a=INSUFFICIENT_DATA b=OK"
	if got := s.Line(); got != want {
		t.Errorf("Line() without a deployment = %q, want %q", got, want)
	}
}

// ecsServer answers the ECS JSON protocol from canned bodies per operation
// and records the operations called.
type ecsServer struct {
	mu     sync.Mutex
	calls  []string
	bodies map[string]any
}

func (s *ecsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := r.Header.Get("X-Amz-Target")
	op = op[strings.LastIndex(op, ".")+1:]
	s.mu.Lock()
	s.calls = append(s.calls, op)
	s.mu.Unlock()
	body, ok := s.bodies[op]
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"InvalidParameterException","message":"unexpected ` + op + `"}`))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(body)
}

func TestStartRefusesInFlight(t *testing.T) {
	srv := &ecsServer{bodies: map[string]any{
		"ListServiceDeployments": map[string]any{"serviceDeployments": []any{map[string]any{
			"serviceDeploymentArn": "arn:aws:ecs:us-east-1:1:service-deployment/c/web/abc", "status": "ROLLBACK_IN_PROGRESS", "createdAt": 1.7e9,
		}}},
	}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	client := ecs.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), BaseEndpoint: aws.String(hs.URL)})
	e := &deploy.Engine{Service: deploy.Service{Cluster: "c", Name: "web"}, ECS: client, Reader: client}
	_, err := e.Start(context.Background(), "arn:aws:ecs:us-east-1:1:task-definition/web:2")
	var inflight *deploy.InFlightError
	if !errors.As(err, &inflight) || inflight.Status != "ROLLBACK_IN_PROGRESS" {
		t.Fatalf("Start() with a rollback in flight = %v, want an InFlightError", err)
	}
	for _, want := range []string{"ship status --watch", "ship rollback"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start() error = %q, want it to say %q", err, want)
		}
	}
	if got := strings.Join(srv.calls, ","); got != "ListServiceDeployments" {
		t.Errorf("calls = %s, want only ListServiceDeployments (no UpdateService)", got)
	}
}

// ledgerFunc is a ledger whose Get answers from a function.
type ledgerFunc func(ledger.Key) (ledger.Deployment, error)

func (f ledgerFunc) Record(context.Context, ledger.Observation) (ledger.Result, error) {
	return ledger.Result{}, nil
}
func (f ledgerFunc) Get(_ context.Context, k ledger.Key) (ledger.Deployment, error) { return f(k) }

// recordFunc is a ledger whose Record hands each observation to a function.
type recordFunc func(ledger.Observation)

func (f recordFunc) Record(_ context.Context, o ledger.Observation) (ledger.Result, error) {
	f(o)
	return ledger.Result{}, nil
}
func (f recordFunc) Get(context.Context, ledger.Key) (ledger.Deployment, error) {
	return ledger.Deployment{}, ledger.ErrNotFound
}

// TestRecordRequest: the request names who and what, a dirty tree's commit
// ends in -dirty, and a drill's deployment carries its fault.
func TestRecordRequest(t *testing.T) {
	st := deploy.Started{Arn: "arn:aws:ecs:us-east-1:1:service-deployment/c/web/abc", CreatedAt: time.Unix(1.7e9, 0),
		TaskDefinition: "arn:aws:ecs:us-east-1:1:task-definition/web:7"}
	tests := []struct {
		name    string
		req     deploy.Request
		want    ledger.Initiator
		summary string
	}{
		{"deploy", deploy.Request{User: "ana", GitCommit: "abc", Version: "v1"}, ledger.Initiator{User: "ana", GitCommit: "abc", ManifestVersion: "v1"}, "ana deployed web:7 from abc"},
		{"dirty", deploy.Request{User: "ana", GitCommit: "abc", Dirty: true}, ledger.Initiator{User: "ana", GitCommit: "abc-dirty"}, "ana deployed web:7 from abc-dirty"},
		{"drill", deploy.Request{User: "ana", GitCommit: "abc", Drill: "errors=0.5"}, ledger.Initiator{User: "ana", GitCommit: "abc", Drill: "errors=0.5"}, "ana drilled web:7 with APP_FAULT=errors=0.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []ledger.Observation
			e := &deploy.Engine{Service: deploy.Service{Cluster: "c", Name: "web"}, Ledger: recordFunc(func(o ledger.Observation) { got = append(got, o) })}
			if err := e.RecordRequest(context.Background(), st, tt.req); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("RecordRequest wrote %d observations, want 1", len(got))
			}
			o := got[0]
			if o.Initiator != tt.want || o.Summary != tt.summary || o.Arn != st.Arn || o.TaskDefinition != st.TaskDefinition {
				t.Errorf("RecordRequest(%+v) wrote initiator %+v, summary %q, deployment %s of %s; want %+v, %q", tt.req, o.Initiator, o.Summary, o.Arn, o.TaskDefinition, tt.want, tt.summary)
			}
		})
	}
}

// TestWatchEnforcedAlarm: a rollback requested with StopServiceDeployment
// is the deploywatch Lambda's answer to an alarm when the ledger says so,
// and a person's otherwise.
func TestWatchEnforcedAlarm(t *testing.T) {
	const arn = "arn:aws:ecs:us-east-1:1:service-deployment/c/web/abc"
	srv := &ecsServer{bodies: map[string]any{
		"DescribeServiceDeployments": map[string]any{"serviceDeployments": []any{map[string]any{
			"serviceDeploymentArn": arn, "status": "ROLLBACK_SUCCESSFUL", "createdAt": 1.7e9,
			"statusReason": "Service deployment rolled back because a rollback was requested with StopServiceDeployment.",
			"rollback":     map[string]any{"reason": "Service deployment rolled back because a rollback was requested with StopServiceDeployment."},
		}}},
	}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	client := ecs.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), BaseEndpoint: aws.String(hs.URL)})
	tests := []struct {
		name   string
		action *ledger.Action
		want   deploy.Class
		alarms []string
	}{
		{"by deploywatch", &ledger.Action{Kind: ledger.ActionStopRollback, Alarm: "web-5xx"}, deploy.ClassAlarm, []string{"web-5xx"}},
		{"dry run", &ledger.Action{Kind: ledger.ActionStopRollback, Alarm: "web-5xx", DryRun: true}, deploy.ClassStopped, nil},
		{"by a person", nil, deploy.ClassStopped, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked ledger.Key
			e := &deploy.Engine{Service: deploy.Service{Cluster: "c", Name: "web"}, Reader: client,
				Ledger: ledgerFunc(func(k ledger.Key) (ledger.Deployment, error) {
					asked = k
					return ledger.Deployment{Key: k, Enforcement: tt.action}, nil
				})}
			o, err := e.Watch(context.Background(), arn, nil)
			if err != nil {
				t.Fatal(err)
			}
			if o.Class != tt.want || strings.Join(o.TriggeredAlarms, ",") != strings.Join(tt.alarms, ",") {
				t.Errorf("Watch() = %v %v, want %v %v", o.Class, o.TriggeredAlarms, tt.want, tt.alarms)
			}
			if asked.Arn != arn || asked.Cluster != "c" || asked.Service != "web" || asked.CreatedAt.IsZero() {
				t.Errorf("ledger asked for %+v, want the deployment's key", asked)
			}
		})
	}
}

// TestLastGoodSkipsDrills: a drill nothing caught succeeds with its fault;
// the last good revision is the newest successful deployment the ledger
// does not mark as a drill.
func TestLastGoodSkipsDrills(t *testing.T) {
	const (
		drillArn = "arn:aws:ecs:us-east-1:1:service-deployment/c/web/drill"
		goodArn  = "arn:aws:ecs:us-east-1:1:service-deployment/c/web/good"
	)
	srv := &ecsServer{bodies: map[string]any{
		"DescribeServices": map[string]any{"services": []any{map[string]any{"serviceName": "web", "status": "ACTIVE",
			"taskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/web:9"}}},
		"ListServiceDeployments": map[string]any{"serviceDeployments": []any{
			map[string]any{"serviceDeploymentArn": goodArn, "status": "SUCCESSFUL", "createdAt": 1.7e9, "targetServiceRevisionArn": "rev-good"},
			map[string]any{"serviceDeploymentArn": drillArn, "status": "SUCCESSFUL", "createdAt": 1.7e9 + 60, "targetServiceRevisionArn": "rev-drill"},
		}},
		// Every revision runs web:7 here: the ARN chosen tells them apart.
		"DescribeServiceRevisions": map[string]any{"serviceRevisions": []any{map[string]any{"taskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/web:7"}}},
	}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	client := ecs.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), BaseEndpoint: aws.String(hs.URL)})
	tests := []struct {
		name   string
		ledger func(ledger.Key) (ledger.Deployment, error)
		want   string
	}{
		{"the drill is marked", func(k ledger.Key) (ledger.Deployment, error) {
			if k.Arn == drillArn {
				return ledger.Deployment{Key: k, Initiator: ledger.Initiator{Drill: "errors=0.5"}}, nil
			}
			return ledger.Deployment{Key: k}, nil
		}, "rev-good"},
		{"no record", func(k ledger.Key) (ledger.Deployment, error) { return ledger.Deployment{}, ledger.ErrNotFound }, "rev-drill"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &deploy.Engine{Service: deploy.Service{Cluster: "c", Name: "web"}, Reader: client, Ledger: ledgerFunc(tt.ledger)}
			_, good, err := e.LastGood(context.Background())
			if err != nil || good.Arn != tt.want {
				t.Errorf("LastGood() = %+v, %v; want the revision %s", good, err, tt.want)
			}
		})
	}
}
