// Package ecrtest builds small OCI images from Go programs and pushes them
// to a registry, for tests that run tasks from images.
package ecrtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// GoBuild compiles the Go package at pkgDir into dir and returns the binary's
// path. The binary is static (CGO off) so it runs from an unpacked image.
func GoBuild(pkgDir, dir string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkgDir))
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir = pkgDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkgDir, err, b)
	}
	return out, nil
}

// Image wraps a binary into a one-layer image whose entrypoint is
// /app/<name>, with env as the image's environment.
func Image(binary string, env ...string) (v1.Image, error) {
	data, err := os.ReadFile(binary)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	base := filepath.Base(binary)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: "app/", Typeflag: tar.TypeDir, Mode: 0o755})
	_ = tw.WriteHeader(&tar.Header{Name: "app/" + base, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(data))})
	_, _ = tw.Write(data)
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("write layer: %w", err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	}, tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		return nil, fmt.Errorf("make layer: %w", err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = runtime.GOOS, runtime.GOARCH
	cf.Config.Entrypoint = []string{"/app/" + base}
	cf.Config.Env = append([]string{"PATH=/app"}, env...)
	cf.Config.WorkingDir = "/app"
	return mutate.ConfigFile(img, cf)
}

// Push writes img to <host>/<repo>:<tag> and returns the digest reference
// <host>/<repo>@sha256:....
func Push(img v1.Image, host, repo, tag string) (string, error) {
	ref, err := name.NewTag(host + "/" + repo + ":" + tag)
	if err != nil {
		return "", err
	}
	if err := remote.Write(ref, img); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return host + "/" + repo + "@" + d.String(), nil
}
