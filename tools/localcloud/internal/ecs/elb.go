package ecs

import (
	"context"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/elbv2"
)

// ELBv2 adapts the ELBv2 backend to what ECS drives.
func ELBv2(b *elbv2.Backend) LoadBalancing { return elbAdapter{b} }

type elbAdapter struct{ b *elbv2.Backend }

func toELB(ts []Target) []elbv2.Target {
	out := make([]elbv2.Target, len(ts))
	for i, t := range ts {
		out[i] = elbv2.Target{ID: t.ID, Port: t.Port}
	}
	return out
}

func (a elbAdapter) RegisterTargets(ctx context.Context, tg string, ts []Target) error {
	return a.b.RegisterTargets(ctx, tg, toELB(ts))
}

func (a elbAdapter) DeregisterTargets(ctx context.Context, tg string, ts []Target) error {
	return a.b.DeregisterTargets(ctx, tg, toELB(ts))
}

func (a elbAdapter) TargetHealth(ctx context.Context, tg string) ([]TargetHealth, error) {
	hs, err := a.b.TargetHealth(ctx, tg)
	if err != nil {
		return nil, err
	}
	out := make([]TargetHealth, len(hs))
	for i, h := range hs {
		out[i] = TargetHealth{Target: Target{ID: h.Target.ID, Port: h.Target.Port}, State: h.State, Reason: h.Reason}
	}
	return out, nil
}

func (a elbAdapter) TargetGroup(ctx context.Context, arn string) (TargetGroupInfo, error) {
	info, err := a.b.TargetGroup(ctx, arn)
	if err != nil {
		return TargetGroupInfo{}, err
	}
	return TargetGroupInfo{ARN: info.ARN, TargetType: info.TargetType, Port: info.Port, DeregistrationDelay: info.DeregistrationDelay, LoadBalancerARNs: info.LoadBalancerARNs}, nil
}

func (a elbAdapter) Rule(ctx context.Context, arn string) (RuleInfo, error) {
	r, err := a.b.Rule(ctx, arn)
	if err != nil {
		return RuleInfo{}, err
	}
	out := RuleInfo{ARN: r.ARN, ListenerARN: r.ListenerARN, ForwardOnly: r.ForwardOnly}
	for _, tg := range r.TargetGroups {
		out.TargetGroups = append(out.TargetGroups, WeightedTargetGroup{TargetGroupARN: tg.TargetGroupARN, Weight: tg.Weight})
	}
	return out, nil
}

func (a elbAdapter) SetRuleForward(ctx context.Context, arn string, tgs []WeightedTargetGroup) error {
	in := make([]elbv2.WeightedTargetGroup, len(tgs))
	for i, tg := range tgs {
		in[i] = elbv2.WeightedTargetGroup{TargetGroupARN: tg.TargetGroupARN, Weight: tg.Weight}
	}
	return a.b.SetRuleForward(ctx, arn, in)
}
