package image_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/shipyard-ecs/shipyard/platform/image"
)

var ctx = context.Background()

func options() image.Options {
	return image.Options{
		Dir: "testdata/hello", Package: ".", OS: runtime.GOOS, Arch: runtime.GOARCH,
		Version: "v1.2.3", Commit: "abc123", Port: 5000,
	}
}

// TestBuildPublish builds a program into an image, pushes it to an
// in-process registry, pulls it back by digest and runs its binary.
func TestBuildPublish(t *testing.T) {
	img, err := image.Build(ctx, options(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	repo := newRegistry(t) + "/shipyard-local"
	// The reference is known before the push, and is the one the push
	// gives.
	before, beforeDigest, err := image.Reference(img, repo)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := image.Publisher{}.Publish(ctx, img, repo, "v1.2.3-dirty")
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := img.Digest()
	if want := repo + "@" + digest.String(); pub.Ref != want {
		t.Errorf("Publish().Ref = %q, want %q", pub.Ref, want)
	}
	if before != pub.Ref || beforeDigest != pub.Digest {
		t.Errorf("Reference() = %q, %q before the push; Publish() = %q, %q", before, beforeDigest, pub.Ref, pub.Digest)
	}
	if want := repo + ":v1.2.3-dirty-" + digest.Hex[:12]; pub.Tag != want {
		t.Errorf("Publish().Tag = %q, want %q", pub.Tag, want)
	}
	if pub.Size <= 0 || pub.Size > 20<<20 {
		t.Errorf("Publish().Size = %d, want between 1 byte and 20 MB", pub.Size)
	}

	pulled, cf := pull(t, pub.Ref)
	checks := []struct{ what, got, want string }{
		{"user", cf.Config.User, "65532:65532"},
		{"entrypoint", strings.Join(cf.Config.Entrypoint, " "), "/app"},
		{"os", cf.OS, runtime.GOOS},
		{"architecture", cf.Architecture, runtime.GOARCH},
		{"revision label", cf.Config.Labels[image.LabelRevision], "abc123"},
		{"version label", cf.Config.Labels[image.LabelVersion], "v1.2.3"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("pulled image %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if _, ok := cf.Config.ExposedPorts["5000/tcp"]; !ok {
		t.Errorf("pulled image exposed ports = %v, want 5000/tcp", cf.Config.ExposedPorts)
	}
	m, err := pulled.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(m.MediaType); got != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("manifest media type = %s, want OCI", got)
	}

	// The layer holds the binary at /app, and it runs with the stamped version.
	bin := extractApp(t, pulled)
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("run the image's /app: %v", err)
	}
	if got, want := strings.TrimSpace(string(out)), "v1.2.3 abc123"; got != want {
		t.Errorf("image's /app prints %q, want %q", got, want)
	}
}

// TestReproducible builds twice and wants one digest.
func TestReproducible(t *testing.T) {
	var digests []v1.Hash
	for range 2 {
		img, err := image.Build(ctx, options(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	if digests[0] != digests[1] {
		t.Errorf("two builds of the same source have digests %s and %s, want one", digests[0], digests[1])
	}
}

func TestBuildError(t *testing.T) {
	o := options()
	o.Package = "./nonexistent"
	if _, err := image.Build(ctx, o, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "build ./nonexistent") {
		t.Errorf("Build(nonexistent package) error = %v, want it to name the package", err)
	}
}

// newRegistry serves an in-process registry until the test ends and
// returns its host.
func newRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// pull fetches the image a digest reference (Publish's Ref) names, with
// its config.
func pull(t *testing.T, ref string) (v1.Image, *v1.ConfigFile) {
	t.Helper()
	d, err := name.NewDigest(ref)
	if err != nil {
		t.Fatalf("Publish().Ref = %q, not a digest reference: %v", ref, err)
	}
	img, err := remote.Image(d)
	if err != nil {
		t.Fatalf("pull %s: %v", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return img, cf
}

func extractApp(t *testing.T, img v1.Image) string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("image layers = %d, %v; want 1", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	dir := t.TempDir()
	cmd := exec.Command("tar", "-x", "-C", dir)
	cmd.Stdin = rc
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("untar the layer: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "app")
	if fi, err := os.Stat(bin); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("layer's app = %v, %v; want an executable /app", fi, err)
	}
	return bin
}

type tokenFunc func() (*ecr.GetAuthorizationTokenOutput, error)

func (f tokenFunc) GetAuthorizationToken(context.Context, *ecr.GetAuthorizationTokenInput, ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error) {
	return f()
}

func TestECRAuth(t *testing.T) {
	token := func(s string) tokenFunc {
		return func() (*ecr.GetAuthorizationTokenOutput, error) {
			return &ecr.GetAuthorizationTokenOutput{AuthorizationData: []ecrtypes.AuthorizationData{{AuthorizationToken: aws.String(s)}}}, nil
		}
	}
	tests := []struct {
		name    string
		api     tokenFunc
		want    authn.AuthConfig
		wantErr string
	}{
		{"token", token(base64.StdEncoding.EncodeToString([]byte("AWS:secret"))), authn.AuthConfig{Username: "AWS", Password: "secret"}, ""},
		{"not base64", token("%%%"), authn.AuthConfig{}, "decode"},
		{"no colon", token(base64.StdEncoding.EncodeToString([]byte("AWS"))), authn.AuthConfig{}, "user:password"},
		{"no data", func() (*ecr.GetAuthorizationTokenOutput, error) { return &ecr.GetAuthorizationTokenOutput{}, nil }, authn.AuthConfig{}, "has none"},
		{"denied", func() (*ecr.GetAuthorizationTokenOutput, error) { return nil, errors.New("AccessDenied") }, authn.AuthConfig{}, "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := image.ECRAuth(ctx, tt.api)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ECRAuth() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Authorization()
			if err != nil || *got != tt.want {
				t.Errorf("ECRAuth().Authorization() = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestTag(t *testing.T) {
	d := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	tests := []struct{ version, want string }{
		{"v1.2.3", "v1.2.3-abababababab"},
		{"v1.2.3-4-gdeadbee-dirty", "v1.2.3-4-gdeadbee-dirty-abababababab"},
		{"feature/x+y", "feature-x-y-abababababab"},
		{"", "build-abababababab"},
		{".hidden", "hidden-abababababab"},
	}
	for _, tt := range tests {
		if got := image.Tag(tt.version, d); got != tt.want {
			t.Errorf("Tag(%q) = %q, want %q", tt.version, got, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	repo := newRegistry(t) + "/app"
	img, err := image.Assemble([]byte("#!binary"), options())
	if err != nil {
		t.Fatal(err)
	}
	pub, err := image.Publisher{}.Publish(ctx, img, repo, "v1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref, want string
		notFound  bool
	}{
		{pub.Tag, pub.Ref, false},
		{pub.Ref, pub.Ref, false},
		{repo + ":missing", "", true},
		{repo + "@sha256:" + strings.Repeat("0", 64), "", true},
		{"Not A Ref", "", true},
	}
	for _, tt := range tests {
		got, err := image.Publisher{}.Resolve(ctx, tt.ref)
		if tt.notFound {
			if !errors.Is(err, image.ErrImageNotFound) {
				t.Errorf("Resolve(%q) = %q, %v; want ErrImageNotFound", tt.ref, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.ref, got, err, tt.want)
		}
	}
}

// TestBuildToolchainTooOld: a module that asks for a newer Go than the go
// command runs fails to build with an error that names the package's
// directory and says how to get that toolchain.
func TestBuildToolchainTooOld(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/future\n\ngo 1.999.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// local: the go command must not try to fetch go1.999.1.
	t.Setenv("GOTOOLCHAIN", "local")
	t.Setenv("GOWORK", "off")
	o := image.Options{Dir: dir, Package: ".", OS: runtime.GOOS, Arch: runtime.GOARCH}
	err := image.Compile(ctx, o, filepath.Join(t.TempDir(), "app"))
	for _, want := range []string{"build . in " + dir, "requires go >= 1.999.1", "export GOTOOLCHAIN=go1.999.1", "make"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(a module asking for go 1.999.1) error = %v, want it to say %q", err, want)
		}
	}
}
