package ecs_test

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr/ecrtest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/taskrun"
)

// pidOf reads the process ID from a container's runtime ID (<task>-<pid>).
func pidOf(t *testing.T, task types.Task) int {
	t.Helper()
	rid := aws.ToString(task.Containers[0].RuntimeId)
	pid, err := strconv.Atoi(rid[strings.LastIndexByte(rid, '-')+1:])
	if err != nil {
		t.Fatalf("runtimeId %q has no pid", rid)
	}
	return pid
}

func TestServiceRunsAndReplacesTasks(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.cluster()
	td := e.taskDef("web")
	if _, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{
		Cluster: aws.String("c1"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td),
		DesiredCount: aws.Int32(2), NetworkConfiguration: awsvpc, LaunchType: types.LaunchTypeFargate,
	}); err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	e.eventually("two tasks run", 15*time.Second, func() bool { return e.running("web", 2) })
	tasks := e.tasks("web")
	if h0, h1 := taskHost(tasks[0]), taskHost(tasks[1]); h0 == h1 || !strings.HasPrefix(h0, "127.0.") {
		t.Errorf("task addresses = %s, %s; want two distinct 127.0.X.Y", h0, h1)
	}
	// Each task serves on its own address and reads its own metadata.
	for _, task := range tasks {
		var got struct {
			Version string         `json:"version"`
			Task    map[string]any `json:"task"`
		}
		e.eventually("the task answers", 10*time.Second, func() bool {
			code, err := getJSON("http://"+taskHost(task)+":5000/", &got)
			return err == nil && code == 200
		})
		if got.Task["TaskARN"] != aws.ToString(task.TaskArn) || got.Task["Family"] != "web" || got.Task["Revision"] != "1" || got.Task["AvailabilityZone"] != aws.ToString(task.AvailabilityZone) {
			t.Errorf("metadata seen by %s = %v, want its TaskARN, family web, revision 1 and its AZ", aws.ToString(task.TaskArn), got.Task)
		}
		if got.Version != "v1" {
			t.Errorf("version = %q, want v1 from the image's environment", got.Version)
		}
		if aws.ToString(task.Group) != "service:web" || !strings.HasPrefix(aws.ToString(task.StartedBy), "ecs-svc/") || aws.ToString(task.PlatformVersion) != "1.4.0" {
			t.Errorf("task group/startedBy/platform = %s/%s/%s, want service:web, ecs-svc/..., 1.4.0", aws.ToString(task.Group), aws.ToString(task.StartedBy), aws.ToString(task.PlatformVersion))
		}
	}

	// A process that dies is recorded with its exit code and replaced.
	victim := tasks[0]
	if err := syscall.Kill(pidOf(t, victim), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var stopped types.Task
	e.eventually("the killed task is STOPPED", 10*time.Second, func() bool {
		d, err := e.ecs.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: []string{aws.ToString(victim.TaskArn)}})
		if err != nil || len(d.Tasks) != 1 {
			return false
		}
		stopped = d.Tasks[0]
		return aws.ToString(stopped.LastStatus) == "STOPPED"
	})
	if stopped.StopCode != types.TaskStopCodeEssentialContainerExited || aws.ToString(stopped.StoppedReason) != "Essential container in task exited" || aws.ToInt32(stopped.Containers[0].ExitCode) != 137 {
		t.Errorf("killed task: stopCode %s reason %q exit %d; want EssentialContainerExited, 'Essential container in task exited', 137",
			stopped.StopCode, aws.ToString(stopped.StoppedReason), aws.ToInt32(stopped.Containers[0].ExitCode))
	}
	e.eventually("a replacement runs", 15*time.Second, func() bool { return e.running("web", 2) })
	if !e.events.find("ECS Task State Change", func(d map[string]any) bool {
		return d["taskArn"] == aws.ToString(victim.TaskArn) && d["lastStatus"] == "STOPPED" && d["stopCode"] == "EssentialContainerExited"
	}) {
		t.Errorf("no ECS Task State Change event for the killed task")
	}

	// StopTask: SIGTERM, the app drains and exits 0; the task is replaced.
	victim = e.tasks("web")[0]
	if _, err := e.ecs.StopTask(ctx, &ecsapi.StopTaskInput{Cluster: aws.String("c1"), Task: victim.TaskArn, Reason: aws.String("drill")}); err != nil {
		t.Fatal(err)
	}
	e.eventually("the stopped task is STOPPED", 10*time.Second, func() bool {
		d, _ := e.ecs.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: []string{aws.ToString(victim.TaskArn)}})
		stopped = d.Tasks[0]
		return aws.ToString(stopped.LastStatus) == "STOPPED"
	})
	if stopped.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(stopped.StoppedReason) != "drill" || aws.ToInt32(stopped.Containers[0].ExitCode) != 0 {
		t.Errorf("stopped task: stopCode %s reason %q exit %d; want UserInitiated, drill, 0", stopped.StopCode, aws.ToString(stopped.StoppedReason), aws.ToInt32(stopped.Containers[0].ExitCode))
	}
	e.eventually("a replacement runs", 15*time.Second, func() bool { return e.running("web", 2) })

	// Scale in.
	if _, err := e.ecs.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: aws.String("c1"), Service: aws.String("web"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	e.eventually("one task runs", 15*time.Second, func() bool { return e.running("web", 1) })
	svc, err := e.ecs.DescribeServices(ctx, &ecsapi.DescribeServicesInput{Cluster: aws.String("c1"), Services: []string{"web"}})
	if err != nil || svc.Services[0].RunningCount != 1 || svc.Services[0].DesiredCount != 1 || len(svc.Services[0].Deployments) != 1 {
		t.Errorf("DescribeServices = %+v, %v; want running 1, desired 1, one deployment", svc.Services, err)
	}
}

func TestCrashingTasksAreReplacedWithBackoff(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.cluster()
	td := e.taskDef("crash", "APP_FAULT=crash")
	if _, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{
		Cluster: aws.String("c1"), ServiceName: aws.String("crash"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1), NetworkConfiguration: awsvpc,
	}); err != nil {
		t.Fatal(err)
	}
	var stoppedArns []string
	e.eventually("three crashed tasks", 15*time.Second, func() bool {
		ls, _ := e.ecs.ListTasks(ctx, &ecsapi.ListTasksInput{Cluster: aws.String("c1"), DesiredStatus: types.DesiredStatusStopped})
		stoppedArns = ls.TaskArns
		return len(stoppedArns) >= 3
	})
	d, _ := e.ecs.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: stoppedArns[:3]})
	for _, task := range d.Tasks {
		if aws.ToString(task.LastStatus) == "STOPPED" && aws.ToInt32(task.Containers[0].ExitCode) != 3 {
			t.Errorf("crashed task exit code = %d, want 3", aws.ToInt32(task.Containers[0].ExitCode))
		}
	}
}

// TestRollingHonoursPercents deploys with maximumPercent 100 and
// minimumHealthyPercent 50: never more than 2 live tasks, never fewer than
// 1 running, and in the end both on the new revision.
func TestRollingHonoursPercents(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.cluster()
	if _, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{
		Cluster: aws.String("c1"), ServiceName: aws.String("web"), TaskDefinition: aws.String(e.taskDef("web")), DesiredCount: aws.Int32(2), NetworkConfiguration: awsvpc,
		DeploymentConfiguration: &types.DeploymentConfiguration{MaximumPercent: aws.Int32(100), MinimumHealthyPercent: aws.Int32(50)},
	}); err != nil {
		t.Fatal(err)
	}
	e.eventually("two tasks run", 15*time.Second, func() bool { return e.running("web", 2) })
	v2 := e.taskDef("web", "APP_VERSION=v2")
	e.events.mu.Lock()
	from := len(e.events.events)
	e.events.mu.Unlock()
	d := e.await(e.deploy(v2), 30*time.Second, nil)
	// Replay the task state changes, emitted in order under the
	// scheduler's lock, to see every intermediate state exactly.
	type state struct{ last, desired string }
	tasks := map[string]state{}
	maxLive, minRunning := 0, 2
	e.events.mu.Lock()
	for i, ev := range e.events.events {
		if ev.DetailType != "ECS Task State Change" {
			continue
		}
		tasks[ev.Detail["taskArn"].(string)] = state{ev.Detail["lastStatus"].(string), ev.Detail["desiredStatus"].(string)}
		if i < from {
			continue
		}
		live, running := 0, 0
		for _, st := range tasks {
			if st.last != "STOPPED" {
				live++
			}
			if st.last == "RUNNING" && st.desired == "RUNNING" {
				running++
			}
		}
		maxLive, minRunning = max(maxLive, live), min(minRunning, running)
	}
	e.events.mu.Unlock()
	if d.Status != types.ServiceDeploymentStatusSuccessful {
		t.Fatalf("deployment = %s (%s), want SUCCESSFUL", d.Status, aws.ToString(d.StatusReason))
	}
	if maxLive > 2 || minRunning < 1 {
		t.Errorf("during the deployment: at most %d live tasks, at least %d running; want at most 2 and at least 1", maxLive, minRunning)
	}
	e.eventually("both tasks run the new revision", 10*time.Second, func() bool {
		ts := e.tasks("web")
		return len(ts) == 2 && aws.ToString(ts[0].TaskDefinitionArn) == v2 && aws.ToString(ts[1].TaskDefinitionArn) == v2 && e.running("web", 2)
	})
}

// exitAtOnce is a runner whose processes have exited before Start returns,
// the worst case of a crashing container.
type exitAtOnce struct{}

func (exitAtOnce) Start(_ context.Context, spec taskrun.Spec, onExit func(taskrun.Exit)) (*taskrun.Process, error) {
	onExit(taskrun.Exit{Code: 3, Reason: "Essential container in task exited"})
	return &taskrun.Process{Spec: spec, Pid: 1 << 22, ImageDigest: "sha256:0"}, nil
}

func (exitAtOnce) Stop(context.Context, *taskrun.Process) error { return nil }

func (exitAtOnce) Exec(context.Context, *taskrun.Process, []string, time.Duration) (int, error) {
	return -1, context.Canceled
}

// TestExitBeforeStartReturns: a process that exits before the runner has
// even returned must leave a STOPPED task, never a RUNNING one with a dead
// process.
func TestExitBeforeStartReturns(t *testing.T) {
	e := newEnvWith(t, t.TempDir(), func(c *ecs.Config) { c.Runner = exitAtOnce{} })
	e.cluster()
	if _, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{
		Cluster: aws.String("c1"), ServiceName: aws.String("web"), TaskDefinition: aws.String(e.taskDef("web")), DesiredCount: aws.Int32(1), NetworkConfiguration: awsvpc,
	}); err != nil {
		t.Fatal(err)
	}
	e.eventually("two tasks have exited", 10*time.Second, func() bool {
		ls, _ := e.ecs.ListTasks(ctx, &ecsapi.ListTasksInput{Cluster: aws.String("c1"), DesiredStatus: types.DesiredStatusStopped})
		return len(ls.TaskArns) >= 2
	})
	if e.events.find("ECS Task State Change", func(d map[string]any) bool { return d["lastStatus"] == "RUNNING" }) {
		t.Errorf("a task whose process had exited was reported RUNNING")
	}
}

// TestImagesArePinnedByDigest: a task definition naming a tag is pinned to
// the tag's digest when the revision is made; pushing the tag again does
// not change what replacement tasks run.
func TestImagesArePinnedByDigest(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.cluster()
	// Tag "pin" points at the shared image; the task definition names the tag.
	img, err := ecrtest.Image(shared.bin, "APP_VERSION=pinned")
	if err != nil {
		t.Fatal(err)
	}
	pinnedRef, err := ecrtest.Push(img, shared.host, "web", "pin")
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.ecs.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{
		Family: aws.String("tagged"), NetworkMode: types.NetworkModeAwsvpc, RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(shared.host + "/web:pin"), PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(5000)}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: aws.String("c1"), ServiceName: aws.String("pin"),
		TaskDefinition: out.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1), NetworkConfiguration: awsvpc}); err != nil {
		t.Fatal(err)
	}
	e.eventually("the task runs", 15*time.Second, func() bool { return e.running("pin", 1) })
	want := pinnedRef[strings.Index(pinnedRef, "@")+1:]
	revs, err := e.ecs.DescribeServiceRevisions(ctx, &ecsapi.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{aws.ToString(e.latest("pin").TargetServiceRevision.Arn)}})
	if err != nil || aws.ToString(revs.ServiceRevisions[0].ContainerImages[0].ImageDigest) != want {
		t.Fatalf("revision containerImages = %+v, %v; want digest %s", revs.ServiceRevisions[0].ContainerImages, err, want)
	}

	// Move the tag, then replace the task: it must still run the pinned digest.
	moved, _ := ecrtest.Image(shared.bin, "APP_VERSION=moved")
	if _, err := ecrtest.Push(moved, shared.host, "web", "pin"); err != nil {
		t.Fatal(err)
	}
	victim := e.tasks("pin")[0]
	if _, err := e.ecs.StopTask(ctx, &ecsapi.StopTaskInput{Cluster: aws.String("c1"), Task: victim.TaskArn}); err != nil {
		t.Fatal(err)
	}
	var replacement types.Task
	e.eventually("a replacement runs", 15*time.Second, func() bool {
		for _, task := range e.tasks("pin") {
			if aws.ToString(task.TaskArn) != aws.ToString(victim.TaskArn) && aws.ToString(task.LastStatus) == "RUNNING" {
				replacement = task
				return true
			}
		}
		return false
	})
	if got := aws.ToString(replacement.Containers[0].ImageDigest); got != want {
		t.Errorf("replacement image digest = %s, want the pinned %s", got, want)
	}
	var body struct{ Version string }
	e.eventually("the replacement answers", 10*time.Second, func() bool {
		code, err := getJSON("http://"+taskHost(replacement)+":5000/", &body)
		return err == nil && code == 200
	})
	if body.Version != "pinned" {
		t.Errorf("replacement version = %q, want pinned (the image the revision pinned)", body.Version)
	}
}

// TestRecreatedServiceStartsAfresh: deleting a service deletes its service
// deployments; a service created again under the same name has only its own.
func TestRecreatedServiceStartsAfresh(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.cluster()
	td := e.taskDef("web")
	create := func() {
		t.Helper()
		if _, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: aws.String("c1"), ServiceName: aws.String("web"),
			TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1), NetworkConfiguration: awsvpc}); err != nil {
			t.Fatal(err)
		}
	}
	create()
	e.eventually("the task runs", 15*time.Second, func() bool { return e.running("web", 1) })
	if _, err := e.ecs.DeleteService(ctx, &ecsapi.DeleteServiceInput{Cluster: aws.String("c1"), Service: aws.String("web"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.eventually("the service is gone", 15*time.Second, func() bool {
		out, err := e.ecs.DescribeServices(ctx, &ecsapi.DescribeServicesInput{Cluster: aws.String("c1"), Services: []string{"web"}})
		return err == nil && len(out.Services) == 1 && aws.ToString(out.Services[0].Status) == "INACTIVE"
	})
	create()
	ls, err := e.ecs.ListServiceDeployments(ctx, &ecsapi.ListServiceDeploymentsInput{Cluster: aws.String("c1"), Service: aws.String("web")})
	if err != nil || len(ls.ServiceDeployments) != 1 {
		t.Errorf("ListServiceDeployments of the recreated service = %d, %v; want its one deployment", len(ls.ServiceDeployments), err)
	}
	e.eventually("the recreated service runs its task", 15*time.Second, func() bool { return e.running("web", 1) })
}

// TestContainerHealthChecks runs the task definition's health check in the
// container: a healthy app's task turns HEALTHY; one whose check keeps
// failing is stopped ("Task failed container health checks") and replaced.
func TestContainerHealthChecks(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.cluster()
	register := func(family string, env ...types.KeyValuePair) string {
		out, err := e.ecs.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{
			Family: aws.String(family), NetworkMode: types.NetworkModeAwsvpc, RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			Cpu: aws.String("256"), Memory: aws.String("512"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(shared.image),
				PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(5000)}}, Environment: env,
				HealthCheck: &types.HealthCheck{Command: []string{"CMD", "/app/testapp", "healthcheck"}, Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(2)}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	}
	create := func(name, td string) {
		if _, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: aws.String("c1"), ServiceName: aws.String(name),
			TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1), NetworkConfiguration: awsvpc}); err != nil {
			t.Fatal(err)
		}
	}
	create("good", register("good"))
	create("sick", register("sick", types.KeyValuePair{Name: aws.String("APP_FAULT"), Value: aws.String("health")}))

	e.eventually("the good task is HEALTHY", 15*time.Second, func() bool {
		ts := e.tasks("good")
		return len(ts) == 1 && ts[0].HealthStatus == types.HealthStatusHealthy && ts[0].Containers[0].HealthStatus == types.HealthStatusHealthy
	})
	var stopped types.Task
	e.eventually("a sick task is stopped for failing its health check", 15*time.Second, func() bool {
		ls, _ := e.ecs.ListTasks(ctx, &ecsapi.ListTasksInput{Cluster: aws.String("c1"), ServiceName: aws.String("sick"), DesiredStatus: types.DesiredStatusStopped})
		if len(ls.TaskArns) == 0 {
			return false
		}
		d, _ := e.ecs.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: ls.TaskArns[:1]})
		stopped = d.Tasks[0]
		return aws.ToString(stopped.LastStatus) == "STOPPED"
	})
	if aws.ToString(stopped.StoppedReason) != "Task failed container health checks" || stopped.HealthStatus != types.HealthStatusUnhealthy {
		t.Errorf("sick task: reason %q health %s; want 'Task failed container health checks' and UNHEALTHY", aws.ToString(stopped.StoppedReason), stopped.HealthStatus)
	}
	e.eventually("the sick service starts a replacement", 15*time.Second, func() bool { return len(e.tasks("sick")) == 1 })
}
