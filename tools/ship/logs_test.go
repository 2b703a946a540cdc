package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/shipyard-ecs/shipyard/platform/stack"
)

func TestParseRevision(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "", want: ""},
		{in: "3", want: "shipyard-local:3"},
		{in: "007", want: "shipyard-local:7"},
		{in: "other:12", want: "other:12"},
		{in: "arn:aws:ecs:us-east-1:000000000000:task-definition/shipyard-local:4", want: "shipyard-local:4"},
		{in: "latest", bad: true},
		{in: "shipyard-local:", bad: true},
		{in: "arn:aws:ecs:us-east-1:000000000000:service/x/y", bad: true},
	}
	for _, tc := range tests {
		got, err := parseRevision(tc.in, "shipyard-local")
		if tc.bad {
			if err == nil || exitCode(err) != exitUsage || !strings.Contains(err.Error(), "--revision") {
				t.Errorf("parseRevision(%q) = %q, %v; want a usage error naming --revision", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseRevision(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestLogFormat(t *testing.T) {
	at := time.Date(2026, 11, 25, 20, 31, 2, 123e6, time.Local)
	l := logLine{Time: at, Task: "1a2b3c4d5e6f", Revision: "3", TaskDefinition: "shipyard-local:3", Stream: "app/app/1a2b3c4d5e6f", Message: `{"msg":"request"}`}
	var b bytes.Buffer
	logFormat{w: &b, layout: "15:04:05.000"}.print(l)
	if got, want := b.String(), "20:31:02.123 r3/1a2b3c4d {\"msg\":\"request\"}\n"; got != want {
		t.Errorf("text line = %q, want %q", got, want)
	}
	b.Reset()
	logFormat{w: &b, json: true}.print(l)
	if got := b.String(); !strings.Contains(got, `"task":"1a2b3c4d5e6f"`) || !strings.Contains(got, `"revision":"3"`) || !strings.Contains(got, `"message":"{\"msg\":\"request\"}"`) {
		t.Errorf("JSON line = %s, want task, revision and message", got)
	}
}

// syncBuffer is a buffer ship writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// logsEndToEnd continues TestEnvironmentLifecycle on a fresh service
// (revision 1, two tasks): requests show up in ship logs merged across the
// tasks in time order; after a deploy of the same image as revision 2,
// --revision keeps one revision's tasks, stopped or running; -f prints a
// request made while it follows, and Ctrl-C ends it with exit 0.
func logsEndToEnd(t *testing.T, e environment) {
	t.Helper()
	ctx, c, cfg, spec, mpath := e.ctx, e.cloud, e.cfg, e.spec, e.manifest
	url := "http://" + c.listener(t, stack.ClusterName(spec), spec.LoadBalancer.ListenerPort)
	get := func(path string) {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
	}
	for i := range 6 {
		get(fmt.Sprintf("/logs-e2e-one-%d", i))
	}
	logs := func(args ...string) []logLine {
		stdout, stderr, code := shipIn(ctx, append([]string{"logs", "--manifest", mpath, "--output", "json"}, args...)...)
		if code != exitOK {
			t.Fatalf("ship logs %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
		return jsonLines[logLine](t, stdout)
	}
	var lines []logLine
	eventually(t, "ship logs shows the requests", 30*time.Second, func() bool {
		lines = logs()
		n := 0
		for _, l := range lines {
			if strings.Contains(l.Message, "/logs-e2e-one-") {
				n++
			}
		}
		return n == 6
	})
	tasks := map[string]bool{}
	for i, l := range lines {
		tasks[l.Task] = true
		if l.TaskDefinition != spec.Prefix()+":1" || l.Revision != "1" {
			t.Errorf("line %d of task %s: revision %q (%s), want 1", i, l.Task, l.Revision, l.TaskDefinition)
		}
		if i > 0 && l.Time.Before(lines[i-1].Time) {
			t.Errorf("line %d at %s comes after line %d at %s: not in time order", i, l.Time, i-1, lines[i-1].Time)
		}
	}
	if len(tasks) < 2 {
		t.Errorf("ship logs shows the lines of %d task(s), want both tasks' merged: %v", len(tasks), tasks)
	}
	stdout, _, _ := shipIn(ctx, "logs", "--manifest", mpath, "--since", "5m")
	if !regexpMatch(`(?m)^\d\d:\d\d:\d\d\.\d{3} r1/[0-9a-f]{8} .*/logs-e2e-one-0`, stdout) {
		t.Errorf("ship logs text =\n%s\nwant lines as TIME r1/TASK MESSAGE", stdout)
	}

	// Revision 2: the same image, one more variable.
	st, _, code := shipIn(ctx, "status", "--manifest", mpath, "--output", "json")
	var status serviceStatus
	if code != exitOK || jsonDecode(st, &status) != nil || status.Image == "" {
		t.Fatalf("ship status --output json: exit %d, %s", code, st)
	}
	stdout, stderr, code := shipIn(ctx, "deploy", "--manifest", mpath, "--image", status.Image, "--env-var", "LOGS=2", "--poll", "100ms", "--timeout", "2m")
	if code != exitOK {
		t.Fatalf("ship deploy --image (revision 2): exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for i := range 4 {
		get(fmt.Sprintf("/logs-e2e-two-%d", i))
	}
	eventually(t, "ship logs shows revision 2's requests", 30*time.Second, func() bool {
		return slices.ContainsFunc(logs(), func(l logLine) bool { return strings.Contains(l.Message, "/logs-e2e-two-3") })
	})
	for _, rev := range []string{"1", "2"} {
		lines := logs("--revision", rev)
		if len(lines) == 0 {
			t.Errorf("ship logs --revision %s: no lines", rev)
		}
		one, two := 0, 0
		for _, l := range lines {
			if l.Revision != rev {
				t.Errorf("ship logs --revision %s shows a line of revision %s: %s", rev, l.Revision, l.Message)
			}
			if strings.Contains(l.Message, "/logs-e2e-one-") {
				one++
			}
			if strings.Contains(l.Message, "/logs-e2e-two-") {
				two++
			}
		}
		if (rev == "1") != (one == 6 && two == 0) || (rev == "2") != (one == 0 && two == 4) {
			t.Errorf("ship logs --revision %s: %d requests of revision 1's time, %d of revision 2's; want only its own", rev, one, two)
		}
	}

	// Tasks ECS no longer knows (here: asked in a cluster that does not
	// exist) get their revision from the app's start line in their stream.
	want := map[string]string{}
	for _, l := range logs() {
		want[l.Task] = l.TaskDefinition
	}
	r := &logReader{logs: cloudwatchlogs.NewFromConfig(cfg), tasks: ecs.NewFromConfig(cfg), cluster: "no-such-cluster",
		group: "/ecs/" + spec.Prefix(), prefix: stack.ContainerName + "/" + stack.ContainerName + "/", revisions: map[string]string{}, logger: slog.New(slog.DiscardHandler)}
	forgotten, err := r.fetch(ctx, time.Now().Add(-10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range forgotten {
		got[l.Task] = l.TaskDefinition
	}
	if len(got) < 4 || !maps.Equal(got, want) {
		t.Errorf("revisions from the streams' first lines = %v, want %v as ECS says (both revisions' two tasks)", got, want)
	}

	// -f: a request made while following shows up; Ctrl-C ends it, exit 0.
	fctx, stop := context.WithCancel(ctx)
	defer stop() // a failed check must not leave ship logs -f running
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runIn(fctx, []string{"logs", "-f", "--manifest", mpath, "--poll", "100ms", "--since", "5m"}, out, errOut)
	}()
	eventually(t, "ship logs -f prints the lines so far", 30*time.Second, func() bool { return strings.Contains(out.String(), "/logs-e2e-two-3") })
	for i := range 3 {
		get(fmt.Sprintf("/logs-e2e-follow-%d", i))
	}
	eventually(t, "ship logs -f prints a new request", 30*time.Second, func() bool { return strings.Contains(out.String(), "/logs-e2e-follow-2") })
	stop()
	select {
	case err := <-done:
		if code := exitCode(err); code != exitOK {
			t.Errorf("ship logs -f after Ctrl-C: exit %d (%v), want 0\nstderr:\n%s", code, err, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ship logs -f did not end within 30s of Ctrl-C")
	}
	printed := strings.Split(out.String(), "\n")
	for i := range 3 {
		path := fmt.Sprintf("/logs-e2e-follow-%d\"", i)
		if n := len(slices.DeleteFunc(slices.Clone(printed), func(l string) bool { return !strings.Contains(l, path) })); n != 1 {
			t.Errorf("ship logs -f printed request %d on %d lines, want one:\n%s", i, n, out.String())
		}
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

func jsonDecode(s string, v any) error { return json.Unmarshal([]byte(s), v) }
