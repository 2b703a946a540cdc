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
		if d.HookSeq == nil {
			d.HookSeq = map[string]int{}
		}
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
			deadline := b.cfg.Clock.Now().Add(b.cfg.Clock.Scale(timeout))
			exp := awsproto.NewTimestamp(deadline)
			detail.ExpiresAt = &exp
			seq := d.StageSeq
			switch {
			case detail.TargetType == "PAUSE":
				// Waits for ContinueServiceDeployment, or the timeout.
				detail.Status = "AWAITING_ACTION"
				d.LifecycleHookDetails = append(d.LifecycleHookDetails, detail)
				d.HooksPending++
				d.HookSeq[detail.HookID] = seq
				b.hookEvent(s, d, detail, "HOOK_AWAITING_ACTION")
				b.log.Info("lifecycle hook awaiting action", "stage", stage, "hookId", detail.HookID, "deployment", d.ServiceDeploymentArn)
				id := detail.HookID
				b.wg.Go(func() {
					select {
					case <-b.cfg.Clock.After(timeout):
					case <-ctx.Done():
						return
					}
					b.mu.Lock()
					defer b.mu.Unlock()
					b.finishHookLocked(d.ServiceDeploymentArn, id, "TIMED_OUT", "Service deployment rolled back because the PAUSE lifecycle hook timed out at "+stage+".")
				})
			case b.cfg.Hooks == nil:
				detail.Status = "SUCCEEDED"
				b.log.Info("lifecycle hook recorded, not invoked: no hook invoker", "stage", stage, "target", h.HookTargetArn)
				d.LifecycleHookDetails = append(d.LifecycleHookDetails, detail)
				b.hookEvent(s, d, detail, "HOOK_SUCCEEDED")
			default:
				d.LifecycleHookDetails = append(d.LifecycleHookDetails, detail)
				d.HooksPending++
				d.HookSeq[detail.HookID] = seq
				b.hookEvent(s, d, detail, "HOOK_IN_PROGRESS")
				inv := HookInvocation{
					ExecutionID: randomUUID(), LifecycleStage: stage, ResourceArn: d.ServiceDeploymentArn,
					ServiceArn: s.ServiceArn, TargetServiceRevisionArn: d.TargetRevision,
					TestTrafficWeights: b.weights(d, "test"), ProductionTrafficWeights: b.weights(d, "prod"),
					HookTargetArn: h.HookTargetArn, RoleArn: h.RoleArn, TargetType: detail.TargetType, HookDetails: h.HookDetails,
				}
				b.wg.Go(func() { b.runHook(ctx, d.ServiceDeploymentArn, detail.HookID, stage, inv, deadline) })
			}
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
func (b *Backend) runHook(ctx context.Context, deployment, hookID, stage string, inv HookInvocation, deadline time.Time) {
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
	b.finishHookLocked(deployment, hookID, status, reason)
}

// finishHookLocked records a hook's outcome. A failure (or a timeout whose
// action is ROLLBACK) sets HookFailed, if the hook belongs to the stage the
// deployment is still in. Callers hold b.mu.
func (b *Backend) finishHookLocked(deployment, hookID, status, reason string) {
	d, ok := b.st.Deployments[deployment]
	if !ok {
		return
	}
	seq, pending := d.HookSeq[hookID]
	if !pending {
		return // already finished
	}
	delete(d.HookSeq, hookID)
	s := b.st.Services[d.ServiceID]
	for i := range d.LifecycleHookDetails {
		h := &d.LifecycleHookDetails[i]
		if h.HookID != hookID {
			continue
		}
		h.Status = status
		if status == "SUCCEEDED" || (status == "TIMED_OUT" && h.TimeoutAction == "CONTINUE") {
			reason = ""
		}
		if s != nil {
			b.hookEvent(s, d, *h, "HOOK_"+status)
		}
	}
	if d.StageSeq == seq && d.HooksPending > 0 {
		d.HooksPending--
		if reason != "" {
			d.HookFailed = reason
		}
	}
	b.dirty = true
	b.poke()
}

// hookEvent emits an "ECS Hook State Change" event.
func (b *Backend) hookEvent(s *serviceRec, d *deploymentRec, h HookDetail, name string) {
	eventType := "INFO"
	if name == "HOOK_FAILED" || name == "HOOK_TIMED_OUT" {
		eventType = "ERROR"
	}
	detail := map[string]any{
		"eventType": eventType, "eventName": name, "hookId": h.HookID, "hookType": h.TargetType,
		"lifecycleStage": d.LifecycleStage, "clusterArn": s.ClusterArn, "serviceArn": s.ServiceArn,
		"serviceDeploymentArn": d.ServiceDeploymentArn, "updatedAt": b.cfg.Clock.Now().UTC().Format(time.RFC3339Nano),
	}
	if h.ExpiresAt != nil {
		detail["expiresAt"] = h.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	b.emit("ECS Hook State Change", d.ServiceDeploymentArn, detail)
}

// continueHook resolves a PAUSE hook awaiting action.
func (b *Backend) continueHook(d *deploymentRec, hookID, action string) error {
	if d.Status != "IN_PROGRESS" {
		return apiErr(CodeConflict, "The service deployment %s is %s; only an IN_PROGRESS deployment can be continued.", d.ServiceDeploymentArn, d.Status)
	}
	for _, h := range d.LifecycleHookDetails {
		if h.HookID != hookID {
			continue
		}
		if h.Status != "AWAITING_ACTION" {
			return apiErr(CodeConflict, "The lifecycle hook %s is %s, not AWAITING_ACTION.", hookID, h.Status)
		}
		if action == "ROLLBACK" {
			b.finishHookLocked(d.ServiceDeploymentArn, hookID, "FAILED", "Service deployment rolled back because ContinueServiceDeployment asked for a rollback at "+d.LifecycleStage+".")
		} else {
			b.finishHookLocked(d.ServiceDeploymentArn, hookID, "SUCCEEDED", "")
		}
		return nil
	}
	return invalidParam("The lifecycle hook %s does not belong to the service deployment %s.", hookID, d.ServiceDeploymentArn)
}
