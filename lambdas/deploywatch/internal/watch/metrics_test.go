package watch_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/watch"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
)

// emf parses the metric lines a handler wrote, checking that each is a
// CloudWatch Embedded Metric Format document CloudWatch would accept for
// the watched service, and returns each metric's values by name.
func emf(t *testing.T, out, cluster string) map[string][]float64 {
	t.Helper()
	got := map[string][]float64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("metric line %q is not JSON: %v", sc.Text(), err)
		}
		var meta struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		}
		raw, _ := json.Marshal(line["_aws"])
		if err := json.Unmarshal(raw, &meta); err != nil || meta.Timestamp == 0 || len(meta.CloudWatchMetrics) != 1 {
			t.Fatalf("metric line %s: _aws = %s, want a timestamp and one CloudWatchMetrics directive", sc.Text(), raw)
		}
		d := meta.CloudWatchMetrics[0]
		if d.Namespace != watch.Namespace || fmt.Sprint(d.Dimensions) != "[[Cluster Service]]" || line["Cluster"] != cluster || line["Service"] != "web" {
			t.Errorf("metric line %s: want namespace %s, dimensions Cluster and Service = %s/web", sc.Text(), watch.Namespace, cluster)
		}
		for _, m := range d.Metrics {
			v, ok := line[m.Name].(float64)
			if !ok || (m.Unit != "Count" && m.Unit != "Milliseconds") {
				t.Errorf("metric line %s: %s = %v (%s), want a number in Count or Milliseconds", sc.Text(), m.Name, line[m.Name], m.Unit)
			}
			got[m.Name] = append(got[m.Name], v)
		}
	}
	return got
}

// TestDORAMetrics: a deployment that an alarm rolls back emits, once
// each, what a dashboard needs for deployment frequency
// (DeploymentStarted), change failure rate (DeploymentRolledBack over
// DeploymentStarted), time to restore (TimeToRestore), and how fast
// deploywatch reacted to the alarm (RollbackReactionTime, from the alarm's
// own timestamp); redeliveries add nothing.
func TestDORAMetrics(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.deploy(1, 1) // B's task cannot start: the deployment stays in flight
	d := w.waitDeployment(2, "PENDING", "IN_PROGRESS")
	legacy := w.legacyID(1)
	started := deploymentEvent("m-1", w.serviceArn(), "SERVICE_DEPLOYMENT_IN_PROGRESS", legacy, "", time.Now())
	w.invoke(started)
	alarmAt := time.Now().Add(-3 * time.Second)
	if a := w.invoke(alarmEvent("m-2", "web-target-5xx", "ALARM", alarmAt)); a.Action != "stop-rollback" {
		t.Fatalf("Invoke(alarm) = %+v, want stop-rollback", a)
	}
	end := w.waitDeployment(2, "ROLLBACK_SUCCESSFUL")
	failed := deploymentEvent("m-3", w.serviceArn(), "SERVICE_DEPLOYMENT_FAILED", legacy, "rolled back", time.Now())
	for _, e := range [][]byte{failed, failed, started} { // and redeliveries
		w.invoke(e)
	}

	got := emf(t, w.metrics.String(), w.cluster)
	for _, name := range []string{"DeploymentStarted", "DeploymentRolledBack", "EnforcedRollback", "TimeToRestore", "RollbackReactionTime"} {
		if len(got[name]) != 1 {
			t.Errorf("metric %s emitted %d times (%v), want once", name, len(got[name]), got[name])
		}
	}
	if n := len(got["DeploymentSucceeded"]); n != 0 {
		t.Errorf("DeploymentSucceeded emitted %d times for a rolled-back deployment, want 0", n)
	}
	if v := got["RollbackReactionTime"]; len(v) == 1 && v[0] < 3000 {
		t.Errorf("RollbackReactionTime = %v ms, want at least 3000: measured from the alarm's timestamp, 3 s before it was delivered", v[0])
	}
	rb := end.Rollback
	if rb == nil || rb.StartedAt == nil || end.FinishedAt == nil {
		t.Fatalf("ECS's rolled-back deployment = %+v, want its rollback's start and the finish", end)
	}
	if v, want := got["TimeToRestore"], float64(end.FinishedAt.Sub(*rb.StartedAt).Milliseconds()); len(v) == 1 && v[0] != want {
		t.Errorf("TimeToRestore = %v ms, want %v: ECS's rollback start to the deployment's finish", v[0], want)
	}
	rec, err := w.ledger.Get(context.Background(), w.key(d))
	if err != nil || !rec.RolledBack() {
		t.Errorf("ledger record = %+v, %v; want rolled back", rec, err)
	}
}

// TestDrillMetricsLeaveDORAOut: a deployment ship marked as a drill is
// counted under Drill* names, so deployment frequency, change failure rate
// and time to restore stay about real changes; the fault rides along.
func TestDrillMetricsLeaveDORAOut(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.deploy(1, 1) // B's task cannot start: the deployment stays in flight
	d := w.waitDeployment(2, "PENDING", "IN_PROGRESS")
	// ship writes its request, marked as a drill, right after UpdateService.
	if _, err := w.ledger.Record(context.Background(), ledger.Observation{Key: w.key(d), EventID: "ship-drill", At: time.Now(), Source: "ship",
		Kind: "requested", Summary: "drill", Initiator: ledger.Initiator{User: "ana", Drill: "errors=0.5"}}); err != nil {
		t.Fatal(err)
	}
	legacy := w.legacyID(1)
	w.invoke(deploymentEvent("d-1", w.serviceArn(), "SERVICE_DEPLOYMENT_IN_PROGRESS", legacy, "", time.Now()))
	if a := w.invoke(alarmEvent("d-2", "web-target-5xx", "ALARM", time.Now())); a.Action != "stop-rollback" {
		t.Fatalf("Invoke(alarm) = %+v, want stop-rollback", a)
	}
	w.waitDeployment(2, "ROLLBACK_SUCCESSFUL")
	w.invoke(deploymentEvent("d-3", w.serviceArn(), "SERVICE_DEPLOYMENT_FAILED", legacy, "rolled back", time.Now()))

	got := emf(t, w.metrics.String(), w.cluster)
	for _, name := range []string{"DrillStarted", "DrillRolledBack", "DrillTimeToRestore"} {
		if len(got[name]) != 1 {
			t.Errorf("metric %s emitted %d times, want once", name, len(got[name]))
		}
	}
	for _, name := range []string{"DeploymentStarted", "DeploymentRolledBack", "TimeToRestore"} {
		if len(got[name]) != 0 {
			t.Errorf("metric %s emitted %d times for a drill, want 0: drills stay out of the DORA measures", name, len(got[name]))
		}
	}
	if !strings.Contains(w.metrics.String(), `"drill":"errors=0.5"`) {
		t.Errorf("drill metrics do not carry the fault:\n%s", w.metrics.String())
	}
}
