// Package drift reads the state ECS owns in an existing environment stack:
// the forward weights of the production and test listener rules, which ECS
// rewrites on every blue/green deployment. The renderer sends them back
// unchanged (stack.Inputs.Live) so that updating the stack never moves
// traffic (DESIGN §3).
package drift

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// stackResources is the CloudFormation call Reader makes.
type stackResources interface {
	DescribeStackResources(ctx context.Context, in *cloudformation.DescribeStackResourcesInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStackResourcesOutput, error)
}

// rules is the Elastic Load Balancing call Reader makes.
type rules interface {
	DescribeRules(ctx context.Context, in *elasticloadbalancingv2.DescribeRulesInput, opts ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeRulesOutput, error)
}

// Reader reads the live forward configuration of an environment stack.
type Reader struct {
	CloudFormation stackResources
	ELB            rules
	// Logger is optional; nil discards.
	Logger *slog.Logger
}

func (r *Reader) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// NewReader returns a Reader using the given SDK clients.
func NewReader(cf *cloudformation.Client, elb *elasticloadbalancingv2.Client, logger *slog.Logger) *Reader {
	return &Reader{CloudFormation: cf, ELB: elb, Logger: logger.With("subsystem", "drift")}
}

// Read returns the live weights of the stack's listener rules. A stack that
// does not exist yet has none: the zero Live, which renders the initial
// weights.
func (r *Reader) Read(ctx context.Context, stackName string) (stack.Live, error) {
	out, err := r.CloudFormation.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: &stackName})
	if err != nil {
		if notFound(err) {
			r.log().InfoContext(ctx, "stack does not exist yet; rendering the initial weights", "stack", stackName)
			return stack.Live{}, nil
		}
		return stack.Live{}, fmt.Errorf("describe resources of stack %s: %w", stackName, err)
	}
	physical := map[string]string{}
	for _, res := range out.StackResources {
		if res.LogicalResourceId != nil && res.PhysicalResourceId != nil {
			physical[*res.LogicalResourceId] = *res.PhysicalResourceId
		}
	}
	blue, green := physical[stack.LogicalBlueTargetGroup], physical[stack.LogicalGreenTargetGroup]
	var live stack.Live
	for _, rule := range []struct {
		logical string
		into    **stack.Weights
	}{{stack.LogicalProductionRule, &live.Production}, {stack.LogicalTestRule, &live.Test}} {
		arn, ok := physical[rule.logical]
		if !ok {
			continue // not created yet (or no test listener): initial weights
		}
		if blue == "" || green == "" {
			return stack.Live{}, fmt.Errorf("read live weights of stack %s: it has rule %s but not both target groups; wait for the stack operation to finish, then retry", stackName, rule.logical)
		}
		w, err := r.ruleWeights(ctx, arn, blue, green)
		if err != nil {
			return stack.Live{}, err
		}
		r.log().DebugContext(ctx, "live weights", "rule", rule.logical, "blue", w.Blue, "green", w.Green)
		*rule.into = &w
	}
	return live, nil
}

func (r *Reader) ruleWeights(ctx context.Context, ruleArn, blue, green string) (stack.Weights, error) {
	out, err := r.ELB.DescribeRules(ctx, &elasticloadbalancingv2.DescribeRulesInput{RuleArns: []string{ruleArn}})
	if err != nil {
		return stack.Weights{}, fmt.Errorf("describe listener rule %s: %w", ruleArn, err)
	}
	if len(out.Rules) != 1 {
		return stack.Weights{}, fmt.Errorf("describe listener rule %s: got %d rules, want 1", ruleArn, len(out.Rules))
	}
	forward := map[string]int{}
	for _, a := range out.Rules[0].Actions {
		if a.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
			for _, tg := range a.ForwardConfig.TargetGroups {
				weight := 1 // ELB's default weight
				if tg.Weight != nil {
					weight = int(*tg.Weight)
				}
				if tg.TargetGroupArn != nil {
					forward[*tg.TargetGroupArn] = weight
				}
			}
		} else if a.TargetGroupArn != nil {
			forward[*a.TargetGroupArn] = 100
		}
	}
	if len(forward) == 0 {
		return stack.Weights{}, fmt.Errorf("read live weights of rule %s: it has no forward action; restore it to forward to the blue and green target groups", ruleArn)
	}
	w, err := stack.WeightsOf(forward, blue, green)
	if err != nil {
		return stack.Weights{}, fmt.Errorf("rule %s: %w", ruleArn, err)
	}
	return w, nil
}

// notFound tells CloudFormation's "stack does not exist" apart from other
// failures; it is a ValidationError, like many others.
func notFound(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "ValidationError" && strings.Contains(api.ErrorMessage(), "does not exist")
}
