package image

import (
	"archive/tar"
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
	"regexp"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Entrypoint is where the binary sits in the image and what it runs; the
// task definition's health check runs it too (service.HealthCheckCommand).
const Entrypoint = "/app"

// NonRoot is distroless's nonroot user and group, by number.
const NonRoot = "65532:65532"

// Labels the image carries (OCI annotation keys).
const (
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelTitle    = "org.opencontainers.image.title"
)

// Options say what to build.
type Options struct {
	// Dir is the directory go build runs in (the repository root, or any
	// directory inside the workspace or module holding Package).
	Dir string
	// Package is the main package to build, e.g. ./services/app.
	Package string
	// OS and Arch are the platform, GOOS/GOARCH spelling (linux, arm64).
	OS, Arch string
	// Version and Commit are stamped into main.version and main.commit.
	Version, Commit string
	// Tags are build tags (go build -tags), e.g. lambda.norpc for a Lambda.
	Tags []string
	// Port is the port the image exposes.
	Port int
	// Labels are extra image labels.
	Labels map[string]string
	// Go is the go command; empty means "go" from PATH.
	Go string
}

// Build cross-compiles the package and assembles the image.
func Build(ctx context.Context, o Options, log *slog.Logger) (v1.Image, error) {
	if o.Package == "" || o.OS == "" || o.Arch == "" {
		return nil, errors.New("build image: need the package, OS and architecture")
	}
	tmp, err := os.MkdirTemp("", "ship-build-")
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "app")
	start := time.Now()
	if err := Compile(ctx, o, bin); err != nil {
		return nil, err
	}
	log.Debug("compiled", "package", o.Package, "platform", o.OS+"/"+o.Arch, "took", time.Since(start))
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("build image: read the binary: %w", err)
	}
	return Assemble(data, o)
}

// Compile runs go build for the platform with CGO off, -trimpath, o's build
// tags and the version stamped, writing the binary to out. These are the
// Makefile's flags (LDFLAGS, BUILD); platform/bundle's tests hold the
// Makefile's Lambda build to them.
func Compile(ctx context.Context, o Options, out string) error {
	goCmd := o.Go
	if goCmd == "" {
		goCmd = "go"
	}
	ldflags := fmt.Sprintf("-s -w -X main.version=%s -X main.commit=%s", o.Version, o.Commit)
	// -buildvcs=false: the version and commit are stamped above, and the
	// go command's own VCS stamp would run git over the whole checkout on
	// every build; the Dockerfile's binary has none either (no .git in
	// its context).
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags}
	if len(o.Tags) > 0 {
		args = append(args, "-tags", strings.Join(o.Tags, ","))
	}
	cmd := exec.CommandContext(ctx, goCmd, append(args, "-o", out, o.Package)...)
	cmd.Dir = o.Dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+o.OS, "GOARCH="+o.Arch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		dir := o.Dir
		if abs, aerr := filepath.Abs(dir); aerr == nil {
			dir = abs
		}
		msg := strings.TrimSpace(stderr.String())
		if m := toolchainTooOld.FindStringSubmatch(msg); m != nil {
			msg += fmt.Sprintf("\nthe go command's toolchain is older than the module or workspace asks: export GOTOOLCHAIN=go%s (the go command fetches it), or run make, which sets it", m[1])
		}
		return fmt.Errorf("build %s in %s for %s/%s: %w\n%s", o.Package, dir, o.OS, o.Arch, err, msg)
	}
	return nil
}

// toolchainTooOld matches the go command's refusal to build with a
// toolchain older than go.mod or go.work asks (GOTOOLCHAIN=local, or a
// path with no newer one), capturing the version asked for.
var toolchainTooOld = regexp.MustCompile(`requires go >= ([0-9][0-9A-Za-z.]*[0-9A-Za-z])`)

// labels adds to base the version and revision labels, where known, then
// extra, which may override them: the labels both builders set.
func labels(base map[string]string, version, commit string, extra map[string]string) map[string]string {
	if version != "" {
		base[LabelVersion] = version
	}
	if commit != "" {
		base[LabelRevision] = commit
	}
	maps.Copy(base, extra)
	return base
}

// epoch is the fixed time of every file and of the config, as ko uses, so
// the digest depends on the contents alone.
var epoch = time.Unix(0, 0).UTC()

// Assemble makes the one-layer OCI image of binary for o's platform.
func Assemble(binary []byte, o Options) (v1.Image, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{
		Name:     strings.TrimPrefix(Entrypoint, "/"),
		Typeflag: tar.TypeReg,
		Mode:     0o555, // read and run for anyone, written by no one
		Size:     int64(len(binary)),
		ModTime:  epoch,
		Format:   tar.FormatPAX,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, fmt.Errorf("assemble image: %w", err)
	}
	if _, err := tw.Write(binary); err != nil {
		return nil, fmt.Errorf("assemble image: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("assemble image: %w", err)
	}
	layerBytes := buf.Bytes()
	// WithCompressedCaching: the layer is gzipped once, for its digest,
	// and the push sends those bytes instead of compressing it again
	// (about 0.1 s of a deploy for the app's 17 MB binary; ko does the
	// same).
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
	if err != nil {
		return nil, fmt.Errorf("assemble image: make the layer: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{CreatedBy: "ship: go build " + o.Package, Created: v1.Time{Time: epoch}},
	})
	if err != nil {
		return nil, fmt.Errorf("assemble image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("assemble image: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = o.OS, o.Arch
	cf.Created = v1.Time{Time: epoch}
	cf.Config.Entrypoint = []string{Entrypoint}
	cf.Config.User = NonRoot
	cf.Config.WorkingDir = "/"
	cf.Config.Env = []string{"PATH=/"}
	if o.Port > 0 {
		cf.Config.ExposedPorts = map[string]struct{}{fmt.Sprintf("%d/tcp", o.Port): {}}
	}
	cf.Config.Labels = labels(map[string]string{LabelTitle: filepath.Base(o.Package)}, o.Version, o.Commit, o.Labels)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("assemble image: %w", err)
	}
	return img, nil
}
