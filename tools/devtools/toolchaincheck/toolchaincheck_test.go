package toolchaincheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// repo is the repository root, from tools/devtools/toolchaincheck.
var repo = os.DirFS(filepath.Join("..", "..", ".."))

// TestRepository checks the real repository.
func TestRepository(t *testing.T) {
	if err := Check(repo); err != nil {
		t.Error(err)
	}
}

func consistent() fstest.MapFS {
	return fstest.MapFS{
		"Makefile":              {Data: []byte("export GOTOOLCHAIN := go1.27.3\n")},
		".ci/run":               {Data: []byte("export GOTOOLCHAIN=go1.27.3\nmake test\n")},
		"README.md":             {Data: []byte("run `export GOTOOLCHAIN=go1.27.3` first\n")},
		"Dockerfile":            {Data: []byte("FROM golang:1.27.3-trixie AS build\nFROM scratch\n")},
		"go.work":               {Data: []byte("go 1.27.3\n\nuse (\n\t./a // the app\n\t./b\n)\n")},
		"a/go.mod":              {Data: []byte("module a\n\ngo 1.27.3\n")},
		"b/go.mod":              {Data: []byte("module b\n\ngo 1.27.3\n")},
		"tools/devtools/go.mod": {Data: []byte("module d\n\ngo 1.27.3\n")},
	}
}

func TestPins(t *testing.T) {
	tests := []struct {
		name        string
		change      map[string]string // file -> new content ("" removes it)
		wantErr     string            // error from Pins
		wantVersion map[string]string // file -> version expected among the pins
	}{
		{name: "consistent", wantVersion: map[string]string{"Makefile": "1.27.3", "a/go.mod": "1.27.3", "tools/devtools/go.mod": "1.27.3", "Dockerfile": "1.27.3"}},
		{name: "module behind", change: map[string]string{"b/go.mod": "module b\n\ngo 1.26\n"}, wantVersion: map[string]string{"b/go.mod": "1.26"}},
		{name: "dockerfile behind", change: map[string]string{"Dockerfile": "FROM docker.io/library/golang:1.26.8 AS build\n"}, wantVersion: map[string]string{"Dockerfile": "1.26.8"}},
		{name: "ci forgets the toolchain", change: map[string]string{".ci/run": "make test\n"}, wantErr: "find the toolchain in .ci/run"},
		{name: "module without go line", change: map[string]string{"a/go.mod": "module a\n"}, wantErr: "find the toolchain in a/go.mod"},
		{name: "used module missing", change: map[string]string{"b/go.mod": ""}, wantErr: "b/go.mod"},
		{name: "no workspace", change: map[string]string{"go.work": ""}, wantErr: "go.work"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := consistent()
			for file, content := range tt.change {
				if content == "" {
					delete(fsys, file)
					continue
				}
				fsys[file] = &fstest.MapFile{Data: []byte(content)}
			}
			pins, err := Pins(fsys)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Pins() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Pins() error: %v", err)
			}
			got := map[string]string{}
			for _, p := range pins {
				got[p.File] = p.Version
			}
			for file, want := range tt.wantVersion {
				if got[file] != want {
					t.Errorf("Pins()[%s] = %q, want %q (all: %v)", file, got[file], want, pins)
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		change  map[string]string
		wantErr string // empty: no error
	}{
		{name: "consistent"},
		{name: "module behind", change: map[string]string{"b/go.mod": "module b\n\ngo 1.26\n"}, wantErr: "b/go.mod:3: 1.26, want 1.27.3"},
		{name: "dockerfile behind", change: map[string]string{"Dockerfile": "FROM golang:1.26.8\n"}, wantErr: "Dockerfile:1: 1.26.8, want 1.27.3"},
		{name: "readme names another", change: map[string]string{"README.md": "GOTOOLCHAIN=go1.27.3 or GOTOOLCHAIN=go1.27.4\n"}, wantErr: "README.md:1: 1.27.4"},
		{name: "makefile moves alone", change: map[string]string{"Makefile": "export GOTOOLCHAIN := go1.27.4\n"}, wantErr: ".ci/run:1: 1.27.3, want 1.27.4"},
		{name: "toolchain sum", change: map[string]string{"a/go.sum": "golang.org/toolchain v0.0.1-go1.27.3.linux-amd64 h1:bogus=\n"}, wantErr: "a/go.sum:1: golang.org/toolchain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := consistent()
			for file, content := range tt.change {
				fsys[file] = &fstest.MapFile{Data: []byte(content)}
			}
			err := Check(fsys)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Check() error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Check() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestToolchainSums(t *testing.T) {
	fsys := fstest.MapFS{
		"a/go.sum":                   {Data: []byte("golang.org/x/mod v0.42.0 h1:x=\ngolang.org/toolchain v0.0.1-go1.27.3.linux-amd64 h1:bogus=\n")},
		"go.work.sum":                {Data: []byte("golang.org/toolchain v0.0.1-go1.27.3.linux-amd64/go.mod h1:bogus=\n")},
		"b/go.sum":                   {Data: []byte("golang.org/x/mod v0.42.0 h1:x=\n")},
		"a/testdata/go.sum":          {Data: []byte("golang.org/toolchain v0 h1:fixture=\n")},
		".cache/x/go.sum":            {Data: []byte("golang.org/toolchain v0 h1:cache=\n")},
		"a/notes.txt":                {Data: []byte("golang.org/toolchain v0 h1:prose=\n")},
		"a/golang.org/toolchain.sum": {Data: []byte("golang.org/toolchain v0 h1:other=\n")},
	}
	got, err := ToolchainSums(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"a/go.sum:2: golang.org/toolchain v0.0.1-go1.27.3.linux-amd64 h1:bogus=",
		"go.work.sum:1: golang.org/toolchain v0.0.1-go1.27.3.linux-amd64/go.mod h1:bogus=",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ToolchainSums() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
