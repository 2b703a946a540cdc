package watch_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestRecordDeploymentEvents(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.deploy(1, 0)
	d := w.waitDeployment(2, "SUCCESSFUL")
	legacy := w.legacyID(1)
	arn := aws.ToString(d.ServiceDeploymentArn)
	now := time.Now()
	completed := deploymentEvent("dep-2", w.serviceArn(), "SERVICE_DEPLOYMENT_COMPLETED", legacy, "ECS deployment "+legacy+" completed.", now)
	tests := []struct {
		name    string
		payload []byte
		want    string
		arn     string
	}{
		// Out of order: completion first.
		{"completed", completed, "recorded", arn},
		{"in progress, late", deploymentEvent("dep-1", w.serviceArn(), "SERVICE_DEPLOYMENT_IN_PROGRESS", legacy, "ECS deployment "+legacy+" in progress.", now.Add(-time.Second)), "recorded", arn},
		{"completed, redelivered", completed, "duplicate", arn},
		{"another service", deploymentEvent("dep-3", strings.Replace(w.serviceArn(), "/web", "/api", 1), "SERVICE_DEPLOYMENT_IN_PROGRESS", legacy, "", now), "ignored", ""},
		{"a deployment ECS never had", deploymentEvent("dep-4", w.serviceArn(), "SERVICE_DEPLOYMENT_FAILED", "ecs-svc/1", "", now), "recorded", ""},
		{"malformed", []byte(`{"id":"bad","detail-type":"ECS Deployment State Change","source":"aws.ecs","time":"yesterday","detail":{}}`), "rejected", ""},
		{"undocumented name", deploymentEvent("dep-5", w.serviceArn(), "SERVICE_DEPLOYMENT_ROLLBACK_DONE", legacy, "", now), "ignored", ""},
	}
	for _, tt := range tests {
		a := w.invoke(tt.payload)
		if a.Action != tt.want || a.Deployment != tt.arn {
			t.Errorf("Invoke(%s) = %+v, want action %q on %q", tt.name, a, tt.want, tt.arn)
		}
	}
	if !strings.Contains(w.logs.String(), `"eventId":"bad","kind":"unknown","action":"reject"`) {
		t.Errorf("logs lack the rejected event's id:\n%s", w.logs.String())
	}
	rec, err := w.ledger.Get(context.Background(), w.key(d))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != "SUCCESSFUL" || rec.TaskDefinition != w.taskDefs[1] || len(rec.LegacyIDs) != 1 || rec.LegacyIDs[0] != legacy || len(rec.SourceRevisions) != 1 {
		t.Errorf("ledger record = %+v, want SUCCESSFUL, task definition %s, legacy id %s, one source revision", rec, w.taskDefs[1], legacy)
	}
	tl, err := w.ledger.Timeline(context.Background(), arn)
	if err != nil || len(tl) != 2 || tl[0].EventID != "dep-1" || tl[1].EventID != "dep-2" {
		t.Errorf("Timeline = %+v, %v; want dep-1 then dep-2", tl, err)
	}
	evs, err := w.ledger.ServiceEvents(context.Background(), w.cluster, "web")
	if err != nil || len(evs) != 1 || evs[0].EventID != "dep-4" || evs[0].Detail["unresolved"] == "" {
		t.Errorf("ServiceEvents = %+v, %v; want the unresolved dep-4", evs, err)
	}
	for _, m := range []string{`"DeploymentStarted":1`, `"DeploymentSucceeded":1`} {
		if c := strings.Count(w.metrics.String(), m); c != 1 {
			t.Errorf("metric %s emitted %d times, want once:\n%s", m, c, w.metrics.String())
		}
	}
	// The mapping from the legacy id is now in the ledger: ECS is asked
	// for the deployment, not searched.
	before := w.count("ListServiceDeployments")
	if a := w.invoke(deploymentEvent("dep-6", w.serviceArn(), "SERVICE_DEPLOYMENT_COMPLETED", legacy, "", now)); a.Deployment != arn || w.count("ListServiceDeployments") != before {
		t.Errorf("Invoke(known legacy id) = %+v, listed %d times; want %s from the ledger", a, w.count("ListServiceDeployments")-before, arn)
	}
}
