package taskrun

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr/ecrtest"
)

// TestRunsTheSampleApp runs the product's sample app (services/app) as a
// task: it must listen on the task's own address, pass /health, show the
// task ARN it read from the metadata endpoint, and drain and exit 0 on stop.
func TestRunsTheSampleApp(t *testing.T) {
	bin, err := ecrtest.GoBuild("../../../../services/app", t.TempDir())
	if err != nil {
		t.Fatalf("build services/app: %v", err)
	}
	reg, err := ecr.New(ecr.Config{Dir: t.TempDir(), Clock: clock.New(1)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg.Registry())
	defer srv.Close()
	if _, err := reg.CreateRepository("app", "", false, nil); err != nil {
		t.Fatal(err)
	}
	img, err := ecrtest.Image(bin)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := ecrtest.Push(img, strings.TrimPrefix(srv.URL, "http://"), "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	logs := &lines{}
	r, err := New(Config{Dir: t.TempDir(), Images: reg, Logs: logs, Clock: clock.New(0.01)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	host := freeHost(t, 5000)
	const arn = "arn:aws:ecs:us-east-1:000000000000:task/c1/0123456789abcdef0123456789abcdef"
	// stopTimeout 10 min is 6 s here: room for a loaded CI machine.
	p, err := r.Start(context.Background(), Spec{TaskID: "sample", Image: ref, Host: host, Port: 5000, StopTimeout: 10 * time.Minute,
		Env: []string{"APP_DRAIN_DELAY=10ms", "APP_SHUTDOWN_TIMEOUT=10s"}, LogGroup: "/ecs/app", LogStream: "ecs/app/sample", Metadata: meta{arn: arn}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Kill(p)
	eventually(t, "the sample app is healthy", func() bool {
		resp, err := http.Get("http://" + host + ":5000/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	resp, err := http.Get("http://" + host + ":5000/")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(raw)
	if !strings.Contains(body, arn) {
		t.Errorf("GET / = %s, want the task ARN from the metadata endpoint", body)
	}
	if err := r.Stop(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if e := p.Exit(); e.Code != 0 {
		logs.mu.Lock()
		t.Errorf("sample app exit after SIGTERM = %d, want 0 (drained); its log:\n%s", e.Code, strings.Join(logs.got["/ecs/app/ecs/app/sample"], "\n"))
		logs.mu.Unlock()
	}
	if !logs.has("/ecs/app/ecs/app/sample", "version") {
		t.Errorf("the app's JSON log lines did not reach its log stream")
	}
}
