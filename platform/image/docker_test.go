package image_test

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/shipyard-ecs/shipyard/platform/image"
)

func TestDockerBuildArgs(t *testing.T) {
	base := image.DockerOptions{
		Context: "/src", OS: "linux", Arch: "arm64", Version: "v1.2.3-4-gdeadbee-dirty", Commit: "deadbeef",
		Repository: "ship/Shipyard-production", Labels: map[string]string{"shipyard.env": "production", "shipyard.app": "shipyard"},
	}
	tests := []struct {
		name string
		edit func(*image.DockerOptions)
		want string
	}{
		{"arm64", func(*image.DockerOptions) {},
			"build --platform linux/arm64 --file /src/Dockerfile --build-arg VERSION=v1.2.3-4-gdeadbee-dirty --build-arg COMMIT=deadbeef" +
				" --label org.opencontainers.image.revision=deadbeef --label org.opencontainers.image.version=v1.2.3-4-gdeadbee-dirty" +
				" --label shipyard.app=shipyard --label shipyard.env=production" +
				" --tag ship/shipyard-production:v1.2.3-4-gdeadbee-dirty --load --progress plain /src"},
		{"amd64, relative Dockerfile, no labels", func(o *image.DockerOptions) {
			o.Arch, o.Dockerfile, o.Labels = "amd64", "build/Dockerfile", nil
		},
			"build --platform linux/amd64 --file /src/build/Dockerfile --build-arg VERSION=v1.2.3-4-gdeadbee-dirty --build-arg COMMIT=deadbeef" +
				" --label org.opencontainers.image.revision=deadbeef --label org.opencontainers.image.version=v1.2.3-4-gdeadbee-dirty" +
				" --tag ship/shipyard-production:v1.2.3-4-gdeadbee-dirty --load --progress plain /src"},
		{"absolute Dockerfile, version not a tag", func(o *image.DockerOptions) {
			o.Dockerfile, o.Version, o.Labels = "/elsewhere/Dockerfile", "feature/x+y", nil
		},
			"build --platform linux/arm64 --file /elsewhere/Dockerfile --build-arg VERSION=feature/x+y --build-arg COMMIT=deadbeef" +
				" --label org.opencontainers.image.revision=deadbeef --label org.opencontainers.image.version=feature/x+y" +
				" --tag ship/shipyard-production:feature-x-y --load --progress plain /src"},
		{"no version or commit", func(o *image.DockerOptions) {
			o.Version, o.Commit, o.Labels, o.Repository = "", "", nil, ""
		},
			"build --platform linux/arm64 --file /src/Dockerfile --build-arg VERSION= --build-arg COMMIT= --tag ship/app:build --load --progress plain /src"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.edit(&o)
			if got := strings.Join(image.DockerBuildArgs(o), " "); got != tt.want {
				t.Errorf("DockerBuildArgs() =\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

// TestCheckDocker: with no docker command, or a docker whose engine does
// not answer, the Docker builder is refused with ErrNoDocker saying what to
// do, before anything is built.
func TestCheckDocker(t *testing.T) {
	t.Run("not on PATH", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		err := image.CheckDocker(ctx, "")
		if !errors.Is(err, image.ErrNoDocker) || !strings.Contains(err.Error(), "docker not found on PATH") || !strings.Contains(err.Error(), "--builder go") {
			t.Errorf("CheckDocker() without docker = %v, want ErrNoDocker naming PATH and --builder go", err)
		}
	})
	t.Run("no engine", func(t *testing.T) {
		if _, err := exec.LookPath("docker"); err != nil {
			t.Skip("needs the docker command (not its engine)")
		}
		// A loopback port that nobody listens on.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		t.Setenv("DOCKER_HOST", "tcp://"+addr)
		t.Setenv("DOCKER_CONTEXT", "")
		t.Setenv("DOCKER_CONFIG", t.TempDir())
		err = image.CheckDocker(ctx, "")
		if !errors.Is(err, image.ErrNoDocker) || !strings.Contains(err.Error(), "daemon does not answer") || !strings.Contains(err.Error(), addr) {
			t.Errorf("CheckDocker() with DOCKER_HOST at a closed port = %v, want ErrNoDocker saying the daemon at %s does not answer", err, addr)
		}
	})
}

// TestLoadSavedPublish reads an archive in docker image save's format, as
// DockerBuild does, and pushes it with the same Publisher as ship's own
// builder: the registry has it under the digest Publish returns.
func TestLoadSavedPublish(t *testing.T) {
	o := options()
	o.OS, o.Arch = "linux", "arm64"
	built, err := image.Assemble([]byte("#!binary"), o)
	if err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(t.TempDir(), "image.tar")
	tag, err := name.NewTag("ship/shipyard-local:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(saved, tag, built); err != nil {
		t.Fatal(err)
	}

	if _, err := image.LoadSaved(saved, "linux", "amd64"); err == nil || !strings.Contains(err.Error(), "linux/arm64, want linux/amd64") {
		t.Errorf("LoadSaved(arm64 image, want amd64) error = %v, want it to name both platforms", err)
	}
	if _, err := image.LoadSaved(filepath.Join(t.TempDir(), "none.tar"), "linux", "arm64"); err == nil {
		t.Error("LoadSaved(missing file) = nil error")
	}

	img, err := image.LoadSaved(saved, "linux", "arm64")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := image.Publisher{}.Publish(ctx, img, newRegistry(t)+"/shipyard-local", "v1")
	if err != nil {
		t.Fatal(err)
	}
	pulled, cf := pull(t, pub.Ref)
	if cf.Architecture != "arm64" || cf.Config.User != image.NonRoot || !slices.Equal(cf.Config.Entrypoint, []string{image.Entrypoint}) {
		t.Errorf("pulled image config = %s, user %q, entrypoint %q; want arm64, %s, [%s]", cf.Architecture, cf.Config.User, cf.Config.Entrypoint, image.NonRoot, image.Entrypoint)
	}
	// The layer went through docker's uncompressed form and back; its
	// contents are the binary still.
	bin := extractApp(t, pulled)
	if got, err := os.ReadFile(bin); err != nil || string(got) != "#!binary" {
		t.Errorf("pulled image's /app = %q, %v; want the binary", got, err)
	}
}
