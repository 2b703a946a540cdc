package dockerfilecheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shipyard-ecs/shipyard/tools/devtools/toolchaincheck"
)

// The repository's files, from tools/devtools/dockerfilecheck.
var (
	dockerfilePath = filepath.Join("..", "..", "..", "Dockerfile")
	makefilePath   = filepath.Join("..", "..", "..", "Makefile")
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

func parse(t *testing.T, dockerfile, makefile string) (*Dockerfile, *Makefile) {
	t.Helper()
	df, err := ParseDockerfile(strings.NewReader(dockerfile))
	if err != nil {
		t.Fatalf("ParseDockerfile: %v", err)
	}
	mk, err := ParseMakefile(strings.NewReader(makefile))
	if err != nil {
		t.Fatalf("ParseMakefile: %v", err)
	}
	return df, mk
}

// TestDockerfile runs every check on the repository's Dockerfile.
func TestDockerfile(t *testing.T) {
	df, mk := parse(t, read(t, dockerfilePath), read(t, makefilePath))
	for _, c := range Checks() {
		t.Run(c.Name, func(t *testing.T) {
			if err := c.Run(df, mk); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestChecksCatchMistakes applies one realistic mistake at a time to the
// real Dockerfile or Makefile and asserts the check named for it fails, so
// no check passes vacuously. A mutation that no longer applies fails too:
// update it with the Dockerfile.
func TestChecksCatchMistakes(t *testing.T) {
	dockerfile, makefile := read(t, dockerfilePath), read(t, makefilePath)
	// The mutations follow the toolchain, so a bump needs no edit here.
	_, mk := parse(t, dockerfile, makefile)
	goVersion := strings.TrimPrefix(mk.Toolchain, "go")
	minor := goVersion[:strings.LastIndex(goVersion, ".")]
	tests := []struct {
		mistake string
		check   string
		file    string   // "Dockerfile" or "Makefile"
		replace []string // old, new pairs
	}{
		{"runs as root", "final stage runs as non-root", "Dockerfile", []string{"USER 65532:65532", "USER root"}},
		{"drops USER and the nonroot base", "final stage runs as non-root", "Dockerfile", []string{"static-debian12:nonroot@", "static-debian12:latest@", "USER 65532:65532\n", ""}},
		{"exposes another port", "final stage exposes port 5000", "Dockerfile", []string{"EXPOSE 5000", "EXPOSE 8080"}},
		{"shell-form entrypoint", "entrypoint is the app binary in exec form", "Dockerfile", []string{`ENTRYPOINT ["/app"]`, "ENTRYPOINT /app"}},
		{"entrypoint runs another path", "entrypoint is the app binary in exec form", "Dockerfile", []string{`ENTRYPOINT ["/app"]`, `ENTRYPOINT ["/usr/local/bin/app"]`}},
		{"binary not copied from the build stage", "entrypoint is the app binary in exec form", "Dockerfile", []string{"COPY --from=build /out/app /app", "COPY --from=build /out/app /usr/local/bin/app"}},
		{"runtime base by floating tag", "every base image is pinned", "Dockerfile", []string{"static-debian12:nonroot@sha256:", "static-debian12:nonroot\n# sha256:"}},
		{"unpinned syntax directive", "every base image is pinned", "Dockerfile", []string{"# The sample service", "# syntax=docker/dockerfile:1\n# The sample service"}},
		{"build base by minor version", "every base image is pinned", "Dockerfile", []string{"FROM golang:" + goVersion + "-", "FROM golang:" + minor + "-"}},
		{"build base at another Go", "golang base image is the Makefile's GOTOOLCHAIN", "Dockerfile", []string{"FROM golang:" + goVersion + "-", "FROM golang:1.26.8-"}},
		{"Makefile moves to a newer toolchain", "golang base image is the Makefile's GOTOOLCHAIN", "Makefile", []string{"GOTOOLCHAIN := go" + goVersion, "GOTOOLCHAIN := go" + goVersion + "9"}},
		{"cgo left on", "build disables cgo", "Dockerfile", []string{"ENV CGO_ENABLED=0 GOTOOLCHAIN=local", "ENV GOTOOLCHAIN=local"}},
		{"cgo switched on for the build", "build disables cgo", "Dockerfile", []string{"    go build -trimpath", "    CGO_ENABLED=1 go build -trimpath"}},
		{"no -trimpath", "build uses -trimpath", "Dockerfile", []string{"go build -trimpath ", "go build "}},
		{"ldflags without -s -w", "build stamps the Makefile's -ldflags", "Dockerfile", []string{`-ldflags "-s -w -X`, `-ldflags "-X`}},
		{"ldflags stamp another variable", "build stamps the Makefile's -ldflags", "Dockerfile", []string{"-X main.commit=${COMMIT}", "-X main.gitCommit=${COMMIT}"}},
		{"Makefile stamps one more variable", "build stamps the Makefile's -ldflags", "Makefile", []string{"-X main.commit=$(COMMIT)", "-X main.commit=$(COMMIT) -X main.date=$(DATE)"}},
		{"stamped arg not declared in the stage", "build stage declares the stamped args", "Dockerfile", []string{"ARG COMMIT=unknown\n", ""}},
	}
	checks := map[string]Check{}
	for _, c := range Checks() {
		checks[c.Name] = c
	}
	for _, tt := range tests {
		t.Run(tt.mistake, func(t *testing.T) {
			c, ok := checks[tt.check]
			if !ok {
				t.Fatalf("no check named %q", tt.check)
			}
			d, m := dockerfile, makefile
			target := &d
			if tt.file == "Makefile" {
				target = &m
			}
			for i := 0; i+1 < len(tt.replace); i += 2 {
				from, to := tt.replace[i], tt.replace[i+1]
				if !strings.Contains(*target, from) {
					t.Fatalf("%s no longer contains %q; update this mutation", tt.file, from)
				}
				*target = strings.Replace(*target, from, to, 1)
			}
			df, mk := parse(t, d, m)
			if err := c.Run(df, mk); err == nil {
				t.Errorf("check %q passed on a Dockerfile that %s, want an error", tt.check, tt.mistake)
			} else {
				t.Logf("%s: %v", tt.mistake, err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		wantErr  string
		makefile bool
	}{
		{name: "dockerfile without FROM", input: "RUN true\n", wantErr: "no build stage"},
		{name: "unknown instruction", input: "FROM scratch\nFRM x\n", wantErr: "unknown instruction"},
		{name: "makefile without LDFLAGS", makefile: true, input: "export GOTOOLCHAIN := go1.27.3\nBUILD := go build\n", wantErr: "no LDFLAGS variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.makefile {
				_, err = ParseMakefile(strings.NewReader(tt.input))
			} else {
				_, err = ParseDockerfile(strings.NewReader(tt.input))
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parse(%q) error = %v, want one containing %q", tt.input, err, tt.wantErr)
			}
		})
	}
}

// forbidden lists what must never reach the builder: history, caches, local
// state, binaries and tests.
var forbidden = []string{".git/", ".cache/", ".localcloud/", "bin/", "docs/", "*_test.go", "*.test", "*.out", "*.prof"}

// TestBuildContext applies the real .dockerignore to the files a build
// would send from the repository, and checks every COPY finds its sources
// and nothing forbidden goes along.
func TestBuildContext(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	df, _ := parse(t, read(t, dockerfilePath), read(t, makefilePath))
	files, err := BuildContext(os.DirFS(root), strings.NewReader(read(t, filepath.Join(root, ".dockerignore"))))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckContext(df, files, forbidden); err != nil {
		t.Error(err)
	}
	t.Logf("build context: %d files", len(files))
}

func TestBuildContextCatchesMistakes(t *testing.T) {
	repo := fstest.MapFS{
		"go.work":                           {Data: []byte("go 1.27.3\n")},
		"services/app/go.mod":               {Data: []byte("module app\n")},
		"services/app/go.sum":               {Data: []byte("")},
		"services/app/main.go":              {Data: []byte("package main\n")},
		"services/app/main_test.go":         {Data: []byte("package main\n")},
		"services/app/internal/x/x.go":      {Data: []byte("package x\n")},
		"services/app/internal/x/x_test.go": {Data: []byte("package x\n")},
		"platform/go.mod":                   {Data: []byte("module platform\n")},
		"platform/spec.go":                  {Data: []byte("package platform\n")},
		".git/HEAD":                         {Data: []byte("ref: refs/heads/main\n")},
		".cache/vulndb/index/db.json":       {Data: []byte("{}")},
		"bin/app":                           {Data: []byte("\x7fELF")},
	}
	dockerfile := "FROM golang:1.27.3 AS build\n" +
		"COPY go.work go.work.sum* ./\n" +
		"COPY services/app/go.mod services/app/go.sum* services/app/\n" +
		"COPY platform/go.mod platform/go.sum* platform/\n" +
		"COPY services/app/ services/app/\n" +
		"FROM scratch\nCOPY --from=build /out/app /app\n"
	df, err := ParseDockerfile(strings.NewReader(dockerfile))
	if err != nil {
		t.Fatal(err)
	}
	good := read(t, filepath.Join("..", "..", "..", ".dockerignore"))
	tests := []struct {
		name         string
		dockerignore string
		wantErr      string // empty: no error
	}{
		{name: "the repository's .dockerignore", dockerignore: good},
		{name: "no .dockerignore", dockerignore: "", wantErr: ".git/HEAD is in the build context"},
		{name: "sources not re-included", dockerignore: strings.Replace(good, "!services/app/\n", "", 1), wantErr: "no Go file of services/app/"},
		{name: "go.mod files not re-included", dockerignore: strings.Replace(good, "!**/go.mod\n", "", 1), wantErr: "COPY platform/go.mod: not in the build context"},
		{name: "tests sent along", dockerignore: strings.Replace(good, "services/app/**/*_test.go\n", "", 1), wantErr: "services/app/internal/x/x_test.go is in the build context"},
		{name: "everything but .git", dockerignore: ".git\n", wantErr: ".cache/vulndb/index/db.json is in the build context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.dockerignore == good && tt.wantErr != "" {
				t.Fatalf("mutation of .dockerignore did not apply; update this case")
			}
			files, err := BuildContext(repo, strings.NewReader(tt.dockerignore))
			if err != nil {
				t.Fatal(err)
			}
			err = CheckContext(df, files, forbidden)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("CheckContext(%v) error: %v", files, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CheckContext(%v) error = %v, want one containing %q", files, err, tt.wantErr)
			}
		})
	}
}

func TestWorkspaceCopies(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	dirs, err := toolchaincheck.WorkspaceModules(os.DirFS(root))
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := read(t, dockerfilePath)
	tests := []struct {
		name    string
		dirs    []string
		from    string // replaced in the Dockerfile by to
		to      string
		wantErr string // empty: no error
	}{
		{name: "the repository's go.work", dirs: dirs},
		{name: "a module added to go.work only", dirs: append(slices.Clone(dirs), "tools/newpart"), wantErr: "does not COPY tools/newpart/go.mod"},
		{name: "go.work not copied", dirs: dirs, from: "COPY go.work go.work.sum* ./", to: "COPY go.work.sum* ./", wantErr: "does not COPY go.work"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dockerfile
			if tt.from != "" {
				if !strings.Contains(d, tt.from) {
					t.Fatalf("Dockerfile no longer contains %q; update this case", tt.from)
				}
				d = strings.Replace(d, tt.from, tt.to, 1)
			}
			df, err := ParseDockerfile(strings.NewReader(d))
			if err != nil {
				t.Fatal(err)
			}
			err = CheckWorkspaceCopies(df, tt.dirs)
			if tt.wantErr == "" {
				if err != nil {
					t.Error(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CheckWorkspaceCopies(%v) error = %v, want one containing %q", tt.dirs, err, tt.wantErr)
			}
		})
	}
}
