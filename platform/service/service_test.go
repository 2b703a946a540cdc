package service

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/manifest"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	image   = "000000000000.dkr.ecr.us-east-1.amazonaws.com/shipyard-local@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	taskDef = "arn:aws:ecs:us-east-1:000000000000:task-definition/shipyard-local:1"
)

// outputs is what an environment stack of spec s would output.
func outputs(s platform.Spec) stack.Outputs {
	arn := "arn:aws:elasticloadbalancing:us-east-1:" + s.Account + ":"
	iam := "arn:aws:iam::" + s.Account + ":role/"
	o := stack.Outputs{
		stack.OutputCluster:             stack.ClusterName(s),
		stack.OutputPrivateSubnets:      "subnet-0aaa,subnet-0bbb",
		stack.OutputTaskSecurityGroup:   "sg-0task",
		stack.OutputBlueTargetGroup:     arn + "targetgroup/" + s.Prefix() + "-blue/1111",
		stack.OutputGreenTargetGroup:    arn + "targetgroup/" + s.Prefix() + "-green/2222",
		stack.OutputProductionRule:      arn + "listener-rule/app/" + s.Prefix() + "/abc/def/1",
		stack.OutputInfrastructureRole:  iam + "infra",
		stack.OutputTaskExecutionRole:   iam + "exec",
		stack.OutputTaskRole:            iam + "task",
		stack.OutputAppLogGroup:         "/ecs/" + s.Prefix(),
		stack.OutputDeploymentAlarms:    strings.Join(stack.DeploymentAlarmNames(s), ","),
		stack.OutputHookRole:            iam + "hook",
		stack.OutputDeploywatchFunction: "arn:aws:lambda:us-east-1:" + s.Account + ":function:" + s.Prefix() + "-deploywatch",
	}
	if s.LoadBalancer.TestListener {
		o[stack.OutputTestRule] = arn + "listener-rule/app/" + s.Prefix() + "/abc/ghi/2"
	}
	return o
}

func spec(t *testing.T, env string) platform.Spec {
	t.Helper()
	m, err := manifest.Load(filepath.Join("..", "..", manifest.DefaultPath))
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Spec(env)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func builder(t *testing.T, s platform.Spec) *Builder {
	t.Helper()
	b, err := New(s, outputs(s))
	if err != nil {
		t.Fatalf("New(%s) = %v", s.Env, err)
	}
	return b
}

// data renders an SDK input as plain data without its unset fields, the
// way a reader (and the golden files) want it.
func data(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var d any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return prune(d)
}

func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			e = prune(e)
			if e == nil || e == "" || e == false {
				delete(t, k)
				continue
			}
			if m, ok := e.(map[string]any); ok && len(m) == 0 {
				delete(t, k)
				continue
			}
			if l, ok := e.([]any); ok && len(l) == 0 {
				delete(t, k)
				continue
			}
			t[k] = e
		}
	case []any:
		for i, e := range t {
			t[i] = prune(e)
		}
	}
	return v
}

func TestGolden(t *testing.T) {
	for _, env := range []string{"local", "production"} {
		s := spec(t, env)
		b := builder(t, s)
		td, err := b.TaskDefinition(image)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]any{
			"RegisterTaskDefinition": data(t, td),
			"CreateService":          data(t, b.CreateService(taskDef)),
			"UpdateService":          data(t, b.UpdateService(taskDef)),
			"RegisterScalableTarget": data(t, b.ScalableTarget()),
			"PutScalingPolicy":       data(t, b.ScalingPolicy()),
		}
		path := filepath.Join("testdata", env+".json")
		if *update {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(got); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read golden file: %v (run go test -update to create it)", err)
		}
		var want any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(data(t, got), want) {
			g, _ := json.MarshalIndent(got, "", "  ")
			t.Errorf("%s values differ from %s (run go test -update and review the diff); got:\n%s", env, path, g)
		}
	}
}

// TestServiceValues asserts the seed values of the service, the task
// definition and the scaling, field by field.
func TestServiceValues(t *testing.T) {
	s := spec(t, "production")
	o := outputs(s)
	b := builder(t, s)
	svc := data(t, b.CreateService(taskDef)).(map[string]any)
	td, err := b.TaskDefinition(image)
	if err != nil {
		t.Fatal(err)
	}
	task := data(t, td).(map[string]any)
	container := task["ContainerDefinitions"].([]any)[0].(map[string]any)
	target := data(t, b.ScalableTarget()).(map[string]any)
	policy := data(t, b.ScalingPolicy()).(map[string]any)
	adv := svc["LoadBalancers"].([]any)[0].(map[string]any)["AdvancedConfiguration"].(map[string]any)
	deploy := svc["DeploymentConfiguration"].(map[string]any)
	hook := deploy["LifecycleHooks"].([]any)[0].(map[string]any)

	tests := []struct {
		name      string
		got, want any
	}{
		{"launch type", svc["LaunchType"], "FARGATE"},
		{"platform version", svc["PlatformVersion"], "LATEST"},
		{"desired count", svc["DesiredCount"], 2.0},
		{"subnets", svc["NetworkConfiguration"], map[string]any{"AwsvpcConfiguration": map[string]any{
			"Subnets": []any{"subnet-0aaa", "subnet-0bbb"}, "SecurityGroups": []any{"sg-0task"}, "AssignPublicIp": "DISABLED"}}},
		{"blue", svc["LoadBalancers"].([]any)[0].(map[string]any)["TargetGroupArn"], o[stack.OutputBlueTargetGroup]},
		{"container port", svc["LoadBalancers"].([]any)[0].(map[string]any)["ContainerPort"], 5000.0},
		{"green", adv["AlternateTargetGroupArn"], o[stack.OutputGreenTargetGroup]},
		{"production rule", adv["ProductionListenerRule"], o[stack.OutputProductionRule]},
		{"infrastructure role", adv["RoleArn"], o[stack.OutputInfrastructureRole]},
		{"test rule", adv["TestListenerRule"], o[stack.OutputTestRule]},
		{"controller", svc["DeploymentController"], map[string]any{"Type": "ECS"}},
		{"strategy", deploy["Strategy"], "BLUE_GREEN"},
		{"bake time", deploy["BakeTimeInMinutes"], 3.0},
		{"alarms", deploy["Alarms"], map[string]any{"AlarmNames": []any{"shipyard-production-target-5xx", "shipyard-production-elb-5xx", "shipyard-production-latency"}, "Enable": true, "Rollback": true}},
		{"hook stage", hook["LifecycleStages"], []any{"POST_TEST_TRAFFIC_SHIFT"}},
		{"hook target", hook["HookTargetArn"], o[stack.OutputDeploywatchFunction]},
		{"hook role", hook["RoleArn"], o[stack.OutputHookRole]},
		{"az rebalancing", svc["AvailabilityZoneRebalancing"], "ENABLED"},
		{"grace period", svc["HealthCheckGracePeriodSeconds"], 60.0},
		{"cpu", task["Cpu"], "512"},
		{"memory", task["Memory"], "1024"},
		{"network mode", task["NetworkMode"], "awsvpc"},
		{"runtime platform", task["RuntimePlatform"], map[string]any{"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}},
		{"image pinned", container["Image"], image},
		{"port mapping", container["PortMappings"].([]any)[0].(map[string]any)["ContainerPort"], 5000.0},
		{"env", container["Environment"], []any{map[string]any{"Name": "PORT", "Value": "5000"}, map[string]any{"Name": "HOST", "Value": "0.0.0.0"}}},
		{"awslogs", container["LogConfiguration"].(map[string]any)["LogDriver"], "awslogs"},
		{"log group", container["LogConfiguration"].(map[string]any)["Options"].(map[string]any)["awslogs-group"], "/ecs/shipyard-production"},
		{"read-only root", container["ReadonlyRootFilesystem"], true},
		{"non-root", container["User"], "65532"},
		{"capabilities dropped", container["LinuxParameters"], map[string]any{"Capabilities": map[string]any{"Drop": []any{"ALL"}}}},
		{"stop timeout", container["StopTimeout"], 30.0},
		{"health command", container["HealthCheck"].(map[string]any)["Command"], []any{"CMD", "/app", "healthcheck"}},
		{"min", target["MinCapacity"], 2.0},
		{"max", target["MaxCapacity"], 10.0},
		{"resource id", target["ResourceId"], "service/shipyard-production/shipyard"},
		{"policy type", policy["PolicyType"], "TargetTrackingScaling"},
		{"cpu metric", policy["TargetTrackingScalingPolicyConfiguration"].(map[string]any)["PredefinedMetricSpecification"], map[string]any{"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}},
		{"cpu target", policy["TargetTrackingScalingPolicyConfiguration"].(map[string]any)["TargetValue"], 70.0},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	update := data(t, b.UpdateService(taskDef)).(map[string]any)
	if len(update) != 3 {
		t.Errorf("UpdateService sets %v, want only Cluster, Service and TaskDefinition", update)
	}
}

func TestNoTestListenerNoHook(t *testing.T) {
	s := spec(t, "local")
	s.LoadBalancer.TestListener = false
	o := outputs(s)
	delete(o, stack.OutputHookRole)
	delete(o, stack.OutputDeploywatchFunction)
	b, err := New(s, o)
	if err != nil {
		t.Fatalf("New without a test listener = %v", err)
	}
	in := b.CreateService(taskDef)
	if hooks := in.DeploymentConfiguration.LifecycleHooks; len(hooks) != 0 {
		t.Errorf("lifecycle hooks = %v, want none without a test listener", hooks)
	}
	if r := in.LoadBalancers[0].AdvancedConfiguration.TestListenerRule; r != nil {
		t.Errorf("test listener rule = %s, want none", *r)
	}
}

func TestErrors(t *testing.T) {
	s := spec(t, "local")
	o := outputs(s)
	delete(o, stack.OutputProductionRule)
	if _, err := New(s, o); err == nil || !strings.Contains(err.Error(), stack.OutputProductionRule) || !strings.Contains(err.Error(), "ship up") {
		t.Errorf("New(missing rule output) = %v, want an error naming %s and ship up", err, stack.OutputProductionRule)
	}
	b := builder(t, s)
	for _, img := range []string{"shipyard:latest", "repo@sha256:short", ""} {
		if _, err := b.TaskDefinition(img); err == nil || !strings.Contains(err.Error(), "pinned by digest") {
			t.Errorf("TaskDefinition(%q) = %v, want a not-pinned error", img, err)
		}
	}
}
