package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/image"
	"github.com/shipyard-ecs/shipyard/platform/service"
)

// watchFlags are the flags of every command that watches a deployment.
type watchFlags struct {
	output  string
	timeout time.Duration
}

func (a *app) addWatchFlags(cmd *cobra.Command, w *watchFlags) {
	cmd.Flags().StringVarP(&w.output, "output", "o", outputText, "progress format: text or json (one object a line)")
	cmd.Flags().DurationVar(&w.timeout, "timeout", 30*time.Minute, "stop watching after this long (the deployment goes on)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{outputText, outputJSON}, cobra.ShellCompDirectiveNoFileComp))
}

func (w watchFlags) check() error {
	if w.output != outputText && w.output != outputJSON {
		return usagef("--output %q: want text or json", w.output)
	}
	if w.timeout <= 0 {
		return usagef("--timeout %s: want a positive duration such as 30m", w.timeout)
	}
	return nil
}

type deployFlags struct {
	env, image string
	envVars    []string
	pkg        string
	builder    string
	force      bool
	watchFlags
}

func (a *app) deployCommand() *cobra.Command {
	var f deployFlags
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Build, push and deploy the app with a native ECS blue/green deployment, and watch it",
		Long: `deploy builds the app image without Docker (a static Go binary in a one-layer
OCI image, ko-style; --builder docker runs docker build on the Dockerfile
instead, where a Docker engine answers), pushes it to the environment's ECR
repository, registers a task definition pinned to the image digest, updates
the ECS service with that task definition only, records the request in the
deployment ledger, and watches the blue/green deployment to its end: stage,
listener weights, target health, alarm states and the bake countdown.

When the task definition it would register is the one the service runs —
the same image digest, environment and everything else, as right after
ship up created the service — deploy says which revision runs and changes
nothing, pushing no image; --force deploys it again all the same, as a new
revision.

Ctrl-C stops watching, never the deployment; ship status --watch re-attaches.
While another deployment is in flight, deploy refuses and changes nothing.

Exit codes: 0 deployed; 1 could not run; 2 usage or configuration error;
3 rolled back by an alarm; 4 failed health checks or lifecycle hook (rolled
back); 5 timed out watching; 6 stopped or rolled back on request; 7 refused,
another deployment is in flight; 130 interrupted watching.`,
		Example: `  ship deploy                                  # the local environment
  ship deploy --env production
  ship deploy --builder docker                 # the Dockerfile's distroless image
  ship deploy --env-var LOG_LEVEL=debug --env-var APP_FAULT=errors
  ship deploy --image 123456789012.dkr.ecr.us-east-1.amazonaws.com/shipyard-production:v1.2.3
  ship deploy --force                          # the running revision again, as a new one
  ship deploy --output json | jq .`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.deploy(cmd.Context(), f)
		},
	}
	a.envFlag(cmd, &f.env, localEnv)
	cmd.Flags().StringVar(&f.image, "image", "", "deploy this image `ref`erence instead of building one (a tag is pinned to its digest)")
	cmd.Flags().StringArrayVar(&f.envVars, "env-var", nil, "set a container environment variable, `KEY=VALUE` (repeatable)")
	cmd.Flags().StringVar(&f.pkg, "package", "./services/app", "the Go main `package` directory to build, relative to ship.yaml's directory")
	cmd.Flags().BoolVar(&f.force, "force", false, "deploy even when the service already runs this very task definition")
	addBuilderFlag(cmd, &f.builder)
	a.addWatchFlags(cmd, &f.watchFlags)
	return cmd
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseEnvVars reads KEY=VALUE pairs.
func parseEnvVars(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !envName.MatchString(k) {
			return nil, usagef("--env-var %q: want KEY=VALUE with KEY of letters, digits and _", p)
		}
		out[k] = v
	}
	return out, nil
}

func (a *app) deploy(ctx context.Context, f deployFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	vars, err := parseEnvVars(f.envVars)
	if err != nil {
		return err
	}
	// Before anything else: no engine for --builder docker is a usage
	// error that changes nothing.
	if err := checkBuilder(ctx, f.builder, f.image == ""); err != nil {
		return err
	}
	t, err := a.target(ctx, f.env)
	if err != nil {
		return err
	}
	if f.image == "" && f.builder == builderGo {
		if err := checkMainPackage("--package", f.pkg, a.rel(f.pkg)); err != nil {
			return err
		}
	}
	spec := t.spec
	env := maps.Clone(spec.Task.Environment)
	if env == nil {
		env = map[string]string{}
	}
	maps.Copy(env, vars)
	spec.Task.Environment = env
	builder, err := service.New(spec, t.outputs)
	if err != nil {
		return usageError{err}
	}
	e := t.engine
	// Refuse before building: nothing is pushed while another deployment runs.
	if d, err := e.InFlight(ctx); err != nil {
		return serviceNotFound(err)
	} else if d != nil {
		return inFlight(&deploy.InFlightError{Arn: *d.ServiceDeploymentArn, Status: string(d.Status)})
	}
	p := newPrinter(a.stdout, f.output)
	pkgDir := f.pkg
	if !filepath.IsAbs(pkgDir) {
		pkgDir = filepath.Join(a.manifestDir(), pkgDir)
	}
	git := gitInfo(ctx, pkgDir)

	img, err := a.image(ctx, t, f.image, f.builder, pkgDir, git)
	if err != nil {
		return err
	}
	defer img.release()
	ref, digest := img.ref, img.digest
	in, err := builder.TaskDefinition(ref)
	if err != nil {
		return err
	}
	// The digest is known before the push: a deploy that would change
	// nothing pushes nothing either.
	if !f.force {
		running, current, err := e.Running(ctx)
		if err != nil {
			return serviceNotFound(err)
		}
		if deploy.SameTaskDefinition(in, current) {
			p.event("unchanged", fmt.Sprintf("service %s already runs %s (image %s), the task definition this deploy would register: nothing to deploy; ship deploy --force deploys it again",
				e.Service.Name, family(running), digest), map[string]any{"taskDefinition": running, "image": ref, "imageDigest": digest})
			return nil
		}
	}
	if err := img.push(ctx, p); err != nil {
		return err
	}
	td, err := e.Register(ctx, in)
	if err != nil {
		return err
	}
	started, err := e.Start(ctx, td)
	if err != nil {
		var inflight *deploy.InFlightError
		if errors.As(err, &inflight) {
			return inFlight(inflight)
		}
		return serviceNotFound(err)
	}
	req := deploy.Request{User: currentUser(a.getenv), GitCommit: git.commit, Dirty: git.dirty, Image: ref, ImageDigest: digest, Version: version}
	// Recorded even when Ctrl-C came during the start: the deployment goes on.
	if err := e.RecordRequest(context.WithoutCancel(ctx), started, req); err != nil {
		a.logger.Warn("the ledger did not take the request; the deployment goes on", "err", err)
	}
	p.event("started", fmt.Sprintf("deployment %s started: %s → %s", started.Arn, family(started.Previous), family(started.TaskDefinition)),
		map[string]any{"deployment": started.Arn, "taskDefinition": started.TaskDefinition, "previous": started.Previous, "image": ref})
	return a.watch(ctx, t, started.Arn, f.watchFlags, p, false)
}

// watch follows a deployment to its end and turns the outcome into ship's
// exit.
func (a *app) watch(ctx context.Context, t *target, arn string, w watchFlags, p *printer, rollback bool) error {
	wctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	var last deploy.Snapshot
	o, err := t.engine.Watch(wctx, arn, func(s deploy.Snapshot) { last = s; p.snapshot(s) })
	if err != nil {
		return err
	}
	o.Rollback = rollback
	if o.Class != deploy.ClassTimeout && o.Class != deploy.ClassInterrupted {
		final, lerr := t.engine.Look(ctx, arn)
		if lerr == nil {
			last = final
		}
		if err := t.engine.RecordOutcome(ctx, last); err != nil {
			a.logger.Warn("the ledger did not take the outcome", "err", err)
		}
	}
	p.outcome(o)
	if o.Class == deploy.ClassSucceeded && !p.json {
		fmt.Fprintf(a.stdout, "  url: %s\n", t.serviceURL())
		if note := t.urlNote(); note != "" {
			fmt.Fprintf(a.stdout, "       (%s)\n", note)
		}
	}
	return outcomeError(o)
}

func inFlight(e *deploy.InFlightError) error {
	return exitError{code: deploy.ExitInFlight, msg: e.Error()}
}

// appImage is the image a command deploys: pinned by digest, and for an
// image ship built, still to push.
type appImage struct {
	ref, digest string
	// push pushes a built image, reports it and releases it; for --image,
	// which the registry has, it does nothing.
	push func(context.Context, *printer) error
	// release frees what a built image reads from; a caller that may not
	// push defers it.
	release func()
}

// image builds the app image, or pins --image, and returns it with its
// digest reference; a built image is pushed by its push.
func (a *app) image(ctx context.Context, t *target, ref, builder, pkgDir string, git gitState) (appImage, error) {
	if ref != "" {
		auth, err := image.ECRAuth(ctx, t.ecr())
		if err != nil {
			return appImage{}, err
		}
		given := ref
		ref, err := image.Publisher{Auth: auth}.Resolve(ctx, ref)
		if errors.Is(err, image.ErrImageNotFound) {
			return appImage{}, usageError{err}
		}
		if err != nil && onDockerHub(given) {
			return appImage{}, fmt.Errorf("%w; --image %s names Docker Hub: for the environment's repository give the whole reference, REPOSITORY_URI:TAG (ship status shows the running image's)", err, given)
		}
		if err != nil {
			return appImage{}, err
		}
		return appImage{ref: ref, digest: ref[strings.LastIndex(ref, "@")+1:], push: func(context.Context, *printer) error { return nil }, release: func() {}}, nil
	}
	// The build needs nothing from AWS: it runs while the repository and
	// the registry credentials are looked up.
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	b := make(chan builtImage, 1)
	go func() {
		var r builtImage
		r.img, r.goos, r.goarch, r.cleanup, r.err = a.build(bctx, t, builder, pkgDir, git)
		r.took = time.Since(start)
		b <- r
	}()
	repo, auth, err := a.registry(ctx, t)
	if err != nil {
		cancel()
		if r := <-b; r.err == nil {
			r.cleanup()
		}
		return appImage{}, err
	}
	built := <-b
	if built.err != nil {
		return appImage{}, built.err
	}
	ref, digest, err := image.Reference(built.img, repo)
	if err != nil {
		built.cleanup()
		return appImage{}, err
	}
	release := sync.OnceFunc(built.cleanup)
	push := func(ctx context.Context, p *printer) error {
		defer release()
		pushStart := time.Now()
		published, err := image.Publisher{Auth: auth}.Publish(ctx, built.img, repo, git.version)
		if err != nil {
			return err
		}
		imageEvent(p, builder, built.goos, built.goarch, published, built.took, time.Since(pushStart))
		return nil
	}
	return appImage{ref: ref, digest: digest, push: push, release: release}, nil
}

// onDockerHub reports whether an image reference names no registry, which
// makes it Docker Hub's: the first path element of a registry has a dot or
// a port, or is localhost.
func onDockerHub(ref string) bool {
	first, _, found := strings.Cut(ref, "/")
	if !found {
		return true
	}
	return first != "localhost" && !strings.ContainsAny(first, ".:") || first == "docker.io" || first == "index.docker.io"
}

// platformOf is the image's platform: the task definition's architecture
// on AWS; on the local cloud, this machine's, because its tasks are
// processes here (the task definition keeps its architecture).
func platformOf(spec platform.Spec, local bool) (string, string) {
	if local {
		return runtime.GOOS, runtime.GOARCH
	}
	if strings.EqualFold(spec.Task.Architecture, "X86_64") {
		return "linux", "amd64"
	}
	return "linux", "arm64"
}

// gitState is what the checkout says about the source.
type gitState struct {
	commit, version string
	dirty           bool
}

// gitInfo reads the commit, git describe and whether the tree is dirty;
// outside a checkout they are "unknown" and "dev". With paths, the commit
// and the dirty flag are those of the paths only, and the version is the
// commit's short form.
func gitInfo(ctx context.Context, dir string, paths ...string) gitState {
	g := gitState{commit: "unknown", version: "dev"}
	run := func(args ...string) (string, bool) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err == nil
	}
	if len(paths) > 0 {
		if c, ok := run(append([]string{"log", "-1", "--format=%H", "--"}, paths...)...); ok && c != "" {
			g.commit, g.version = c, c[:min(12, len(c))]
		}
		if s, ok := run(append([]string{"status", "--porcelain", "--untracked-files=no", "--"}, paths...)...); ok && s != "" {
			g.dirty = true
			g.version += "-dirty"
		}
		return g
	}
	if c, ok := run("rev-parse", "HEAD"); ok {
		g.commit = c
	}
	if v, ok := run("describe", "--tags", "--always", "--dirty"); ok {
		g.version = v
	}
	if s, ok := run("status", "--porcelain", "--untracked-files=no"); ok {
		g.dirty = s != ""
	}
	return g
}

// currentUser names who deploys: git's user.email would be nicer but is
// not who is logged in; the login name is.
func currentUser(getenv func(string) string) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

// family is family:revision of a task definition ARN.
func family(arn string) string {
	if arn == "" {
		return "(none)"
	}
	return arn[strings.LastIndex(arn, "/")+1:]
}
