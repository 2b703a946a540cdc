package watch_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/watch"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
	"github.com/shipyard-ecs/shipyard/platform/ledger/ledgertest"
)

// FuzzInvoke sends any payload through the whole handler, configured for
// the fixtures' service so that well-formed events reach the point where
// they call AWS, which is unreachable (a closed port) so that no input
// needs localcloud. Whatever the input: no panic; an answer is JSON of the
// right shape; an error comes only from a failed AWS call (for EventBridge
// to retry) or a malformed hook invocation; and a hook is never FAILED,
// since no smoke test could run (its own trouble is no evidence against
// green). The event package's fixtures are the seeds, run by make test.
func FuzzInvoke(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "event", "testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("seed fixtures: %v (%d files)", err, len(files))
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	cfg := ledgertest.Config(closed.URL)
	listener := httptest.NewServer(http.NotFoundHandler())
	f.Cleanup(listener.Close)
	h := watch.New(watch.Config{Table: "ledger", Cluster: "prod-cluster", Service: "web", WatchedAlarms: []string{"web-target-5xx", "web-elb-5xx"},
		GuardWindow: 15 * time.Minute, Cooldown: 10 * time.Minute, TestListenerURL: listener.URL,
		SmokeChecks: []watch.Check{{Path: "/health", Status: 200}}, SmokeWarmup: time.Minute, SmokeBudget: time.Second, CallBackDelay: 15 * time.Second,
	}, watch.Deps{ECS: ecs.NewFromConfig(cfg), Ledger: ledger.New(dynamodb.NewFromConfig(cfg), "ledger")})
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := h.Invoke(context.Background(), payload)
		var probe map[string]json.RawMessage
		isHook := json.Unmarshal(payload, &probe) == nil && probe["executionId"] != nil && probe["detail-type"] == nil
		if err != nil {
			if out != nil {
				t.Errorf("Invoke = %s and error %v, want one or the other", out, err)
			}
			return
		}
		if isHook {
			var a watch.HookAnswer
			if jerr := json.Unmarshal(out, &a); jerr != nil || a.HookStatus == "" {
				t.Fatalf("Invoke(hook) = %s, want a hook answer", out)
			}
			if a.HookStatus == watch.HookFailed {
				t.Errorf("Invoke(hook) = FAILED %v with ECS unreachable, want no verdict against green", a.HookDetails)
			}
			return
		}
		var a watch.Answer
		if jerr := json.Unmarshal(out, &a); jerr != nil || a.Action == "" {
			t.Fatalf("Invoke = %s, want an answer with an action", out)
		}
		switch a.Action {
		case "ignored", "rejected":
		default:
			// Every other action needs ECS or the ledger, neither of which
			// answers here.
			t.Errorf("Invoke = %s with AWS unreachable, want ignored or rejected (or an error to retry)", out)
		}
	})
}
