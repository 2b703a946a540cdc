package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// ErrNoDocker means the Docker builder cannot run here: the docker command
// is not installed, no Docker engine answers it, or it has no BuildKit.
var ErrNoDocker = errors.New("no usable Docker engine")

// DockerOptions say what to build with a Docker engine.
type DockerOptions struct {
	// Docker is the docker command; empty means "docker" from PATH.
	Docker string
	// Context is the build context (the repository root) and Dockerfile
	// the file, relative to Context or absolute; empty means
	// Context/Dockerfile.
	Context, Dockerfile string
	// OS and Arch are the platform, GOOS/GOARCH spelling (linux, arm64).
	OS, Arch string
	// Version and Commit are passed as the VERSION and COMMIT build
	// arguments, which the Dockerfile stamps into the binary with the
	// Makefile's -ldflags.
	Version, Commit string
	// Repository names the image in the engine's store (lower case, e.g.
	// ship/shipyard-local); its tag is the version.
	Repository string
	// Labels are extra image labels, beside the version and revision.
	Labels map[string]string
	// Output, when set, receives docker build's progress as it happens.
	Output io.Writer
}

func (o DockerOptions) docker() string {
	if o.Docker == "" {
		return "docker"
	}
	return o.Docker
}

func (o DockerOptions) dockerfile() string {
	if o.Dockerfile == "" {
		return filepath.Join(o.Context, "Dockerfile")
	}
	if filepath.IsAbs(o.Dockerfile) {
		return o.Dockerfile
	}
	return filepath.Join(o.Context, o.Dockerfile)
}

// LocalRef is the name the image has in the engine's store: the
// repository, tagged with the version made a valid tag.
func (o DockerOptions) LocalRef() string {
	repo := o.Repository
	if repo == "" {
		repo = "ship/app"
	}
	v := strings.TrimLeft(badTagChars.ReplaceAllString(o.Version, "-"), ".-")
	if len(v) > 128 {
		v = v[:128]
	}
	if v == "" {
		v = "build"
	}
	return strings.ToLower(repo) + ":" + v
}

// DockerBuildArgs is the docker command line that builds o: BuildKit (the
// Dockerfile uses RUN --mount), the platform, the build arguments the
// Makefile passes, the labels ship's own builder sets, loaded into the
// engine's store under LocalRef.
func DockerBuildArgs(o DockerOptions) []string {
	args := []string{"build",
		"--platform", o.OS + "/" + o.Arch,
		"--file", o.dockerfile(),
		"--build-arg", "VERSION=" + o.Version,
		"--build-arg", "COMMIT=" + o.Commit,
	}
	l := labels(map[string]string{}, o.Version, o.Commit, o.Labels)
	for _, k := range slices.Sorted(maps.Keys(l)) {
		args = append(args, "--label", k+"="+l[k])
	}
	// --load: a builder other than the engine's own (docker-container)
	// keeps the result in its cache unless told to load it.
	return append(args, "--tag", o.LocalRef(), "--load", "--progress", "plain", o.Context)
}

// CheckDocker makes sure the Docker builder can run: docker is on PATH, an
// engine answers it, and BuildKit (the buildx plugin) is there. Its errors
// are ErrNoDocker, saying what to do.
func CheckDocker(ctx context.Context, docker string) error {
	if docker == "" {
		docker = "docker"
	}
	path, err := exec.LookPath(docker)
	if err != nil {
		return fmt.Errorf("%w: %s not found on PATH; install Docker, or build without it: --builder go (the default)", ErrNoDocker, docker)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if out, err := runDocker(ctx, path, "version", "--format", "{{.Server.Version}}"); err != nil {
		return fmt.Errorf("%w: the Docker daemon does not answer (%s); start it or point DOCKER_HOST at one, or build without Docker: --builder go (the default)", ErrNoDocker, out)
	}
	if out, err := runDocker(ctx, path, "buildx", "version"); err != nil {
		return fmt.Errorf("%w: docker has no BuildKit (docker buildx version: %s), which the Dockerfile's RUN --mount needs; install the buildx plugin, or build without Docker: --builder go (the default)", ErrNoDocker, out)
	}
	return nil
}

// runDocker runs docker and returns its output trimmed, or on failure what
// it said, or the error when it said nothing.
func runDocker(ctx context.Context, docker string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, docker, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	said := strings.TrimSpace(out.String())
	if err != nil && said == "" {
		said = err.Error()
	}
	return said, err
}

// DockerBuild builds the image with docker build and reads it back from
// the engine with docker image save, so that it is pushed by the same code
// as Build's (Publisher.Publish, ECR auth, pinned by digest). It goes
// through the docker command rather than the engine's API so that
// whatever engine docker is set up for (contexts, DOCKER_HOST) is the one
// used. Call CheckDocker first for a clear error when there is none. The
// image reads a file that cleanup removes; call it after the push.
func DockerBuild(ctx context.Context, o DockerOptions, log *slog.Logger) (img v1.Image, cleanup func(), err error) {
	if o.Context == "" || o.OS == "" || o.Arch == "" {
		return nil, nil, errors.New("docker build: need the build context, OS and architecture")
	}
	tmp, err := os.MkdirTemp("", "ship-docker-")
	if err != nil {
		return nil, nil, fmt.Errorf("docker build: %w", err)
	}
	cleanup = func() { _ = os.RemoveAll(tmp) }
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	start := time.Now()
	tail := &tailBuffer{max: 40}
	cmd := exec.CommandContext(ctx, o.docker(), DockerBuildArgs(o)...) //nolint:gosec // G204: the docker command the caller named, with arguments DockerBuildArgs made
	// DOCKER_BUILDKIT=1: without buildx the classic builder would fail
	// later and less clearly on RUN --mount.
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=1")
	// One writer for both streams: exec then calls it from one goroutine.
	var w io.Writer = tail
	if o.Output != nil {
		w = io.MultiWriter(tail, o.Output)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("docker build %s for %s/%s: %w\n%s", o.dockerfile(), o.OS, o.Arch, err, tail.String())
	}
	log.Debug("docker built", "image", o.LocalRef(), "platform", o.OS+"/"+o.Arch, "took", time.Since(start))
	saved := filepath.Join(tmp, "image.tar")
	if out, err := runDocker(ctx, o.docker(), "image", "save", "--output", saved, o.LocalRef()); err != nil {
		return nil, nil, fmt.Errorf("docker image save %s: %s", o.LocalRef(), out)
	}
	img, err = LoadSaved(saved, o.OS, o.Arch)
	if err != nil {
		return nil, nil, err
	}
	return img, cleanup, nil
}

// LoadSaved reads the one image of a docker image save archive and checks
// that it is for os/arch: an engine that cannot build for the platform
// must not get an image of another one deployed.
func LoadSaved(path, goos, goarch string) (v1.Image, error) {
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		return nil, fmt.Errorf("read the image docker saved: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read the image docker saved: %w", err)
	}
	if cf.OS != goos || cf.Architecture != goarch {
		return nil, fmt.Errorf("docker built an image for %s/%s, want %s/%s; the engine may not emulate the platform (install QEMU binfmt support), or build without Docker: --builder go", cf.OS, cf.Architecture, goos, goarch)
	}
	return img, nil
}

// tailBuffer keeps the last max lines written to it.
type tailBuffer struct {
	max   int
	lines []string
	part  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		t.lines = append(t.lines, string(t.part[:i]))
		t.part = t.part[i+1:]
		if len(t.lines) > t.max {
			t.lines = t.lines[len(t.lines)-t.max:]
		}
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	s := strings.Join(t.lines, "\n")
	if len(t.part) > 0 {
		s += "\n" + string(t.part)
	}
	return strings.TrimSpace(s)
}
