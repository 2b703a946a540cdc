package ecs

import (
	"context"
	"slices"
	"sort"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

var deploymentStatuses = []string{"PENDING", "SUCCESSFUL", "STOPPED", "STOP_REQUESTED", "IN_PROGRESS", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"}

type listServiceDeploymentsIn struct {
	Cluster   string   `json:"cluster"`
	Service   *string  `json:"service"`
	Status    []string `json:"status"`
	CreatedAt *struct {
		Before *awsproto.Timestamp `json:"before"`
		After  *awsproto.Timestamp `json:"after"`
	} `json:"createdAt"`
	MaxResults *int32 `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

type deploymentBrief struct {
	ServiceDeploymentArn     string              `json:"serviceDeploymentArn"`
	ServiceArn               string              `json:"serviceArn"`
	ClusterArn               string              `json:"clusterArn"`
	TargetServiceRevisionArn string              `json:"targetServiceRevisionArn"`
	Status                   string              `json:"status"`
	StatusReason             string              `json:"statusReason,omitempty"`
	CreatedAt                awsproto.Timestamp  `json:"createdAt"`
	StartedAt                *awsproto.Timestamp `json:"startedAt,omitempty"`
	FinishedAt               *awsproto.Timestamp `json:"finishedAt,omitempty"`
}

func (b *Backend) apiListServiceDeployments(_ context.Context, in *listServiceDeploymentsIn) (any, error) {
	if in.Service == nil {
		return nil, required("service")
	}
	for _, st := range in.Status {
		if !slices.Contains(deploymentStatuses, st) {
			return nil, invalidParam("Invalid status filter %s.", st)
		}
	}
	c, err := b.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	s, ok := b.st.Services[serviceKey(c.ClusterName, *in.Service)]
	if !ok {
		return nil, serviceNotFound()
	}
	var all []*deploymentRec
	for _, d := range b.st.Deployments {
		if d.ServiceID != s.key() || (len(in.Status) > 0 && !slices.Contains(in.Status, d.Status)) {
			continue
		}
		if in.CreatedAt != nil {
			if in.CreatedAt.Before != nil && !d.CreatedAt.Before(in.CreatedAt.Before.Time) {
				continue
			}
			if in.CreatedAt.After != nil && !d.CreatedAt.After(in.CreatedAt.After.Time) {
				continue
			}
		}
		all = append(all, d)
	}
	// Newest first, as ECS lists them.
	sort.Slice(all, func(i, j int) bool { return all[i].CreatedAt.After(all[j].CreatedAt.Time) })
	briefs := make([]deploymentBrief, len(all))
	for i, d := range all {
		briefs[i] = deploymentBrief{
			ServiceDeploymentArn: d.ServiceDeploymentArn, ServiceArn: d.ServiceArn, ClusterArn: d.ClusterArn,
			TargetServiceRevisionArn: d.TargetRevision, Status: d.Status, StatusReason: d.StatusReason,
			CreatedAt: d.CreatedAt, StartedAt: d.StartedAt, FinishedAt: d.FinishedAt,
		}
	}
	page, next, err := paginate(briefs, in.MaxResults, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	return map[string]any{"serviceDeployments": page, "nextToken": next}, nil
}

// deploymentView fills a deployment's revision summaries with live counts
// and the requested traffic weights.
func (b *Backend) deploymentView(d *deploymentRec) ServiceDeployment {
	out := d.ServiceDeployment
	prodTarget, testTarget := 0.0, 0.0
	switch {
	case d.RollingBack:
	case d.WeightsMoved:
		prodTarget, testTarget = 100, 100
	case d.TestShifted:
		testTarget = 100
	}
	if d.Status == "SUCCESSFUL" || (d.SourceRevision == "" && !d.RollingBack) {
		prodTarget, testTarget = 100, 100
	}
	summary := func(rev string, requested int32, prod, test float64) RevisionSummary {
		running, pending := b.revisionCounts(rev)
		rs := RevisionSummary{Arn: rev, RequestedTaskCount: requested, RunningTaskCount: running, PendingTaskCount: pending}
		if d.Strategy == "BLUE_GREEN" {
			rs.RequestedProductionTrafficWeight, rs.RequestedTestTrafficWeight = &prod, &test
		}
		return rs
	}
	var targetReq, sourceReq int32
	for _, w := range b.wantsFor(d) {
		switch w.rev {
		case d.TargetRevision:
			targetReq = w.count
		case d.SourceRevision:
			sourceReq = w.count
		}
	}
	t := summary(d.TargetRevision, targetReq, prodTarget, testTarget)
	out.TargetServiceRevision = &t
	if d.SourceRevision != "" {
		out.SourceServiceRevisions = []RevisionSummary{summary(d.SourceRevision, sourceReq, 100-prodTarget, 100-testTarget)}
	} else {
		out.SourceServiceRevisions = nil
	}
	return out
}

// wantsFor is what the scheduler wants for a deployment's service now.
func (b *Backend) wantsFor(d *deploymentRec) []want {
	s := b.st.Services[d.ServiceID]
	if s == nil {
		return nil
	}
	if d.done() {
		if s.Deployment == d.ServiceDeploymentArn && s.Revision != "" {
			return []want{{rev: s.Revision, count: s.DesiredCount}}
		}
		return nil
	}
	return b.wants(s, d)
}

type describeServiceDeploymentsIn struct {
	ServiceDeploymentArns []string `json:"serviceDeploymentArns"`
}

func (b *Backend) apiDescribeServiceDeployments(_ context.Context, in *describeServiceDeploymentsIn) (any, error) {
	if in.ServiceDeploymentArns == nil {
		return nil, required("serviceDeploymentArns")
	}
	if len(in.ServiceDeploymentArns) == 0 || len(in.ServiceDeploymentArns) > 20 {
		return nil, invalidParam("serviceDeploymentArns must have between 1 and 20 items.")
	}
	out := []ServiceDeployment{}
	fails := []failure{}
	for _, arn := range in.ServiceDeploymentArns {
		d, ok := b.st.Deployments[arn]
		if !ok {
			fails = append(fails, failure{Arn: arn, Reason: "MISSING", Detail: "The service deployment does not exist."})
			continue
		}
		out = append(out, b.deploymentView(d))
	}
	return map[string]any{"serviceDeployments": out, "failures": fails}, nil
}

type stopServiceDeploymentIn struct {
	ServiceDeploymentArn *string `json:"serviceDeploymentArn"`
	StopType             string  `json:"stopType"`
}

func (b *Backend) apiStopServiceDeployment(_ context.Context, in *stopServiceDeploymentIn) (any, error) {
	if in.ServiceDeploymentArn == nil {
		return nil, required("serviceDeploymentArn")
	}
	switch in.StopType {
	case "", "ROLLBACK":
	case "ABORT":
		return nil, invalidParam("The stopType ABORT is not supported; the valid value is ROLLBACK.")
	default:
		return nil, invalidParam("stopType must be ROLLBACK.")
	}
	d, ok := b.st.Deployments[*in.ServiceDeploymentArn]
	if !ok {
		return nil, apiErr(CodeServiceDeploymentNotFound, "The service deployment %s does not exist.", *in.ServiceDeploymentArn)
	}
	s := b.st.Services[d.ServiceID]
	switch d.Status {
	case "PENDING", "IN_PROGRESS":
		if d.SourceRevision == "" {
			return nil, apiErr(CodeConflict, "The service deployment %s cannot be rolled back: the service has no previous service revision.", d.ServiceDeploymentArn)
		}
		b.setDeploymentStatus(s, d, "ROLLBACK_REQUESTED", "Rollback requested with StopServiceDeployment.")
		b.poke()
	case "STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS":
		// Already stopping or rolling back: the request changes nothing.
	default:
		return nil, apiErr(CodeConflict, "The service deployment %s is %s and cannot be stopped. Roll back a finished deployment with UpdateService and the previous task definition.", d.ServiceDeploymentArn, d.Status)
	}
	return map[string]any{"serviceDeploymentArn": d.ServiceDeploymentArn}, nil
}

type describeServiceRevisionsIn struct {
	ServiceRevisionArns []string `json:"serviceRevisionArns"`
}

func (b *Backend) apiDescribeServiceRevisions(_ context.Context, in *describeServiceRevisionsIn) (any, error) {
	if in.ServiceRevisionArns == nil {
		return nil, required("serviceRevisionArns")
	}
	if len(in.ServiceRevisionArns) == 0 || len(in.ServiceRevisionArns) > 20 {
		return nil, invalidParam("serviceRevisionArns must have between 1 and 20 items.")
	}
	out := []ServiceRevision{}
	fails := []failure{}
	for _, arn := range in.ServiceRevisionArns {
		r, ok := b.st.Revisions[arn]
		if !ok {
			fails = append(fails, failure{Arn: arn, Reason: "MISSING", Detail: "The service revision does not exist."})
			continue
		}
		out = append(out, r.ServiceRevision)
	}
	return map[string]any{"serviceRevisions": out, "failures": fails}, nil
}

type continueServiceDeploymentIn struct {
	ServiceDeploymentArn *string `json:"serviceDeploymentArn"`
	HookID               *string `json:"hookId"`
	Action               string  `json:"action"`
}

func (b *Backend) apiContinueServiceDeployment(_ context.Context, in *continueServiceDeploymentIn) (any, error) {
	if in.ServiceDeploymentArn == nil {
		return nil, required("serviceDeploymentArn")
	}
	if in.HookID == nil {
		return nil, required("hookId")
	}
	action := in.Action
	switch action {
	case "":
		action = "CONTINUE"
	case "CONTINUE", "ROLLBACK":
	default:
		return nil, invalidParam("action must be CONTINUE or ROLLBACK.")
	}
	d, ok := b.st.Deployments[*in.ServiceDeploymentArn]
	if !ok {
		return nil, apiErr(CodeServiceDeploymentNotFound, "The service deployment %s does not exist.", *in.ServiceDeploymentArn)
	}
	if err := b.continueHook(d, *in.HookID, action); err != nil {
		return nil, err
	}
	return map[string]any{"serviceDeploymentArn": d.ServiceDeploymentArn}, nil
}
