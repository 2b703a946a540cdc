package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/event"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
)

// Hook statuses.
const (
	HookSucceeded  = "SUCCEEDED"
	HookFailed     = "FAILED"
	HookInProgress = "IN_PROGRESS"
)

// Keys deploywatch keeps in hookDetails between IN_PROGRESS answers.
const (
	detailFirstAttempt = "smokeFirstAttempt"
	detailAttempts     = "smokeAttempts"
)

// smokeStage is where the smoke test runs: green has test traffic, and
// production has not moved.
const smokeStage = "POST_TEST_TRAFFIC_SHIFT"

// hook answers a lifecycle hook invocation. It fails a deployment only on
// evidence: a smoke-test check answered wrong, or green did not answer
// within the warm-up limit. A rollback re-invocation and the first
// deployment of a service always succeed, and an ECS error while looking
// answers IN_PROGRESS (ask again) rather than an error, which would roll
// back.
func (h *Handler) hook(ctx context.Context, log *slog.Logger, in *event.HookInvocation) (HookAnswer, error) {
	log = log.With("deploymentArn", in.ResourceArn, "stage", in.LifecycleStage)
	now := h.now()
	attempt := 1
	first := now
	if v, ok := in.HookDetails[detailAttempts]; ok {
		if n, err := strconv.Atoi(fmt.Sprint(v)); err == nil && n > 0 {
			attempt = n + 1
		}
	}
	if v, ok := in.HookDetails[detailFirstAttempt].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil && !t.After(now) {
			first = t
		}
	}
	ans, d := h.hookAnswer(ctx, log, in, now, first, attempt)
	if ans.HookDetails["smokeTest"] != nil {
		h.metrics.count("SmokeTest"+map[string]string{HookSucceeded: "Passed", HookFailed: "Failed", HookInProgress: "Waiting"}[ans.HookStatus],
			map[string]any{"deploymentArn": in.ResourceArn, "executionId": in.ExecutionID})
	}
	log.Info("lifecycle hook answered", "action", "hook-"+strings.ToLower(ans.HookStatus), "hookStatus", ans.HookStatus, "attempt", attempt, "details", ans.HookDetails)
	if d != nil {
		o := ledger.Observation{Key: d.key, EventID: fmt.Sprintf("hook:%s:%s:%d", in.ExecutionID, in.LifecycleStage, attempt), At: now,
			Source: "deploywatch", Kind: "lifecycle hook", Summary: in.LifecycleStage + " hook " + ans.HookStatus,
			Stages: []ledger.Transition{{Name: in.LifecycleStage, At: now}}, Detail: map[string]string{"hookStatus": ans.HookStatus}}
		for k, v := range ans.HookDetails {
			o.Detail[k] = fmt.Sprint(v)
		}
		if !validStage(in.LifecycleStage) {
			o.Stages = nil
		}
		// The answer matters more than its record: a ledger failure is
		// logged, not turned into a rollback.
		if _, err := h.ledger.Record(ctx, o); err != nil {
			log.Error("record hook answer", "err", err)
		}
	}
	return ans, nil
}

func (h *Handler) hookAnswer(ctx context.Context, log *slog.Logger, in *event.HookInvocation, now, first time.Time, attempt int) (HookAnswer, *deployment) {
	succeed := func(why string) HookAnswer {
		return HookAnswer{HookStatus: HookSucceeded, HookDetails: map[string]any{"deploywatch": why}}
	}
	if !h.ours(in.Service) {
		// Not ours to judge: failing it would roll back another service.
		log.Warn("lifecycle hook of another service", "action", "hook-not-watched")
		return succeed(fmt.Sprintf("service %s is not watched by this function (%s/%s)", in.Service, h.cfg.Cluster, h.cfg.Service)), nil
	}
	if in.RollingBack() {
		return succeed("rollback re-invocation (green has no production traffic): not tested"), h.bestEffortDescribe(ctx, log, in)
	}
	if in.LifecycleStage != smokeStage {
		return succeed("no check at " + in.LifecycleStage), h.bestEffortDescribe(ctx, log, in)
	}
	d, err := h.describeOne(ctx, in.ResourceArn)
	if err != nil {
		if errors.Is(err, errUnresolved) {
			return succeed("deployment unknown to ECS: nothing to test"), nil
		}
		log.Warn("describe deployment for the smoke test; asking ECS to call again", "err", err)
		return h.retryLater(now, first, attempt, "ECS: "+err.Error()), nil
	}
	if strings.HasPrefix(d.status(), "ROLLBACK_") || d.status() == "STOP_REQUESTED" {
		return succeed("deployment is " + d.status() + ": not tested"), d
	}
	firstDeployment := len(d.sd.SourceServiceRevisions) == 0
	if h.cfg.TestListenerURL == "" {
		return succeed("no test listener configured: smoke test skipped"), d
	}
	res := h.smoke(ctx)
	details := map[string]any{"checks": strings.Join(res.evidence, "; "), detailAttempts: attempt, detailFirstAttempt: first.UTC().Format(time.RFC3339Nano)}
	if t := d.sd.TargetServiceRevision; t != nil {
		details["green"] = fmt.Sprintf("%d of %d tasks running", t.RunningTaskCount, t.RequestedTaskCount)
	}
	switch {
	case res.ok:
		details["smokeTest"] = "passed"
		return HookAnswer{HookStatus: HookSucceeded, HookDetails: details}, d
	case firstDeployment:
		// A new service has nothing to roll back to: report, don't block.
		details["smokeTest"] = "failed on the first deployment of the service; not blocking it"
		return HookAnswer{HookStatus: HookSucceeded, HookDetails: details}, d
	case res.warming && now.Sub(first) < h.cfg.SmokeWarmup:
		details["smokeTest"] = "green still warming up"
		return HookAnswer{HookStatus: HookInProgress, CallBackDelay: int(h.cfg.CallBackDelay / time.Second), HookDetails: details}, d
	case res.warming:
		details["smokeTest"] = fmt.Sprintf("failed: green did not answer within the %s warm-up limit", h.cfg.SmokeWarmup)
	default:
		details["smokeTest"] = "failed"
	}
	return HookAnswer{HookStatus: HookFailed, HookDetails: details}, d
}

// retryLater answers IN_PROGRESS within the warm-up limit, then SUCCEEDED:
// our own trouble reaching ECS is no evidence against green.
func (h *Handler) retryLater(now, first time.Time, attempt int, why string) HookAnswer {
	details := map[string]any{"deploywatch": why, detailAttempts: attempt, detailFirstAttempt: first.UTC().Format(time.RFC3339Nano)}
	if now.Sub(first) < h.cfg.SmokeWarmup {
		return HookAnswer{HookStatus: HookInProgress, CallBackDelay: int(h.cfg.CallBackDelay / time.Second), HookDetails: details}
	}
	details["deploywatch"] = "could not check green within the warm-up limit; not blocking: " + why
	return HookAnswer{HookStatus: HookSucceeded, HookDetails: details}
}

func (h *Handler) bestEffortDescribe(ctx context.Context, log *slog.Logger, in *event.HookInvocation) *deployment {
	d, err := h.describeOne(ctx, in.ResourceArn)
	if err != nil {
		log.Warn("describe deployment to record the hook", "err", err)
		return nil
	}
	return d
}

type smokeResult struct {
	ok bool
	// warming is set when every failure looks like green not being ready
	// (no connection, or the load balancer's own 502/503/504).
	warming  bool
	evidence []string
}

// smoke makes the configured requests through the test listener, within
// the smoke budget and the invocation's deadline.
func (h *Handler) smoke(ctx context.Context) (res smokeResult) {
	ctx, span := h.startSmoke(ctx)
	defer func() { endSmoke(span, res) }()
	budget := h.cfg.SmokeBudget
	if dl, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(dl)-time.Second)
	}
	ctx, cancel := context.WithTimeout(ctx, max(budget, time.Second))
	defer cancel()
	res = smokeResult{ok: true, warming: true}
	for _, c := range h.cfg.SmokeChecks {
		start := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.cfg.TestListenerURL+c.Path, nil)
		if err != nil {
			res.ok, res.warming = false, false
			res.evidence = append(res.evidence, fmt.Sprintf("GET %s: %v", c.Path, err))
			continue
		}
		req.Header.Set("User-Agent", "deploywatch-smoke-test")
		resp, err := h.http.Do(req)
		took := time.Since(start).Round(time.Millisecond)
		if err != nil {
			res.ok = false
			res.evidence = append(res.evidence, fmt.Sprintf("GET %s: no answer after %s: %v", c.Path, took, err))
			continue
		}
		// Drained so the connection is reused; the body is not evidence.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		line := fmt.Sprintf("GET %s -> %d (want %d) in %s", c.Path, resp.StatusCode, c.Status, took)
		res.evidence = append(res.evidence, line)
		if resp.StatusCode == c.Status {
			continue
		}
		res.ok = false
		switch resp.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			res.warming = false
		}
	}
	if res.ok {
		res.warming = false
	}
	return res
}
