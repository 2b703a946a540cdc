package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/watch"
	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/ledger/ledgertest"
)

// otlpTags build the bootstrap with the OTLP exporter. grpcnotrace keeps
// gRPC's golang.org/x/net/trace (and with it text/template, which defeats
// the linker's dead code elimination) out: 8 MB less.
var otlpTags = defaultTags + ",otlp,grpcnotrace"

// TestNoOTLPInTheDefaultBuild: the bootstrap as the Makefile builds it has
// no OTLP exporter, protobuf or gRPC; -tags otlp brings them.
func TestNoOTLPInTheDefaultBuild(t *testing.T) {
	t.Parallel()
	heavy := []string{"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp", "google.golang.org/grpc", "google.golang.org/protobuf/proto"}
	for _, tags := range []string{defaultTags, otlpTags} {
		out, err := exec.Command("go", "list", "-deps", "-tags", tags, ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps -tags %s: %v\n%s", tags, err, out)
		}
		deps := strings.Fields(string(out))
		for _, p := range heavy {
			if has := slices.Contains(deps, p); has != (tags == otlpTags) {
				t.Errorf("bootstrap built with -tags %s imports %s: %v, want %v", tags, p, has, tags == otlpTags)
			}
		}
	}
}

// awsEnv points the process's AWS configuration at localcloud.
func awsEnv(t *testing.T) (cloud, dynamo string) {
	cloud = ledgertest.Localcloud(t).Endpoint
	dynamo = cloud
	if e := os.Getenv(ledgertest.EnvEndpoint); e != "" {
		dynamo = e
	}
	return cloud, dynamo
}

// TestTracingFromTheEnvironment builds the function as main does: with
// OTEL_TRACES_EXPORTER=console its invocations write spans, with the
// event's attributes, to stdout; without it, none.
func TestTracingFromTheEnvironment(t *testing.T) {
	cloud, dynamo := awsEnv(t)
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": cloud, "AWS_ENDPOINT_URL_DYNAMODB": dynamo, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1"} {
		t.Setenv(k, v)
	}
	db := ledgertest.DynamoDB(t)
	table := ledgertest.NewTable(t, db)
	cluster := fmt.Sprintf("otel-%d", time.Now().UnixNano()%1e9)
	client := ecs.NewFromConfig(ledgertest.Config(cloud))
	setupService(t, client, cluster)
	list, err := client.ListServiceDeployments(context.Background(), &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	serviceArn := aws.ToString(list.ServiceDeployments[0].ServiceArn)
	action := func(id string) []byte {
		b, _ := json.Marshal(map[string]any{"version": "0", "id": id, "detail-type": "ECS Service Action", "source": "aws.ecs",
			"time": time.Now().UTC().Format(time.RFC3339), "resources": []string{serviceArn},
			"detail": map[string]any{"eventType": "INFO", "eventName": "SERVICE_STEADY_STATE", "createdAt": time.Now().UTC().Format(time.RFC3339Nano)}})
		return b
	}
	env := map[string]string{
		platform.EnvLedgerTable: table, platform.EnvCluster: cluster, platform.EnvService: "web", platform.EnvWatchedAlarms: "a",
		platform.EnvEnforcement: platform.EnforceRollback, platform.EnvGuardWindowMinutes: "15",
	}
	run := func(id string, extra map[string]string) (function, []map[string]any) {
		t.Helper()
		var stdout strings.Builder
		f, err := setup(context.Background(), func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return env[k]
		}, &stdout, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.handler.Invoke(context.Background(), action(id)); err != nil {
			t.Fatal(err)
		}
		var spans []map[string]any
		sc := bufio.NewScanner(strings.NewReader(stdout.String()))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line map[string]any
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("stdout line %q: %v", sc.Text(), err)
			}
			if _, metric := line["_aws"]; !metric {
				spans = append(spans, line)
			}
		}
		return f, spans
	}

	f, spans := run("off-1", nil)
	if f.tracing != nil || len(spans) != 0 {
		t.Errorf("no exporter configured: tracing %v, spans %v; want neither", f.tracing, spans)
	}

	f, spans = run("on-1", map[string]string{"OTEL_TRACES_EXPORTER": "console"})
	if f.tracing == nil {
		t.Fatal("OTEL_TRACES_EXPORTER=console: tracing off")
	}
	t.Cleanup(func() { _ = f.tracing.Shutdown(context.Background()) })
	names := map[string]map[string]any{}
	for _, s := range spans {
		attrs := map[string]any{}
		list, _ := s["Attributes"].([]any)
		for _, a := range list {
			kv, _ := a.(map[string]any)
			v, _ := kv["Value"].(map[string]any)
			attrs[fmt.Sprint(kv["Key"])] = v["Value"]
		}
		names[fmt.Sprint(s["Name"])] = attrs
	}
	root, ok := names["deploywatch ECS Service Action"]
	if !ok || root[watch.AttrEventID] != "on-1" || root[watch.AttrAction] != "recorded" || root[watch.AttrEventType] != "ECS Service Action" {
		t.Errorf("invocation span attributes = %v (spans %v); want event on-1, recorded", root, slices.Sorted(maps.Keys(names)))
	}
	for _, want := range []string{"ledger.RecordServiceEvent", "DynamoDB.PutItem"} {
		if _, ok := names[want]; !ok {
			t.Errorf("no %s span; spans: %v", want, slices.Sorted(maps.Keys(names)))
		}
	}
}

// TestOTLPBuildUnderRuntimeInterfaceEmulator runs the bootstrap built with
// -tags otlp behind AWS's Runtime Interface Emulator, with
// OTEL_EXPORTER_OTLP_ENDPOINT at an OTLP/HTTP receiver: each invocation's
// spans arrive before its answer.
func TestOTLPBuildUnderRuntimeInterfaceEmulator(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []*coltracepb.ExportTraceServiceRequest
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		req := &coltracepb.ExportTraceServiceRequest{}
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || err != nil || proto.Unmarshal(body, req) != nil {
			t.Errorf("OTLP receiver: %s %s (%s), %d bytes, %v: not an OTLP/HTTP protobuf export", r.Method, r.URL.Path, r.Header.Get("Content-Type"), len(body), err)
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, req)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		_, _ = w.Write(b)
	}))
	t.Cleanup(receiver.Close)
	cloud, dynamo := awsEnv(t)
	table := ledgertest.NewTable(t, ledgertest.DynamoDB(t))
	invoke, _ := underRIE(t, buildTags(t, ".", "bootstrap", otlpTags), cloud, dynamo,
		platform.EnvLedgerTable+"="+table, platform.EnvCluster+"=c", platform.EnvService+"=web",
		platform.EnvWatchedAlarms+"=web-target-5xx", platform.EnvEnforcement+"="+platform.EnforceRollback,
		platform.EnvGuardWindowMinutes+"=15", "OTEL_EXPORTER_OTLP_ENDPOINT="+receiver.URL)
	payload := `{"version":"0","id":"otlp-1","detail-type":"ECS Service Action","source":"aws.ecs","time":"2026-11-25T10:00:00Z",` +
		`"resources":["arn:aws:ecs:us-east-1:000000000000:service/other/api"],"detail":{"eventType":"INFO","eventName":"SERVICE_STEADY_STATE","createdAt":"2026-11-25T10:00:00Z"}}`
	if b := invoke([]byte(payload)); !strings.Contains(b, `"action":"ignored"`) {
		t.Fatalf("invoke = %s, want the other service's event ignored", b)
	}
	mu.Lock()
	defer mu.Unlock()
	var found bool
	for _, req := range got {
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					attrs := map[string]string{}
					for _, kv := range s.GetAttributes() {
						attrs[kv.GetKey()] = kv.GetValue().GetStringValue()
					}
					if s.GetName() == "deploywatch ECS Service Action" && attrs[watch.AttrEventID] == "otlp-1" && attrs[watch.AttrAction] == "ignored" {
						found = true
					}
				}
			}
		}
	}
	if !found {
		t.Errorf("the receiver got %d exports by the time the invocation answered, none with the invocation's span (event otlp-1, ignored): %v", len(got), got)
	}
}
