package ecs_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/autoscaling"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
)

// TestCPUTargetTrackingScalesOut runs a task that burns a core: its
// CPUUtilization, read from /proc, is far above the 50% target, and target
// tracking raises the desired count, which starts a second real task.
func TestCPUTargetTrackingScalesOut(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.cluster()
	td := e.taskDef("hot", "APP_FAULT=cpu")
	if _, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{
		Cluster: aws.String("c1"), ServiceName: aws.String("hot"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1), NetworkConfiguration: awsvpc,
	}); err != nil {
		t.Fatal(err)
	}
	scaler, err := autoscaling.New(autoscaling.Config{Clock: e.clk, ECS: e.b})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	scaler.Start(runCtx)
	c := aas.NewFromConfig(awsprototest.Config(awsprototest.Serve(t, scaler.Register)))
	res := aws.String("service/c1/hot")
	if _, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: res,
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("cpu70"), ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: res,
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(50), ScaleOutCooldown: aws.Int32(60),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeECSServiceAverageCPUUtilization}}}); err != nil {
		t.Fatal(err)
	}
	e.eventually("the service scales out to 2 running tasks", 30*time.Second, func() bool {
		s, err := e.ecs.DescribeServices(ctx, &ecsapi.DescribeServicesInput{Cluster: aws.String("c1"), Services: []string{"hot"}})
		return err == nil && s.Services[0].DesiredCount == 2 && e.running("hot", 2)
	})
	if cpu, ok := e.metrics.max("CPUUtilization", "hot"); !ok || cpu < 50 {
		t.Errorf("max CPUUtilization published = %.1f (seen %v), want above 50 for a task burning a core of 0.25 vCPU", cpu, ok)
	}
	if mem, ok := e.metrics.max("MemoryUtilization", "hot"); !ok || mem <= 0 {
		t.Errorf("max MemoryUtilization published = %.1f (seen %v), want above 0", mem, ok)
	}
	if !e.events.find("ECS Service Action", func(d map[string]any) bool { return d["eventName"] == "SERVICE_DESIRED_COUNT_UPDATED" }) {
		t.Errorf("no SERVICE_DESIRED_COUNT_UPDATED service action event")
	}
}
