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
		Tags: []types.Tag{{Key: aws.String("app"), Value: aws.String("web")}},
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
