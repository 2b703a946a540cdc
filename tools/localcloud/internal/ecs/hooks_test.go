package ecs_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecs"
)

// smokeHook is a lifecycle hook that smoke-tests green through the test
// listener, as the deploywatch Lambda does: IN_PROGRESS once, then
// SUCCEEDED when the test listener serves the expected version (FAILED
// otherwise).
type smokeHook struct {
	mu    sync.Mutex
	addr  string
	want  string
	calls []ecs.HookInvocation
}

func (h *smokeHook) InvokeHook(_ context.Context, in ecs.HookInvocation) (ecs.HookResult, error) {
	h.mu.Lock()
	h.calls = append(h.calls, in)
	n := len(h.calls)
	addr, want := h.addr, h.want
	h.mu.Unlock()
	if n%2 == 1 {
		return ecs.HookResult{HookStatus: "IN_PROGRESS", CallBackDelay: time.Second}, nil
	}
	var body struct{ Version string }
	if code, err := getJSON("http://"+addr+"/", &body); err != nil || code != 200 || body.Version != want {
		return ecs.HookResult{HookStatus: "FAILED"}, nil
	}
	return ecs.HookResult{HookStatus: "SUCCEEDED"}, nil
}

func (h *smokeHook) expect(v string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.want, h.calls = v, nil
}

func TestTestListenerAndLambdaHooks(t *testing.T) {
	hook := &smokeHook{}
	e := newEnvWith(t, t.TempDir(), func(c *ecs.Config) { c.Hooks = hook })
	e.cluster()
	f := e.loadBalancer()
	tl, err := e.elb.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(f.lb), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(81),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
			{TargetGroupArn: aws.String(f.blue), Weight: aws.Int32(100)}, {TargetGroupArn: aws.String(f.green), Weight: aws.Int32(0)}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := e.elb.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: tl.Listeners[0].ListenerArn})
	if err != nil || len(rules.Rules) != 1 {
		t.Fatalf("DescribeRules(test listener) = %v, %v", rules, err)
	}
	testRule := aws.ToString(rules.Rules[0].RuleArn)
	hook.addr, err = e.lb.ListenerAddr(aws.ToString(tl.Listeners[0].ListenerArn))
	if err != nil {
		t.Fatal(err)
	}
	hook.expect("v1")
	if _, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{
		Cluster: aws.String("c1"), ServiceName: aws.String("web"), TaskDefinition: aws.String(e.taskDef("web", "APP_VERSION=v1")), DesiredCount: aws.Int32(1), NetworkConfiguration: awsvpc,
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(f.blue), ContainerName: aws.String("app"), ContainerPort: aws.Int32(5000),
			AdvancedConfiguration: &types.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(f.green), ProductionListenerRule: aws.String(f.rule), TestListenerRule: aws.String(testRule), RoleArn: aws.String("arn:aws:iam::000000000000:role/r")}}},
		DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(0),
			LifecycleHooks: []types.DeploymentLifecycleHook{{HookTargetArn: aws.String("arn:aws:lambda:us-east-1:000000000000:function:smoke"), RoleArn: aws.String("arn:aws:iam::000000000000:role/hooks"),
				LifecycleStages: []types.DeploymentLifecycleHookStage{types.DeploymentLifecycleHookStagePostTestTrafficShift}}}},
	}); err != nil {
		t.Fatal(err)
	}
	if d := e.await(aws.ToString(e.latest("web").ServiceDeploymentArn), 20*time.Second, nil); d.Status != types.ServiceDeploymentStatusSuccessful {
		t.Fatalf("first deployment = %s (%s), want SUCCESSFUL", d.Status, aws.ToString(d.StatusReason))
	}

	hook.expect("v2")
	d := e.await(e.deploy(e.taskDef("web", "APP_VERSION=v2")), 30*time.Second, nil)
	if d.Status != types.ServiceDeploymentStatusSuccessful {
		t.Fatalf("deployment of v2 = %s (%s), want SUCCESSFUL: the hook saw v2 through the test listener", d.Status, aws.ToString(d.StatusReason))
	}
	if w := e.weights(testRule); w[f.green] != 100 || w[f.blue] != 0 {
		t.Errorf("test rule weights = %v, want green 100", w)
	}
	if len(d.LifecycleHookDetails) != 1 || d.LifecycleHookDetails[0].Status != types.DeploymentLifecycleHookStatusSucceeded {
		t.Errorf("lifecycleHookDetails = %+v, want one SUCCEEDED", d.LifecycleHookDetails)
	}
	hook.mu.Lock()
	calls := append([]ecs.HookInvocation(nil), hook.calls...)
	hook.mu.Unlock()
	if len(calls) != 2 || calls[0].LifecycleStage != "POST_TEST_TRAFFIC_SHIFT" || calls[0].ResourceArn != aws.ToString(d.ServiceDeploymentArn) || calls[0].TargetServiceRevisionArn != aws.ToString(d.TargetServiceRevision.Arn) {
		t.Errorf("hook calls = %+v, want two at POST_TEST_TRAFFIC_SHIFT for %s", calls, aws.ToString(d.ServiceDeploymentArn))
	}

	hook.expect("something else")
	d = e.await(e.deploy(e.taskDef("web", "APP_VERSION=v3")), 30*time.Second, nil)
	if d.Status != types.ServiceDeploymentStatusRollbackSuccessful || d.LifecycleHookDetails[0].Status != types.DeploymentLifecycleHookStatusFailed {
		t.Fatalf("deployment with a failing hook = %s, hooks %+v; want ROLLBACK_SUCCESSFUL and the hook FAILED", d.Status, d.LifecycleHookDetails)
	}
	if w := e.weights(testRule); w[f.green] != 100 {
		t.Errorf("test rule weights after rollback = %v, want back on green (live)", w)
	}
	if w := e.weights(f.rule); w[f.green] != 100 {
		t.Errorf("production weights after rollback = %v, want green (live) 100", w)
	}
}

// scriptedHook answers by stage and records every invocation.
type scriptedHook struct {
	mu     sync.Mutex
	answer func(ecs.HookInvocation) string
	calls  []ecs.HookInvocation
}

func (h *scriptedHook) InvokeHook(_ context.Context, in ecs.HookInvocation) (ecs.HookResult, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, in)
	return ecs.HookResult{HookStatus: h.answer(in)}, nil
}

func (h *scriptedHook) recorded() []ecs.HookInvocation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]ecs.HookInvocation(nil), h.calls...)
}

// TestRollbackReinvokesTrafficHooks: on rollback ECS invokes the hooks at
// TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT again, with the weights
// back on the source revision; a hook failing there fails the rollback.
func TestRollbackReinvokesTrafficHooks(t *testing.T) {
	var failing, failRollback atomic.Bool
	hook := &scriptedHook{}
	hook.answer = func(in ecs.HookInvocation) string {
		switch {
		case !failing.Load():
			return "SUCCEEDED"
		case in.LifecycleStage == "POST_SCALE_UP":
			return "FAILED"
		case failRollback.Load():
			return "FAILED"
		}
		return "SUCCEEDED"
	}
	e := newEnvWith(t, t.TempDir(), func(c *ecs.Config) { c.Hooks = hook })
	e.cluster()
	f := e.loadBalancer()
	lambda := aws.String("arn:aws:lambda:us-east-1:000000000000:function:h")
	if _, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{
		Cluster: aws.String("c1"), ServiceName: aws.String("web"), TaskDefinition: aws.String(e.taskDef("web", "APP_VERSION=v1")), DesiredCount: aws.Int32(1), NetworkConfiguration: awsvpc,
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(f.blue), ContainerName: aws.String("app"), ContainerPort: aws.Int32(5000),
			AdvancedConfiguration: &types.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(f.green), ProductionListenerRule: aws.String(f.rule), RoleArn: aws.String("arn:aws:iam::000000000000:role/r")}}},
		DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(0),
			LifecycleHooks: []types.DeploymentLifecycleHook{
				{HookTargetArn: lambda, RoleArn: lambda, LifecycleStages: []types.DeploymentLifecycleHookStage{types.DeploymentLifecycleHookStagePostScaleUp}},
				{HookTargetArn: lambda, RoleArn: lambda, LifecycleStages: []types.DeploymentLifecycleHookStage{types.DeploymentLifecycleHookStageTestTrafficShift, types.DeploymentLifecycleHookStageProductionTrafficShift}},
			}},
	}); err != nil {
		t.Fatal(err)
	}
	if d := e.await(aws.ToString(e.latest("web").ServiceDeploymentArn), 20*time.Second, nil); d.Status != types.ServiceDeploymentStatusSuccessful {
		t.Fatalf("first deployment = %s (%s)", d.Status, aws.ToString(d.StatusReason))
	}
	tests := []struct {
		name         string
		failRollback bool
		want         types.ServiceDeploymentStatus
	}{
		{"traffic hooks succeed on rollback", false, types.ServiceDeploymentStatusRollbackSuccessful},
		{"a traffic hook fails the rollback", true, types.ServiceDeploymentStatusRollbackFailed},
	}
	failing.Store(true)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			failRollback.Store(tt.failRollback)
			before := len(hook.recorded())
			d := e.await(e.deploy(e.taskDef("web", fmt.Sprintf("APP_VERSION=bad%d", i))), 30*time.Second, nil)
			if d.Status != tt.want {
				t.Fatalf("deployment = %s (%s), want %s", d.Status, aws.ToString(d.StatusReason), tt.want)
			}
			var stages []string
			for _, c := range hook.recorded()[before:] {
				if c.ResourceArn != aws.ToString(d.ServiceDeploymentArn) {
					continue
				}
				stages = append(stages, c.LifecycleStage)
				if c.LifecycleStage == "PRODUCTION_TRAFFIC_SHIFT" && (c.ProductionTrafficWeights[c.TargetServiceRevisionArn] != 0 || len(c.ProductionTrafficWeights) != 2) {
					t.Errorf("rollback invocation weights = %v, want the target at 0 and the source at 100", c.ProductionTrafficWeights)
				}
			}
			want := []string{"POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"}
			if tt.failRollback {
				want = want[:2] // the first re-invoked hook fails the rollback
			}
			if !slices.Equal(stages, want) {
				t.Errorf("hook invocations = %v, want %v", stages, want)
			}
		})
	}
}

// awaitingHook waits until the deployment has a PAUSE hook awaiting action
// and returns its ID.
func (e *env) awaitingHook(arn string) string {
	e.t.Helper()
	var id string
	e.eventually("a hook awaits action", 20*time.Second, func() bool {
		out, err := e.ecs.DescribeServiceDeployments(ctx, &ecsapi.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
		if err != nil || len(out.ServiceDeployments) != 1 {
			return false
		}
		for _, h := range out.ServiceDeployments[0].LifecycleHookDetails {
			if h.Status == types.DeploymentLifecycleHookStatusAwaitingAction {
				id = aws.ToString(h.HookId)
				return true
			}
		}
		return false
	})
	return id
}

func TestPauseHooks(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.cluster()
	f := e.loadBalancer()
	pause := func(action types.DeploymentLifecycleHookAction, minutes int32) *types.DeploymentConfiguration {
		return &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(0),
			LifecycleHooks: []types.DeploymentLifecycleHook{{TargetType: types.DeploymentLifecycleHookTargetTypePause,
				LifecycleStages:      []types.DeploymentLifecycleHookStage{types.DeploymentLifecycleHookStagePostScaleUp},
				TimeoutConfiguration: &types.DeploymentLifecycleHookTimeoutConfiguration{Action: action, TimeoutInMinutes: aws.Int32(minutes)}}}}
	}
	if _, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{
		Cluster: aws.String("c1"), ServiceName: aws.String("web"), TaskDefinition: aws.String(e.taskDef("web", "APP_VERSION=v1")), DesiredCount: aws.Int32(1), NetworkConfiguration: awsvpc,
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(f.blue), ContainerName: aws.String("app"), ContainerPort: aws.Int32(5000),
			AdvancedConfiguration: &types.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(f.green), ProductionListenerRule: aws.String(f.rule), RoleArn: aws.String("arn:aws:iam::000000000000:role/r")}}},
		DeploymentConfiguration: pause(types.DeploymentLifecycleHookActionRollback, 1440),
	}); err != nil {
		t.Fatal(err)
	}
	cont := func(arn, hook string, action types.DeploymentLifecycleHookAction) error {
		_, err := e.ecs.ContinueServiceDeployment(ctx, &ecsapi.ContinueServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn), HookId: aws.String(hook), Action: action})
		return err
	}
	first := aws.ToString(e.latest("web").ServiceDeploymentArn)
	if err := cont(first, e.awaitingHook(first), types.DeploymentLifecycleHookActionContinue); err != nil {
		t.Fatalf("ContinueServiceDeployment(CONTINUE) = %v", err)
	}
	if d := e.await(first, 20*time.Second, nil); d.Status != types.ServiceDeploymentStatusSuccessful {
		t.Fatalf("first deployment = %s (%s), want SUCCESSFUL after CONTINUE", d.Status, aws.ToString(d.StatusReason))
	}
	if !e.events.find("ECS Hook State Change", func(m map[string]any) bool {
		return m["eventName"] == "HOOK_AWAITING_ACTION" && m["serviceDeploymentArn"] == first
	}) {
		t.Errorf("no HOOK_AWAITING_ACTION event")
	}

	second := e.deploy(e.taskDef("web", "APP_VERSION=v2"))
	hook := e.awaitingHook(second)
	if err := cont(second, hook, types.DeploymentLifecycleHookActionRollback); err != nil {
		t.Fatalf("ContinueServiceDeployment(ROLLBACK) = %v", err)
	}
	d := e.await(second, 20*time.Second, nil)
	if d.Status != types.ServiceDeploymentStatusRollbackSuccessful || d.LifecycleHookDetails[0].Status != types.DeploymentLifecycleHookStatusFailed {
		t.Fatalf("deployment after ROLLBACK = %s, hooks %+v; want ROLLBACK_SUCCESSFUL with the hook FAILED", d.Status, d.LifecycleHookDetails)
	}
	var conflict *types.ConflictException
	if err := cont(second, hook, types.DeploymentLifecycleHookActionContinue); !errorsAs(err, &conflict) {
		t.Errorf("ContinueServiceDeployment(finished) = %v, want ConflictException", err)
	}

	// A one-minute timeout whose action is CONTINUE lets the deployment go on.
	if _, err := e.ecs.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: aws.String("c1"), Service: aws.String("web"),
		TaskDefinition: aws.String(e.taskDef("web", "APP_VERSION=v3")), DeploymentConfiguration: pause(types.DeploymentLifecycleHookActionContinue, 1)}); err != nil {
		t.Fatal(err)
	}
	d = e.await(aws.ToString(e.latest("web").ServiceDeploymentArn), 20*time.Second, nil)
	if d.Status != types.ServiceDeploymentStatusSuccessful || d.LifecycleHookDetails[0].Status != types.DeploymentLifecycleHookStatusTimedOut {
		t.Errorf("deployment with a CONTINUE timeout = %s, hooks %+v; want SUCCESSFUL with the hook TIMED_OUT", d.Status, d.LifecycleHookDetails)
	}
}
