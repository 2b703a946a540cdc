package main

import (
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/image"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// The image builders: ship's own (cross-compile, no Docker) and the
// Dockerfile on a Docker engine.
const (
	builderGo     = "go"
	builderDocker = "docker"
)

// addBuilderFlag adds --builder to a command that builds the app image.
func addBuilderFlag(cmd *cobra.Command, builder *string) {
	cmd.Flags().StringVar(builder, "builder", builderGo, "how to build the app image: go (cross-compile into a one-layer image, no Docker) or docker (docker build on ship.yaml's directory's Dockerfile; needs a Docker engine with BuildKit)")
	_ = cmd.RegisterFlagCompletionFunc("builder", cobra.FixedCompletions([]string{builderGo, builderDocker}, cobra.ShellCompDirectiveNoFileComp))
}

// checkBuilder refuses an unknown builder and, when the command will
// build, the Docker builder where no Docker engine answers, before anything
// changes.
func checkBuilder(ctx context.Context, builder string, builds bool) error {
	switch builder {
	case builderGo:
		return nil
	case builderDocker:
		if !builds {
			return nil
		}
		if err := image.CheckDocker(ctx, ""); err != nil {
			return usageError{err}
		}
		return nil
	default:
		return usagef("--builder %q: want go (the default: no Docker needed) or docker (the Dockerfile, on a Docker engine)", builder)
	}
}

// checkMainPackage refuses a package directory that is not a Go main
// package's, before anything is built or changed: go build of another
// package makes an image whose tasks cannot start. flag and given name it
// as the user did.
func checkMainPackage(flag, given, dir string) error {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return usagef("%s %s: no such directory (%s); give the Go main package's directory, relative to ship.yaml's", flag, given, dir)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		if af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly); err == nil && af.Name.Name == "main" {
			return nil
		}
	}
	return usagef("%s %s: not a Go main package (no .go file in %s says package main); give the main package's directory, such as ./services/app", flag, given, dir)
}

// build builds the app image with the builder; cleanup releases what the
// image reads from and is called after the push.
func (a *app) build(ctx context.Context, t *target, builder, pkgDir string, git gitState) (img v1.Image, goos, goarch string, cleanup func(), err error) {
	local := t.local != nil || t.spec.Env == localEnv
	goos, goarch = platformOf(t.spec, local)
	if builder == builderDocker {
		o, err := a.dockerOptions(t.spec, local, git)
		if err != nil {
			return nil, "", "", nil, err
		}
		if a.verbose {
			o.Output = a.stderr
		}
		img, cleanup, err := image.DockerBuild(ctx, o, a.logger)
		return img, o.OS, o.Arch, cleanup, err
	}
	o := image.Options{
		// go build in the package's own directory finds its module and
		// the workspace wherever ship.yaml is.
		Dir: pkgDir, Package: ".", OS: goos, Arch: goarch,
		Version: git.version, Commit: git.commit, Port: t.spec.Task.ContainerPort,
		Labels: imageLabels(t.spec),
	}
	img, err = image.Build(ctx, o, a.logger)
	return img, goos, goarch, func() {}, err
}

func imageLabels(spec platform.Spec) map[string]string {
	return map[string]string{"shipyard.app": spec.Name, "shipyard.env": spec.Env}
}

// dockerOptions is what docker build gets: the Dockerfile beside
// ship.yaml with the repository as its context, the task definition's
// platform, and the version and commit the Makefile stamps.
func (a *app) dockerOptions(spec platform.Spec, local bool, git gitState) (image.DockerOptions, error) {
	root, err := filepath.Abs(a.manifestDir())
	if err != nil {
		return image.DockerOptions{}, fmt.Errorf("find ship.yaml's directory: %w", err)
	}
	return dockerOptions(spec, local, root, git)
}

func dockerOptions(spec platform.Spec, local bool, root string, git gitState) (image.DockerOptions, error) {
	goos, goarch := platformOf(spec, local)
	if goos != "linux" {
		// The local cloud runs tasks as processes of this machine.
		return image.DockerOptions{}, usagef("--builder docker builds linux images, and the local cloud on %s runs tasks as %s processes; use --builder go", goos, goos)
	}
	o := image.DockerOptions{
		Context: root, OS: goos, Arch: goarch,
		Version: git.version, Commit: git.commit,
		Repository: "ship/" + spec.Name + "-" + spec.Env,
		Labels:     imageLabels(spec),
	}
	return o, nil
}

// imageEvent reports a pushed image.
func imageEvent(p *printer, builder, goos, goarch string, published image.Published, built, pushed time.Duration) {
	p.event("image", fmt.Sprintf("image %s (%s/%s, %.1f MB) built with %s in %s, pushed in %s", published.Ref, goos, goarch,
		float64(published.Size)/(1<<20), builder, built.Round(time.Millisecond), pushed.Round(time.Millisecond)),
		map[string]any{"image": published.Ref, "tag": published.Tag, "size": published.Size, "builder": builder,
			"platform": goos + "/" + goarch, "buildSeconds": built.Seconds(), "pushSeconds": pushed.Seconds()})
}

// builtImage is what a build gave, and how long it took.
type builtImage struct {
	img          v1.Image
	goos, goarch string
	cleanup      func()
	took         time.Duration
	err          error
}

// registry is the environment's ECR repository and the credentials to
// push to it.
func (a *app) registry(ctx context.Context, t *target) (string, authn.Authenticator, error) {
	boot, err := deploy.Outputs(ctx, cloudformation.NewFromConfig(t.cfg), stack.BootstrapName(t.spec))
	if errors.Is(err, deploy.ErrStackNotFound) {
		return "", nil, usageError{err}
	}
	if err != nil {
		return "", nil, err
	}
	repo, err := boot.Get(stack.OutputRepositoryURI)
	if err != nil {
		return "", nil, usageError{err}
	}
	auth, err := image.ECRAuth(ctx, t.ecr())
	if err != nil {
		return "", nil, err
	}
	return repo, auth, nil
}
