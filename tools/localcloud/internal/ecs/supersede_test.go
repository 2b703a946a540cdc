package ecs_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestNewDeploymentSupersedesOneInBake: an UpdateService during the bake
// stops the baking deployment, puts production back on blue, and deploys
// the newer revision, with no failed request throughout.
func TestNewDeploymentSupersedesOneInBake(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.cluster()
	f := e.loadBalancer()
	if _, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{
		Cluster: aws.String("c1"), ServiceName: aws.String("web"), TaskDefinition: aws.String(e.taskDef("web", "APP_VERSION=v1")), DesiredCount: aws.Int32(2), NetworkConfiguration: awsvpc,
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(f.blue), ContainerName: aws.String("app"), ContainerPort: aws.Int32(5000),
			AdvancedConfiguration: &types.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(f.green), ProductionListenerRule: aws.String(f.rule), RoleArn: aws.String("arn:aws:iam::000000000000:role/r")}}},
		DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(60)},
	}); err != nil {
		t.Fatal(err)
	}
	e.await(aws.ToString(e.latest("web").ServiceDeploymentArn), 20*time.Second, nil)
	e.eventually("two healthy in blue", 10*time.Second, func() bool { return e.healthy(f.blue, 2) })
	tr := startTraffic(t, f.addr)

	baking := e.deploy(e.taskDef("web", "APP_VERSION=v2"))
	e.eventually("the v2 deployment bakes", 20*time.Second, func() bool { return e.latest("web").LifecycleStage == types.ServiceDeploymentLifecycleStageBakeTime })
	if _, err := e.ecs.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: aws.String("c1"), Service: aws.String("web"),
		TaskDefinition: aws.String(e.taskDef("web", "APP_VERSION=v3")), DeploymentConfiguration: &types.DeploymentConfiguration{BakeTimeInMinutes: aws.Int32(0)}}); err != nil {
		t.Fatal(err)
	}
	newer := aws.ToString(e.latest("web").ServiceDeploymentArn)
	if newer == baking {
		t.Fatal("UpdateService during the bake created no new deployment")
	}
	if d := e.await(baking, 5*time.Second, nil); d.Status != types.ServiceDeploymentStatusStopped {
		t.Errorf("superseded deployment = %s, want STOPPED", d.Status)
	}
	if d := e.await(newer, 30*time.Second, nil); d.Status != types.ServiceDeploymentStatusSuccessful {
		t.Fatalf("newer deployment = %s (%s), want SUCCESSFUL", d.Status, aws.ToString(d.StatusReason))
	}
	e.eventually("v3 alone answers", 10*time.Second, func() bool { v, _ := tr.take(); return v["v3"] > 0 && v["v2"] == 0 && v["v1"] == 0 })
	tr.halt()
	if failures := tr.failed(); len(failures) != 0 {
		t.Errorf("failed requests = %d (%v), want 0", len(failures), failures[:min(3, len(failures))])
	}
	if w := e.weights(f.rule); w[f.green] != 100 {
		t.Errorf("weights = %v, want green 100", w)
	}
}
