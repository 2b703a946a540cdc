package ecs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr/ecrtest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/elbv2"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/taskrun"
)

// scale compresses AWS time: a 5 s health-check interval is 100 ms, a
// one-minute bake 1.2 s.
const scale = 0.02

var ctx = context.Background()

// shared is built once: the test app image in a registry, and one task
// runner (so the image is unpacked once).
var shared struct {
	image  string
	host   string
	bin    string
	reg    *ecr.Backend
	runner *taskrun.Runner
}

func TestMain(m *testing.M) {
	code, err := testMain(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func testMain(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "ecs-test")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	bin, err := ecrtest.GoBuild("../taskrun/testdata/testapp", dir)
	if err != nil {
		return 0, err
	}
	reg, err := ecr.New(ecr.Config{Dir: dir + "/registry", Clock: clock.New(1)})
	if err != nil {
		return 0, err
	}
	srv := httptest.NewServer(reg.Registry())
	defer srv.Close()
	if _, err := reg.CreateRepository("web", "", false, nil); err != nil {
		return 0, err
	}
	img, err := ecrtest.Image(bin, "APP_VERSION=v1")
	if err != nil {
		return 0, err
	}
	shared.host, shared.bin, shared.reg = strings.TrimPrefix(srv.URL, "http://"), bin, reg
	if shared.image, err = ecrtest.Push(img, shared.host, "web", "v1"); err != nil {
		return 0, err
	}
	shared.runner, err = taskrun.New(taskrun.Config{Dir: dir + "/tasks", Images: reg, Clock: clock.New(scale)})
	if err != nil {
		return 0, err
	}
	defer shared.runner.Close()
	return m.Run(), nil
}

// alarms is a CloudWatch stand-in whose alarm states the test sets.
type alarms struct {
	mu    sync.Mutex
	state map[string]string
}

func (a *alarms) set(name, st string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state == nil {
		a.state = map[string]string{}
	}
	a.state[name] = st
}

func (a *alarms) AlarmState(_ context.Context, name string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if st, ok := a.state[name]; ok {
		return st, nil
	}
	return "", fmt.Errorf("alarm %s not found", name)
}

// recorder keeps every event the backend emits.
type recorder struct {
	mu     sync.Mutex
	events []ecs.Event
}

func (r *recorder) add(e ecs.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) find(detailType string, match func(map[string]any) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.DetailType == detailType && match(e.Detail) {
			return true
		}
	}
	return false
}

// metrics records what the backend publishes.
type metrics struct {
	mu     sync.Mutex
	points []point
}

type point struct {
	ns, name string
	dims     map[string]string
	value    float64
}

func (m *metrics) PutMetric(ns, name string, dims map[string]string, v float64, _ time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.points = append(m.points, point{ns, name, dims, v})
}

// max is the largest value seen of a metric of a service.
func (m *metrics) max(name, service string) (float64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	best, seen := 0.0, false
	for _, p := range m.points {
		if p.ns == "AWS/ECS" && p.name == name && p.dims["ServiceName"] == service && p.dims["ClusterName"] == "c1" {
			best, seen = max(best, p.value), true
		}
	}
	return best, seen
}

type env struct {
	t       *testing.T
	metrics *metrics
	clk     clock.Clock
	ecs     *ecsapi.Client
	elb     *elb.Client
	lb      *elbv2.Backend
	b       *ecs.Backend
	alarms  *alarms
	events  *recorder
	store   state.Store
	cancel  context.CancelFunc
}

// newEnv serves ECS and ELBv2 on one mux, as localcloud does.
func newEnv(t *testing.T, dir string) *env { return newEnvWith(t, dir, nil) }

// newEnvWith lets a test adjust the ECS configuration.
func newEnvWith(t *testing.T, dir string, adjust func(*ecs.Config)) *env {
	t.Helper()
	e := &env{t: t, alarms: &alarms{}, events: &recorder{}, store: state.Store{Dir: dir}, metrics: &metrics{}}
	clk := clock.New(scale)
	e.clk = clk
	lb, err := elbv2.New(elbv2.Config{Clock: clk, Store: state.Store{Dir: dir}, PortOffset: -1})
	if err != nil {
		t.Fatal(err)
	}
	e.lb = lb
	cfg := ecs.Config{
		Clock: clk, Store: e.store, Runner: shared.runner, ELB: ecs.ELBv2(lb), Images: shared.reg, Alarms: e.alarms, OnEvent: e.events.add, Metrics: e.metrics,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if adjust != nil {
		adjust(&cfg)
	}
	e.b, err = ecs.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.b.Start(runCtx)
	sdk := awsprototest.Config(awsprototest.Serve(t, e.b.Register, lb.Register))
	e.ecs = ecsapi.NewFromConfig(sdk)
	e.elb = elb.NewFromConfig(sdk)
	t.Cleanup(e.stop) // registered after Serve's, so it runs while the server still answers
	return e
}

// stop stops every task and the backend, as a localcloud shutdown does.
func (e *env) stop() {
	if e.cancel == nil {
		return
	}
	out, _ := e.ecs.ListServices(ctx, &ecsapi.ListServicesInput{Cluster: aws.String("c1")})
	if out != nil {
		for _, arn := range out.ServiceArns {
			_, _ = e.ecs.DeleteService(ctx, &ecsapi.DeleteServiceInput{Cluster: aws.String("c1"), Service: aws.String(arn), Force: aws.Bool(true)})
		}
		e.eventually("every task stops", 20*time.Second, func() bool {
			ts, err := e.ecs.ListTasks(ctx, &ecsapi.ListTasksInput{Cluster: aws.String("c1")})
			return err == nil && len(ts.TaskArns) == 0 && e.allStopped()
		})
	}
	e.cancel()
	e.b.Wait()
	e.lb.Close()
	e.cancel = nil
}

func (e *env) allStopped() bool {
	ts, err := e.ecs.ListTasks(ctx, &ecsapi.ListTasksInput{Cluster: aws.String("c1"), DesiredStatus: types.DesiredStatusStopped})
	if err != nil {
		return false
	}
	for i := 0; i < len(ts.TaskArns); i += 100 {
		d, err := e.ecs.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: ts.TaskArns[i:min(i+100, len(ts.TaskArns))]})
		if err != nil {
			return false
		}
		for _, t := range d.Tasks {
			if aws.ToString(t.LastStatus) != "STOPPED" {
				return false
			}
		}
	}
	return true
}

// eventually polls cond until it holds or the deadline passes.
func (e *env) eventually(what string, within time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting until %s", within, what)
		}
		time.Sleep(20 * time.Millisecond) // polling an observable condition
	}
}

func (e *env) cluster() {
	e.t.Helper()
	if _, err := e.ecs.CreateCluster(ctx, &ecsapi.CreateClusterInput{ClusterName: aws.String("c1")}); err != nil {
		e.t.Fatal(err)
	}
}

// taskDef registers a Fargate task definition of the test app with extra
// environment.
func (e *env) taskDef(family string, env ...string) string {
	e.t.Helper()
	kv := []types.KeyValuePair{{Name: aws.String("APP_DRAIN_DELAY"), Value: aws.String("20ms")}}
	for _, s := range env {
		k, v, _ := strings.Cut(s, "=")
		kv = append(kv, types.KeyValuePair{Name: aws.String(k), Value: aws.String(v)})
	}
	out, err := e.ecs.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: types.NetworkModeAwsvpc, RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(shared.image), Essential: aws.Bool(true),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(5000)}}, Environment: kv, StopTimeout: aws.Int32(30),
		}},
	})
	if err != nil {
		e.t.Fatalf("RegisterTaskDefinition: %v", err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

var awsvpc = &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a", "subnet-b"}, AssignPublicIp: types.AssignPublicIpDisabled}}

func (e *env) tasks(service string) []types.Task {
	e.t.Helper()
	ls, err := e.ecs.ListTasks(ctx, &ecsapi.ListTasksInput{Cluster: aws.String("c1"), ServiceName: aws.String(service)})
	if err != nil {
		e.t.Fatalf("ListTasks: %v", err)
	}
	if len(ls.TaskArns) == 0 {
		return nil
	}
	d, err := e.ecs.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: ls.TaskArns})
	if err != nil {
		e.t.Fatalf("DescribeTasks: %v", err)
	}
	return d.Tasks
}

func (e *env) running(service string, n int) bool {
	ts := e.tasks(service)
	r := 0
	for _, t := range ts {
		if aws.ToString(t.LastStatus) == "RUNNING" {
			r++
		}
	}
	return len(ts) == n && r == n
}

func taskHost(t types.Task) string {
	return aws.ToString(t.Containers[0].NetworkInterfaces[0].PrivateIpv4Address)
}

// getJSON fetches url and decodes a JSON answer.
func getJSON(url string, v any) (int, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
}

// lbFixture is a load balancer with a listener whose rule forwards to blue
// at weight 100 and green at 0, as the seed's stack does.
type lbFixture struct {
	lb, listener, rule, blue, green, addr string
}

func (e *env) loadBalancer() lbFixture {
	e.t.Helper()
	var f lbFixture
	lb, err := e.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		e.t.Fatalf("CreateLoadBalancer: %v", err)
	}
	f.lb = aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	for _, name := range []string{"blue", "green"} {
		tg, err := e.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
			Name: aws.String("web-" + name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(5000), VpcId: aws.String("vpc-1"),
			TargetType: elbtypes.TargetTypeEnumIp, HealthCheckPath: aws.String("/health"),
			HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2),
			HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
		})
		if err != nil {
			e.t.Fatalf("CreateTargetGroup: %v", err)
		}
		arn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
		if _, err := e.elb.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn),
			Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("10")}}}); err != nil {
			e.t.Fatal(err)
		}
		if name == "blue" {
			f.blue = arn
		} else {
			f.green = arn
		}
	}
	l, err := e.elb.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(f.lb), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404")}}},
	})
	if err != nil {
		e.t.Fatalf("CreateListener: %v", err)
	}
	f.listener = aws.ToString(l.Listeners[0].ListenerArn)
	r, err := e.elb.CreateRule(ctx, &elb.CreateRuleInput{
		ListenerArn: aws.String(f.listener), Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/*"}}}},
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
			{TargetGroupArn: aws.String(f.blue), Weight: aws.Int32(100)}, {TargetGroupArn: aws.String(f.green), Weight: aws.Int32(0)},
		}}}},
	})
	if err != nil {
		e.t.Fatalf("CreateRule: %v", err)
	}
	f.rule = aws.ToString(r.Rules[0].RuleArn)
	f.addr, err = e.lb.ListenerAddr(f.listener)
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

// weights reads the rule's forward weights by target group.
func (e *env) weights(rule string) map[string]int32 {
	e.t.Helper()
	out, err := e.elb.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{rule}})
	if err != nil {
		e.t.Fatalf("DescribeRules: %v", err)
	}
	w := map[string]int32{}
	for _, a := range out.Rules[0].Actions {
		if a.ForwardConfig != nil {
			for _, tg := range a.ForwardConfig.TargetGroups {
				w[aws.ToString(tg.TargetGroupArn)] = aws.ToInt32(tg.Weight)
			}
		}
	}
	return w
}

func (e *env) healthy(tg string, n int) bool {
	out, err := e.elb.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		return false
	}
	h := 0
	for _, d := range out.TargetHealthDescriptions {
		if d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			h++
		}
	}
	return h == n && len(out.TargetHealthDescriptions) == n
}
