package ecs_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// traffic sends steady requests through the listener and counts answers by
// version, and failures.
type traffic struct {
	mu       sync.Mutex
	versions map[string]int
	failures []string
	// allFailures is never reset: zero-failure checks compare it before
	// and after, whatever take() discarded in between.
	allFailures []string
	stop        chan struct{}
	done        chan struct{}
}

func startTraffic(t *testing.T, addr string) *traffic {
	tr := &traffic{versions: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 3 * time.Second}
	go func() {
		defer close(tr.done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tr.stop:
				return
			case <-tick.C:
			}
			resp, err := client.Get("http://" + addr + "/")
			tr.mu.Lock()
			switch {
			case err != nil:
				tr.failures = append(tr.failures, err.Error())
				tr.allFailures = append(tr.allFailures, err.Error())
			case resp.StatusCode != http.StatusOK:
				tr.failures = append(tr.failures, resp.Status)
				tr.allFailures = append(tr.allFailures, resp.Status)
			default:
				var body struct{ Version string }
				_ = json.NewDecoder(resp.Body).Decode(&body)
				tr.versions[body.Version]++
			}
			tr.mu.Unlock()
			if resp != nil {
				resp.Body.Close()
			}
		}
	}()
	t.Cleanup(func() { tr.halt() })
	return tr
}

func (tr *traffic) halt() {
	select {
	case <-tr.stop:
	default:
		close(tr.stop)
		<-tr.done
	}
}

// failed returns every failure so far; mark with len() and slice later.
func (tr *traffic) failed() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.allFailures...)
}

// take returns and resets the counts.
func (tr *traffic) take() (map[string]int, []string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	v, f := tr.versions, tr.failures
	tr.versions, tr.failures = map[string]int{}, nil
	return v, f
}

// latest is the service's newest service deployment.
func (e *env) latest(service string) types.ServiceDeployment {
	e.t.Helper()
	ls, err := e.ecs.ListServiceDeployments(ctx, &ecsapi.ListServiceDeploymentsInput{Cluster: aws.String("c1"), Service: aws.String(service)})
	if err != nil || len(ls.ServiceDeployments) == 0 {
		e.t.Fatalf("ListServiceDeployments = %v, %v", ls, err)
	}
	d, err := e.ecs.DescribeServiceDeployments(ctx, &ecsapi.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(ls.ServiceDeployments[0].ServiceDeploymentArn)}})
	if err != nil || len(d.ServiceDeployments) != 1 {
		e.t.Fatalf("DescribeServiceDeployments = %v, %v", d, err)
	}
	return d.ServiceDeployments[0]
}

// deploy updates the service to a new task definition and returns the new
// deployment's ARN.
func (e *env) deploy(td string) string {
	e.t.Helper()
	before := e.latest("web")
	if _, err := e.ecs.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: aws.String("c1"), Service: aws.String("web"), TaskDefinition: aws.String(td)}); err != nil {
		e.t.Fatalf("UpdateService: %v", err)
	}
	d := e.latest("web")
	if aws.ToString(d.ServiceDeploymentArn) == aws.ToString(before.ServiceDeploymentArn) {
		e.t.Fatalf("UpdateService(%s) created no service deployment", td)
	}
	return aws.ToString(d.ServiceDeploymentArn)
}

// await polls a deployment until it is finished and returns it; stages it
// was seen in are collected.
func (e *env) await(arn string, within time.Duration, onStage func(string)) types.ServiceDeployment {
	e.t.Helper()
	var d types.ServiceDeployment
	e.eventually("deployment "+arn+" finishes", within, func() bool {
		out, err := e.ecs.DescribeServiceDeployments(ctx, &ecsapi.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
		if err != nil || len(out.ServiceDeployments) != 1 {
			return false
		}
		d = out.ServiceDeployments[0]
		if onStage != nil {
			onStage(string(d.LifecycleStage))
		}
		switch d.Status {
		case types.ServiceDeploymentStatusSuccessful, types.ServiceDeploymentStatusRollbackSuccessful,
			types.ServiceDeploymentStatusRollbackFailed, types.ServiceDeploymentStatusStopped:
			return true
		}
		return false
	})
	return d
}

func TestBlueGreen(t *testing.T) {
	start := time.Now()
	e := newEnv(t, t.TempDir())
	e.cluster()
	f := e.loadBalancer()
	e.alarms.set("web-5xx", "OK")
	v1 := e.taskDef("web", "APP_VERSION=v1")
	_, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{
		Cluster: aws.String("c1"), ServiceName: aws.String("web"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(2),
		LaunchType: types.LaunchTypeFargate, NetworkConfiguration: awsvpc,
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(f.blue), ContainerName: aws.String("app"), ContainerPort: aws.Int32(5000),
			AdvancedConfiguration: &types.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(f.green), ProductionListenerRule: aws.String(f.rule), RoleArn: aws.String("arn:aws:iam::000000000000:role/ecs-infra")}}},
		DeploymentConfiguration: &types.DeploymentConfiguration{
			Strategy: types.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(1),
			Alarms: &types.DeploymentAlarms{AlarmNames: []string{"web-5xx"}, Enable: true, Rollback: true},
			LifecycleHooks: []types.DeploymentLifecycleHook{{HookTargetArn: aws.String("arn:aws:lambda:us-east-1:000000000000:function:smoke"), RoleArn: aws.String("arn:aws:iam::000000000000:role/hooks"),
				LifecycleStages: []types.DeploymentLifecycleHookStage{types.DeploymentLifecycleHookStagePostTestTrafficShift}}},
		},
	})
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	first := e.await(aws.ToString(e.latest("web").ServiceDeploymentArn), 20*time.Second, nil)
	if first.Status != types.ServiceDeploymentStatusSuccessful {
		t.Fatalf("first deployment = %s (%s), want SUCCESSFUL", first.Status, aws.ToString(first.StatusReason))
	}
	e.eventually("two healthy targets in blue", 10*time.Second, func() bool { return e.healthy(f.blue, 2) })
	var body struct{ Version string }
	if code, err := getJSON("http://"+f.addr+"/", &body); err != nil || code != 200 || body.Version != "v1" {
		t.Fatalf("GET / through the listener = %d %q, %v; want 200 v1", code, body.Version, err)
	}
	tr := startTraffic(t, f.addr)
	live, idle := f.blue, f.green

	t.Run("new revision flips the weights", func(t *testing.T) {
		e.t = t
		mark := len(tr.failed())
		defer func() {
			if f := tr.failed()[mark:]; len(f) != 0 {
				t.Errorf("failed requests during the switch = %d (%v), want 0", len(f), f[:min(3, len(f))])
			}
		}()
		arn := e.deploy(e.taskDef("web", "APP_VERSION=v2"))
		var seen []string
		d := e.await(arn, 30*time.Second, func(s string) {
			if len(seen) == 0 || seen[len(seen)-1] != s {
				seen = append(seen, s)
			}
		})
		if d.Status != types.ServiceDeploymentStatusSuccessful || d.Rollback != nil {
			t.Fatalf("deployment = %s, rollback %v (%s); want SUCCESSFUL with no rollback", d.Status, d.Rollback, aws.ToString(d.StatusReason))
		}
		for _, s := range []string{"SCALE_UP", "BAKE_TIME", "CLEAN_UP"} {
			if !slices.Contains(seen, s) {
				t.Errorf("stages seen = %v, want %s among them", seen, s)
			}
		}
		if w := e.weights(f.rule); w[idle] != 100 || w[live] != 0 {
			t.Errorf("rule weights = %v, want green (%s) 100 and blue 0", w, idle)
		}
		if got := aws.ToFloat64(d.TargetServiceRevision.RequestedProductionTrafficWeight); got != 100 {
			t.Errorf("targetServiceRevision.requestedProductionTrafficWeight = %v, want 100", got)
		}
		if len(d.SourceServiceRevisions) != 1 || d.Alarms == nil || d.Alarms.Status != types.ServiceDeploymentRollbackMonitorsStatusMonitoringComplete {
			t.Errorf("sourceServiceRevisions = %v, alarms = %+v; want one source and alarms MONITORING_COMPLETE", d.SourceServiceRevisions, d.Alarms)
		}
		if len(d.LifecycleHookDetails) != 1 {
			t.Errorf("lifecycleHookDetails = %+v, want the POST_TEST_TRAFFIC_SHIFT hook recorded", d.LifecycleHookDetails)
		}
		revs, err := e.ecs.DescribeServiceRevisions(ctx, &ecsapi.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{aws.ToString(d.TargetServiceRevision.Arn)}})
		if err != nil || len(revs.ServiceRevisions) != 1 || aws.ToString(revs.ServiceRevisions[0].TaskDefinition) != e.latestTD() {
			t.Errorf("DescribeServiceRevisions(target) = %v, %v; want the v2 task definition", revs, err)
		}
		e.eventually("blue drained and stopped", 10*time.Second, func() bool { return e.running("web", 2) && e.healthy(idle, 2) })
		e.eventually("v2 answers", 5*time.Second, func() bool { v, _ := tr.take(); return v["v2"] > 0 && v["v1"] == 0 })
		live, idle = idle, live
	})

	t.Run("green that never gets healthy rolls back", func(t *testing.T) {
		e.t = t
		mark := len(tr.failed())
		arn := e.deploy(e.taskDef("web", "APP_VERSION=bad", "APP_FAULT=health"))
		d := e.await(arn, 30*time.Second, nil)
		if d.Status != types.ServiceDeploymentStatusRollbackSuccessful || d.Rollback == nil || aws.ToString(d.Rollback.Reason) == "" {
			t.Fatalf("deployment = %s, rollback %+v; want ROLLBACK_SUCCESSFUL with a reason", d.Status, d.Rollback)
		}
		if w := e.weights(f.rule); w[live] != 100 || w[idle] != 0 {
			t.Errorf("rule weights = %v, want the live group %s at 100", w, live)
		}
		versions, _ := tr.take()
		if failures := tr.failed()[mark:]; versions["bad"] != 0 || len(failures) != 0 {
			t.Errorf("answers during the failed deployment: %v, failures %d; want none from the bad revision and no failures", versions, len(failures))
		}
		svc, _ := e.ecs.DescribeServices(ctx, &ecsapi.DescribeServicesInput{Cluster: aws.String("c1"), Services: []string{"web"}})
		if got := aws.ToString(svc.Services[0].TaskDefinition); got == e.latestTD() {
			t.Errorf("service task definition after rollback = %s, want the previous one", got)
		}
	})

	t.Run("alarm during bake rolls back", func(t *testing.T) {
		e.t = t
		arn := e.deploy(e.taskDef("web", "APP_VERSION=v3", "APP_FAULT=errors=1"))
		d := e.await(arn, 30*time.Second, func(stage string) {
			if stage == "BAKE_TIME" {
				e.alarms.set("web-5xx", "ALARM")
			}
		})
		e.alarms.set("web-5xx", "OK")
		if d.Status != types.ServiceDeploymentStatusRollbackSuccessful || d.Alarms == nil || !slices.Equal(d.Alarms.TriggeredAlarmNames, []string{"web-5xx"}) || d.Alarms.Status != types.ServiceDeploymentRollbackMonitorsStatusTriggered {
			t.Fatalf("deployment = %s, alarms %+v; want ROLLBACK_SUCCESSFUL with web-5xx triggered", d.Status, d.Alarms)
		}
		if aws.ToString(d.Rollback.Reason) == "" || aws.ToString(d.Rollback.ServiceRevisionArn) == "" {
			t.Errorf("rollback = %+v, want a reason and the revision rolled back to", d.Rollback)
		}
		for _, name := range []string{"SERVICE_DEPLOYMENT_FAILED", "SERVICE_DEPLOYMENT_COMPLETED"} {
			if !e.events.find("ECS Deployment State Change", func(m map[string]any) bool {
				return m["eventName"] == name && (name != "SERVICE_DEPLOYMENT_FAILED" || strings.Contains(m["reason"].(string), "web-5xx"))
			}) {
				t.Errorf("no ECS Deployment State Change %s event for the alarm rollback", name)
			}
		}
		if w := e.weights(f.rule); w[live] != 100 {
			t.Errorf("rule weights = %v, want traffic back on %s", w, live)
		}
		tr.take()
		e.eventually("only blue answers again", 5*time.Second, func() bool { v, f := tr.take(); return v["v2"] > 0 && v["v3"] == 0 && len(f) == 0 })
	})

	t.Run("alarm already in ALARM at start is ignored", func(t *testing.T) {
		e.t = t
		e.alarms.set("web-5xx", "ALARM")
		arn := e.deploy(e.taskDef("web", "APP_VERSION=v4"))
		d := e.await(arn, 30*time.Second, nil)
		e.alarms.set("web-5xx", "OK")
		if d.Status != types.ServiceDeploymentStatusSuccessful {
			t.Fatalf("deployment = %s (%s), want SUCCESSFUL: the alarm was in ALARM before it started", d.Status, aws.ToString(d.StatusReason))
		}
		live, idle = idle, live
		tr.take()
	})

	t.Run("StopServiceDeployment rolls back, then conflicts", func(t *testing.T) {
		e.t = t
		mark := len(tr.failed())
		arn := e.deploy(e.taskDef("web", "APP_VERSION=v5"))
		e.eventually("the deployment is in progress", 10*time.Second, func() bool {
			return e.latest("web").Status == types.ServiceDeploymentStatusInProgress
		})
		out, err := e.ecs.StopServiceDeployment(ctx, &ecsapi.StopServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn), StopType: types.StopServiceDeploymentStopTypeRollback})
		if err != nil || aws.ToString(out.ServiceDeploymentArn) != arn {
			t.Fatalf("StopServiceDeployment = %v, %v", out, err)
		}
		d := e.await(arn, 30*time.Second, nil)
		if d.Status != types.ServiceDeploymentStatusRollbackSuccessful {
			t.Fatalf("deployment = %s, want ROLLBACK_SUCCESSFUL", d.Status)
		}
		_, err = e.ecs.StopServiceDeployment(ctx, &ecsapi.StopServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn), StopType: types.StopServiceDeploymentStopTypeRollback})
		var conflict *types.ConflictException
		if !errorsAs(err, &conflict) {
			t.Errorf("StopServiceDeployment(finished) = %v, want ConflictException", err)
		}
		if w := e.weights(f.rule); w[live] != 100 {
			t.Errorf("rule weights = %v, want %s at 100", w, live)
		}
		if failures := tr.failed()[mark:]; len(failures) != 0 {
			t.Errorf("failed requests during the stopped deployment = %d, want 0", len(failures))
		}
	})

	t.Run("killed task is replaced and the group is healthy again", func(t *testing.T) {
		e.t = t
		victim := e.tasks("web")[0]
		if err := syscall.Kill(pidOf(t, victim), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		e.eventually("the victim is replaced", 10*time.Second, func() bool {
			for _, task := range e.tasks("web") {
				if aws.ToString(task.TaskArn) == aws.ToString(victim.TaskArn) {
					return false
				}
			}
			return e.running("web", 2)
		})
		e.eventually("two healthy targets", 10*time.Second, func() bool { return e.healthy(live, 2) })
	})
	tr.halt()
	t.Logf("blue/green suite took %s", time.Since(start).Round(time.Millisecond))
}

func (e *env) latestTD() string {
	d, err := e.ecs.DescribeTaskDefinition(ctx, &ecsapi.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(d.TaskDefinition.TaskDefinitionArn)
}
