package ecs_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestScaleInUnderLoad: a service behind the ALB scaled in from 3 tasks to
// 1 under steady traffic answers every request, including ones in flight
// on the stopped tasks when they were deregistered. The tasks it stops are
// drained in the target group while their app still serves, and only then
// stopped; they exit cleanly (SIGTERM, not SIGKILL).
func TestScaleInUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name      string
		blueGreen bool
		scaleIn   func(*env) error
	}{
		{"rolling service, UpdateService", false, func(e *env) error {
			_, err := e.ecs.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: aws.String("c1"), Service: aws.String("web"), DesiredCount: aws.Int32(1)})
			return err
		}},
		{"blue/green service, scaler", true, func(e *env) error {
			// The path Application Auto Scaling takes.
			return e.b.SetDesiredCount("c1", "web", 1, "scale-in test")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { scaleInUnderLoad(t, tc.blueGreen, tc.scaleIn) })
	}
}

func scaleInUnderLoad(t *testing.T, blueGreen bool, scaleIn func(*env) error) {
	start := time.Now()
	e := newEnv(t, t.TempDir())
	e.cluster()
	f := e.loadBalancer()
	// A 75 s deregistration delay, 1.5 s at this scale: a drain that
	// polling every 20 ms cannot miss, even on a loaded machine.
	if _, err := e.elb.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(f.blue),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("75")}}}); err != nil {
		t.Fatal(err)
	}
	in := &ecsapi.CreateServiceInput{
		Cluster: aws.String("c1"), ServiceName: aws.String("web"), TaskDefinition: aws.String(e.taskDef("web", "APP_VERSION=v1")), DesiredCount: aws.Int32(3), NetworkConfiguration: awsvpc,
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(f.blue), ContainerName: aws.String("app"), ContainerPort: aws.Int32(5000)}},
	}
	if blueGreen {
		in.LoadBalancers[0].AdvancedConfiguration = &types.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(f.green), ProductionListenerRule: aws.String(f.rule), RoleArn: aws.String("arn:aws:iam::000000000000:role/r")}
		in.DeploymentConfiguration = &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(0)}
	}
	if _, err := e.ecs.CreateService(ctx, in); err != nil {
		t.Fatal(err)
	}
	if d := e.await(aws.ToString(e.latest("web").ServiceDeploymentArn), 30*time.Second, nil); d.Status != types.ServiceDeploymentStatusSuccessful {
		t.Fatalf("first deployment = %s (%s), want SUCCESSFUL", d.Status, aws.ToString(d.StatusReason))
	}
	e.eventually("three tasks run, healthy in blue", 20*time.Second, func() bool { return e.running("web", 3) && e.healthy(f.blue, 3) })
	before := map[string]types.Task{} // by host
	for _, task := range e.tasks("web") {
		before[taskHost(task)] = task
	}

	// One slow request in flight on each task (the listener picks healthy
	// targets round robin, and nothing else is sent yet): the app's /fetch
	// waits on a server that answers once the scale-in has begun draining.
	slow := startSlow(t)
	var inFlight sync.WaitGroup
	slowResults := make([]string, 3)
	for i := range slowResults {
		inFlight.Go(func() {
			client := &http.Client{Timeout: 60 * time.Second}
			resp, err := client.Get("http://" + f.addr + "/fetch?url=" + url.QueryEscape(slow.srv.URL))
			if err != nil {
				slowResults[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			var body struct{ Status int }
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.Status != http.StatusOK {
				slowResults[i] = fmt.Sprintf("%s (the app's fetch answered %d)", resp.Status, body.Status)
			}
		})
		select {
		case <-slow.arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("a slow request did not reach the app")
		}
	}

	tr := startTraffic(t, f.addr)
	e.eventually("the listener answers", 10*time.Second, func() bool { v, _ := tr.take(); return v["v1"] > 0 })
	mark := len(tr.failed())
	if err := scaleIn(e); err != nil {
		t.Fatalf("scale in: %v", err)
	}

	// Poll until one task runs, healthy alone in blue, and the other two
	// are STOPPED. Along the way, note each target seen draining while its
	// app still answered /health with 200, that is, before its SIGTERM
	// (the app fails /health from SIGTERM on).
	probe := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	drainedFirst := map[string]bool{}
	answeredWhileDraining := 0
	var survivor types.Task
	e.eventually("one task runs, alone and healthy in blue, the others STOPPED", 60*time.Second, func() bool {
		th, err := e.elb.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(f.blue)})
		if err != nil {
			return false
		}
		draining := false
		for _, d := range th.TargetHealthDescriptions {
			host := aws.ToString(d.Target.Id)
			if d.TargetHealth.State != elbtypes.TargetHealthStateEnumDraining {
				continue
			}
			draining = true
			if _, ok := before[host]; !ok || drainedFirst[host] {
				continue
			}
			if resp, err := probe.Get("http://" + host + ":5000/health"); err == nil {
				resp.Body.Close()
				drainedFirst[host] = resp.StatusCode == http.StatusOK
			}
		}
		if len(drainedFirst) == len(before)-1 {
			slow.release() // in flight on the draining targets until now
		}
		if draining {
			v, _ := tr.take()
			answeredWhileDraining += v["v1"]
		}
		running := e.tasks("web")
		if len(running) != 1 || aws.ToString(running[0].LastStatus) != "RUNNING" || !e.healthy(f.blue, 1) {
			return false
		}
		survivor = running[0]
		if !e.stoppedAll(before, taskHost(survivor)) {
			return false
		}
		slow.release() // whatever was seen, the stopped tasks are gone
		return true
	})
	inFlight.Wait()
	for i, r := range slowResults {
		if r != "" {
			t.Errorf("slow request %d, in flight at the scale-in: %s, want 200", i, r)
		}
	}
	e.eventually("the listener answers after the scale-in", 10*time.Second, func() bool { v, _ := tr.take(); return v["v1"] > 0 })
	tr.halt()

	if failures := tr.failed()[mark:]; len(failures) != 0 {
		t.Errorf("failed requests during the scale-in = %d (%v), want 0", len(failures), failures[:min(3, len(failures))])
	}
	if answeredWhileDraining == 0 {
		t.Error("no request was answered while the stopped tasks drained")
	}
	if _, ok := before[taskHost(survivor)]; !ok {
		t.Errorf("the task left running (%s) is a new one; scale-in should keep one of the three", taskHost(survivor))
	}
	for host, task := range before {
		if host == taskHost(survivor) {
			continue
		}
		if !drainedFirst[host] {
			t.Errorf("task %s (%s) was never seen draining in blue while its app still served: stopped before its target drained", aws.ToString(task.TaskArn), host)
		}
		d, err := e.ecs.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: []string{aws.ToString(task.TaskArn)}})
		if err != nil || len(d.Tasks) != 1 {
			t.Fatalf("DescribeTasks(%s) = %v, %v", aws.ToString(task.TaskArn), d, err)
		}
		st := d.Tasks[0]
		if st.StopCode != types.TaskStopCodeServiceSchedulerInitiated || st.Containers[0].ExitCode == nil || *st.Containers[0].ExitCode != 0 {
			t.Errorf("stopped task %s: stopCode %s, exit code %v (%s); want ServiceSchedulerInitiated and 0, a clean exit on SIGTERM",
				host, st.StopCode, aws.ToInt32(st.Containers[0].ExitCode), aws.ToString(st.StoppedReason))
		}
	}
	t.Logf("service up and scaled in from 3 to 1 under load in %s; %d requests answered while tasks drained", time.Since(start).Round(time.Millisecond), answeredWhileDraining)
}

// stoppedAll says whether every task of before but the one on keep is
// STOPPED.
func (e *env) stoppedAll(before map[string]types.Task, keep string) bool {
	var arns []string
	for host, task := range before {
		if host != keep {
			arns = append(arns, aws.ToString(task.TaskArn))
		}
	}
	d, err := e.ecs.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: arns})
	if err != nil || len(d.Tasks) != len(arns) {
		return false
	}
	for _, task := range d.Tasks {
		if aws.ToString(task.LastStatus) != "STOPPED" {
			return false
		}
	}
	return true
}

// slowServer holds every request until released.
type slowServer struct {
	srv     *httptest.Server
	arrived chan struct{}
	gate    chan struct{}
	once    sync.Once
}

func startSlow(t *testing.T) *slowServer {
	s := &slowServer{arrived: make(chan struct{}, 16), gate: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.arrived <- struct{}{}
		<-s.gate
		_, _ = w.Write([]byte("slow answer"))
	}))
	t.Cleanup(s.srv.Close)
	t.Cleanup(s.release) // runs first: Close waits for held requests
	return s
}

func (s *slowServer) release() { s.once.Do(func() { close(s.gate) }) }
