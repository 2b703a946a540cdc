package bundle_test

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/shipyard-ecs/shipyard/platform/bundle"
	"github.com/shipyard-ecs/shipyard/platform/image"
)

// makefilePath is the repository's Makefile, from platform/bundle.
var makefilePath = filepath.Join("..", "..", "Makefile")

// bootstrap is a built Lambda binary and what the go command recorded in
// it (go version -m). It records no -ldflags under -trimpath, so their
// effects are checked instead: stripped and stamped.
type bootstrap struct {
	path     string
	settings map[string]string
}

// built builds testdata/fn as a Lambda package for Linux (what Lambda and
// localcloud run) and unpacks its bootstrap.
func built(t *testing.T) bootstrap {
	t.Helper()
	pkg, err := bundle.Build(context.Background(), image.Options{Dir: "testdata/fn", Package: ".", OS: "linux", Arch: runtime.GOARCH,
		Version: "v9.8.7", Commit: "c0ffee"}, "fn")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(pkg.Zip), int64(len(pkg.Zip)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(path, bin, 0o700); err != nil {
		t.Fatal(err)
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("read the bootstrap's build info: %v", err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	return bootstrap{path: path, settings: settings}
}

// TestBuildFlags: the package's bootstrap is built static, trimmed,
// stripped (-s -w), stamped (-X), and with the Lambda tags (without
// lambda.norpc, deploywatch's bootstrap is 20 MB, over its 15 MB budget).
func TestBuildFlags(t *testing.T) {
	b := built(t)
	want := map[string]string{"-tags": strings.Join(bundle.Tags, ","), "-trimpath": "true", "CGO_ENABLED": "0", "GOOS": "linux"}
	for k, v := range want {
		if b.settings[k] != v {
			t.Errorf("bootstrap build setting %s = %q, want %q (all: %v)", k, b.settings[k], v, b.settings)
		}
	}
	f, err := elf.Open(b.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, s := range f.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			t.Errorf("bootstrap has section %s: not built with -ldflags '-s -w'", s.Name)
		}
	}
	if runtime.GOOS != "linux" {
		return // the stamp is checked where the binary runs
	}
	out, err := exec.Command(b.path).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != "v9.8.7 c0ffee" {
		t.Errorf("bootstrap prints main.version, main.commit = %q, want %q (-X stamps)", got, "v9.8.7 c0ffee")
	}
}

// TestMakefileBuildsLikeBundle: make build's deploywatch bootstrap and the
// package ship up uploads come from the same flags. The bundle's side is
// what the go command recorded in a bootstrap Build made (TestBuildFlags
// checks the -ldflags it cannot record); the Makefile's is its recipe line
// for ./lambdas/deploywatch and its LDFLAGS.
func TestMakefileBuildsLikeBundle(t *testing.T) {
	b, err := os.ReadFile(makefilePath)
	if err != nil {
		t.Fatal(err)
	}
	makefile := string(b)
	ldflags := regexp.MustCompile(`(?m)^LDFLAGS\s*:=\s*(.*)$`).FindStringSubmatch(makefile)
	line := regexp.MustCompile(`(?m)^\t.*go build .*\./lambdas/deploywatch[ \t]*$`).FindString(makefile)
	if ldflags == nil || line == "" {
		t.Fatalf("Makefile: no LDFLAGS := line, or no recipe line that go builds ./lambdas/deploywatch")
	}
	tags := regexp.MustCompile(`-tags[ =](\S+)`).FindStringSubmatch(line)

	got := built(t).settings
	for _, flag := range []string{"-s", "-w", "-X main.version=$(VERSION)", "-X main.commit=$(COMMIT)"} {
		if !strings.Contains(" "+ldflags[1]+" ", " "+flag+" ") {
			t.Errorf("Makefile LDFLAGS = %q lacks %s, which bundle.Build passes", ldflags[1], flag)
		}
	}
	if tags == nil || tags[1] != got["-tags"] {
		t.Errorf("Makefile deploywatch build %q: -tags %v, want -tags %s as bundle.Build", line, tags, got["-tags"])
	}
	for _, flag := range []string{"CGO_ENABLED=0", "GOOS=linux", "-trimpath", "-ldflags '$(LDFLAGS)'"} {
		if !strings.Contains(line, flag) {
			t.Errorf("Makefile deploywatch build %q lacks %s, which bundle.Build passes", line, flag)
		}
	}
}
