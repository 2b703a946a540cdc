// Package dockerfilecheck checks the repository's Dockerfile for what matters
// in production and keeps it in step with the Makefile. There is no Docker
// engine on our machines or in CI, so it reads the Dockerfile with BuildKit's
// own parser (the one `docker build` uses) and inspects the typed
// instructions: a Dockerfile BuildKit would reject fails here too.
package dockerfilecheck

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Dockerfile is a parsed Dockerfile.
type Dockerfile struct {
	Stages   []instructions.Stage
	MetaArgs []instructions.ArgCommand
	// Syntax is the frontend image of a "# syntax=" directive, if any:
	// BuildKit pulls it before reading the rest of the file.
	Syntax string
}

// ParseDockerfile parses r with BuildKit's parser.
func ParseDockerfile(r io.Reader) (*Dockerfile, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read Dockerfile: %w", err)
	}
	syntax, _, _, _ := parser.DetectSyntax(data)
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile: %w", err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile instructions: %w", err)
	}
	if len(stages) == 0 {
		return nil, errors.New("parse Dockerfile: no FROM instruction")
	}
	return &Dockerfile{Stages: stages, MetaArgs: metaArgs, Syntax: syntax}, nil
}

// Makefile holds the Makefile variables the image must agree with.
type Makefile struct {
	// Toolchain is GOTOOLCHAIN, e.g. "go1.27.3".
	Toolchain string
	// LDFlags is LDFLAGS, e.g. "-s -w -X main.version=$(VERSION) ...".
	LDFlags string
	// Build is BUILD, the go build command line every binary is built with.
	Build string
}

var makeVar = regexp.MustCompile(`^(?:export\s+)?([A-Z_]+)\s*[:?]?=\s*(.*)$`)

// ParseMakefile reads the GOTOOLCHAIN, LDFLAGS and BUILD variables.
func ParseMakefile(r io.Reader) (*Makefile, error) {
	var mk Makefile
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := makeVar.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		switch m[1] {
		case "GOTOOLCHAIN":
			mk.Toolchain = strings.TrimSpace(m[2])
		case "LDFLAGS":
			mk.LDFlags = strings.TrimSpace(m[2])
		case "BUILD":
			mk.Build = strings.TrimSpace(m[2])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read Makefile: %w", err)
	}
	for name, v := range map[string]string{"GOTOOLCHAIN": mk.Toolchain, "LDFLAGS": mk.LDFlags, "BUILD": mk.Build} {
		if v == "" {
			return nil, fmt.Errorf("read Makefile: no %s variable; the Dockerfile checks compare against it", name)
		}
	}
	return &mk, nil
}

// Check is one named rule.
type Check struct {
	Name string
	Run  func(df *Dockerfile, mk *Makefile) error
}

// Checks returns every rule the Dockerfile must pass.
func Checks() []Check {
	return []Check{
		{"final stage runs as non-root", checkNonRoot},
		{"final stage exposes port 5000", checkExpose},
		{"entrypoint is the app binary in exec form", checkEntrypoint},
		{"every base image is pinned", checkPinned},
		{"golang base image is the Makefile's GOTOOLCHAIN", checkGoVersion},
		{"build disables cgo", checkCgo},
		{"build uses -trimpath", checkTrimpath},
		{"build stamps the Makefile's -ldflags", checkLDFlags},
		{"build stage declares the stamped args", checkStampArgs},
	}
}

// appPort is the container port of the seed (target groups, task SG).
const appPort = "5000"

// appBinary is where the final stage keeps the binary and runs it from.
const appBinary = "/app"

func final(df *Dockerfile) *instructions.Stage { return &df.Stages[len(df.Stages)-1] }

// stageCommands returns the stage's commands of type T, in order.
func stageCommands[T instructions.Command](st *instructions.Stage) []T {
	var out []T
	for _, c := range st.Commands {
		if t, ok := c.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

func checkNonRoot(df *Dockerfile, _ *Makefile) error {
	st := final(df)
	users := stageCommands[*instructions.UserCommand](st)
	if len(users) == 0 {
		// Without USER the image inherits its base's user; only the
		// distroless :nonroot variants are known to be non-root.
		if strings.Contains(st.BaseName, ":nonroot") {
			return nil
		}
		return fmt.Errorf("final stage (FROM %s) sets no USER and its base is not a :nonroot image; add USER 65532:65532", st.BaseName)
	}
	user := users[len(users)-1].User
	name, _, _ := strings.Cut(user, ":")
	if name == "" || name == "root" || name == "0" {
		return fmt.Errorf("final stage USER = %q, want a non-root user such as 65532:65532", user)
	}
	return nil
}

func checkExpose(df *Dockerfile, _ *Makefile) error {
	var ports []string
	for _, e := range stageCommands[*instructions.ExposeCommand](final(df)) {
		ports = append(ports, e.Ports...)
	}
	if slices.Contains(ports, appPort) || slices.Contains(ports, appPort+"/tcp") {
		return nil
	}
	return fmt.Errorf("final stage EXPOSE = %v, want %s (the container port of the target groups)", ports, appPort)
}

func checkEntrypoint(df *Dockerfile, _ *Makefile) error {
	st := final(df)
	eps := stageCommands[*instructions.EntrypointCommand](st)
	if len(eps) == 0 {
		return fmt.Errorf("final stage has no ENTRYPOINT; want ENTRYPOINT [%q]", appBinary)
	}
	ep := eps[len(eps)-1]
	if ep.PrependShell {
		return fmt.Errorf("ENTRYPOINT %s is in shell form: a shell would be PID 1 and the app would never see SIGTERM; want ENTRYPOINT [%q]", strings.Join(ep.CmdLine, " "), appBinary)
	}
	if len(ep.CmdLine) == 0 || ep.CmdLine[0] != appBinary {
		return fmt.Errorf("ENTRYPOINT = %q, want [%q]", ep.CmdLine, appBinary)
	}
	// The binary must come from a build stage, not from the base image.
	for _, c := range stageCommands[*instructions.CopyCommand](st) {
		if c.From != "" && c.DestPath == appBinary {
			return nil
		}
	}
	return fmt.Errorf("final stage never copies the built binary to %s (COPY --from=<build stage> ... %s)", appBinary, appBinary)
}

var (
	digest       = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
	exactVersion = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+(-[A-Za-z0-9.]+)?$`)
)

func checkPinned(df *Dockerfile, _ *Makefile) error {
	stageNames := map[string]bool{}
	var problems []string
	if df.Syntax != "" && !digest.MatchString(df.Syntax) {
		problems = append(problems, fmt.Sprintf("# syntax=%s makes BuildKit pull that frontend image unpinned; pin it by digest or drop the directive", df.Syntax))
	}
	for _, st := range df.Stages {
		base := st.BaseName
		switch {
		case stageNames[strings.ToLower(base)]:
			// FROM an earlier stage: pinned by that stage.
		case strings.Contains(base, "$"):
			problems = append(problems, fmt.Sprintf("FROM %s uses a variable; write the image out so it can be checked", base))
		case base == "scratch", digest.MatchString(base):
		default:
			if _, tag := splitImage(base); !exactVersion.MatchString(tag) {
				problems = append(problems, fmt.Sprintf("FROM %s is neither pinned by digest (@sha256:...) nor by an exact version tag", base))
			}
		}
		if st.Name != "" {
			stageNames[strings.ToLower(st.Name)] = true
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// splitImage splits "registry/name:tag@digest" into name and tag.
func splitImage(ref string) (name, tag string) {
	ref, _, _ = strings.Cut(ref, "@")
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		return ref[:colon], ref[colon+1:]
	}
	return ref, ""
}

// buildStage returns the stage whose RUN executes `go build`, and that
// command's words.
func buildStage(df *Dockerfile) (*instructions.Stage, []string, error) {
	for i := range df.Stages {
		st := &df.Stages[i]
		for _, run := range stageCommands[*instructions.RunCommand](st) {
			words, err := goBuildWords(run)
			if err != nil {
				return nil, nil, err
			}
			if words != nil {
				return st, words, nil
			}
		}
	}
	return nil, nil, errors.New("no stage runs `go build`")
}

// placeholders expands every variable to itself, so words keep ${NAME} in
// one spelling whether the Dockerfile wrote $NAME or ${NAME}.
type placeholders struct{}

func (placeholders) Get(name string) (string, bool) { return "${" + name + "}", true }
func (placeholders) Keys() []string                 { return nil }

// goBuildWords returns the words of the `go build` command in run, with any
// VAR=value prefix, or nil when it has none.
func goBuildWords(run *instructions.RunCommand) ([]string, error) {
	line := strings.Join(run.CmdLine, " ")
	words, err := shell.NewLex('\\').ProcessWords(line, placeholders{})
	if err != nil {
		return nil, fmt.Errorf("split RUN %s: %w", line, err)
	}
	start := 0
	for i, w := range words {
		switch w {
		case "&&", "||", ";", "|":
			start = i + 1
		case "build":
			if i > 0 && words[i-1] == "go" {
				end := len(words)
				for j := i; j < len(words); j++ {
					if slices.Contains([]string{"&&", "||", ";", "|"}, words[j]) {
						end = j
						break
					}
				}
				return words[start:end], nil
			}
		}
	}
	return nil, nil
}

// stageEnv returns the value ENV gives name in the stage, if any.
func stageEnv(st *instructions.Stage, name string) (string, bool) {
	var val string
	var ok bool
	for _, e := range stageCommands[*instructions.EnvCommand](st) {
		for _, kv := range e.Env {
			if kv.Key == name {
				val, ok = kv.Value, true
			}
		}
	}
	return val, ok
}

// makeBuild returns the value of CGO_ENABLED in the Makefile's BUILD and
// whether BUILD passes -trimpath.
func makeBuild(mk *Makefile) (cgo string, trimpath bool) {
	for _, w := range strings.Fields(mk.Build) {
		if v, ok := strings.CutPrefix(w, "CGO_ENABLED="); ok {
			cgo = v
		}
		trimpath = trimpath || w == "-trimpath"
	}
	return cgo, trimpath
}

func checkCgo(df *Dockerfile, mk *Makefile) error {
	want, _ := makeBuild(mk)
	if want != "0" {
		return fmt.Errorf("Makefile BUILD sets CGO_ENABLED=%q, want 0: the image is distroless/static, with no libc", want)
	}
	st, words, err := buildStage(df)
	if err != nil {
		return err
	}
	got, ok := stageEnv(st, "CGO_ENABLED")
	for _, w := range words {
		if v, inline := strings.CutPrefix(w, "CGO_ENABLED="); inline {
			got, ok = v, true
		}
	}
	if !ok {
		return errors.New("build stage does not set CGO_ENABLED (ENV or on the go build line), so the go command enables cgo; want CGO_ENABLED=0 as the Makefile's BUILD")
	}
	if got != want {
		return fmt.Errorf("go build runs with CGO_ENABLED=%s, want %s as the Makefile's BUILD", got, want)
	}
	return nil
}

func checkTrimpath(df *Dockerfile, mk *Makefile) error {
	if _, trimpath := makeBuild(mk); !trimpath {
		return fmt.Errorf("Makefile BUILD %q lacks -trimpath", mk.Build)
	}
	st, words, err := buildStage(df)
	if err != nil {
		return err
	}
	if slices.Contains(words, "-trimpath") {
		return nil
	}
	if v, ok := stageEnv(st, "GOFLAGS"); ok && slices.Contains(strings.Fields(v), "-trimpath") {
		return nil
	}
	return fmt.Errorf("%s lacks -trimpath, which the Makefile's BUILD uses", strings.Join(words, " "))
}

// makeRef matches $(NAME) and ${NAME}, the Makefile's variable references.
var makeRef = regexp.MustCompile(`\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]`)

// ldflags returns the value of -ldflags in words ("-ldflags X" or
// "-ldflags=X"), or false.
func ldflags(words []string) (string, bool) {
	for i, w := range words {
		if v, ok := strings.CutPrefix(w, "-ldflags="); ok {
			return v, true
		}
		if v, ok := strings.CutPrefix(w, "--ldflags="); ok {
			return v, true
		}
		if (w == "-ldflags" || w == "--ldflags") && i+1 < len(words) {
			return words[i+1], true
		}
	}
	return "", false
}

func checkLDFlags(df *Dockerfile, mk *Makefile) error {
	_, words, err := buildStage(df)
	if err != nil {
		return err
	}
	got, ok := ldflags(words)
	if !ok {
		return fmt.Errorf("go build %s has no -ldflags; want the Makefile's %q", strings.Join(words, " "), mk.LDFlags)
	}
	want := strings.Fields(makeRef.ReplaceAllString(mk.LDFlags, "$${$1}"))
	if g := strings.Fields(got); !slices.Equal(g, want) {
		return fmt.Errorf("Dockerfile -ldflags = %q, want the Makefile's %q", strings.Join(g, " "), strings.Join(want, " "))
	}
	return nil
}

func checkStampArgs(df *Dockerfile, mk *Makefile) error {
	st, _, err := buildStage(df)
	if err != nil {
		return err
	}
	declared := map[string]bool{}
	for _, a := range stageCommands[*instructions.ArgCommand](st) {
		for _, kv := range a.Args {
			declared[kv.Key] = true
		}
	}
	var missing []string
	for _, m := range makeRef.FindAllStringSubmatch(mk.LDFlags, -1) {
		if !declared[m[1]] {
			missing = append(missing, m[1])
		}
	}
	if len(missing) > 0 {
		// An ARG declared only before the first FROM is not visible in a
		// stage unless redeclared there: the stamp would silently be empty.
		return fmt.Errorf("build stage (FROM %s) declares no ARG %s; the binary would be stamped with empty values", st.BaseName, strings.Join(missing, ", "))
	}
	return nil
}

func checkGoVersion(df *Dockerfile, mk *Makefile) error {
	want := strings.TrimPrefix(mk.Toolchain, "go")
	var found []string
	for _, st := range df.Stages {
		name, tag := splitImage(st.BaseName)
		if name != "golang" && name != "docker.io/library/golang" && name != "library/golang" {
			continue
		}
		version, _, _ := strings.Cut(tag, "-")
		if version != want {
			return fmt.Errorf("FROM %s has Go %q, want %s (the Makefile's GOTOOLCHAIN=%s)", st.BaseName, version, want, mk.Toolchain)
		}
		found = append(found, st.BaseName)
	}
	if len(found) == 0 {
		return errors.New("no stage is FROM golang:<version>; the build must use the approved toolchain")
	}
	return nil
}

// CheckWorkspaceCopies checks that the stage running `go build` copies
// go.work and the go.mod of every module it uses (dirs, slash-separated):
// in workspace mode the go command refuses to load a workspace with a
// module missing, even one the app does not import.
func CheckWorkspaceCopies(df *Dockerfile, dirs []string) error {
	st, _, err := buildStage(df)
	if err != nil {
		return err
	}
	copied := map[string]bool{}
	for _, c := range stageCommands[*instructions.CopyCommand](st) {
		if c.From != "" {
			continue
		}
		for _, src := range c.SourcePaths {
			copied[path.Clean(strings.TrimPrefix(src, "./"))] = true
		}
	}
	var missing []string
	for _, f := range append([]string{"go.work"}, goMods(dirs)...) {
		if !copied[f] {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("build stage (FROM %s) does not COPY %s; add them beside the other module files", st.BaseName, strings.Join(missing, ", "))
	}
	return nil
}

func goMods(dirs []string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = path.Join(d, "go.mod")
	}
	return out
}
