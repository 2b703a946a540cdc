package watch_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/watch"
)

// TestAlarmDuringDeploymentStopsItOnce: a watched alarm in ALARM while a
// deployment is in flight stops it with ROLLBACK, exactly once, however
// many deliveries and alarms arrive at once.
func TestAlarmDuringDeploymentStopsItOnce(t *testing.T) {
	t.Parallel()
	start := time.Now()
	w := newWorld(t, nil)
	w.deploy(1, 1) // B's task cannot start: the deployment stays in flight
	d := w.waitDeployment(2, "PENDING", "IN_PROGRESS")
	now := time.Now()
	events := [][]byte{
		alarmEvent("alarm-1", "web-target-5xx", "ALARM", now),
		alarmEvent("alarm-1", "web-target-5xx", "ALARM", now), // redelivery
		alarmEvent("alarm-2", "web-elb-5xx", "ALARM", now),
		alarmEvent("alarm-1", "web-target-5xx", "ALARM", now),
	}
	answers := make([]watch.Answer, len(events))
	var wg sync.WaitGroup
	for i, e := range events {
		wg.Go(func() { answers[i] = w.invoke(e) })
	}
	wg.Wait()
	stops := 0
	for _, a := range answers {
		switch a.Action {
		case "stop-rollback":
			stops++
		case "none":
		default:
			t.Errorf("Invoke(alarm) action = %q (%s), want stop-rollback or none", a.Action, a.Reason)
		}
	}
	if stops != 1 || w.count("StopServiceDeployment") != 1 {
		t.Errorf("stop-rollback answers = %d, StopServiceDeployment calls = %d; want 1 and 1", stops, w.count("StopServiceDeployment"))
	}
	if st := w.describe(aws.ToString(d.ServiceDeploymentArn)).Status; !strings.HasPrefix(string(st), "ROLLBACK_") {
		t.Errorf("deployment status = %s, want ROLLBACK_*", st)
	}
	rec, err := w.ledger.Get(context.Background(), w.key(d))
	if err != nil {
		t.Fatal(err)
	}
	if e := rec.Enforcement; e == nil || e.Kind != "stop-rollback" || !strings.Contains(e.Outcome, "accepted") || e.DryRun {
		t.Errorf("ledger enforcement = %+v, want the stop-rollback, accepted", e)
	}
	if len(rec.TriggeredAlarms) == 0 {
		t.Errorf("ledger triggered alarms = %v, want the alarm", rec.TriggeredAlarms)
	}
	for _, m := range []string{`"EnforcedRollback":1`, `"RollbackReactionTime":`} {
		if !strings.Contains(w.metrics.String(), m) {
			t.Errorf("metrics lack %s:\n%s", m, w.metrics.String())
		}
	}
	// Once ECS rolls back, a new alarm records and does nothing.
	if a := w.invoke(alarmEvent("alarm-3", "web-target-5xx", "ALARM", time.Now())); a.Action != "none" || w.count("StopServiceDeployment") != 1 {
		t.Errorf("Invoke(alarm during rollback) = %+v, %d stops; want none, 1", a, w.count("StopServiceDeployment"))
	}
	t.Logf("took %s", time.Since(start).Round(time.Millisecond))
}

func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(c *watch.Config) { c.DryRun = true })
	w.deploy(1, 1)
	d := w.waitDeployment(2, "PENDING", "IN_PROGRESS")
	for i := range 2 {
		a := w.invoke(alarmEvent(fmt.Sprint("dry-", i), "web-target-5xx", "ALARM", time.Now()))
		want := "dry-run-stop-rollback"
		if i > 0 {
			want = "none"
		}
		if a.Action != want {
			t.Errorf("Invoke(alarm %d) action = %q (%s), want %q", i, a.Action, a.Reason, want)
		}
	}
	if n := w.count("StopServiceDeployment") + w.count("UpdateService"); n != 0 {
		t.Errorf("ECS calls that change things = %d, want 0 in dry-run", n)
	}
	if st := w.describe(aws.ToString(d.ServiceDeploymentArn)).Status; st != "IN_PROGRESS" && st != "PENDING" {
		t.Errorf("deployment status = %s, want still in flight", st)
	}
	rec, err := w.ledger.Get(context.Background(), w.key(d))
	if err != nil {
		t.Fatal(err)
	}
	if e := rec.Enforcement; e == nil || !e.DryRun || !strings.HasPrefix(e.Outcome, "dry-run: would stop") {
		t.Errorf("ledger enforcement = %+v, want the dry run recorded", e)
	}
}

// TestAlarmInGuardWindowRedeploysPrevious: after a deployment finished,
// an alarm within the guard window redeploys the revision it replaced,
// once; the redeploy is not itself rolled back.
func TestAlarmInGuardWindowRedeploysPrevious(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.deploy(1, 0) // no tasks: the deployment finishes at once
	d := w.waitDeployment(2, "SUCCESSFUL")
	a := w.invoke(alarmEvent("late-1", "web-target-5xx", "ALARM", time.Now()))
	if a.Action != "redeploy-previous" || w.count("UpdateService") != 1 {
		t.Fatalf("Invoke(alarm after deployment) = %+v with %d UpdateService; want redeploy-previous, 1", a, w.count("UpdateService"))
	}
	svc, err := w.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(w.cluster), Services: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(svc.Services[0].TaskDefinition); got != w.taskDefs[0] {
		t.Errorf("service task definition = %s, want the previous %s", got, w.taskDefs[0])
	}
	redeploy := w.waitDeployment(3, "SUCCESSFUL", "IN_PROGRESS", "PENDING")
	rec, err := w.ledger.Get(context.Background(), w.key(redeploy))
	if err != nil || rec.Initiator.User != "deploywatch" {
		t.Errorf("ledger record of the redeploy = %+v, %v; want initiated by deploywatch", rec.Initiator, err)
	}
	old, err := w.ledger.Get(context.Background(), w.key(d))
	if err != nil || old.Enforcement == nil || old.Enforcement.TaskDefinition != w.taskDefs[0] {
		t.Errorf("ledger enforcement of the bad deployment = %+v, %v; want the redeploy of %s", old.Enforcement, err, w.taskDefs[0])
	}
	// The alarm goes on: the redeploy is deploywatch's own, and stays.
	if a := w.invoke(alarmEvent("late-2", "web-elb-5xx", "ALARM", time.Now())); a.Action != "none" || w.count("UpdateService")+w.count("StopServiceDeployment") != 1 {
		t.Errorf("Invoke(second alarm) = %+v; want none and no more ECS changes", a)
	}
}

func TestAlarmRecordOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(c *watch.Config) { c.GuardWindow = 0 })
	w.deploy(1, 0)
	w.waitDeployment(2, "SUCCESSFUL")
	tests := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"outside the guard window", alarmEvent("o-1", "web-target-5xx", "ALARM", time.Now().Add(time.Minute)), "none"},
		{"back to OK", alarmEvent("o-2", "web-target-5xx", "OK", time.Now()), "recorded"},
		{"an alarm not watched", alarmEvent("o-3", "someone-elses", "ALARM", time.Now()), "ignored"},
	}
	for _, tt := range tests {
		if a := w.invoke(tt.payload); a.Action != tt.want {
			t.Errorf("Invoke(%s) action = %q (%s), want %q", tt.name, a.Action, a.Reason, tt.want)
		}
	}
	if n := w.count("StopServiceDeployment") + w.count("UpdateService"); n != 0 {
		t.Errorf("ECS calls that change things = %d, want 0", n)
	}
}

// TestCooldownBetweenRollbacks: a second deployment alarmed within the
// cooldown is not rolled back by deploywatch; the record says why.
func TestCooldownBetweenRollbacks(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.deploy(1, 1)
	w.waitDeployment(2, "PENDING", "IN_PROGRESS")
	if a := w.invoke(alarmEvent("c-1", "web-target-5xx", "ALARM", time.Now())); a.Action != "stop-rollback" {
		t.Fatalf("Invoke(first alarm) = %+v, want stop-rollback", a)
	}
	// The rollback put A back; deploy it again, as a new deployment.
	if _, err := w.ecs.UpdateService(context.Background(), &ecs.UpdateServiceInput{Cluster: aws.String(w.cluster), Service: aws.String("web"), ForceNewDeployment: true}); err != nil {
		t.Fatal(err)
	}
	d := w.waitDeployment(3, "PENDING", "IN_PROGRESS")
	a := w.invoke(alarmEvent("c-2", "web-target-5xx", "ALARM", time.Now()))
	if a.Action != "none" || !strings.Contains(a.Reason, "cooldown") || w.count("StopServiceDeployment") != 1 {
		t.Errorf("Invoke(alarm within the cooldown) = %+v with %d stops; want none for the cooldown, 1 stop", a, w.count("StopServiceDeployment"))
	}
	rec, err := w.ledger.Get(context.Background(), w.key(d))
	if err != nil || rec.Enforcement == nil || !strings.HasPrefix(rec.Enforcement.Outcome, "skipped") {
		t.Errorf("ledger enforcement of the second deployment = %+v, %v; want skipped for the cooldown", rec.Enforcement, err)
	}
}

// TestRetryAfterECSFailure: when StopServiceDeployment fails in a way a
// retry may fix, the event is returned for EventBridge to retry, and the
// retry stops the deployment.
func TestRetryAfterECSFailure(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.deploy(1, 1)
	d := w.waitDeployment(2, "PENDING", "IN_PROGRESS")
	alarm := alarmEvent("f-1", "web-target-5xx", "ALARM", time.Now())
	w.failNext.Store("StopServiceDeployment", struct{}{})
	if out, err := w.h.Invoke(context.Background(), alarm); err == nil {
		t.Fatalf("Invoke(alarm, ECS failing) = %s, nil; want an error to retry", out)
	}
	w.failNext.Delete("StopServiceDeployment") // ECS is back
	if a := w.invoke(alarm); a.Action != "stop-rollback" || w.count("StopServiceDeployment") != 1 {
		t.Errorf("Invoke(alarm, retried) = %+v with %d stops; want stop-rollback, 1", a, w.count("StopServiceDeployment"))
	}
	if st := w.describe(aws.ToString(d.ServiceDeploymentArn)).Status; !strings.HasPrefix(string(st), "ROLLBACK_") {
		t.Errorf("deployment status = %s, want ROLLBACK_*", st)
	}
}

// TestECSClientErrorIsRecordedAndAcknowledged: an ECS error no retry can
// fix (ConflictException: the deployment can no longer be stopped) is the
// action's outcome in the ledger, and the event is acknowledged, not
// returned for EventBridge to retry; a redelivery does not try again.
func TestECSClientErrorIsRecordedAndAcknowledged(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.deploy(1, 1)
	d := w.waitDeployment(2, "PENDING", "IN_PROGRESS")
	alarm := alarmEvent("k-1", "web-target-5xx", "ALARM", time.Now())
	w.failNext.Store("StopServiceDeployment", "ConflictException")
	if a := w.invoke(alarm); a.Action != "none" || !strings.Contains(a.Reason, "ConflictException") {
		t.Errorf("Invoke(alarm, ECS ConflictException) = %+v, want acknowledged with action none, naming the error", a)
	}
	rec, err := w.ledger.Get(context.Background(), w.key(d))
	if err != nil || rec.Enforcement == nil || !strings.HasPrefix(rec.Enforcement.Outcome, "failed: ") || !strings.Contains(rec.Enforcement.Outcome, "ConflictException") {
		t.Errorf("ledger enforcement = %+v, %v; want the outcome failed: … ConflictException", rec.Enforcement, err)
	}
	if a := w.invoke(alarm); a.Action != "none" || w.count("StopServiceDeployment") != 0 {
		t.Errorf("Invoke(alarm, redelivered) = %+v with %d more StopServiceDeployment calls; want none and 0", a, w.count("StopServiceDeployment"))
	}
}

// TestAlarmNeverTouchesAnotherService: another service of the same
// cluster has a deployment in flight when the watched alarm goes off; the
// watched service's only deployment is its first. Nothing is stopped or
// redeployed: the other service is not this function's, and a first
// deployment has no previous revision to go back to.
func TestAlarmNeverTouchesAnotherService(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ctx := context.Background()
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}}
	if _, err := w.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(w.cluster), ServiceName: aws.String("api"),
		TaskDefinition: aws.String(w.taskDefs[0]), DesiredCount: aws.Int32(0), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: net}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := w.ecs.DeleteService(context.Background(), &ecs.DeleteServiceInput{Cluster: aws.String(w.cluster), Service: aws.String("api"), Force: aws.Bool(true)}); err != nil {
			t.Logf("delete service api: %v", err)
		}
	})
	if _, err := w.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(w.cluster), Service: aws.String("api"),
		TaskDefinition: aws.String(w.taskDefs[1]), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	apiInFlight := func() (types.ServiceDeploymentStatus, bool) {
		list, err := w.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(w.cluster), Service: aws.String("api")})
		if err != nil || len(list.ServiceDeployments) == 0 {
			t.Fatalf("ListServiceDeployments(api) = %v, %v", list, err)
		}
		st := list.ServiceDeployments[0].Status
		return st, st == types.ServiceDeploymentStatusPending || st == types.ServiceDeploymentStatusInProgress
	}
	if st, ok := apiInFlight(); !ok {
		t.Fatalf("api's deployment is %s, want in flight for the test to mean anything", st)
	}
	a := w.invoke(alarmEvent("n-1", "web-target-5xx", "ALARM", time.Now()))
	if a.Action != "none" || !strings.Contains(a.Reason, "first deployment") || !strings.Contains(a.Deployment, "/"+w.cluster+"/web/") {
		t.Errorf("Invoke(alarm) = %+v, want none on web's first deployment, saying so", a)
	}
	if n := w.count("StopServiceDeployment") + w.count("UpdateService"); n != 0 {
		t.Errorf("ECS calls that change things = %d, want 0", n)
	}
	if st, ok := apiInFlight(); !ok {
		t.Errorf("api's deployment is %s after web's alarm, want still in flight", st)
	}
}
