package taskrun

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr/ecrtest"
)

var testappBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "taskrun-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testappBinary, err = ecrtest.GoBuild("testdata/testapp", dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := setupRegistry(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// lines is a log sink that remembers every line per stream.
type lines struct {
	mu  sync.Mutex
	got map[string][]string
}

func (l *lines) Append(_ context.Context, group, stream string, _ time.Time, msg string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.got == nil {
		l.got = map[string][]string{}
	}
	l.got[group+"/"+stream] = append(l.got[group+"/"+stream], msg)
	return nil
}

func (l *lines) has(key, sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.got[key] {
		if strings.Contains(m, sub) {
			return true
		}
	}
	return false
}

type meta struct{ arn string }

func (m meta) Task() any      { return map[string]any{"TaskARN": m.arn, "Family": "web", "Revision": "3"} }
func (m meta) Container() any { return map[string]any{"Name": "app"} }
func (m meta) Stats() any     { return map[string]any{} }

// freeHost picks a loopback address whose port is free.
func freeHost(t *testing.T, port int) string {
	t.Helper()
	for range 100 {
		h := fmt.Sprintf("127.0.%d.%d", 1+rand.IntN(250), 1+rand.IntN(250))
		ln, err := net.Listen("tcp", net.JoinHostPort(h, fmt.Sprint(port)))
		if err == nil {
			ln.Close()
			return h
		}
	}
	t.Fatal("no free loopback address")
	return ""
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling an observable condition
	}
}

// shared is one registry with the test app pushed, for every test.
var shared struct {
	host   string
	reg    *ecr.Backend
	ref    string
	runner *Runner
	logs   *lines
}

func setupRegistry(dir string) error {
	reg, err := ecr.New(ecr.Config{Dir: dir, Clock: clock.New(1)})
	if err != nil {
		return err
	}
	srv := httptest.NewServer(reg.Registry())
	host := strings.TrimPrefix(srv.URL, "http://")
	shared.host = host
	if _, err := reg.CreateRepository("web", "", false, nil); err != nil {
		return err
	}
	img, err := ecrtest.Image(testappBinary, "APP_VERSION=v1")
	if err != nil {
		return err
	}
	shared.ref, err = ecrtest.Push(img, host, "web", "v1")
	if err != nil {
		return err
	}
	shared.reg = reg
	shared.logs = &lines{}
	shared.runner, err = New(Config{Dir: dir + "/runner", Images: reg, Logs: shared.logs, Clock: clock.New(0.01)})
	return err
}

// setup returns the shared runner (one unpacked image for every test;
// task IDs and log streams are per test).
func setup(t *testing.T) (*Runner, string, *lines) {
	t.Helper()
	return shared.runner, shared.ref, shared.logs
}

func TestRunServesAndStops(t *testing.T) {
	r, ref, logs := setup(t)
	host := freeHost(t, 5000)
	exited := make(chan Exit, 1)
	p, err := r.Start(context.Background(), Spec{
		TaskID: "t1", Image: ref, Env: []string{"APP_DRAIN_DELAY=50ms"}, StopTimeout: 2 * time.Minute, // 1.2 s: room for a loaded machine
		Host: host, Port: 5000, LogGroup: "/ecs/web", LogStream: "ecs/app/t1",
		Metadata: meta{arn: "arn:aws:ecs:us-east-1:000000000000:task/c/t1"},
	}, func(e Exit) { exited <- e })
	if err != nil {
		t.Fatalf("Start = %v", err)
	}
	t.Cleanup(func() { r.Kill(p) })

	var body struct {
		Version string         `json:"version"`
		Host    string         `json:"host"`
		Task    map[string]any `json:"task"`
	}
	eventually(t, "the task answers on its own address", func() bool {
		resp, err := http.Get("http://" + host + ":5000/")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return json.NewDecoder(resp.Body).Decode(&body) == nil
	})
	if body.Version != "v1" || body.Host != host || body.Task["TaskARN"] != "arn:aws:ecs:us-east-1:000000000000:task/c/t1" {
		t.Errorf("GET / = %+v, want version v1 (image env), host %s, TaskARN from the metadata endpoint", body, host)
	}
	eventually(t, "stdout reaches the log stream", func() bool { return logs.has("/ecs/web/ecs/app/t1", "listening on") })
	u, err := p.Usage()
	if err != nil || u.RSSBytes <= 0 {
		t.Errorf("Usage() = %+v, %v; want resident memory > 0", u, err)
	}

	if err := r.Stop(context.Background(), p); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if e := <-exited; e.Code != 0 {
		t.Errorf("exit after SIGTERM = %d, want 0 (drained and stopped)", e.Code)
	}
	if !logs.has("/ecs/web/ecs/app/t1", "stopped") {
		t.Errorf("log stream lacks the shutdown line")
	}
}

func TestRunExits(t *testing.T) {
	r, ref, _ := setup(t)
	tests := []struct {
		name     string
		env      []string
		kill     bool
		wantCode int
	}{
		{"crash", []string{"APP_FAULT=crash"}, false, 3},
		{"killed", nil, true, 137},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := freeHost(t, 5000)
			exited := make(chan Exit, 1)
			p, err := r.Start(context.Background(), Spec{TaskID: fmt.Sprint("x", i), Image: ref, Env: tt.env, Host: host, Port: 5000}, func(e Exit) { exited <- e })
			if err != nil {
				t.Fatalf("Start = %v", err)
			}
			if tt.kill {
				eventually(t, "the task listens", func() bool {
					c, err := net.Dial("tcp", host+":5000")
					if err == nil {
						c.Close()
					}
					return err == nil
				})
				r.Kill(p)
			}
			select {
			case e := <-exited:
				if e.Code != tt.wantCode {
					t.Errorf("exit code = %d, want %d", e.Code, tt.wantCode)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("process did not exit")
			}
		})
	}
}

func TestStopKillsAfterStopTimeout(t *testing.T) {
	r, ref, _ := setup(t)
	host := freeHost(t, 5000)
	// The app drains for an hour; the scaled 30 s stop timeout (0.3 s) wins.
	p, err := r.Start(context.Background(), Spec{TaskID: "slow", Image: ref, Env: []string{"APP_DRAIN_DELAY=1h"}, Host: host, Port: 5000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the task listens", func() bool {
		c, err := net.Dial("tcp", host+":5000")
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	if err := r.Stop(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if e := p.Exit(); e.Code != 137 {
		t.Errorf("exit code = %d, want 137 (SIGKILL after stopTimeout)", e.Code)
	}
}

func TestStartErrors(t *testing.T) {
	r, ref, _ := setup(t)
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"unknown repository", Spec{TaskID: "e1", Image: "127.0.0.1:1/nope:v1"}, "CannotPullContainerError"},
		{"foreign registry", Spec{TaskID: "e2", Image: "docker.io/library/nginx:latest"}, "CannotPullContainerError"},
		{"missing entrypoint", Spec{TaskID: "e3", Image: ref, EntryPoint: []string{"/bin/nothing"}}, "CannotStartContainerError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Start(context.Background(), tt.spec, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start(%s) = %v, want an error with %s", tt.spec.Image, err, tt.want)
			}
		})
	}
}

func TestUntarRefusesEscapes(t *testing.T) {
	outside := t.TempDir()
	tests := []struct {
		name    string
		entries []tar.Header
	}{
		{"file through a symlink to outside", []tar.Header{
			{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: outside},
			{Name: "evil/planted", Typeflag: tar.TypeReg, Mode: 0o644},
		}},
		{"hard link to outside", []tar.Header{
			{Name: "link", Typeflag: tar.TypeSymlink, Linkname: outside},
			{Name: "hl", Typeflag: tar.TypeLink, Linkname: "link/planted"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, h := range tt.entries {
				if err := tw.WriteHeader(&h); err != nil {
					t.Fatal(err)
				}
			}
			tw.Close()
			err := untar(&buf, t.TempDir())
			if err == nil {
				t.Errorf("untar(%s) = nil, want an error", tt.name)
			}
			if _, err := os.Stat(filepath.Join(outside, "planted")); err == nil {
				t.Errorf("untar(%s) wrote outside the root", tt.name)
			}
		})
	}
}

func TestExecHealthCheck(t *testing.T) {
	r, ref, _ := setup(t)
	tests := []struct {
		name     string
		env      []string
		argv     []string
		wantCode int
		wantErr  bool
	}{
		{"healthy", nil, []string{"CMD", "/app/testapp", "healthcheck"}, 0, false},
		{"unhealthy", []string{"APP_FAULT=health"}, []string{"CMD", "/app/testapp", "healthcheck"}, 1, false},
		{"on the image's PATH", nil, []string{"CMD", "testapp", "healthcheck"}, 0, false},
		{"no shell in the image", nil, []string{"CMD-SHELL", "exit 0"}, -1, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := freeHost(t, 5000)
			p, err := r.Start(context.Background(), Spec{TaskID: fmt.Sprint("hc", i), Image: ref, Env: tt.env, Host: host, Port: 5000}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Kill(p)
			eventually(t, "the task listens", func() bool {
				c, err := net.Dial("tcp", host+":5000")
				if err == nil {
					c.Close()
				}
				return err == nil
			})
			code, err := r.Exec(context.Background(), p, tt.argv, 5*time.Second)
			if code != tt.wantCode || (err != nil) != tt.wantErr {
				t.Errorf("Exec(%v) = %d, %v; want %d, error %v", tt.argv, code, err, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestStartRefusesAnotherPlatform(t *testing.T) {
	r, _, _ := setup(t)
	img, err := ecrtest.Image(testappBinary)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.Architecture = map[string]string{"amd64": "arm64"}[runtime.GOARCH]
	if cf.Architecture == "" {
		cf.Architecture = "amd64"
	}
	other, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := ecrtest.Push(other, shared.host, "web", "other-arch")
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Start(context.Background(), Spec{TaskID: "arch", Image: ref, Host: "127.0.0.1", Port: 5000}, nil)
	if err == nil || !strings.Contains(err.Error(), "CannotPullContainerError") || !strings.Contains(err.Error(), cf.Architecture) {
		t.Errorf("Start(%s image) = %v, want CannotPullContainerError naming the platform", cf.Architecture, err)
	}
}
