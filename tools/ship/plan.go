package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/spf13/cobra"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/drift"
	"github.com/shipyard-ecs/shipyard/platform/provision"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// exitChanges is ship plan's exit code when ship up has something to do.
const exitChanges = 2

type planFlags struct {
	env, lambda, output string
}

func (a *app) planCommand() *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what ship up would change, changing nothing",
		Long: `plan makes the change sets ship up would run, prints them and deletes them,
and says whether ship up would create the service. It uploads nothing and
changes nothing.

Exit codes: 0 no changes, 2 changes (or a usage or configuration error, which
prints an error), 1 failure.`,
		Example: `  ship plan
  ship plan --env production && echo "production is up to date"`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.plan(cmd.Context(), f)
		},
	}
	a.envFlag(cmd, &f.env, localEnv)
	cmd.Flags().StringVar(&f.lambda, "lambda", "./lambdas/deploywatch", "the deploywatch Lambda's Go main `package` directory, relative to ship.yaml's directory")
	cmd.Flags().StringVarP(&f.output, "output", "o", outputText, "format: text or json (one object a line)")
	return cmd
}

func (a *app) plan(ctx context.Context, f planFlags) error {
	if f.output != outputText && f.output != outputJSON {
		return usagef("--output %q: want text or json", f.output)
	}
	spec, err := a.loadSpec(f.env)
	if err != nil {
		return err
	}
	cfg, local, err := a.connect(ctx, spec)
	if err != nil {
		return err
	}
	p := newPrinter(a.stdout, f.output)
	cf := cloudformation.NewFromConfig(cfg)
	prov := &provision.Provisioner{CF: cf, Logger: a.logger.With("subsystem", "provision"), Poll: a.poll}
	changes := 0

	boot, err := stack.Bootstrap(spec)
	if err != nil {
		return err
	}
	n, err := a.planStack(ctx, prov, boot, nil, p)
	if err != nil {
		return err
	}
	changes += n
	envName := stack.EnvironmentName(spec)
	bo, err := deploy.Outputs(ctx, cf, boot.Name)
	if errors.Is(err, deploy.ErrStackNotFound) {
		p.event("stack", fmt.Sprintf("stack %s: created after %s", envName, boot.Name), map[string]any{"stack": envName, "create": true})
		p.event("service", "service: created with the first image", map[string]any{"service": stack.ServiceName(spec), "create": true})
		return planResult(changes + 2)
	}
	if err != nil {
		return err
	}
	bucket, err := bo.Get(stack.OutputArtifactBucket)
	if err != nil {
		return err
	}
	pkg, err := a.deploywatchPackage(ctx, spec, local, f.lambda)
	if err != nil {
		return err
	}
	live, err := drift.NewReader(cf, elb.NewFromConfig(cfg), a.logger).Read(ctx, envName)
	if err != nil {
		return err
	}
	env, err := stack.Environment(spec, stack.Inputs{Live: live})
	if err != nil {
		return err
	}
	n, err = a.planStack(ctx, prov, env, map[string]string{stack.ParamArtifactBucket: bucket, stack.ParamDeploywatchKey: pkg.Key}, p)
	if err != nil {
		return err
	}
	changes += n
	if _, err := deploy.Outputs(ctx, cf, envName); errors.Is(err, deploy.ErrStackNotFound) {
		p.event("service", "service: created with the first image", map[string]any{"service": stack.ServiceName(spec), "create": true})
		return planResult(changes + 1)
	}
	t, err := a.target(ctx, f.env)
	if err != nil {
		return err
	}
	exists, err := a.serviceExists(ctx, t)
	if err != nil {
		return err
	}
	if !exists {
		p.event("service", "service: created with the first image", map[string]any{"service": t.engine.Service.Name, "create": true})
		changes++
	} else {
		p.event("service", fmt.Sprintf("service %s: exists; left alone", t.engine.Service.Name), map[string]any{"service": t.engine.Service.Name, "create": false})
	}
	return planResult(changes)
}

// planStack prints a stack's change set and deletes it; it returns the
// number of changes.
func (a *app) planStack(ctx context.Context, prov *provision.Provisioner, st *stack.Stack, params map[string]string, p *printer) (int, error) {
	// A change set for a stack that does not exist would create it (in
	// REVIEW_IN_PROGRESS): say what the template holds instead.
	if _, err := deploy.Outputs(ctx, prov.CF, st.Name); errors.Is(err, deploy.ErrStackNotFound) {
		ids := make([]string, 0, len(st.Template.Resources))
		for id, r := range st.Template.Resources {
			ids = append(ids, fmt.Sprintf("  Add    %s (%s)", id, r.Type))
		}
		slices.Sort(ids)
		p.event("stack", fmt.Sprintf("stack %s: create with %d resource(s):\n%s", st.Name, len(ids), strings.Join(ids, "\n")),
			map[string]any{"stack": st.Name, "create": true, "resources": len(ids)})
		return max(len(ids), 1), nil
	} else if err != nil {
		return 0, err
	}
	body, err := st.JSON()
	if err != nil {
		return 0, err
	}
	cs, err := prov.Plan(ctx, provision.Stack{Name: st.Name, Template: string(body), Parameters: params, Tags: st.Tags})
	if errors.Is(err, provision.ErrNoChanges) {
		p.event("stack", fmt.Sprintf("stack %s: no changes", st.Name), map[string]any{"stack": st.Name, "changes": []provision.Change{}})
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if err := prov.Discard(ctx, cs); err != nil {
		return 0, err
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
	p.event("stack", fmt.Sprintf("stack %s: %s with %d change(s):\n%s", st.Name, verb, len(cs.Changes), strings.Join(lines, "\n")),
		map[string]any{"stack": st.Name, "create": cs.Create, "changes": cs.Changes})
	return max(len(cs.Changes), 1), nil
}

func planResult(changes int) error {
	if changes == 0 {
		return nil
	}
	return exitError{code: exitChanges, msg: fmt.Sprintf("%d change(s) to make; ship up makes them", changes)}
}
