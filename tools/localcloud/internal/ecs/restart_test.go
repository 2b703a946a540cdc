package ecs_test

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// crash stops the backend the way a killed localcloud would: no cleanup,
// task processes left behind.
func (e *env) crash() {
	e.cancel()
	e.b.Wait()
	e.lb.Close()
	e.cancel = nil
}

func TestRestartReconcilesToDesiredCount(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	e.cluster()
	td := e.taskDef("web")
	created, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{
		Cluster: aws.String("c1"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2), NetworkConfiguration: awsvpc,
		Tags:          []types.Tag{{Key: aws.String("app"), Value: aws.String("web")}},
		PropagateTags: types.PropagateTagsService, EnableECSManagedTags: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.eventually("two tasks run", 15*time.Second, func() bool { return e.running("web", 2) })
	var before, hosts []string
	for _, task := range e.tasks("web") {
		before = append(before, aws.ToString(task.TaskArn))
		hosts = append(hosts, taskHost(task))
	}
	firstDeployment := aws.ToString(e.latest("web").ServiceDeploymentArn)
	e.crash()

	e2 := newEnv(t, dir)
	e2.eventually("two new tasks run after the restart", 15*time.Second, func() bool { return e2.running("web", 2) })
	for _, task := range e2.tasks("web") {
		if slices.Contains(before, aws.ToString(task.TaskArn)) {
			t.Errorf("task %s survived the restart as RUNNING, want it replaced", aws.ToString(task.TaskArn))
		}
	}
	// The processes the crashed run left were killed, not adopted.
	for _, h := range hosts {
		e2.eventually("the old process at "+h+" is gone", 5*time.Second, func() bool {
			c, err := net.DialTimeout("tcp", h+":5000", time.Second)
			if err == nil {
				c.Close()
			}
			return err != nil
		})
	}
	// Replacements carry the service's tags and the ECS managed ones.
	news, err := e2.ecs.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: []string{aws.ToString(e2.tasks("web")[0].TaskArn)}, Include: []types.TaskField{types.TaskFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, tg := range news.Tasks[0].Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags["app"] != "web" || tags["aws:ecs:serviceName"] != "web" || tags["aws:ecs:clusterName"] != "c1" {
		t.Errorf("task tags = %v, want app=web propagated and the aws:ecs: managed tags", tags)
	}
	old, err := e2.ecs.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: before})
	if err != nil || len(old.Tasks) != 2 {
		t.Fatalf("DescribeTasks(old) = %v, %v", old, err)
	}
	for _, task := range old.Tasks {
		if aws.ToString(task.LastStatus) != "STOPPED" || aws.ToString(task.StoppedReason) != "Task stopped because localcloud restarted" {
			t.Errorf("old task = %s %q, want STOPPED because localcloud restarted", aws.ToString(task.LastStatus), aws.ToString(task.StoppedReason))
		}
	}
	svc, err := e2.ecs.DescribeServices(ctx, &ecsapi.DescribeServicesInput{Cluster: aws.String("c1"), Services: []string{"web"}, Include: []types.ServiceField{types.ServiceFieldTags}})
	if err != nil || len(svc.Services) != 1 {
		t.Fatalf("DescribeServices after restart = %v, %v", svc, err)
	}
	s := svc.Services[0]
	if aws.ToString(s.ServiceArn) != aws.ToString(created.Service.ServiceArn) || s.DesiredCount != 2 || len(s.Tags) != 1 || aws.ToString(s.TaskDefinition) != td {
		t.Errorf("service after restart = %s desired %d tags %v td %s; want the same service, 2, its tag, %s", aws.ToString(s.ServiceArn), s.DesiredCount, s.Tags, aws.ToString(s.TaskDefinition), td)
	}
	if got := aws.ToString(e2.latest("web").ServiceDeploymentArn); got != firstDeployment {
		t.Errorf("latest deployment after restart = %s, want %s", got, firstDeployment)
	}
}

// TestRestartBlueGreenService: after a restart the blue/green service's
// new tasks are registered in the live target group and the listener
// serves again, with the weights ECS last set.
func TestRestartBlueGreenService(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	e.cluster()
	f := e.loadBalancer()
	if _, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{
		Cluster: aws.String("c1"), ServiceName: aws.String("web"), TaskDefinition: aws.String(e.taskDef("web", "APP_VERSION=v1")), DesiredCount: aws.Int32(2), NetworkConfiguration: awsvpc,
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(f.blue), ContainerName: aws.String("app"), ContainerPort: aws.Int32(5000),
			AdvancedConfiguration: &types.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(f.green), ProductionListenerRule: aws.String(f.rule), RoleArn: aws.String("arn:aws:iam::000000000000:role/r")}}},
		DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(0)},
	}); err != nil {
		t.Fatal(err)
	}
	e.await(aws.ToString(e.latest("web").ServiceDeploymentArn), 20*time.Second, nil)
	// Move production to green, so the restart must remember which is live.
	if d := e.await(e.deploy(e.taskDef("web", "APP_VERSION=v2")), 30*time.Second, nil); d.Status != types.ServiceDeploymentStatusSuccessful {
		t.Fatalf("deployment = %s, want SUCCESSFUL", d.Status)
	}
	e.crash()

	e2 := newEnv(t, dir)
	e2.eventually("two healthy targets in green after the restart", 20*time.Second, func() bool { return e2.healthy(f.green, 2) })
	addr, err := e2.lb.ListenerAddr(f.listener)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Version string }
	e2.eventually("the listener serves v2", 10*time.Second, func() bool {
		code, err := getJSON("http://"+addr+"/", &body)
		return err == nil && code == 200 && body.Version == "v2"
	})
	if w := e2.weights(f.rule); w[f.green] != 100 {
		t.Errorf("weights after restart = %v, want green 100", w)
	}
}
