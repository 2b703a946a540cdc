package watch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/event"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
)

// errUnresolved marks an event whose deployment ECS no longer knows:
// retrying cannot fix it.
var errUnresolved = errors.New("deployment not found")

// deployment is a service deployment as ECS describes it now.
type deployment struct {
	sd  types.ServiceDeployment
	key ledger.Key
	// target is the target service revision, when described.
	target *types.ServiceRevision
}

func (d *deployment) status() string { return string(d.sd.Status) }

func (h *Handler) describe(ctx context.Context, arns ...string) ([]*deployment, error) {
	out, err := h.ecs.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: arns})
	if err != nil {
		if permanent(err) {
			return nil, fmt.Errorf("describe service deployments %v: %w: %w", arns, errUnresolved, err)
		}
		return nil, fmt.Errorf("describe service deployments %v: %w", arns, err)
	}
	var ds []*deployment
	for _, sd := range out.ServiceDeployments {
		if sd.ServiceDeploymentArn == nil || sd.CreatedAt == nil {
			continue
		}
		ds = append(ds, &deployment{sd: sd, key: ledger.Key{Cluster: h.cfg.Cluster, Service: h.cfg.Service, Arn: *sd.ServiceDeploymentArn, CreatedAt: *sd.CreatedAt}})
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("describe service deployments %v: %w (%d failures)", arns, errUnresolved, len(out.Failures))
	}
	return ds, nil
}

// describeOne describes a deployment of the configured service, and its
// target revision.
func (h *Handler) describeOne(ctx context.Context, arn string) (*deployment, error) {
	ref, _, err := event.ParseServiceDeploymentArn(arn)
	if err != nil || ref.Cluster != h.cfg.Cluster || ref.Service != h.cfg.Service {
		return nil, fmt.Errorf("deployment %s is not of %s/%s: %w", arn, h.cfg.Cluster, h.cfg.Service, errUnresolved)
	}
	ds, err := h.describe(ctx, arn)
	if err != nil {
		return nil, err
	}
	d := ds[0]
	if err := h.describeTarget(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

func (h *Handler) describeTarget(ctx context.Context, d *deployment) error {
	if d.sd.TargetServiceRevision == nil || d.sd.TargetServiceRevision.Arn == nil {
		return nil
	}
	revs, err := h.revisions(ctx, *d.sd.TargetServiceRevision.Arn)
	if err != nil {
		return err
	}
	d.target = revs[*d.sd.TargetServiceRevision.Arn]
	return nil
}

func (h *Handler) revisions(ctx context.Context, arns ...string) (map[string]*types.ServiceRevision, error) {
	out, err := h.ecs.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: arns})
	if err != nil {
		if permanent(err) {
			return nil, fmt.Errorf("describe service revisions: %w: %w", errUnresolved, err)
		}
		return nil, fmt.Errorf("describe service revisions: %w", err)
	}
	m := map[string]*types.ServiceRevision{}
	for i := range out.ServiceRevisions {
		if r := &out.ServiceRevisions[i]; r.ServiceRevisionArn != nil {
			m[*r.ServiceRevisionArn] = r
		}
	}
	return m, nil
}

// resolveLegacy finds the service deployment an ecs-svc/… id belongs to:
// from the ledger when an earlier event resolved it, else from ECS, by the
// legacy deployment's task definition and creation time.
func (h *Handler) resolveLegacy(ctx context.Context, legacyID string) (*deployment, error) {
	k, err := h.ledger.ResolveLegacy(ctx, h.cfg.Cluster, h.cfg.Service, legacyID)
	switch {
	case err == nil:
		return h.describeOne(ctx, k.Arn)
	case !errors.Is(err, ledger.ErrNotFound):
		return nil, err
	}
	svcs, err := h.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(h.cfg.Cluster), Services: []string{h.cfg.Service}})
	if err != nil {
		if permanent(err) {
			return nil, fmt.Errorf("describe service: %w: %w", errUnresolved, err)
		}
		return nil, fmt.Errorf("describe service: %w", err)
	}
	var legacy *types.Deployment
	for _, s := range svcs.Services {
		for i := range s.Deployments {
			if aws.ToString(s.Deployments[i].Id) == legacyID {
				legacy = &s.Deployments[i]
			}
		}
	}
	list, err := h.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{
		Cluster: aws.String(h.cfg.Cluster), Service: aws.String(h.cfg.Service), MaxResults: aws.Int32(20),
	})
	if err != nil {
		if permanent(err) {
			return nil, fmt.Errorf("list service deployments: %w: %w", errUnresolved, err)
		}
		return nil, fmt.Errorf("list service deployments: %w", err)
	}
	var arns []string
	for _, b := range list.ServiceDeployments {
		arns = append(arns, aws.ToString(b.ServiceDeploymentArn))
	}
	if len(arns) == 0 {
		return nil, fmt.Errorf("legacy deployment %s: the service has no service deployments: %w", legacyID, errUnresolved)
	}
	ds, err := h.describe(ctx, arns...)
	if err != nil {
		return nil, err
	}
	// Where the service revision carries the legacy deployment's number,
	// the match is exact.
	num := strings.TrimPrefix(legacyID, "ecs-svc/")
	for _, d := range ds {
		if t := d.sd.TargetServiceRevision; t != nil && strings.HasSuffix(aws.ToString(t.Arn), "/"+num) {
			return d, h.describeTarget(ctx, d)
		}
	}
	if legacy == nil || legacy.TaskDefinition == nil {
		return nil, fmt.Errorf("legacy deployment %s is no longer among the service's deployments: %w", legacyID, errUnresolved)
	}
	var targets []string
	for _, d := range ds {
		if t := d.sd.TargetServiceRevision; t != nil && t.Arn != nil {
			targets = append(targets, *t.Arn)
		}
	}
	revs, err := h.revisions(ctx, targets...)
	if err != nil {
		return nil, err
	}
	var best *deployment
	var bestGap time.Duration
	for _, d := range ds {
		t := d.sd.TargetServiceRevision
		if t == nil || revs[aws.ToString(t.Arn)] == nil || aws.ToString(revs[aws.ToString(t.Arn)].TaskDefinition) != *legacy.TaskDefinition {
			continue
		}
		gap := d.key.CreatedAt.Sub(aws.ToTime(legacy.CreatedAt)).Abs()
		if best == nil || gap < bestGap {
			best, bestGap = d, gap
			best.target = revs[aws.ToString(t.Arn)]
		}
	}
	if best == nil {
		return nil, fmt.Errorf("legacy deployment %s (task definition %s) matches no service deployment: %w", legacyID, *legacy.TaskDefinition, errUnresolved)
	}
	return best, nil
}

// observe turns ECS's view of a deployment into a ledger observation.
func (h *Handler) observe(d *deployment, eventID string, at time.Time, source, kind, summary string) ledger.Observation {
	sd := d.sd
	o := ledger.Observation{Key: d.key, EventID: eventID, At: at, Source: source, Kind: kind, Summary: summary,
		StartedAt: aws.ToTime(sd.StartedAt), FinishedAt: aws.ToTime(sd.FinishedAt), StoppedAt: aws.ToTime(sd.StoppedAt)}
	if t := sd.TargetServiceRevision; t != nil {
		o.TargetRevision = aws.ToString(t.Arn)
	}
	for _, r := range sd.SourceServiceRevisions {
		o.SourceRevisions = append(o.SourceRevisions, aws.ToString(r.Arn))
	}
	if d.target != nil {
		o.TaskDefinition = aws.ToString(d.target.TaskDefinition)
		for _, ci := range d.target.ContainerImages {
			if ci.ImageDigest != nil {
				o.Image, o.ImageDigest = aws.ToString(ci.Image), *ci.ImageDigest
				break
			}
		}
	}
	updated := at
	if sd.UpdatedAt != nil {
		updated = *sd.UpdatedAt
	}
	if sd.StartedAt != nil {
		o.Statuses = append(o.Statuses, ledger.Transition{Name: "IN_PROGRESS", At: *sd.StartedAt})
	}
	if rb := sd.Rollback; rb != nil {
		o.Rollback = &ledger.Rollback{Reason: aws.ToString(rb.Reason), Revision: aws.ToString(rb.ServiceRevisionArn), StartedAt: aws.ToTime(rb.StartedAt)}
		if rb.StartedAt != nil && strings.HasPrefix(string(sd.Status), "ROLLBACK_") && sd.Status != types.ServiceDeploymentStatusRollbackRequested {
			o.Statuses = append(o.Statuses, ledger.Transition{Name: "ROLLBACK_IN_PROGRESS", At: *rb.StartedAt})
		}
	}
	if st := string(sd.Status); st != "" {
		when := updated
		switch {
		case ledger.Final(st) && sd.FinishedAt != nil:
			when = *sd.FinishedAt
		case ledger.Final(st) && sd.StoppedAt != nil:
			when = *sd.StoppedAt
		case st == "IN_PROGRESS" && sd.StartedAt != nil:
			when = *sd.StartedAt
		case st == "PENDING":
			when = d.key.CreatedAt
		}
		o.Statuses = append(o.Statuses, ledger.Transition{Name: st, At: when, Reason: aws.ToString(sd.StatusReason)})
	}
	if stage := string(sd.LifecycleStage); stage != "" {
		o.Stages = append(o.Stages, ledger.Transition{Name: stage, At: updated})
	}
	if a := sd.Alarms; a != nil {
		o.TriggeredAlarms = a.TriggeredAlarmNames
	}
	return o
}

// record writes an observation and counts the transitions it was the first
// to see.
func (h *Handler) record(ctx context.Context, log *slog.Logger, o ledger.Observation, d *deployment) (ledger.Result, error) {
	res, err := h.ledger.Record(ctx, o)
	if err != nil {
		return res, err
	}
	props := map[string]any{"deploymentArn": o.Arn, "eventId": o.EventID}
	// A drill's deployment (ship drill marks it in the ledger) is counted
	// under Drill* names, so the DORA measures — deployment frequency,
	// change failure rate, time to restore — leave rehearsals out.
	name := func(n string) string { return n }
	if drill := cmp.Or(o.Initiator.Drill, res.Before.Initiator.Drill); drill != "" {
		props["drill"] = drill
		name = func(n string) string { return "Drill" + strings.TrimPrefix(n, "Deployment") }
	}
	for _, st := range res.NewStatuses {
		switch st {
		case "IN_PROGRESS":
			h.metrics.count(name("DeploymentStarted"), props)
		case "SUCCESSFUL":
			h.metrics.count(name("DeploymentSucceeded"), props)
			if dur := aws.ToTime(d.sd.FinishedAt).Sub(aws.ToTime(d.sd.StartedAt)); d.sd.StartedAt != nil && d.sd.FinishedAt != nil {
				h.metrics.millis(name("DeploymentDuration"), dur, props)
			}
		case "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED":
			h.metrics.count(name("DeploymentRolledBack"), props)
			if rb := d.sd.Rollback; rb != nil && rb.StartedAt != nil && d.sd.FinishedAt != nil {
				h.metrics.millis(name("TimeToRestore"), d.sd.FinishedAt.Sub(*rb.StartedAt), props)
			}
		case "STOPPED":
			h.metrics.count(name("DeploymentStopped"), props)
		}
	}
	if len(res.NewStatuses) > 0 {
		log.Info("deployment status recorded", "deploymentArn", o.Arn, "new", res.NewStatuses)
	}
	return res, nil
}

func (h *Handler) onDeployment(ctx context.Context, log *slog.Logger, env *event.Envelope, e *event.DeploymentState) (Answer, error) {
	if !h.ours(e.Service) {
		return h.otherService(e.Service), nil
	}
	d, err := h.resolveLegacy(ctx, e.DeploymentID)
	if errors.Is(err, errUnresolved) {
		return h.unresolved(ctx, log, env, e.EventName+" "+e.DeploymentID, e.UpdatedAt, err)
	}
	if err != nil {
		return Answer{}, err
	}
	o := h.observe(d, env.ID, e.UpdatedAt, "ecs", env.DetailType, e.EventName+": "+e.Reason)
	o.LegacyIDs = []string{e.DeploymentID}
	o.Detail = map[string]string{"eventName": e.EventName, "eventType": e.EventType, "deploymentId": e.DeploymentID, "reason": e.Reason}
	res, err := h.record(ctx, log, o, d)
	if err != nil {
		return Answer{}, err
	}
	return recorded(res, d), nil
}

func recorded(res ledger.Result, d *deployment) Answer {
	a := Answer{Action: "recorded", Deployment: d.key.Arn, Reason: "status " + d.status()}
	if res.Duplicate {
		a.Action = "duplicate"
	}
	return a
}

// unresolved records an event whose deployment ECS no longer knows in the
// service's own timeline, and acknowledges it.
func (h *Handler) unresolved(ctx context.Context, log *slog.Logger, env *event.Envelope, summary string, at time.Time, cause error) (Answer, error) {
	log.Warn("deployment not resolved; recorded on the service", "action", "record-unresolved", "err", cause)
	if _, err := h.ledger.RecordServiceEvent(ctx, h.cfg.Cluster, h.cfg.Service, ledger.Entry{
		At: at, EventID: env.ID, Source: env.Source, Kind: env.DetailType, Summary: summary, Detail: map[string]string{"unresolved": cause.Error()},
	}); err != nil {
		return Answer{}, err
	}
	return Answer{Action: "recorded", Reason: "unresolved: " + cause.Error()}, nil
}

func (h *Handler) onHookState(ctx context.Context, log *slog.Logger, env *event.Envelope, e *event.HookState) (Answer, error) {
	if !h.ours(e.Service) {
		return h.otherService(e.Service), nil
	}
	d, err := h.describeOne(ctx, e.ServiceDeploymentArn)
	if errors.Is(err, errUnresolved) {
		return h.unresolved(ctx, log, env, e.EventName+" "+e.LifecycleStage, e.UpdatedAt, err)
	}
	if err != nil {
		return Answer{}, err
	}
	o := h.observe(d, env.ID, e.UpdatedAt, "ecs", env.DetailType, e.EventName+" at "+e.LifecycleStage)
	if validStage(e.LifecycleStage) {
		o.Stages = append(o.Stages, ledger.Transition{Name: e.LifecycleStage, At: e.UpdatedAt})
	}
	o.Detail = map[string]string{"eventName": e.EventName, "hookId": e.HookID, "hookType": e.HookType, "lifecycleStage": e.LifecycleStage}
	res, err := h.record(ctx, log, o, d)
	if err != nil {
		return Answer{}, err
	}
	return recorded(res, d), nil
}

func validStage(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

func (h *Handler) onServiceAction(ctx context.Context, log *slog.Logger, env *event.Envelope, e *event.ServiceAction) (Answer, error) {
	if !h.ours(e.Service) {
		return h.otherService(e.Service), nil
	}
	dup, err := h.ledger.RecordServiceEvent(ctx, h.cfg.Cluster, h.cfg.Service, ledger.Entry{
		At: e.CreatedAt, EventID: env.ID, Source: env.Source, Kind: env.DetailType, Summary: e.EventType + " " + e.EventName,
		Detail: map[string]string{"eventName": e.EventName, "eventType": e.EventType, "reason": e.Reason},
	})
	if err != nil {
		return Answer{}, err
	}
	if dup {
		return Answer{Action: "duplicate"}, nil
	}
	return Answer{Action: "recorded", Reason: e.EventName}, nil
}

func (h *Handler) onTask(ctx context.Context, log *slog.Logger, env *event.Envelope, e *event.TaskState) (Answer, error) {
	if e.Cluster != h.cfg.Cluster || e.Service != h.cfg.Service {
		return Answer{Action: "ignored", Reason: "task of another service"}, nil
	}
	if e.LastStatus != "STOPPED" {
		return Answer{Action: "ignored", Reason: "only stopped tasks are recorded"}, nil
	}
	dup, err := h.ledger.RecordServiceEvent(ctx, h.cfg.Cluster, h.cfg.Service, ledger.Entry{
		At: e.UpdatedAt, EventID: env.ID, Source: env.Source, Kind: env.DetailType, Summary: "task stopped: " + e.StoppedReason,
		Detail: map[string]string{"taskArn": e.TaskArn, "startedBy": e.StartedBy, "stopCode": e.StopCode, "taskDefinition": e.TaskDefinitionArn},
	})
	if err != nil {
		return Answer{}, err
	}
	if dup {
		return Answer{Action: "duplicate"}, nil
	}
	return Answer{Action: "recorded", Reason: "task stopped"}, nil
}
