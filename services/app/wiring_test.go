package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestECSAndTracingWiring runs the real binary with the ECS metadata
// endpoint and an OTLP collector set in its environment, as on ECS: GET /
// shows the task, and the spans exported at exit carry the task ARN.
func TestECSAndTracingWiring(t *testing.T) {
	bin := buildApp(t)
	const taskARN = "arn:aws:ecs:us-east-1:111122223333:task/shipyard/5a4f3e2d3f2c9d1e0a6b4c1f9e8d7c6b"
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v4/task-id/task" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, `{"Cluster":"shipyard","TaskARN":"`+taskARN+`","Family":"shipyard-app","Revision":"9","AvailabilityZone":"us-east-1b","LaunchType":"FARGATE"}`)
	}))
	defer meta.Close()

	var (
		mu    sync.Mutex
		spans []string
		arn   string
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var req collectorpb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(b, &req) != nil {
			http.Error(w, "want an OTLP/HTTP protobuf export on /v1/traces", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, rs := range req.GetResourceSpans() {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.GetKey() == "aws.ecs.task.arn" {
					arn = kv.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					spans = append(spans, s.GetName())
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()

	port := freePort(t)
	var stdout syncBuffer
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"HOST=127.0.0.1", "PORT=" + port, "APP_DRAIN_DELAY=0s",
		"ECS_CONTAINER_METADATA_URI_V4=" + meta.URL + "/v4/task-id",
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + collector.URL,
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("app output:\n%s", stdout.String())
		}
	})

	var info struct {
		Version string
		ECS     struct {
			TaskARN          string `json:"task_arn"`
			AvailabilityZone string `json:"availability_zone"`
			Revision         string
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://127.0.0.1:" + port + "/")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&info)
			resp.Body.Close()
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET / did not answer within 10s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if info.ECS.TaskARN != taskARN || info.ECS.AvailabilityZone != "us-east-1b" || info.ECS.Revision != "9" || info.Version != "v9.9.9-test" {
		t.Errorf("GET / = %+v, want the task from the metadata endpoint and version v9.9.9-test", info)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("app exit after SIGTERM = %v, want 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("app still running 10s after SIGTERM")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(strings.Join(spans, ","), "GET /") || arn != taskARN {
		t.Errorf("exported spans %v with aws.ecs.task.arn %q, want a GET / span flushed at exit with %q", spans, arn, taskARN)
	}
}
