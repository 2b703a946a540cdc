package watch_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/telemetry"
	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/watch"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
	"github.com/shipyard-ecs/shipyard/platform/ledger/ledgertest"
)

// traced is a handler on the world's ECS and ledger, instrumented the way
// main instruments it when an exporter is configured, exporting to memory.
type traced struct {
	h   *watch.Handler
	exp *tracetest.InMemoryExporter
}

func (w *world) traced(t testing.TB, edit func(*watch.Config)) traced {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tr, err := telemetry.New(context.Background(), sdktrace.NewSimpleSpanProcessor(exp), sdktrace.AlwaysSample(), "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	dynamo := ledgertest.Localcloud(t).Endpoint
	if e := os.Getenv(ledgertest.EnvEndpoint); e != "" {
		dynamo = e
	}
	// ECS through the world's proxy, as the world's own handler.
	ecsCfg, dbCfg := ledgertest.Config(w.ecsURL), ledgertest.Config(dynamo)
	tr.InstrumentAWS(&ecsCfg)
	tr.InstrumentAWS(&dbCfg)
	cfg := w.cfg
	if edit != nil {
		edit(&cfg)
	}
	h := watch.New(cfg, watch.Deps{
		ECS: ecs.NewFromConfig(ecsCfg), Ledger: ledger.New(dynamodb.NewFromConfig(dbCfg), cfg.Table),
		HTTP: &http.Client{Transport: tr.Transport(http.DefaultTransport)},
		Log:  slog.New(slog.NewJSONHandler(w.logs, nil)), TracerProvider: tr.TracerProvider(),
	})
	return traced{h: h, exp: exp}
}

// spans is what one invocation exported, with helpers to look at it.
type spans tracetest.SpanStubs

func (tc traced) invoke(t *testing.T, payload []byte) (spans, error) {
	t.Helper()
	tc.exp.Reset()
	_, err := tc.h.Invoke(context.Background(), payload)
	return spans(tc.exp.GetSpans()), err
}

func (ss spans) named(name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range ss {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func (ss spans) one(t *testing.T, name string) tracetest.SpanStub {
	t.Helper()
	got := ss.named(name)
	if len(got) != 1 {
		t.Fatalf("spans named %q: %d, want 1; spans: %v", name, len(got), ss.names())
	}
	return got[0]
}

func (ss spans) names() []string {
	var n []string
	for _, s := range ss {
		n = append(n, s.Name)
	}
	return n
}

func attr(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}

// wantAttrs checks a span's attributes.
func wantAttrs(t *testing.T, s tracetest.SpanStub, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := attr(s, k); got != v {
			t.Errorf("span %q attribute %s = %q, want %q", s.Name, k, got, v)
		}
	}
}

// childOf checks that every span named name is a child of parent.
func (ss spans) childOf(t *testing.T, name string, parent tracetest.SpanStub) {
	t.Helper()
	got := ss.named(name)
	if len(got) == 0 {
		t.Errorf("no span named %q; spans: %v", name, ss.names())
	}
	for _, s := range got {
		if s.Parent.SpanID() != parent.SpanContext.SpanID() || s.SpanContext.TraceID() != parent.SpanContext.TraceID() {
			t.Errorf("span %q has parent %s, want %q (%s)", name, s.Parent.SpanID(), parent.Name, parent.SpanContext.SpanID())
		}
	}
}

func TestTracingDeploymentEvent(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.deploy(1, 0)
	d := w.waitDeployment(2, "SUCCESSFUL")
	arn := aws.ToString(d.ServiceDeploymentArn)
	tc := w.traced(t, nil)

	completed := deploymentEvent("trace-1", w.serviceArn(), "SERVICE_DEPLOYMENT_COMPLETED", w.legacyID(1), "", time.Now())
	ss, err := tc.invoke(t, completed)
	if err != nil {
		t.Fatal(err)
	}
	root := ss.one(t, "deploywatch ECS Deployment State Change")
	if root.Parent.IsValid() || root.SpanKind != trace.SpanKindConsumer || root.Status.Code == codes.Error {
		t.Errorf("invocation span: parent %v, kind %v, status %v; want a root consumer span, not failed", root.Parent, root.SpanKind, root.Status)
	}
	wantAttrs(t, root, map[string]string{
		watch.AttrEventType: "ECS Deployment State Change", watch.AttrEventID: "trace-1",
		watch.AttrDeployment: arn, watch.AttrAction: "recorded",
	})
	for _, op := range []string{"ECS.DescribeServices", "ECS.ListServiceDeployments", "ECS.DescribeServiceDeployments", "ECS.DescribeServiceRevisions", "ledger.Record"} {
		ss.childOf(t, op, root)
	}
	rec := ss.one(t, "ledger.Record")
	wantAttrs(t, rec, map[string]string{watch.AttrDeployment: arn, watch.AttrEventID: "trace-1", "deploywatch.ledger.duplicate": "false"})
	// The ledger's DynamoDB writes are the ledger span's children.
	ss.childOf(t, "DynamoDB.UpdateItem", rec)
	if got := attr(ss.one(t, "ECS.DescribeServiceDeployments"), "rpc.method"); got != "ECS/DescribeServiceDeployments" {
		t.Errorf("ECS span rpc.method = %q, want ECS/DescribeServiceDeployments (otelaws's attributes)", got)
	}
	if res := root.Resource; res == nil || !strings.Contains(res.String(), "service.name=deploywatch") {
		t.Errorf("resource = %v, want service.name=deploywatch", res)
	}

	// Redelivered: the same spans, and the answer says duplicate.
	ss, err = tc.invoke(t, completed)
	if err != nil {
		t.Fatal(err)
	}
	wantAttrs(t, ss.one(t, "deploywatch ECS Deployment State Change"), map[string]string{watch.AttrAction: "duplicate"})
	wantAttrs(t, ss.one(t, "ledger.Record"), map[string]string{"deploywatch.ledger.duplicate": "true"})
}

func TestTracingFailureAndRejection(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	// A table that does not exist: DynamoDB fails every write, and the
	// event is returned for EventBridge to retry.
	tc := w.traced(t, func(c *watch.Config) { c.Table = "no-such-table" })
	action := func(id string) []byte {
		return mustJSON(map[string]any{"version": "0", "id": id, "detail-type": "ECS Service Action", "source": "aws.ecs",
			"time": time.Now().UTC().Format(time.RFC3339), "resources": []string{w.serviceArn()},
			"detail": map[string]any{"eventType": "INFO", "eventName": "SERVICE_STEADY_STATE", "createdAt": time.Now().UTC().Format(time.RFC3339Nano)}})
	}
	ss, err := tc.invoke(t, action("fail-1"))
	if err == nil {
		t.Fatal("Invoke with a missing table: no error, want one for EventBridge to retry")
	}
	root := ss.one(t, "deploywatch ECS Service Action")
	if root.Status.Code != codes.Error || !strings.Contains(root.Status.Description, "no-such-table") {
		t.Errorf("invocation span status = %+v, want Error naming the table", root.Status)
	}
	write := ss.one(t, "ledger.RecordServiceEvent")
	ss.childOf(t, "ledger.RecordServiceEvent", root)
	if write.Status.Code != codes.Error {
		t.Errorf("ledger span status = %+v, want Error", write.Status)
	}

	// Malformed input is acknowledged, and its span says it was rejected.
	ss, err = tc.invoke(t, []byte(`{"id":"bad-1","detail-type":"ECS Service Action","source":"aws.ecs","time":"yesterday","detail":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	root = ss.one(t, "deploywatch")
	wantAttrs(t, root, map[string]string{watch.AttrEventID: "bad-1", watch.AttrAction: "rejected"})
	if root.Status.Code != codes.Error || len(ss) != 1 {
		t.Errorf("rejected event: status %+v, spans %v; want Error and no other span", root.Status, ss.names())
	}
}

func TestTracingSmokeTest(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var traceparents []string
	listener := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		traceparents = append(traceparents, r.Header.Get("Traceparent"))
		mu.Unlock()
		rw.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(listener.Close)
	w := newWorld(t, func(c *watch.Config) {
		c.TestListenerURL = listener.URL
		c.SmokeChecks = append(c.SmokeChecks, watch.Check{Path: "/version", Status: 200})
	})
	w.deploy(1, 1)
	d := w.waitDeployment(2, "PENDING", "IN_PROGRESS")
	arn := aws.ToString(d.ServiceDeploymentArn)
	tc := w.traced(t, nil)

	ss, err := tc.invoke(t, hookInvocation("exec-1", "POST_TEST_TRAFFIC_SHIFT", arn, w.serviceArn(), aws.ToString(d.TargetServiceRevision.Arn), map[string]float64{}, map[string]float64{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	root := ss.one(t, "deploywatch lifecycle-hook")
	if root.SpanKind != trace.SpanKindServer {
		t.Errorf("hook span kind = %v, want server: ECS waits for the answer", root.SpanKind)
	}
	wantAttrs(t, root, map[string]string{
		watch.AttrEventType: "lifecycle-hook", watch.AttrEventID: "exec-1", watch.AttrDeployment: arn,
		watch.AttrAction: "hook-succeeded", "deploywatch.hook.status": "SUCCEEDED",
	})
	smoke := ss.one(t, "smoke test")
	ss.childOf(t, "smoke test", root)
	wantAttrs(t, smoke, map[string]string{"deploywatch.smoke.passed": "true", "deploywatch.smoke.checks": "2"})
	ss.childOf(t, "HTTP GET /health", smoke)
	ss.childOf(t, "HTTP GET /version", smoke)
	ss.childOf(t, "ledger.Record", root)
	// The app behind the test listener continues the trace.
	mu.Lock()
	defer mu.Unlock()
	want := fmt.Sprintf("00-%s-", root.SpanContext.TraceID())
	if len(traceparents) != 2 || !strings.HasPrefix(traceparents[0], want) || !strings.HasPrefix(traceparents[1], want) {
		t.Errorf("test listener saw traceparent %q, want two in trace %s", traceparents, root.SpanContext.TraceID())
	}
}
