package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
)

type rollbackFlags struct {
	env, to string
	watchFlags
}

func (a *app) rollbackCommand() *cobra.Command {
	var f rollbackFlags
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Roll back the deployment in flight, or redeploy the last good revision",
		Long: `rollback, while a deployment is in flight, asks ECS to roll it back
(StopServiceDeployment with ROLLBACK): production traffic returns to the
revision that served it. With nothing in flight, it redeploys the last good
revision — the newest successful deployment's task definition other than the
one running, passing over drills (the ledger marks them) — or the one --to names, as a new blue/green deployment.

Either way it watches to the end. Exit codes are ship deploy's; a requested
rollback that succeeds exits 0.`,
		Example: `  ship rollback                 # whatever is right now
  ship rollback --to 41         # task definition revision shipyard-local:41
  ship rollback --env production --to shipyard-production:41`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.rollback(cmd.Context(), f)
		},
	}
	a.envFlag(cmd, &f.env, localEnv)
	cmd.Flags().StringVar(&f.to, "to", "", "the `revision` to redeploy: N, family:N or a task definition ARN")
	a.addWatchFlags(cmd, &f.watchFlags)
	return cmd
}

var (
	revisionNumber = regexp.MustCompile(`^[0-9]+$`)
	familyRevision = regexp.MustCompile(`^[A-Za-z0-9_-]+:[0-9]+$`)
)

func (a *app) rollback(ctx context.Context, f rollbackFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	var to string
	switch {
	case f.to == "":
	case revisionNumber.MatchString(f.to), familyRevision.MatchString(f.to), regexp.MustCompile(`^arn:aws[a-z-]*:ecs:`).MatchString(f.to):
		to = f.to
	default:
		return usagef("--to %q: want a revision number, family:revision or a task definition ARN", f.to)
	}
	t, err := a.target(ctx, f.env)
	if err != nil {
		return err
	}
	e := t.engine
	p := newPrinter(a.stdout, f.output)
	inflight, err := e.InFlight(ctx)
	if err != nil {
		return serviceNotFound(err)
	}
	if inflight != nil {
		if to != "" {
			return usagef("deployment %s is in flight: ship rollback without --to rolls it back; --to redeploys once it ended", aws.ToString(inflight.ServiceDeploymentArn))
		}
		arn := aws.ToString(inflight.ServiceDeploymentArn)
		if err := e.Stop(ctx, arn); err != nil {
			return err
		}
		p.event("rollback", fmt.Sprintf("asked ECS to roll back deployment %s (%s)", arn, inflight.Status), map[string]any{"deployment": arn})
		return a.watch(ctx, t, arn, f.watchFlags, p, true)
	}
	if revisionNumber.MatchString(to) {
		to = t.spec.Prefix() + ":" + to
	}
	if to == "" {
		current, good, err := e.LastGood(ctx)
		if err != nil {
			return serviceNotFound(err)
		}
		to = good.TaskDefinition
		a.logger.Info("rolling back to the last good revision", "from", current, "to", to)
	}
	if f.to != "" {
		// A revision that does not exist is the user's mistake, said
		// before anything changes.
		if _, err := e.Tasks.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(to)}); err != nil {
			var ce *ecstypes.ClientException
			if errors.As(err, &ce) {
				return usagef("--to %s: no such task definition (%s); ship history lists the revisions deployed", f.to, aws.ToString(ce.Message))
			}
			return fmt.Errorf("describe task definition %s: %w", to, err)
		}
	}
	git := gitInfo(ctx, a.manifestDir())
	started, err := e.Start(ctx, to)
	if err != nil {
		var inflight *deploy.InFlightError
		if errors.As(err, &inflight) {
			return inFlight(inflight)
		}
		return serviceNotFound(err)
	}
	// Recorded even when Ctrl-C came during the start: the deployment goes on.
	if err := e.RecordRequest(context.WithoutCancel(ctx), started, deploy.Request{User: currentUser(a.getenv), GitCommit: git.commit, Dirty: git.dirty, Version: version}); err != nil {
		a.logger.Warn("the ledger did not take the request; the rollback goes on", "err", err)
	}
	p.event("started", fmt.Sprintf("rollback deployment %s started: %s → %s", started.Arn, family(started.Previous), family(started.TaskDefinition)),
		map[string]any{"deployment": started.Arn, "taskDefinition": started.TaskDefinition, "previous": started.Previous})
	return a.watch(ctx, t, started.Arn, f.watchFlags, p, false)
}
