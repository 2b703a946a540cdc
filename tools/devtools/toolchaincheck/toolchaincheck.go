// Package toolchaincheck finds every place the repository names its Go
// toolchain, so a test can hold them to one version
// (docs/decisions/0001-go-toolchain.md): the Makefile's and .ci/run's
// GOTOOLCHAIN, the go lines of go.work and of every module's go.mod, the
// README's instructions and the Dockerfile's golang base image. It also
// finds go.sum lines for golang.org/toolchain, which no file of ours may
// carry (GO-2026-6602: go1.26.8's go command, which fetches our toolchain,
// trusts such a line).
package toolchaincheck

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
)

// Pin is one place that names the toolchain.
type Pin struct {
	File    string // slash-separated, relative to the repository root
	Line    int
	Version string // without the "go" prefix, e.g. "1.27.3"
}

func (p Pin) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Version) }

var (
	// GOTOOLCHAIN=go1.27.3, GOTOOLCHAIN := go1.27.3, `GOTOOLCHAIN=go1.27.3`.
	toolchainVar = regexp.MustCompile(`GOTOOLCHAIN\s*:?=\s*go([0-9]+\.[0-9]+(?:\.[0-9]+)?)`)
	goLine       = regexp.MustCompile(`^go\s+([0-9]+\.[0-9]+(?:\.[0-9]+)?)\s*$`)
	golangFrom   = regexp.MustCompile(`(?i)^FROM\s+(?:docker\.io/)?(?:library/)?golang:([0-9]+\.[0-9]+(?:\.[0-9]+)?)`)
)

// Pins returns every place in fsys, the repository root, that names the
// toolchain. Files that must name it and do not are errors.
func Pins(fsys fs.FS) ([]Pin, error) {
	var pins []Pin
	must := func(file string, re *regexp.Regexp) error {
		found, err := grep(fsys, file, re)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return fmt.Errorf("find the toolchain in %s: no line matches %s; set it there (docs/decisions/0001-go-toolchain.md)", file, re)
		}
		pins = append(pins, found...)
		return nil
	}
	for _, f := range []struct {
		file string
		re   *regexp.Regexp
	}{
		{"Makefile", toolchainVar},
		{".ci/run", toolchainVar},
		{"README.md", toolchainVar},
		{"Dockerfile", golangFrom},
		{"go.work", goLine},
	} {
		if err := must(f.file, f.re); err != nil {
			return nil, err
		}
	}
	modules, err := WorkspaceModules(fsys)
	if err != nil {
		return nil, err
	}
	// tools/devtools is outside the workspace on purpose but built with the
	// same toolchain.
	for _, dir := range append(modules, "tools/devtools") {
		if err := must(path.Join(dir, "go.mod"), goLine); err != nil {
			return nil, err
		}
	}
	return pins, nil
}

// WorkspaceModules returns the directories go.work uses, slash-separated
// and relative to the repository root, read with the go command's own
// parser (golang.org/x/mod/modfile).
func WorkspaceModules(fsys fs.FS) ([]string, error) {
	b, err := fs.ReadFile(fsys, "go.work")
	if err != nil {
		return nil, fmt.Errorf("read go.work: %w", err)
	}
	wf, err := modfile.ParseWork("go.work", b, nil)
	if err != nil {
		return nil, fmt.Errorf("parse go.work: %w", err)
	}
	var dirs []string
	for _, u := range wf.Use {
		dirs = append(dirs, path.Clean(filepath.ToSlash(u.Path)))
	}
	if len(dirs) == 0 {
		return nil, errors.New("read go.work: it uses no module")
	}
	sort.Strings(dirs)
	return dirs, nil
}

func grep(fsys fs.FS, file string, re *regexp.Regexp) ([]Pin, error) {
	f, err := fsys.Open(file)
	if err != nil {
		return nil, fmt.Errorf("find the toolchain: %w", err)
	}
	defer f.Close()
	var pins []Pin
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		for _, m := range re.FindAllStringSubmatch(sc.Text(), -1) {
			pins = append(pins, Pin{File: file, Line: n, Version: m[1]})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return pins, nil
}

// ToolchainSums returns the go.sum and go.work.sum lines, anywhere in fsys,
// that name golang.org/toolchain.
func ToolchainSums(fsys fs.FS) ([]string, error) {
	var found []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return fs.SkipDir
			}
			return nil
		}
		if name := d.Name(); name != "go.sum" && name != "go.work.sum" {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "golang.org/toolchain ") {
				found = append(found, fmt.Sprintf("%s:%d: %s", p, i+1, line))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look for golang.org/toolchain sums: %w", err)
	}
	return found, nil
}

// Check returns an error naming every place whose toolchain differs from
// the Makefile's GOTOOLCHAIN, and every golang.org/toolchain sum line.
func Check(fsys fs.FS) error {
	pins, err := Pins(fsys)
	if err != nil {
		return err
	}
	want := pins[0] // Pins reads the Makefile first
	var problems []string
	for _, p := range pins {
		if p.Version != want.Version {
			problems = append(problems, fmt.Sprintf("%v, want %s as the Makefile's GOTOOLCHAIN", p, want.Version))
		}
	}
	sums, err := ToolchainSums(fsys)
	if err != nil {
		return err
	}
	for _, s := range sums {
		problems = append(problems, s+": remove it; the go command must check golang.org/toolchain against the checksum database (GO-2026-6602)")
	}
	if len(problems) > 0 {
		return errors.New("check the toolchain pins:\n\t" + strings.Join(problems, "\n\t"))
	}
	return nil
}
