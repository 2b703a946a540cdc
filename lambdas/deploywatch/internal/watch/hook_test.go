package watch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/watch"
	"github.com/shipyard-ecs/shipyard/platform/ledger/ledgertest"
)

func TestLifecycleHook(t *testing.T) {
	t.Parallel()
	var health atomic.Int32
	var requests atomic.Int32
	listener := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path != "/health" {
			rw.WriteHeader(http.StatusNotFound)
			return
		}
		rw.WriteHeader(int(health.Load()))
	}))
	t.Cleanup(listener.Close)
	w := newWorld(t, func(c *watch.Config) { c.TestListenerURL = listener.URL })
	first := w.waitDeployment(1, "SUCCESSFUL")
	w.deploy(1, 1)
	d := w.waitDeployment(2, "PENDING", "IN_PROGRESS")
	arn, green := aws.ToString(d.ServiceDeploymentArn), aws.ToString(d.TargetServiceRevision.Arn)
	blue := aws.ToString(d.SourceServiceRevisions[0].Arn)
	svc := w.serviceArn()
	longAgo := map[string]any{"smokeFirstAttempt": time.Now().Add(-2 * time.Minute).UTC().Format(time.RFC3339Nano), "smokeAttempts": 7}
	none := map[string]float64{}
	tests := []struct {
		name     string
		health   int
		payload  []byte
		want     string
		evidence string
	}{
		{"green healthy", 200, hookInvocation("x1", "POST_TEST_TRAFFIC_SHIFT", arn, svc, green, none, none, nil), "SUCCEEDED", "GET /health -> 200"},
		{"green warming up", 503, hookInvocation("x2", "POST_TEST_TRAFFIC_SHIFT", arn, svc, green, none, none, nil), "IN_PROGRESS", "GET /health -> 503"},
		{"green never warmed up", 503, hookInvocation("x3", "POST_TEST_TRAFFIC_SHIFT", arn, svc, green, none, none, longAgo), "FAILED", "warm-up limit"},
		{"green answers 500", 500, hookInvocation("x4", "POST_TEST_TRAFFIC_SHIFT", arn, svc, green, none, none, nil), "FAILED", "GET /health -> 500"},
		{"rollback re-invocation", 500, hookInvocation("x5", "PRODUCTION_TRAFFIC_SHIFT", arn, svc, green, none, map[string]float64{green: 0, blue: 100}, nil), "SUCCEEDED", "rollback"},
		{"first deployment", 500, hookInvocation("x6", "POST_TEST_TRAFFIC_SHIFT", aws.ToString(first.ServiceDeploymentArn), svc, aws.ToString(first.TargetServiceRevision.Arn), none, none, nil), "SUCCEEDED", "first deployment"},
		{"another stage", 500, hookInvocation("x7", "PRE_SCALE_UP", arn, svc, green, none, none, nil), "SUCCEEDED", "no check"},
		{"another service", 500, hookInvocation("x8", "POST_TEST_TRAFFIC_SHIFT", strings.Replace(arn, "/web/", "/api/", 1), strings.Replace(svc, "/web", "/api", 1), green, none, none, nil), "SUCCEEDED", "not watched"},
	}
	for _, tt := range tests {
		health.Store(int32(tt.health))
		out, err := w.h.Invoke(context.Background(), tt.payload)
		if err != nil {
			t.Fatalf("Invoke(%s) error = %v", tt.name, err)
		}
		var a watch.HookAnswer
		if err := json.Unmarshal(out, &a); err != nil {
			t.Fatal(err)
		}
		details := fmt.Sprint(a.HookDetails)
		if a.HookStatus != tt.want || !strings.Contains(details, tt.evidence) {
			t.Errorf("Invoke(%s) = %s %s, want %s with evidence %q", tt.name, a.HookStatus, details, tt.want, tt.evidence)
		}
		if tt.want == "IN_PROGRESS" && (a.CallBackDelay != 15 || a.HookDetails["smokeFirstAttempt"] == nil) {
			t.Errorf("Invoke(%s) = callBackDelay %d, details %s; want 15 and the first attempt's time", tt.name, a.CallBackDelay, details)
		}
	}
	for _, m := range []string{`"SmokeTestPassed":1`, `"SmokeTestWaiting":1`, `"SmokeTestFailed":1`} {
		if !strings.Contains(w.metrics.String(), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
	// The answers are in the deployment's timeline, with the evidence.
	tl, err := w.ledger.Timeline(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, e := range tl {
		if e.Kind == "lifecycle hook" {
			statuses = append(statuses, e.Detail["hookStatus"])
		}
	}
	if want := "SUCCEEDED IN_PROGRESS FAILED FAILED SUCCEEDED SUCCEEDED"; strings.Join(statuses, " ") != want {
		t.Errorf("hook answers in the timeline = %v, want %s", statuses, want)
	}

	t.Run("no test listener", func(t *testing.T) {
		cfg := w.cfg
		cfg.TestListenerURL = ""
		before := requests.Load()
		out, err := w.handler(cfg).Invoke(context.Background(), hookInvocation("x9", "POST_TEST_TRAFFIC_SHIFT", arn, svc, green, none, none, nil))
		if err != nil || !strings.Contains(string(out), `"hookStatus":"SUCCEEDED"`) || requests.Load() != before {
			t.Errorf("Invoke(no test listener) = %s, %v, %d requests; want SUCCEEDED without requests", out, err, requests.Load()-before)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		out, err := w.h.Invoke(context.Background(), []byte(`{"executionId":"x10","lifecycleStage":"POST_TEST_TRAFFIC_SHIFT","resourceArn":"not-an-arn","executionDetails":{}}`))
		if err == nil || !strings.Contains(err.Error(), "resourceArn") {
			t.Errorf("Invoke(malformed hook) = %s, %v; want an error naming resourceArn", out, err)
		}
	})
}

// TestLifecycleHookOwnTrouble: the hook's own trouble is no evidence
// against green. ECS unreachable: IN_PROGRESS with callBackDelay within
// the warm-up limit, SUCCEEDED after it (an error or FAILED would roll
// back a good deployment). A test listener that never answers: the smoke
// test ends at its time bound, and green counts as still warming up, then
// fails at the warm-up limit.
func TestLifecycleHookOwnTrouble(t *testing.T) {
	t.Parallel()
	hung := make(chan struct{})
	listener := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select { // answers only when the client gives up, or the test ends
		case <-r.Context().Done():
		case <-hung:
		}
	}))
	t.Cleanup(func() { close(hung); listener.Close() })
	w := newWorld(t, func(c *watch.Config) { c.TestListenerURL, c.SmokeBudget = listener.URL, time.Second })
	w.deploy(1, 1)
	d := w.waitDeployment(2, "PENDING", "IN_PROGRESS")
	arn, green, svc := aws.ToString(d.ServiceDeploymentArn), aws.ToString(d.TargetServiceRevision.Arn), w.serviceArn()
	longAgo := map[string]any{"smokeFirstAttempt": time.Now().Add(-2 * time.Minute).UTC().Format(time.RFC3339Nano), "smokeAttempts": 7}
	none := map[string]float64{}

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	noECSConfig := ledgertest.Config(closed.URL)
	noECSConfig.RetryMaxAttempts = 1 // the SDK's retries prove nothing here
	noECS := watch.New(w.cfg, watch.Deps{ECS: ecs.NewFromConfig(noECSConfig), Ledger: w.ledger})
	tests := []struct {
		name     string
		h        *watch.Handler
		details  map[string]any
		want     string
		evidence string
		callBack int
	}{
		{"ECS unreachable", noECS, nil, "IN_PROGRESS", "ECS: ", 15},
		{"ECS unreachable past the warm-up limit", noECS, longAgo, "SUCCEEDED", "not blocking", 0},
		{"green never answers", w.h, nil, "IN_PROGRESS", "GET /health: no answer after", 15},
		{"green never answers past the warm-up limit", w.h, longAgo, "FAILED", "warm-up limit", 0},
	}
	for _, tt := range tests {
		out, err := tt.h.Invoke(context.Background(), hookInvocation("t-"+tt.name, "POST_TEST_TRAFFIC_SHIFT", arn, svc, green, none, none, tt.details))
		if err != nil {
			t.Fatalf("Invoke(%s) error = %v, want an answer: an error rolls the deployment back", tt.name, err)
		}
		var a watch.HookAnswer
		if err := json.Unmarshal(out, &a); err != nil {
			t.Fatal(err)
		}
		if details := fmt.Sprint(a.HookDetails); a.HookStatus != tt.want || a.CallBackDelay != tt.callBack || !strings.Contains(details, tt.evidence) {
			t.Errorf("Invoke(%s) = %s callBackDelay %d %s, want %s callBackDelay %d with evidence %q", tt.name, a.HookStatus, a.CallBackDelay, details, tt.want, tt.callBack, tt.evidence)
		}
	}
}
