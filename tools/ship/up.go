package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/bundle"
	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/drift"
	"github.com/shipyard-ecs/shipyard/platform/image"
	"github.com/shipyard-ecs/shipyard/platform/provision"
	"github.com/shipyard-ecs/shipyard/platform/service"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

type upFlags struct {
	env, pkg, lambda string
	builder          string
	yes              bool
	watchFlags
}

func (a *app) upCommand() *cobra.Command {
	var f upFlags
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create or update the environment's stacks, then create the service on first run",
		Long: `up creates or updates the bootstrap stack (ECR repository, artifact bucket) and
the environment stack through CloudFormation change sets, showing each change
set and asking first on a terminal (--yes skips the question), and streams the
stack events. It builds and uploads the deploywatch Lambda package first. On
the first run it then builds and pushes the app image and creates the ECS
service, watching its first deployment; every run applies the service's auto
scaling. With a ci section in ship.yaml it ends with the ARN of the role
GitHub Actions assumes (docs/ci.md: the repository variable
AWS_DEPLOY_ROLE_ARN).

up is drift-safe: it renders the listener rules with the weights ECS set, and
never touches the running service's task definition, so after any deploys and
rollbacks it moves no traffic.

--timeout bounds the whole of up (exit 5) and Ctrl-C stops it (exit 130);
neither stops a change set or the first deployment, which go on: the
message names what to follow.`,
		Example: `  ship up                       # the local environment
  ship up --env production --yes`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.up(cmd.Context(), f)
		},
	}
	a.envFlag(cmd, &f.env, localEnv)
	cmd.Flags().BoolVarP(&f.yes, "yes", "y", false, "apply change sets without asking")
	cmd.Flags().StringVar(&f.pkg, "package", "./services/app", "the app's Go main `package` directory, relative to ship.yaml's directory")
	cmd.Flags().StringVar(&f.lambda, "lambda", "./lambdas/deploywatch", "the deploywatch Lambda's Go main `package` directory, relative to ship.yaml's directory")
	addBuilderFlag(cmd, &f.builder)
	a.addWatchFlags(cmd, &f.watchFlags)
	cmd.Flags().Lookup("timeout").Usage = "stop after this long, exit 5 (what up started in AWS goes on)"
	return cmd
}

func (a *app) up(ctx context.Context, f upFlags) (err error) {
	if err := f.check(); err != nil {
		return err
	}
	// ship up builds the first image only when it creates the service,
	// but a missing Docker engine is better said before any stack moves.
	if err := checkBuilder(ctx, f.builder, true); err != nil {
		return err
	}
	spec, err := a.loadSpec(f.env)
	if err != nil {
		return err
	}
	cfg, local, err := a.connect(ctx, spec)
	if err != nil {
		return err
	}
	if err := checkMainPackage("--lambda", f.lambda, a.rel(f.lambda)); err != nil {
		return err
	}
	// --timeout bounds all of up. It and Ctrl-C stop ship, never what ship
	// started in AWS: stopped says what goes on and how to follow it.
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	s := &step{}
	at := func(doing string) { *s = step{doing: doing, next: "nothing of it goes on in AWS: run ship up again"} }
	defer func() { err = stopped(ctx, err, f.timeout, *s) }()
	p := newPrinter(a.stdout, f.output)
	cf := cloudformation.NewFromConfig(cfg)
	prov := &provision.Provisioner{CF: cf, Events: cf, Logger: a.logger.With("subsystem", "provision"), Poll: a.poll}
	if prov.Poll <= 0 && local != nil {
		prov.Poll = max(100*time.Millisecond, time.Duration(float64(2*time.Second)*local.TimeScale))
	}

	boot, err := stack.Bootstrap(spec)
	if err != nil {
		return err
	}
	if err := a.apply(ctx, prov, boot, nil, f.yes, p, s); err != nil {
		return err
	}
	at("reading the bootstrap stack's outputs")
	bo, err := deploy.Outputs(ctx, cf, boot.Name)
	if err != nil {
		return err
	}
	bucket, err := bo.Get(stack.OutputArtifactBucket)
	if err != nil {
		return err
	}
	var deployerRole string
	if spec.CI.Enabled() {
		if deployerRole, err = bo.Get(stack.OutputDeployerRole); err != nil {
			return err
		}
	}

	at("building and uploading the deploywatch package")
	pkg, err := a.deploywatchPackage(ctx, spec, local, f.lambda)
	if err != nil {
		return err
	}
	uploaded, err := bundle.Upload(ctx, s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = local != nil || spec.Env == localEnv }), bucket, pkg)
	if err != nil {
		return err
	}
	p.event("package", fmt.Sprintf("deploywatch package s3://%s/%s (%.1f MB, uploaded %v)", bucket, pkg.Key, float64(len(pkg.Zip))/(1<<20), uploaded),
		map[string]any{"bucket": bucket, "key": pkg.Key, "uploaded": uploaded})

	// Drift safety: render the weights ECS set, so the update moves no traffic.
	envName := stack.EnvironmentName(spec)
	at("reading the weights ECS set")
	live, err := drift.NewReader(cf, elb.NewFromConfig(cfg), a.logger).Read(ctx, envName)
	if err != nil {
		return err
	}
	env, err := stack.Environment(spec, stack.Inputs{Live: live})
	if err != nil {
		return err
	}
	params := map[string]string{stack.ParamArtifactBucket: bucket, stack.ParamDeploywatchKey: pkg.Key}
	if err := a.apply(ctx, prov, env, params, f.yes, p, s); err != nil {
		return err
	}
	at("looking for the service")

	t, err := a.target(ctx, f.env)
	if err != nil {
		return err
	}
	b, err := service.New(t.spec, t.outputs)
	if err != nil {
		return err
	}
	exists, err := a.serviceExists(ctx, t)
	if err != nil {
		return err
	}
	if !exists {
		if err := a.createService(ctx, t, b, a.rel(f.pkg), f.builder, f.watchFlags, p, s); err != nil {
			return err
		}
	} else {
		p.event("service", fmt.Sprintf("service %s exists; its task definition is ship deploy's to change", t.engine.Service.Name), map[string]any{"service": t.engine.Service.Name})
	}
	at("applying the service's auto scaling")
	scaling := aas.NewFromConfig(cfg)
	if _, err := scaling.RegisterScalableTarget(ctx, b.ScalableTarget()); err != nil {
		return fmt.Errorf("register the service's scalable target: %w", err)
	}
	if _, err := scaling.PutScalingPolicy(ctx, b.ScalingPolicy()); err != nil {
		return fmt.Errorf("put the service's scaling policy: %w", err)
	}
	if deployerRole != "" {
		// What docs/ci.md's one-time setup needs next: no describe-stacks.
		p.event("ci", fmt.Sprintf("GitHub Actions deployer role (runs of %s on %s may assume it): %s\n  set it once: gh variable set AWS_DEPLOY_ROLE_ARN --body %s",
			spec.CI.GitHub.Repository, spec.CI.GitHub.Branch, deployerRole, deployerRole),
			map[string]any{"deployerRoleArn": deployerRole, "repository": spec.CI.GitHub.Repository, "branch": spec.CI.GitHub.Branch})
	}
	p.event("up", fmt.Sprintf("up to date; the service answers at %s", t.serviceURL()), map[string]any{"url": t.serviceURL()})
	return nil
}

// deploywatchPackage builds the deploywatch Lambda's package, stamped with
// the last commit of its own sources and the platform it builds on, so that
// commits elsewhere leave the package, its key and the stack as they are.
func (a *app) deploywatchPackage(ctx context.Context, spec platform.Spec, local *localState, dir string) (bundle.Package, error) {
	lambdaDir := a.rel(dir)
	git := gitInfo(ctx, lambdaDir, lambdaDir, a.rel("platform"))
	goos, goarch := lambdaPlatform(spec, local != nil || spec.Env == localEnv)
	return bundle.Build(ctx, image.Options{Dir: lambdaDir, Package: ".", OS: goos, Arch: goarch, Version: git.version, Commit: git.commit}, "deploywatch")
}

// rel resolves a directory relative to ship.yaml's.
func (a *app) rel(dir string) string {
	if filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(a.manifestDir(), dir)
}

// lambdaPlatform is the Lambda's platform: its configured architecture on
// AWS; on the local cloud this machine's, which runs it as a process.
func lambdaPlatform(spec platform.Spec, local bool) (string, string) {
	if local {
		return runtime.GOOS, runtime.GOARCH
	}
	if spec.Deploywatch.Architecture == "x86_64" {
		return "linux", "amd64"
	}
	return "linux", "arm64"
}

// apply plans a stack's change set, shows it, asks on a terminal unless
// yes, and runs it with its events as progress. It keeps s saying what it
// does.
func (a *app) apply(ctx context.Context, prov *provision.Provisioner, st *stack.Stack, params map[string]string, yes bool, p *printer, s *step) error {
	body, err := st.JSON()
	if err != nil {
		return err
	}
	*s = step{doing: fmt.Sprintf("the change set of stack %s was being made", st.Name), next: "the stack has not changed: run ship up again"}
	cs, err := prov.Plan(ctx, provision.Stack{Name: st.Name, Template: string(body), Parameters: params, Tags: st.Tags})
	if errors.Is(err, provision.ErrNoChanges) {
		p.event("stack", fmt.Sprintf("stack %s: no changes", st.Name), map[string]any{"stack": st.Name, "changes": 0})
		return nil
	}
	if err != nil {
		return err
	}
	lines := make([]string, 0, len(cs.Changes))
	for _, c := range cs.Changes {
		lines = append(lines, "  "+c.String())
	}
	slices.Sort(lines)
	verb := "update"
	if cs.Create {
		verb = "create"
	}
	p.event("changeset", fmt.Sprintf("stack %s: %s with %d change(s):\n%s", st.Name, verb, len(cs.Changes), strings.Join(lines, "\n")),
		map[string]any{"stack": st.Name, "create": cs.Create, "changes": cs.Changes})
	if !yes && isTerminal(a.stdout) && a.stdin != nil && isTerminalReader(a.stdin) {
		fmt.Fprintf(a.stdout, "apply these changes to %s? [y/N] ", st.Name)
		if !confirmed(a.stdin) {
			_ = prov.Discard(ctx, cs)
			return usagef("stack %s left as it was; run ship up --yes to apply without asking", st.Name)
		}
	}
	// Only ExecuteChangeSet's answer says whether the change set runs; a
	// stop from here on names the stack to follow either way.
	*s = step{doing: fmt.Sprintf("stack %s's change set ran", st.Name),
		next: fmt.Sprintf("CloudFormation goes on with it (ship stops nothing there): follow the stack's events with aws cloudformation describe-stack-events --stack-name %s, "+
			"and once the stack has settled, ship plan shows what is left and ship up finishes it", st.Name)}
	return prov.Execute(ctx, cs, func(e provision.Event) {
		p.event("stackEvent", fmt.Sprintf("%s: %s", st.Name, e), map[string]any{"stack": st.Name, "logicalId": e.LogicalID, "status": e.Status, "reason": e.Reason})
	})
}

func confirmed(r io.Reader) bool {
	line, _ := bufio.NewReader(r).ReadString('\n')
	ans := strings.ToLower(strings.TrimSpace(line))
	return ans == "y" || ans == "yes"
}

func isTerminalReader(r io.Reader) bool {
	w, ok := r.(io.Writer)
	return ok && isTerminal(w)
}

func (a *app) serviceExists(ctx context.Context, t *target) (bool, error) {
	e := t.engine
	out, err := e.Reader.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(e.Service.Cluster), Services: []string{e.Service.Name}})
	if err != nil {
		return false, fmt.Errorf("describe service %s: %w", e.Service.Name, err)
	}
	return slices.ContainsFunc(out.Services, func(s ecstypes.Service) bool { return aws.ToString(s.Status) == "ACTIVE" }), nil
}

// createService builds and pushes the first image, creates the service and
// watches its first deployment. It keeps s saying what it does.
func (a *app) createService(ctx context.Context, t *target, b *service.Builder, pkgDir, builder string, w watchFlags, p *printer, s *step) error {
	*s = step{doing: "building and pushing the first image", next: "nothing of it goes on in AWS: run ship up again"}
	if builder == builderGo {
		if err := checkMainPackage("--package", pkgDir, pkgDir); err != nil {
			return err
		}
	}
	git := gitInfo(ctx, pkgDir)
	img, err := a.image(ctx, t, "", builder, pkgDir, git)
	if err != nil {
		return err
	}
	defer img.release()
	if err := img.push(ctx, p); err != nil {
		return err
	}
	ref := img.ref
	in, err := b.TaskDefinition(ref)
	if err != nil {
		return err
	}
	td, err := t.engine.Register(ctx, in)
	if err != nil {
		return err
	}
	ecsc := ecs.NewFromConfig(t.cfg)
	*s = step{doing: "creating service " + t.engine.Service.Name, next: "if it was created, its first deployment goes on in ECS: ship status --watch follows it, and ship up again finishes the rest"}
	if _, err := ecsc.CreateService(ctx, b.CreateService(td)); err != nil {
		return fmt.Errorf("create service %s: %w", t.engine.Service.Name, err)
	}
	// The service and its first deployment exist now: Ctrl-C from here on
	// stops the watch, never the finding and the recording (as
	// deploy.Engine.Start).
	found := context.WithoutCancel(ctx)
	out, err := ecsc.ListServiceDeployments(found, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(t.engine.Service.Cluster), Service: aws.String(t.engine.Service.Name)})
	if err != nil {
		return fmt.Errorf("find the first deployment of %s: %w; follow it with ship status --watch", t.engine.Service.Name, err)
	}
	if len(out.ServiceDeployments) == 0 {
		return fmt.Errorf("find the first deployment of %s: none yet; follow it with ship status --watch", t.engine.Service.Name)
	}
	first := out.ServiceDeployments[0]
	arn := aws.ToString(first.ServiceDeploymentArn)
	req := deploy.Request{User: currentUser(a.getenv), GitCommit: git.commit, Dirty: git.dirty, Image: ref, Version: version}
	if err := t.engine.RecordRequest(found, deploy.Started{Arn: arn, CreatedAt: aws.ToTime(first.CreatedAt), TaskDefinition: td}, req); err != nil {
		a.logger.Warn("the ledger did not take the request; the deployment goes on", "err", err)
	}
	p.event("started", fmt.Sprintf("service %s created with %s; first deployment %s", t.engine.Service.Name, family(td), arn), map[string]any{"deployment": arn, "taskDefinition": td})
	return a.watch(ctx, t, arn, w, p, false)
}
