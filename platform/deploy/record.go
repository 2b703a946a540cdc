package deploy

import (
	"context"
	"fmt"

	"github.com/shipyard-ecs/shipyard/platform/ledger"
)

// recorder is the part of the ledger the engine writes and reads.
type recorder interface {
	Record(ctx context.Context, o ledger.Observation) (ledger.Result, error)
	Get(ctx context.Context, k ledger.Key) (ledger.Deployment, error)
}

// Request is who asked for a deployment, and of what.
type Request struct {
	User      string
	GitCommit string
	// Dirty is set when the working tree had uncommitted changes: the
	// ledger's commit then ends in "-dirty", as git describe writes it.
	Dirty       bool
	Image       string
	ImageDigest string
	// Version is ship's own version.
	Version string
	// Drill is the fault a drill injects (its APP_FAULT), empty for a real
	// deployment; the ledger marks the deployment as a drill with it.
	Drill string
}

// RecordRequest writes the request for a started deployment to the ledger.
// The deploywatch Lambda writes the same deployment's events; the ledger
// merges both.
func (e *Engine) RecordRequest(ctx context.Context, st Started, req Request) error {
	if e.Ledger == nil {
		return nil
	}
	commit := req.GitCommit
	if req.Dirty {
		commit += "-dirty"
	}
	summary := fmt.Sprintf("%s deployed %s from %s", req.User, family(st.TaskDefinition), commit)
	if req.Drill != "" {
		summary = fmt.Sprintf("%s drilled %s with APP_FAULT=%s", req.User, family(st.TaskDefinition), req.Drill)
	}
	_, err := e.Ledger.Record(ctx, ledger.Observation{
		Key:     ledger.Key{Cluster: e.Service.Cluster, Service: e.Service.Name, Arn: st.Arn, CreatedAt: st.CreatedAt},
		EventID: "ship:request:" + st.Arn, At: e.now(), Source: "ship", Kind: "requested",
		Summary:        summary,
		TaskDefinition: st.TaskDefinition, Image: req.Image, ImageDigest: req.ImageDigest,
		Initiator: ledger.Initiator{User: req.User, GitCommit: commit, ManifestVersion: req.Version, Drill: req.Drill},
	})
	if err != nil {
		return fmt.Errorf("record the deployment in the ledger: %w", err)
	}
	return nil
}

// RecordOutcome writes how a watched deployment ended.
func (e *Engine) RecordOutcome(ctx context.Context, s Snapshot) error {
	if e.Ledger == nil || !s.Final() || s.CreatedAt.IsZero() {
		return nil
	}
	at := s.FinishedAt
	if at.IsZero() {
		at = e.now()
	}
	o := ledger.Observation{
		Key:     ledger.Key{Cluster: e.Service.Cluster, Service: e.Service.Name, Arn: s.Arn, CreatedAt: s.CreatedAt},
		EventID: "ship:outcome:" + s.Arn, At: at, Source: "ship", Kind: "outcome",
		Summary:         s.Status + ": " + s.Reason,
		TargetRevision:  s.Target.Revision,
		Statuses:        []ledger.Transition{{Name: s.Status, At: at, Reason: s.Reason}},
		TriggeredAlarms: s.TriggeredAlarms, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt,
	}
	if s.Stage != "" {
		o.Stages = []ledger.Transition{{Name: s.Stage, At: at}}
	}
	if s.RollbackReason != "" {
		o.Rollback = &ledger.Rollback{Reason: s.RollbackReason, Revision: s.RollbackRevision}
	}
	if _, err := e.Ledger.Record(ctx, o); err != nil {
		return fmt.Errorf("record the outcome in the ledger: %w", err)
	}
	return nil
}

// enforcedAlarm is the alarm for which the deploywatch Lambda stopped the
// deployment, from the ledger, or "". Its StopServiceDeployment looks to
// ECS like any other request, so only the ledger tells an alarm's rollback
// from a person's.
func (e *Engine) enforcedAlarm(ctx context.Context, s Snapshot) string {
	if e.Ledger == nil || s.CreatedAt.IsZero() {
		return ""
	}
	d, err := e.Ledger.Get(ctx, ledger.Key{Cluster: e.Service.Cluster, Service: e.Service.Name, Arn: s.Arn, CreatedAt: s.CreatedAt})
	if err != nil {
		e.log().Debug("read the deployment's enforcement from the ledger", "err", err)
		return ""
	}
	if a := d.Enforcement; a != nil && !a.DryRun && a.Kind == ledger.ActionStopRollback {
		return a.Alarm
	}
	return ""
}
