package cloudformation

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// funcs is a Provisioner made of functions; a nil update means every change
// needs a replacement (the schema's createOnly list says which).
type funcs struct {
	create func(ctx context.Context, r *Request) (Result, error)
	update func(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error)
	delete func(ctx context.Context, r *Request, prev Result) error
}

func (f funcs) Create(ctx context.Context, r *Request) (Result, error) { return f.create(ctx, r) }

func (f funcs) Update(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error) {
	if f.update == nil {
		return Result{}, fmt.Errorf("localcloud cannot update %s in place yet; change a property that replaces it, or delete and recreate the stack", r.Type)
	}
	return f.update(ctx, r, prev, old)
}

func (f funcs) Delete(ctx context.Context, r *Request, prev Result) error {
	return f.delete(ctx, r, prev)
}

// changedKeys lists the top-level properties that differ between old and new.
func changedKeys(old, next map[string]any) []string {
	var out []string
	seen := map[string]bool{}
	for k, v := range next {
		seen[k] = true
		if ov, ok := old[k]; !ok || !equalValues(ov, v) {
			out = append(out, k)
		}
	}
	for k := range old {
		if !seen[k] {
			out = append(out, k)
		}
	}
	return out
}

func elbv2Provisioners(c *elb.Client) map[string]Provisioner {
	const svc = "ElasticLoadBalancingV2"
	attrs := func(v any) ([]elbtypes.LoadBalancerAttribute, error) {
		var out []elbtypes.LoadBalancerAttribute
		return out, convert(v, &out)
	}
	tgAttrs := func(v any) ([]elbtypes.TargetGroupAttribute, error) {
		var out []elbtypes.TargetGroupAttribute
		return out, convert(v, &out)
	}
	lbResult := func(lb elbtypes.LoadBalancer) Result {
		arn := aws.ToString(lb.LoadBalancerArn)
		_, full, _ := strings.Cut(arn, ":loadbalancer/")
		return Result{PhysicalID: arn, Attributes: map[string]any{
			"LoadBalancerArn":       arn,
			"DNSName":               aws.ToString(lb.DNSName),
			"CanonicalHostedZoneID": aws.ToString(lb.CanonicalHostedZoneId),
			"LoadBalancerFullName":  full,
			"LoadBalancerName":      aws.ToString(lb.LoadBalancerName),
			"SecurityGroups":        toAnyList(lb.SecurityGroups),
		}}
	}
	tgResult := func(tg elbtypes.TargetGroup) Result {
		arn := aws.ToString(tg.TargetGroupArn)
		_, full, _ := strings.Cut(arn, ":")
		if i := strings.Index(arn, "targetgroup/"); i >= 0 {
			full = arn[i:]
		}
		return Result{PhysicalID: arn, Attributes: map[string]any{
			"TargetGroupArn":      arn,
			"TargetGroupFullName": full,
			"TargetGroupName":     aws.ToString(tg.TargetGroupName),
			"LoadBalancerArns":    toAnyList(tg.LoadBalancerArns),
		}}
	}
	return map[string]Provisioner{
		"AWS::ElasticLoadBalancingV2::LoadBalancer": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				var in elb.CreateLoadBalancerInput
				if err := convert(r.Properties, &in); err != nil {
					return Result{}, err
				}
				if in.Name == nil {
					in.Name = aws.String(strings.Trim(physicalName(r.StackName, r.LogicalID, 32, false), "-"))
				}
				out, err := c.CreateLoadBalancer(ctx, &in)
				if err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				lb := out.LoadBalancers[0]
				a, err := attrs(r.Properties["LoadBalancerAttributes"])
				if err != nil {
					return lbResult(lb), err
				}
				if len(a) > 0 {
					if _, err := c.ModifyLoadBalancerAttributes(ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: lb.LoadBalancerArn, Attributes: a}); err != nil {
						return lbResult(lb), handlerError(r.Type, svc, err)
					}
				}
				return lbResult(lb), nil
			},
			update: func(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error) {
				for _, k := range changedKeys(old, r.Properties) {
					switch k {
					case "LoadBalancerAttributes", "Tags":
					default:
						return Result{}, fmt.Errorf("localcloud cannot change %s of a load balancer in place yet", k)
					}
				}
				a, err := attrs(r.Properties["LoadBalancerAttributes"])
				if err != nil {
					return Result{}, err
				}
				if _, err := c.ModifyLoadBalancerAttributes(ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(prev.PhysicalID), Attributes: a}); err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				return prev, nil
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(prev.PhysicalID)})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
		"AWS::ElasticLoadBalancingV2::TargetGroup": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				var in elb.CreateTargetGroupInput
				if err := convert(r.Properties, &in); err != nil {
					return Result{}, err
				}
				if in.Name == nil {
					in.Name = aws.String(strings.Trim(physicalName(r.StackName, r.LogicalID, 32, false), "-"))
				}
				out, err := c.CreateTargetGroup(ctx, &in)
				if err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				tg := out.TargetGroups[0]
				a, err := tgAttrs(r.Properties["TargetGroupAttributes"])
				if err != nil {
					return tgResult(tg), err
				}
				if len(a) > 0 {
					if _, err := c.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn, Attributes: a}); err != nil {
						return tgResult(tg), handlerError(r.Type, svc, err)
					}
				}
				return tgResult(tg), nil
			},
			update: func(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error) {
				var in elb.ModifyTargetGroupInput
				if err := convert(r.Properties, &in); err != nil {
					return Result{}, err
				}
				in.TargetGroupArn = aws.String(prev.PhysicalID)
				if _, err := c.ModifyTargetGroup(ctx, &in); err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				a, err := tgAttrs(r.Properties["TargetGroupAttributes"])
				if err != nil {
					return Result{}, err
				}
				if len(a) > 0 {
					if _, err := c.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: in.TargetGroupArn, Attributes: a}); err != nil {
						return Result{}, handlerError(r.Type, svc, err)
					}
				}
				return prev, nil
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(prev.PhysicalID)})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
		"AWS::ElasticLoadBalancingV2::Listener": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				var in elb.CreateListenerInput
				if err := convert(r.Properties, &in); err != nil {
					return Result{}, err
				}
				out, err := c.CreateListener(ctx, &in)
				if err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				arn := aws.ToString(out.Listeners[0].ListenerArn)
				return Result{PhysicalID: arn, Attributes: map[string]any{"ListenerArn": arn}}, nil
			},
			update: func(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error) {
				var in elb.ModifyListenerInput
				if err := convert(r.Properties, &in); err != nil {
					return Result{}, err
				}
				in.ListenerArn = aws.String(prev.PhysicalID)
				if _, err := c.ModifyListener(ctx, &in); err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				return prev, nil
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: aws.String(prev.PhysicalID)})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
		"AWS::ElasticLoadBalancingV2::ListenerRule": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				var in elb.CreateRuleInput
				if err := convert(r.Properties, &in); err != nil {
					return Result{}, err
				}
				out, err := c.CreateRule(ctx, &in)
				if err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				arn := aws.ToString(out.Rules[0].RuleArn)
				return Result{PhysicalID: arn, Attributes: map[string]any{"RuleArn": arn, "IsDefault": false}}, nil
			},
			update: func(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error) {
				for _, k := range changedKeys(old, r.Properties) {
					if k == "Priority" {
						return Result{}, fmt.Errorf("localcloud cannot change a listener rule's Priority in place yet")
					}
				}
				var in elb.ModifyRuleInput
				if err := convert(r.Properties, &in); err != nil {
					return Result{}, err
				}
				in.RuleArn = aws.String(prev.PhysicalID)
				if _, err := c.ModifyRule(ctx, &in); err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				return prev, nil
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: aws.String(prev.PhysicalID)})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
	}
}
