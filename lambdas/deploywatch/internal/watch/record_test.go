package watch_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/watch"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
	"github.com/shipyard-ecs/shipyard/platform/ledger/ledgertest"
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
	// Each handled event has a JSON log line with its event id, the
	// deployment ARN and the action taken.
	if !slices.ContainsFunc(strings.Split(w.logs.String(), "\n"), func(l string) bool {
		var line map[string]any
		return json.Unmarshal([]byte(l), &line) == nil && line["eventId"] == "dep-2" && line["deploymentArn"] == arn && line["action"] == "recorded"
	}) {
		t.Errorf("logs lack a JSON line with eventId dep-2, deploymentArn %s and action recorded:\n%s", arn, w.logs.String())
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

func TestRecordHookAndServiceEvents(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.deploy(1, 0)
	d := w.waitDeployment(2, "SUCCESSFUL")
	arn := aws.ToString(d.ServiceDeploymentArn)
	now := time.Now().UTC()
	hookEvent := func(id, deployment string) []byte {
		return mustJSON(map[string]any{"version": "0", "id": id, "detail-type": "ECS Hook State Change", "source": "aws.ecs",
			"time": now.Format(time.RFC3339), "resources": []string{deployment},
			"detail": map[string]any{"eventType": "INFO", "eventName": "HOOK_SUCCEEDED", "hookId": "hk", "hookType": "AWS_LAMBDA",
				"lifecycleStage": "POST_TEST_TRAFFIC_SHIFT", "serviceDeploymentArn": deployment, "updatedAt": now.Format(time.RFC3339Nano)}})
	}
	action := mustJSON(map[string]any{"version": "0", "id": "sa-1", "detail-type": "ECS Service Action", "source": "aws.ecs",
		"time": now.Format(time.RFC3339), "resources": []string{w.serviceArn()},
		"detail": map[string]any{"eventType": "WARN", "eventName": "SERVICE_TASK_START_IMPAIRED", "createdAt": now.Format(time.RFC3339Nano)}})
	tests := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"hook succeeded", hookEvent("hs-1", arn), "recorded"},
		{"hook succeeded, redelivered", hookEvent("hs-1", arn), "duplicate"},
		{"hook of a deployment ECS never had", hookEvent("hs-2", arn[:strings.LastIndex(arn, "/")+1]+"nosuchdeployment"), "recorded"},
		{"service action", action, "recorded"},
		{"service action, redelivered", action, "duplicate"},
	}
	for _, tt := range tests {
		if a := w.invoke(tt.payload); a.Action != tt.want {
			t.Errorf("Invoke(%s) = %+v, want %s", tt.name, a, tt.want)
		}
	}
	rec, err := w.ledger.Get(context.Background(), w.key(d))
	if err != nil || !slices.ContainsFunc(rec.Stages, func(s ledger.Transition) bool { return s.Name == "POST_TEST_TRAFFIC_SHIFT" }) {
		t.Errorf("ledger stages = %+v, %v; want POST_TEST_TRAFFIC_SHIFT from the hook event", rec.Stages, err)
	}
	evs, err := w.ledger.ServiceEvents(context.Background(), w.cluster, "web")
	if err != nil || len(evs) != 2 {
		t.Errorf("ServiceEvents = %+v, %v; want the unresolved hook event and the service action", evs, err)
	}
}

// TestRetryableErrors: what retrying can fix is returned, so EventBridge
// retries and the dead-letter queue keeps what keeps failing.
func TestRetryableErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	legacy := w.legacyID(0)
	event := deploymentEvent("r-1", w.serviceArn(), "SERVICE_DEPLOYMENT_COMPLETED", legacy, "", time.Now())
	noTable := w.cfg
	noTable.Table = "no-such-table"
	db := ledgertest.DynamoDB(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name string
		h    *watch.Handler
	}{
		{"ledger table missing", watch.New(noTable, watch.Deps{ECS: w.ecs, Ledger: ledger.New(db, "no-such-table")})},
		{"ECS unreachable", watch.New(w.cfg, watch.Deps{ECS: ecs.NewFromConfig(ledgertest.Config(closed.URL)), Ledger: w.ledger})},
	}
	for _, tt := range tests {
		if out, err := tt.h.Invoke(context.Background(), event); err == nil {
			t.Errorf("Invoke(%s) = %s, nil; want an error for EventBridge to retry", tt.name, out)
		}
	}
}
