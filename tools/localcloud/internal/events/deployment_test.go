package events_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr/ecrtest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/elbv2"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/events"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/lambda"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/taskrun"
)

// TestBlueGreenDeploymentEventsAndHooks runs real blue/green deployments
// (ECS, ELBv2, task processes) wired to EventBridge and Lambda as the
// server wires them: ECS reports to EmitECS and invokes hooks through the
// Lambda backend. Rules send the deployment and hook state events to a
// recording function; a hook function answers IN_PROGRESS then SUCCEEDED
// (the deployment continues), then FAILED (it rolls back).
func TestBlueGreenDeploymentEventsAndHooks(t *testing.T) {
	t.Parallel()
	start := time.Now()
	const scale = 0.02
	dir := t.TempDir()
	clk := clock.New(scale)

	// The app image, in a registry the task runner pulls from.
	bin, err := ecrtest.GoBuild("../taskrun/testdata/testapp", dir)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := ecr.New(ecr.Config{Dir: filepath.Join(dir, "registry"), Clock: clock.New(1)})
	if err != nil {
		t.Fatal(err)
	}
	regSrv := httptest.NewServer(reg.Registry())
	t.Cleanup(regSrv.Close)
	if _, err := reg.CreateRepository("web", "", false, nil); err != nil {
		t.Fatal(err)
	}
	img, err := ecrtest.Image(bin)
	if err != nil {
		t.Fatal(err)
	}
	image, err := ecrtest.Push(img, strings.TrimPrefix(regSrv.URL, "http://"), "web", "v1")
	if err != nil {
		t.Fatal(err)
	}
	runner, err := taskrun.New(taskrun.Config{Dir: filepath.Join(dir, "tasks"), Images: reg, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runner.Close() })
	t.Logf("image and runner ready in %v", time.Since(start).Round(time.Millisecond))

	lb, err := elbv2.New(elbv2.Config{Clock: clk, Store: state.Store{}, PortOffset: -1})
	if err != nil {
		t.Fatal(err)
	}
	lam, err := lambda.New(lambda.Config{CodeDir: filepath.Join(dir, "lambda"), S3: objects{"code/fn.zip": testZip}})
	if err != nil {
		t.Fatal(err)
	}
	bus, err := events.New(events.Config{Clock: clk, Lambda: lam})
	if err != nil {
		t.Fatal(err)
	}
	eb, err := ecs.New(ecs.Config{
		Clock: clk, Store: state.Store{}, Runner: runner, ELB: ecs.ELBv2(lb), Hooks: lam, OnEvent: bus.EmitECS,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	eb.Start(runCtx)
	// Cleanups run last first: ECS stops while the server answers, then the
	// server closes, then the backends behind it.
	t.Cleanup(func() {
		bus.Close()
		lam.Close()
		lb.Close()
	})
	ep := awsprototest.Serve(t, eb.Register, lb.Register, lam.Register, bus.Register)
	lam.SetEndpoint(ep)
	sdk := awsprototest.Config(ep)
	ecsc, elbc, ebc, lamc := ecsapi.NewFromConfig(sdk), elb.NewFromConfig(sdk), eventbridge.NewFromConfig(sdk), awslambda.NewFromConfig(sdk)
	t.Cleanup(func() {
		_, _ = ecsc.DeleteService(ctx, &ecsapi.DeleteServiceInput{Cluster: aws.String("c1"), Service: aws.String("web"), Force: aws.Bool(true)})
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			ts, err := ecsc.ListTasks(ctx, &ecsapi.ListTasksInput{Cluster: aws.String("c1")})
			if err != nil || len(ts.TaskArns) == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		eb.Wait()
	})

	// Two functions: one records the deployment events a rule sends it, the
	// other is the lifecycle hook.
	function := func(name string, vars map[string]string) (string, string) {
		record := filepath.Join(dir, name+".jsonl")
		vars["RECORD_FILE"] = record
		out, err := lamc.CreateFunction(ctx, &awslambda.CreateFunctionInput{
			FunctionName: aws.String(name), Runtime: lambdatypes.RuntimeProvidedal2023, Role: aws.String("arn:aws:iam::000000000000:role/fn"),
			Code: &lambdatypes.FunctionCode{S3Bucket: aws.String("code"), S3Key: aws.String("fn.zip")}, Environment: &lambdatypes.Environment{Variables: vars},
		})
		if err != nil {
			t.Fatalf("CreateFunction(%s): %v", name, err)
		}
		return aws.ToString(out.FunctionArn), record
	}
	watchARN, watchRecord := function("watch", map[string]string{})
	hookARN, hookRecord := function("hook", map[string]string{"HOOK_SEQUENCE": "IN_PROGRESS,SUCCEEDED,SUCCEEDED"})
	if _, err := lamc.AddPermission(ctx, &awslambda.AddPermissionInput{FunctionName: aws.String("watch"), StatementId: aws.String("events"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("events.amazonaws.com"), SourceArn: aws.String("arn:aws:events:us-east-1:000000000000:rule/deployments")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ebc.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("deployments"),
		EventPattern: aws.String(`{"source":["aws.ecs"],"detail-type":["ECS Deployment State Change"],"resources":[{"prefix":"arn:aws:ecs:us-east-1:000000000000:service/c1/"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ebc.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("deployments"), Targets: []types.Target{{Id: aws.String("watch"), Arn: aws.String(watchARN)}}}); err != nil {
		t.Fatal(err)
	}
	// Hook state changes, filtered on the cluster as the ECS docs advise.
	if _, err := lamc.AddPermission(ctx, &awslambda.AddPermissionInput{FunctionName: aws.String("watch"), StatementId: aws.String("hooks"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("events.amazonaws.com"), SourceArn: aws.String("arn:aws:events:us-east-1:000000000000:rule/hooks")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ebc.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("hooks"),
		EventPattern: aws.String(`{"source":["aws.ecs"],"detail-type":["ECS Hook State Change"],"detail":{"clusterArn":["arn:aws:ecs:us-east-1:000000000000:cluster/c1"]}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ebc.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("hooks"), Targets: []types.Target{{Id: aws.String("watch"), Arn: aws.String(watchARN)}}}); err != nil {
		t.Fatal(err)
	}

	// The load balancer: a rule forwarding to blue (100) and green (0).
	lbo, err := elbc.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		t.Fatal(err)
	}
	var tgs []string
	for _, name := range []string{"web-blue", "web-green"} {
		tg, err := elbc.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
			Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(5000), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumIp,
			HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2),
			HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
		})
		if err != nil {
			t.Fatal(err)
		}
		arn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
		if _, err := elbc.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn),
			Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("10")}}}); err != nil {
			t.Fatal(err)
		}
		tgs = append(tgs, arn)
	}
	l, err := elbc.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lbo.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404")}}}})
	if err != nil {
		t.Fatal(err)
	}
	rule, err := elbc.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: l.Listeners[0].ListenerArn, Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/*"}}}},
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
			{TargetGroupArn: aws.String(tgs[0]), Weight: aws.Int32(100)}, {TargetGroupArn: aws.String(tgs[1]), Weight: aws.Int32(0)}}}}}})
	if err != nil {
		t.Fatal(err)
	}

	taskDef := func(version string) string {
		out, err := ecsc.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{
			Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeAwsvpc, RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
			Cpu: aws.String("256"), Memory: aws.String("512"),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true),
				PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(5000)}}, StopTimeout: aws.Int32(30),
				Environment: []ecstypes.KeyValuePair{{Name: aws.String("APP_VERSION"), Value: aws.String(version)}, {Name: aws.String("APP_DRAIN_DELAY"), Value: aws.String("20ms")}}}},
		})
		if err != nil {
			t.Fatalf("RegisterTaskDefinition: %v", err)
		}
		return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	}
	latest := func() ecstypes.ServiceDeployment {
		ls, err := ecsc.ListServiceDeployments(ctx, &ecsapi.ListServiceDeploymentsInput{Cluster: aws.String("c1"), Service: aws.String("web")})
		if err != nil || len(ls.ServiceDeployments) == 0 {
			t.Fatalf("ListServiceDeployments = %v, %v", ls, err)
		}
		d, err := ecsc.DescribeServiceDeployments(ctx, &ecsapi.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(ls.ServiceDeployments[0].ServiceDeploymentArn)}})
		if err != nil || len(d.ServiceDeployments) != 1 {
			t.Fatalf("DescribeServiceDeployments = %v, %v", d, err)
		}
		return d.ServiceDeployments[0]
	}
	await := func(what string) ecstypes.ServiceDeployment {
		var d ecstypes.ServiceDeployment
		waitFor(t, 60*time.Second, what, func() bool {
			d = latest()
			switch d.Status {
			case ecstypes.ServiceDeploymentStatusSuccessful, ecstypes.ServiceDeploymentStatusRollbackSuccessful, ecstypes.ServiceDeploymentStatusRollbackFailed, ecstypes.ServiceDeploymentStatusStopped:
				return true
			}
			return false
		})
		return d
	}

	if _, err := ecsc.CreateCluster(ctx, &ecsapi.CreateClusterInput{ClusterName: aws.String("c1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ecsc.CreateService(ctx, &ecsapi.CreateServiceInput{
		Cluster: aws.String("c1"), ServiceName: aws.String("web"), TaskDefinition: aws.String(taskDef("v1")), DesiredCount: aws.Int32(1),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a", "subnet-b"}, AssignPublicIp: ecstypes.AssignPublicIpDisabled}},
		LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(tgs[0]), ContainerName: aws.String("app"), ContainerPort: aws.Int32(5000),
			AdvancedConfiguration: &ecstypes.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(tgs[1]), ProductionListenerRule: rule.Rules[0].RuleArn, RoleArn: aws.String("arn:aws:iam::000000000000:role/r")}}},
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{Strategy: ecstypes.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(0),
			LifecycleHooks: []ecstypes.DeploymentLifecycleHook{{HookTargetArn: aws.String(hookARN), RoleArn: aws.String("arn:aws:iam::000000000000:role/hooks"),
				LifecycleStages: []ecstypes.DeploymentLifecycleHookStage{ecstypes.DeploymentLifecycleHookStagePostScaleUp}}}},
	}); err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	first := await("the first deployment")
	if first.Status != ecstypes.ServiceDeploymentStatusSuccessful {
		t.Fatalf("first deployment = %s (%s), want SUCCESSFUL after the hook's IN_PROGRESS then SUCCEEDED", first.Status, aws.ToString(first.StatusReason))
	}
	t.Logf("first deployment done at %v", time.Since(start).Round(time.Millisecond))
	hookCalls := func() []map[string]any {
		b, _ := os.ReadFile(hookRecord)
		var calls []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil {
				calls = append(calls, m)
			}
		}
		return calls
	}
	if calls := hookCalls(); len(calls) != 2 || calls[0]["lifecycleStage"] != "POST_SCALE_UP" || calls[0]["resourceArn"] != aws.ToString(first.ServiceDeploymentArn) {
		t.Errorf("hook invocations = %v, want two (IN_PROGRESS, then SUCCEEDED) at POST_SCALE_UP for %s", calls, aws.ToString(first.ServiceDeploymentArn))
	}

	// The hook now fails: the next deployment rolls back.
	if _, err := lamc.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("hook"),
		Environment: &lambdatypes.Environment{Variables: map[string]string{"RECORD_FILE": hookRecord, "HOOK_STATUS": "FAILED"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ecsc.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: aws.String("c1"), Service: aws.String("web"), TaskDefinition: aws.String(taskDef("v2"))}); err != nil {
		t.Fatal(err)
	}
	second := await("the deployment with a failing hook")
	if second.Status != ecstypes.ServiceDeploymentStatusRollbackSuccessful {
		t.Fatalf("deployment with a failing hook = %s (%s), want ROLLBACK_SUCCESSFUL", second.Status, aws.ToString(second.StatusReason))
	}
	t.Logf("second deployment rolled back at %v", time.Since(start).Round(time.Millisecond))

	// The watch function got both deployments' events, in order per
	// deployment: in progress before completed (duplicates allowed).
	type deploymentEvent struct{ id, name, reason string }
	var got []deploymentEvent
	hooks := map[string]map[string]bool{} // hook event names by service deployment
	waitFor(t, 20*time.Second, "the completion and hook events at the watch function", func() bool {
		b, _ := os.ReadFile(watchRecord)
		got = nil
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var e struct {
				Source     string
				DetailType string `json:"detail-type"`
				Resources  []string
				Detail     struct {
					DeploymentID, EventName, Reason                string
					HookType, LifecycleStage, ServiceDeploymentArn string
				}
			}
			if json.Unmarshal([]byte(line), &e) != nil {
				continue
			}
			if e.DetailType == "ECS Hook State Change" {
				if len(e.Resources) != 1 || e.Resources[0] != e.Detail.ServiceDeploymentArn || e.Detail.HookType != "AWS_LAMBDA" || e.Detail.LifecycleStage != "POST_SCALE_UP" {
					t.Fatalf("watch function received %s, want an AWS_LAMBDA hook at POST_SCALE_UP with the service deployment as the resource", line)
				}
				if hooks[e.Resources[0]] == nil {
					hooks[e.Resources[0]] = map[string]bool{}
				}
				hooks[e.Resources[0]][e.Detail.EventName] = true
				continue
			}
			if e.Source != "aws.ecs" || e.DetailType != "ECS Deployment State Change" || len(e.Resources) != 1 || e.Resources[0] != "arn:aws:ecs:us-east-1:000000000000:service/c1/web" {
				t.Fatalf("watch function received %s, want ECS Deployment State Change for the service", line)
			}
			got = append(got, deploymentEvent{e.Detail.DeploymentID, e.Detail.EventName, e.Detail.Reason})
		}
		completed := map[string]bool{}
		for _, e := range got {
			if e.name == "SERVICE_DEPLOYMENT_COMPLETED" {
				completed[e.id] = true
			}
		}
		return len(completed) >= 2 && hooks[aws.ToString(first.ServiceDeploymentArn)]["HOOK_SUCCEEDED"] && hooks[aws.ToString(second.ServiceDeploymentArn)]["HOOK_FAILED"]
	})
	if !hooks[aws.ToString(first.ServiceDeploymentArn)]["HOOK_IN_PROGRESS"] {
		t.Errorf("hook events for the first deployment = %v, want HOOK_IN_PROGRESS before HOOK_SUCCEEDED", hooks[aws.ToString(first.ServiceDeploymentArn)])
	}
	// A deployment's events go through these phases in order: in progress,
	// failed (when it rolls back), in progress again with the rollback
	// reason, completed.
	phase := func(e deploymentEvent) int {
		switch {
		case e.name == "SERVICE_DEPLOYMENT_IN_PROGRESS" && strings.Contains(e.reason, "rolling back"):
			return 2
		case e.name == "SERVICE_DEPLOYMENT_IN_PROGRESS":
			return 0
		case e.name == "SERVICE_DEPLOYMENT_FAILED":
			return 1
		case e.name == "SERVICE_DEPLOYMENT_COMPLETED":
			return 3
		}
		t.Errorf("eventName = %q, want one of the documented three", e.name)
		return -1
	}
	last := map[string]int{}
	var ids []string
	rolledBack := false
	for _, e := range got {
		if !strings.HasPrefix(e.id, "ecs-svc/") {
			t.Errorf("deploymentId = %q, want the legacy ecs-svc/… id", e.id)
		}
		p := phase(e)
		if prev, seen := last[e.id]; seen && p < prev {
			t.Errorf("events for %s out of order: %v", e.id, got)
		}
		if _, seen := last[e.id]; !seen {
			ids = append(ids, e.id)
		}
		last[e.id] = p
		rolledBack = rolledBack || p == 2
	}
	if len(ids) != 2 || !rolledBack {
		t.Errorf("watch function saw deployments %v (rollback signalled: %v), want two and a rollback reason: %v", ids, rolledBack, got)
	}
	t.Logf("done in %v", time.Since(start).Round(time.Millisecond))
}
