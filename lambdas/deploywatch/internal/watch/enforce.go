package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/event"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
)

// onAlarm records an alarm state change of a watched alarm and, when it
// enters ALARM, enforces a rollback of the service's latest deployment:
//
//   - in flight (PENDING, IN_PROGRESS): StopServiceDeployment(ROLLBACK),
//     unless ECS is already stopping or rolling it back;
//   - SUCCESSFUL less than the guard window before the alarm, when ECS no
//     longer watches alarms: UpdateService back to the task definition of
//     the revision it replaced;
//   - otherwise: record only.
//
// A deployment gets at most one enforced rollback, and the service one per
// cooldown; dry-run records the decision and changes nothing.
func (h *Handler) onAlarm(ctx context.Context, log *slog.Logger, env *event.Envelope, a *event.AlarmState) (Answer, error) {
	if !h.cfg.watches(a.AlarmName) {
		return Answer{Action: "ignored", Reason: fmt.Sprintf("alarm %s is not one of %v", a.AlarmName, h.cfg.WatchedAlarms)}, nil
	}
	at := a.State.Timestamp
	d, err := h.latest(ctx)
	if errors.Is(err, errUnresolved) {
		return h.unresolved(ctx, log, env, fmt.Sprintf("alarm %s %s", a.AlarmName, a.State.Value), at, err)
	}
	if err != nil {
		return Answer{}, err
	}
	log = log.With("deploymentArn", d.key.Arn, "alarm", a.AlarmName)
	summary := fmt.Sprintf("alarm %s %s -> %s", a.AlarmName, a.Previous.Value, a.State.Value)
	o := h.observe(d, env.ID, at, "cloudwatch", env.DetailType, summary)
	o.Detail = map[string]string{"alarm": a.AlarmName, "state": a.State.Value, "previousState": a.Previous.Value, "reason": a.State.Reason}
	if a.State.Value != event.AlarmAlarm {
		res, err := h.record(ctx, log, o, d)
		if err != nil {
			return Answer{}, err
		}
		return recorded(res, d), nil
	}
	o.TriggeredAlarms = append(o.TriggeredAlarms, a.AlarmName)
	act, why := h.decide(d, at)
	if act != "" {
		// A deployment deploywatch started to roll back is not rolled
		// back again: that would return to the revision that failed.
		rec, err := h.ledger.Get(ctx, d.key)
		if err != nil && !errors.Is(err, ledger.ErrNotFound) {
			return Answer{}, err
		}
		if rec.Initiator.User == initiator {
			act, why = "", "deploywatch started this deployment to roll back: not rolled back again"
		}
	}
	o.Detail["decision"] = why
	if _, err := h.record(ctx, log, o, d); err != nil {
		return Answer{}, err
	}
	if act == "" {
		log.Info("alarm recorded, no rollback", "action", "none", "reason", why)
		return Answer{Action: "none", Deployment: d.key.Arn, Reason: why}, nil
	}
	return h.enforce(ctx, log, env, a, d, act, why)
}

// latest describes the service's newest deployment.
func (h *Handler) latest(ctx context.Context) (*deployment, error) {
	list, err := h.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{
		Cluster: aws.String(h.cfg.Cluster), Service: aws.String(h.cfg.Service), MaxResults: aws.Int32(1),
	})
	if err != nil {
		if permanent(err) {
			return nil, fmt.Errorf("list service deployments: %w: %w", errUnresolved, err)
		}
		return nil, fmt.Errorf("list service deployments: %w", err)
	}
	if len(list.ServiceDeployments) == 0 {
		return nil, fmt.Errorf("the service has no deployments: %w", errUnresolved)
	}
	return h.describeOne(ctx, aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn))
}

// decide picks the rollback for a deployment when an alarm went off at
// at, or none, and says why.
func (h *Handler) decide(d *deployment, at time.Time) (string, string) {
	switch d.sd.Status {
	case types.ServiceDeploymentStatusPending, types.ServiceDeploymentStatusInProgress:
		return ledger.ActionStopRollback, "deployment in flight"
	case types.ServiceDeploymentStatusRollbackRequested, types.ServiceDeploymentStatusRollbackInProgress, types.ServiceDeploymentStatusStopRequested:
		return "", "ECS is already rolling back or stopping the deployment"
	case types.ServiceDeploymentStatusSuccessful:
		if d.sd.FinishedAt == nil {
			return "", "deployment finished at an unknown time"
		}
		since := at.Sub(*d.sd.FinishedAt)
		if since > h.cfg.GuardWindow {
			return "", fmt.Sprintf("deployment finished %s before the alarm, outside the %s guard window", since.Round(time.Second), h.cfg.GuardWindow)
		}
		if len(d.sd.SourceServiceRevisions) == 0 {
			return "", "first deployment of the service: no previous revision to go back to"
		}
		return ledger.ActionRedeploy, fmt.Sprintf("alarm %s after the deployment finished, within the %s guard window", since.Round(time.Second), h.cfg.GuardWindow)
	}
	return "", "deployment already ended " + string(d.sd.Status)
}

func (h *Handler) enforce(ctx context.Context, log *slog.Logger, env *event.Envelope, a *event.AlarmState, d *deployment, kind, why string) (Answer, error) {
	// Never act on another service's deployment, whatever ECS returned.
	if ref, _, err := event.ParseServiceDeploymentArn(d.key.Arn); err != nil || ref.Cluster != h.cfg.Cluster || ref.Service != h.cfg.Service {
		return Answer{Action: "none", Deployment: d.key.Arn, Reason: "deployment is not of the watched service"}, nil
	}
	act := ledger.Action{Kind: kind, DryRun: h.cfg.DryRun, Reason: fmt.Sprintf("alarm %s in ALARM: %s", a.AlarmName, why),
		Alarm: a.AlarmName, EventID: env.ID, At: h.now()}
	if kind == ledger.ActionRedeploy {
		td, err := h.previousTaskDefinition(ctx, d)
		if err != nil {
			return Answer{}, err
		}
		if td == "" {
			return Answer{Action: "none", Deployment: d.key.Arn, Reason: "the previous revision has no task definition"}, nil
		}
		act.TaskDefinition = td
	}
	won, prev, err := h.ledger.ClaimEnforcement(ctx, d.key, act)
	if err != nil {
		return Answer{}, err
	}
	// Any other claim means this deployment had its rollback, or is having
	// it now (a concurrent delivery of the same event). Only a claim of
	// this event left unfinished for longer than an invocation can run
	// (the attempt died) is taken over by the retry.
	resume := prev != nil && prev.EventID == env.ID && prev.Outcome == "" && h.now().Sub(prev.At) > claimLease
	if !won && !resume {
		reason := "the deployment already had its enforced rollback"
		if prev != nil {
			reason += fmt.Sprintf(" (%s by alarm %s, %s)", prev.Kind, prev.Alarm, prev.Outcome)
		}
		log.Info("rollback not repeated", "action", "none", "reason", reason)
		return Answer{Action: "none", Deployment: d.key.Arn, Reason: reason}, nil
	}
	ans := Answer{Action: kind, Deployment: d.key.Arn, Reason: act.Reason}
	if h.cfg.DryRun {
		outcome := "dry-run: would " + describeAction(act)
		if err := h.ledger.FinishEnforcement(ctx, d.key, outcome); err != nil {
			return Answer{}, err
		}
		log.Warn("dry-run: rollback not enforced", "action", "dry-run-"+kind, "reason", act.Reason, "would", describeAction(act))
		h.metrics.count("DryRunRollback", map[string]any{"deploymentArn": d.key.Arn, "alarm": a.AlarmName})
		ans.Action, ans.Reason = "dry-run-"+kind, outcome
		return ans, nil
	}
	if won {
		ok, last, err := h.ledger.ClaimCooldown(ctx, h.cfg.Cluster, h.cfg.Service, d.key.Arn, h.now(), h.cfg.Cooldown)
		if err != nil {
			return Answer{}, err
		}
		if !ok {
			outcome := fmt.Sprintf("skipped: the service's last enforced rollback was at %s, within the %s cooldown", last.Format(time.RFC3339), h.cfg.Cooldown)
			if err := h.ledger.FinishEnforcement(ctx, d.key, outcome); err != nil {
				return Answer{}, err
			}
			log.Warn("rollback skipped in cooldown", "action", "cooldown", "reason", outcome)
			return Answer{Action: "none", Deployment: d.key.Arn, Reason: outcome}, nil
		}
	}
	outcome, started, err := h.act(ctx, d, act)
	if err != nil && !permanent(err) {
		// Give the claim back so EventBridge's retry of this event can act.
		if rerr := h.ledger.ReleaseEnforcement(ctx, d.key, env.ID); rerr != nil {
			log.Error("release the enforcement claim", "err", rerr)
		}
		return Answer{}, err
	}
	if err != nil {
		outcome = "failed: " + err.Error()
		ans.Action = "none"
	}
	if ferr := h.ledger.FinishEnforcement(ctx, d.key, outcome); ferr != nil {
		return Answer{}, ferr
	}
	if err == nil && kind == ledger.ActionRedeploy {
		// The rollback is done; failing the event now would not redo it.
		if err := h.recordRedeploy(ctx, log, env, a, d, started); err != nil {
			log.Error("mark the redeploy as deploywatch's", "err", err)
		}
	}
	if err == nil {
		props := map[string]any{"deploymentArn": d.key.Arn, "alarm": a.AlarmName, "action": kind}
		h.metrics.count("EnforcedRollback", props)
		h.metrics.millis("RollbackReactionTime", h.now().Sub(a.State.Timestamp), props)
	}
	log.Warn("rollback enforced", "action", kind, "deploymentArn", d.key.Arn, "outcome", outcome)
	ans.Reason = outcome
	return ans, nil
}

func describeAction(a ledger.Action) string {
	if a.Kind == ledger.ActionRedeploy {
		return "redeploy task definition " + a.TaskDefinition
	}
	return "stop the deployment with ROLLBACK"
}

// act calls ECS; an error is ECS's. A redeploy also returns the service
// deployment it started, when ECS says.
func (h *Handler) act(ctx context.Context, d *deployment, a ledger.Action) (string, string, error) {
	switch a.Kind {
	case ledger.ActionStopRollback:
		_, err := h.rb.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{
			ServiceDeploymentArn: aws.String(d.key.Arn), StopType: types.StopServiceDeploymentStopTypeRollback,
		})
		if err != nil {
			return "", "", fmt.Errorf("stop service deployment %s: %w", d.key.Arn, err)
		}
		return "StopServiceDeployment(ROLLBACK) accepted", "", nil
	case ledger.ActionRedeploy:
		out, err := h.rb.UpdateService(ctx, &ecs.UpdateServiceInput{
			Cluster: aws.String(h.cfg.Cluster), Service: aws.String(h.cfg.Service), TaskDefinition: aws.String(a.TaskDefinition),
		})
		if err != nil {
			return "", "", fmt.Errorf("update service to %s: %w", a.TaskDefinition, err)
		}
		started := ""
		if out.Service != nil {
			started = aws.ToString(out.Service.CurrentServiceDeployment)
		}
		return "UpdateService to " + a.TaskDefinition + " accepted", started, nil
	}
	return "", "", fmt.Errorf("unknown action %q", a.Kind)
}

// previousTaskDefinition is the task definition of the revision a
// deployment replaced: the last good one.
func (h *Handler) previousTaskDefinition(ctx context.Context, d *deployment) (string, error) {
	src := aws.ToString(d.sd.SourceServiceRevisions[0].Arn)
	revs, err := h.revisions(ctx, src)
	if err != nil {
		return "", err
	}
	if r := revs[src]; r != nil {
		return aws.ToString(r.TaskDefinition), nil
	}
	return "", nil
}

// claimLease is how long an unfinished enforcement claim belongs to the
// invocation that took it: longer than the function's timeout.
const claimLease = 2 * time.Minute

// initiator is the Initiator.User of deployments deploywatch starts.
const initiator = "deploywatch"

// recordRedeploy records the deployment a redeploy started as deploywatch's,
// so a later alarm does not roll it back in turn.
func (h *Handler) recordRedeploy(ctx context.Context, log *slog.Logger, env *event.Envelope, a *event.AlarmState, from *deployment, started string) error {
	var latest *deployment
	var err error
	if started != "" {
		latest, err = h.describeOne(ctx, started)
	} else {
		latest, err = h.latest(ctx)
	}
	if err != nil {
		return err
	}
	if latest.key.Arn == from.key.Arn {
		log.Warn("the redeploy's service deployment is not listed yet; not marked as deploywatch's")
		return nil
	}
	o := h.observe(latest, env.ID+":redeploy", h.now(), "deploywatch", "enforcement",
		fmt.Sprintf("redeploy of the previous revision after alarm %s on %s", a.AlarmName, from.key.Arn))
	o.Initiator = ledger.Initiator{User: initiator}
	_, err = h.record(ctx, log, o, latest)
	return err
}
