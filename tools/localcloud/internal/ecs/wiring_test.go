package ecs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestBlueGreenWiring checks the blue/green wiring as ECS does: at the API
// for what the request itself gets wrong, and when the deployment starts
// (rolling it back) for how the listener rules are set up.
func TestBlueGreenWiring(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.cluster()
	f := e.loadBalancer()
	td := e.taskDef("web")
	rule := func(prio int32, path string, actions []elbtypes.Action) string {
		r, err := e.elb.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: aws.String(f.listener), Priority: aws.Int32(prio),
			Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{path}}}},
			Actions:    actions})
		if err != nil {
			t.Fatalf("CreateRule: %v", err)
		}
		return aws.ToString(r.Rules[0].RuleArn)
	}
	blueOnly := rule(2, "/blue/*", []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(f.blue)}})
	fixed := rule(3, "/fixed/*", []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("200")}}})
	instTG, err := e.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("inst"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(5000), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumInstance})
	if err != nil {
		t.Fatal(err)
	}
	service := func(name, tg, alt, prod string) (*ecsapi.CreateServiceOutput, error) {
		return e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{
			Cluster: aws.String("c1"), ServiceName: aws.String(name), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(0), NetworkConfiguration: awsvpc,
			LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("app"), ContainerPort: aws.Int32(5000),
				AdvancedConfiguration: &types.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(alt), ProductionListenerRule: aws.String(prod), RoleArn: aws.String("arn:aws:iam::000000000000:role/r")}}},
			DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(0)},
		})
	}

	t.Run("instance target group is refused", func(t *testing.T) {
		_, err := service("inst", aws.ToString(instTG.TargetGroups[0].TargetGroupArn), f.green, f.rule)
		var ipe *types.InvalidParameterException
		if !errorsAs(err, &ipe) || !strings.Contains(err.Error(), "target type instance") {
			t.Errorf("CreateService(instance target group) = %v, want InvalidParameterException about the target type", err)
		}
	})
	tests := []struct {
		name, rule, reason string
	}{
		{"rule without the alternate group", blueOnly, "Both targetGroup and alternateTargetGroup must be associated"},
		{"rule with a non-forward action", fixed, "actions other than forward"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			name := "bad" + string(rune('a'+i))
			if _, err := service(name, f.blue, f.green, tt.rule); err != nil {
				t.Fatalf("CreateService = %v", err)
			}
			var d types.ServiceDeployment
			e.eventually("the deployment fails", 10*time.Second, func() bool {
				ls, err := e.ecs.ListServiceDeployments(ctx, &ecsapi.ListServiceDeploymentsInput{Cluster: aws.String("c1"), Service: aws.String(name)})
				if err != nil || len(ls.ServiceDeployments) == 0 {
					return false
				}
				out, _ := e.ecs.DescribeServiceDeployments(ctx, &ecsapi.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(ls.ServiceDeployments[0].ServiceDeploymentArn)}})
				d = out.ServiceDeployments[0]
				return d.Status == types.ServiceDeploymentStatusRollbackFailed
			})
			if d.Rollback == nil || !strings.Contains(aws.ToString(d.Rollback.Reason), tt.reason) {
				t.Errorf("rollback = %+v, want a reason containing %q", d.Rollback, tt.reason)
			}
		})
	}
}
