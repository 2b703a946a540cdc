package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/image"
)

// TestDockerBuilderRefused: --builder docker where no Docker engine answers
// is a usage error (exit 2) that says what to do, and ship has made no AWS
// call by then, so nothing is pushed or changed.
func TestDockerBuilderRefused(t *testing.T) {
	var calls atomic.Int64
	aws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no AWS call expected", http.StatusTeapot)
	}))
	defer aws.Close()
	t.Setenv("AWS_ENDPOINT_URL", aws.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")

	type env struct{ path, dockerHost string }
	noDocker := env{path: t.TempDir()}
	var closed env
	if _, err := exec.LookPath("docker"); err == nil {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed.dockerHost = "tcp://" + l.Addr().String()
		l.Close()
	}
	tests := []struct {
		name string
		env  env
		args []string
		want string
	}{
		{"deploy, docker not installed", noDocker, []string{"deploy", "--builder", "docker"}, "docker not found on PATH"},
		{"up, docker not installed", noDocker, []string{"up", "--yes", "--builder", "docker"}, "docker not found on PATH"},
		{"deploy, no engine", closed, []string{"deploy", "--builder", "docker"}, "Docker daemon does not answer"},
		{"up, no engine", closed, []string{"up", "--yes", "--builder", "docker"}, "Docker daemon does not answer"},
		{"unknown builder", env{}, []string{"deploy", "--builder", "podman"}, `--builder "podman"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env == closed && closed.dockerHost == "" {
				t.Skip("needs the docker command (not its engine)")
			}
			if tt.env.path != "" {
				t.Setenv("PATH", tt.env.path)
			}
			if tt.env.dockerHost != "" {
				t.Setenv("DOCKER_HOST", tt.env.dockerHost)
				t.Setenv("DOCKER_CONTEXT", "")
				t.Setenv("DOCKER_CONFIG", t.TempDir())
			}
			before := calls.Load()
			args := append(tt.args, "--manifest", repoManifest)
			_, stderr, code := shipIn(t.Context(), args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("ship %v = exit %d, stderr %q; want exit %d saying %q", args, code, stderr, exitUsage, tt.want)
			}
			if tt.want != `--builder "podman"` && !strings.Contains(stderr, "--builder go") {
				t.Errorf("ship %v stderr %q, want it to suggest --builder go", args, stderr)
			}
			if n := calls.Load() - before; n != 0 {
				t.Errorf("ship %v made %d AWS calls, want none", args, n)
			}
		})
	}
}

// TestDockerOptions: the docker command line ship runs builds the task
// definition's platform with the version and commit stamped.
func TestDockerOptions(t *testing.T) {
	git := gitState{commit: "0123456789abcdef", version: "v1.4.0-2-g0123456-dirty"}
	tests := []struct {
		name  string
		arch  string
		local bool
		want  []string
	}{
		{"Graviton", "ARM64", false, []string{"--platform linux/arm64"}},
		{"x86", "X86_64", false, []string{"--platform linux/amd64"}},
		// The local cloud runs the image's binary on this machine.
		{"local cloud", "ARM64", true, []string{"--platform linux/" + runtime.GOARCH}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := platform.Spec{Name: "shipyard", Env: "production"}
			spec.Task.Architecture = tt.arch
			o, err := dockerOptions(spec, tt.local, "/repo", git)
			if tt.local && runtime.GOOS != "linux" {
				if err == nil || !strings.Contains(err.Error(), "--builder go") {
					t.Errorf("dockerOptions(local on %s) error = %v, want one suggesting --builder go", runtime.GOOS, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(image.DockerBuildArgs(o), " ")
			for _, want := range append(tt.want, "--file /repo/Dockerfile",
				"--build-arg VERSION=v1.4.0-2-g0123456-dirty", "--build-arg COMMIT=0123456789abcdef",
				"--label shipyard.env=production", "--tag ship/shipyard-production:v1.4.0-2-g0123456-dirty") {
				if !strings.Contains(got, want) {
					t.Errorf("docker %s\nwant it to hold %q", got, want)
				}
			}
			if !strings.HasSuffix(got, " /repo") {
				t.Errorf("docker %s\nwant the build context /repo last", got)
			}
		})
	}
}
