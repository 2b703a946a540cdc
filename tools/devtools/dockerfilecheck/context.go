package dockerfilecheck

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// BuildContext returns the files, slash-separated and sorted, that a build
// of the directory fsys sends to the builder once dockerignore's patterns
// are applied, matched as BuildKit matches them (moby/patternmatcher,
// walking directories with their parents' results).
func BuildContext(fsys fs.FS, dockerignore io.Reader) ([]string, error) {
	patterns, err := ignorefile.ReadAll(dockerignore)
	if err != nil {
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("compile .dockerignore: %w", err)
	}
	parents := map[string]patternmatcher.MatchInfo{}
	var files []string
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		excluded, info, err := pm.MatchesUsingParentResults(p, parents[path.Dir(p)])
		if err != nil {
			return fmt.Errorf("match %s: %w", p, err)
		}
		if d.IsDir() {
			// An excluded directory is still walked when a later "!"
			// pattern may bring some of its files back.
			if excluded && !pm.Exclusions() {
				return fs.SkipDir
			}
			parents[p] = info
			return nil
		}
		if !excluded {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk the build context: %w", err)
	}
	sort.Strings(files)
	return files, nil
}

// CheckContext checks that every file the Dockerfile copies from the build
// context is in it, and that no file matching forbidden is: an entry is a
// path prefix such as ".git/", or a suffix when it starts with "*", such as
// "*_test.go".
func CheckContext(df *Dockerfile, files []string, forbidden []string) error {
	in := map[string]bool{}
	for _, f := range files {
		in[f] = true
	}
	var problems []string
	for _, st := range df.Stages {
		for _, c := range stageCommands[*instructions.CopyCommand](&st) {
			if c.From != "" {
				continue
			}
			for _, raw := range c.SourcePaths {
				src := strings.TrimPrefix(path.Clean(raw), "./")
				switch {
				case strings.ContainsAny(src, "*?["):
					// Optional by design (go.sum* may match nothing).
				case strings.HasSuffix(raw, "/") || hasPrefix(files, src+"/"):
					if !hasGoFile(files, src+"/") {
						problems = append(problems, fmt.Sprintf("COPY %s: no Go file of %s/ is in the build context", src, src))
					}
				case !in[src]:
					problems = append(problems, fmt.Sprintf("COPY %s: not in the build context", src))
				}
			}
		}
	}
	for _, f := range files {
		for _, rule := range forbidden {
			suffix, isSuffix := strings.CutPrefix(rule, "*")
			if isSuffix && strings.HasSuffix(f, suffix) || !isSuffix && strings.HasPrefix(f, rule) {
				problems = append(problems, fmt.Sprintf("%s is in the build context; exclude it in .dockerignore", f))
				break
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("check the build context:\n\t%s", strings.Join(problems, "\n\t"))
	}
	return nil
}

func hasPrefix(files []string, prefix string) bool {
	for _, f := range files {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}

func hasGoFile(files []string, prefix string) bool {
	for _, f := range files {
		if strings.HasPrefix(f, prefix) && strings.HasSuffix(f, ".go") {
			return true
		}
	}
	return false
}
