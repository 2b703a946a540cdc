package ecs

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// HookInvocation is what ECS sends a lifecycle hook.
type HookInvocation struct {
	ExecutionID    string
	LifecycleStage string
	// ResourceArn is the service deployment ARN.
	ResourceArn              string
	ServiceArn               string
	TargetServiceRevisionArn string
	TestTrafficWeights       map[string]float64
	ProductionTrafficWeights map[string]float64
	HookTargetArn, RoleArn   string
	TargetType               string
	HookDetails              json.RawMessage
}

// HookResult is a hook's answer: SUCCEEDED, FAILED or IN_PROGRESS (call
// again after CallBackDelay, default 30 s).
type HookResult struct {
	HookStatus    string
	CallBackDelay time.Duration
	HookDetails   json.RawMessage
}

// HookInvoker runs lifecycle hooks (the Lambda integration).
type HookInvoker interface {
	InvokeHook(ctx context.Context, in HookInvocation) (HookResult, error)
}

// hooksDone runs the hooks registered for the deployment's current stage and
// reports whether all have succeeded; a failed one sets d.HookFailed for the
// caller. Without a HookInvoker, hooks are recorded as SUCCEEDED.
func (b *Backend) hooksDone(ctx context.Context, s *serviceRec, d *deploymentRec) bool {
	stage := d.LifecycleStage
	var hooks []LifecycleHook
	for _, h := range d.DeploymentConfiguration.LifecycleHooks {
		if slices.Contains(h.LifecycleStages, stage) {
			hooks = append(hooks, h)
		}
	}
	if len(hooks) == 0 {
		return true
	}
	if d.HookFailed != "" {
		return false // the caller rolls back, or fails the rollback
	}
	if !d.HooksStarted {
		d.HooksStarted = true
		b.dirty = true
		for _, h := range hooks {
			detail := HookDetail{HookID: randomID(21), TargetType: h.TargetType, TargetArn: h.HookTargetArn, Status: "IN_PROGRESS", TimeoutAction: "ROLLBACK"}
			if detail.TargetType == "" {
				detail.TargetType = "AWS_LAMBDA"
			}
			timeout := 24 * time.Hour
			if tc := h.TimeoutConfiguration; tc != nil {
				if tc.Action != "" {
					detail.TimeoutAction = tc.Action
				}
				if tc.TimeoutInMinutes != nil {
					timeout = time.Duration(*tc.TimeoutInMinutes) * time.Minute
				}
			}
			exp := awsproto.NewTimestamp(b.cfg.Clock.Now().Add(timeout))
			detail.ExpiresAt = &exp
			if b.cfg.Hooks == nil || detail.TargetType != "AWS_LAMBDA" {
				detail.Status = "SUCCEEDED"
				b.log.Info("lifecycle hook recorded, not invoked", "stage", stage, "target", h.HookTargetArn, "type", detail.TargetType)
				d.LifecycleHookDetails = append(d.LifecycleHookDetails, detail)
				continue
			}
			d.LifecycleHookDetails = append(d.LifecycleHookDetails, detail)
			d.HooksPending++
			inv := HookInvocation{
				ExecutionID: randomUUID(), LifecycleStage: stage, ResourceArn: d.ServiceDeploymentArn,
				ServiceArn: s.ServiceArn, TargetServiceRevisionArn: d.TargetRevision,
				TestTrafficWeights: b.weights(d, "test"), ProductionTrafficWeights: b.weights(d, "prod"),
				HookTargetArn: h.HookTargetArn, RoleArn: h.RoleArn, TargetType: detail.TargetType, HookDetails: h.HookDetails,
			}
			seq := d.StageSeq
			b.wg.Go(func() {
				b.runHook(ctx, d.ServiceDeploymentArn, detail.HookID, stage, seq, inv, b.cfg.Clock.Now().Add(b.cfg.Clock.Scale(timeout)))
			})
		}
	}
	return d.HooksPending == 0
}

// weights are the traffic weights by service revision a hook sees: empty
// in stages where no shift happens.
func (b *Backend) weights(d *deploymentRec, which string) map[string]float64 {
	out := map[string]float64{}
	if d.RollingBack {
		// Rollback re-invokes the traffic-shift hooks with the weights
		// back on the source revision.
		if (which == "test" && d.LifecycleStage == "TEST_TRAFFIC_SHIFT") || (which == "prod" && d.LifecycleStage == "PRODUCTION_TRAFFIC_SHIFT") {
			out[d.TargetRevision] = 0
			out[d.SourceRevision] = 100
		}
		return out
	}
	switch d.LifecycleStage {
	case "TEST_TRAFFIC_SHIFT":
		if which == "test" {
			out[d.TargetRevision] = 100
			if d.SourceRevision != "" {
				out[d.SourceRevision] = 0
			}
		}
	case "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT":
		if which == "prod" {
			out[d.TargetRevision] = 100
			if d.SourceRevision != "" {
				out[d.SourceRevision] = 0
			}
		}
	}
	return out
}

// runHook invokes one hook until it succeeds, fails or times out.
func (b *Backend) runHook(ctx context.Context, deployment, hookID, stage string, seq int, inv HookInvocation, deadline time.Time) {
	status, reason := "FAILED", ""
	for {
		res, err := b.cfg.Hooks.InvokeHook(ctx, inv)
		if err != nil {
			reason = "Service deployment rolled back because the lifecycle hook " + inv.HookTargetArn + " failed: " + err.Error()
			break
		}
		if res.HookStatus == "SUCCEEDED" {
			status = "SUCCEEDED"
			break
		}
		if res.HookStatus != "IN_PROGRESS" {
			reason = "Service deployment rolled back because the lifecycle hook " + inv.HookTargetArn + " returned " + res.HookStatus + " at " + stage + "."
			break
		}
		if len(res.HookDetails) > 0 {
			inv.HookDetails = res.HookDetails
		}
		delay := res.CallBackDelay
		if delay <= 0 {
			delay = 30 * time.Second
		}
		select {
		case <-b.cfg.Clock.After(delay):
		case <-ctx.Done():
			return
		}
		if b.cfg.Clock.Now().After(deadline) {
			status = "TIMED_OUT"
			reason = "Service deployment rolled back because the lifecycle hook " + inv.HookTargetArn + " timed out at " + stage + "."
			break
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.poke()
	d, ok := b.st.Deployments[deployment]
	if !ok {
		return
	}
	for i := range d.LifecycleHookDetails {
		if d.LifecycleHookDetails[i].HookID == hookID {
			d.LifecycleHookDetails[i].Status = status
			if status == "TIMED_OUT" && d.LifecycleHookDetails[i].TimeoutAction == "CONTINUE" {
				reason = ""
			}
		}
	}
	if d.StageSeq == seq && d.HooksPending > 0 {
		d.HooksPending--
		if reason != "" {
			d.HookFailed = reason
		}
	}
	b.dirty = true
}
