package elbv2_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/elbv2"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// scale compresses AWS durations: a 5 s health-check interval is 100 ms.
const scale = 0.02

type sink struct {
	mu     sync.Mutex
	points []point
}

type point struct {
	name  string
	dims  map[string]string
	value float64
}

func (s *sink) PutMetric(ns, name string, dims map[string]string, v float64, _ time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.points = append(s.points, point{name, dims, v})
}

// sum adds the values of a metric whose dimensions are exactly dims.
func (s *sink) sum(name string, dims map[string]string) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var total float64
	for _, p := range s.points {
		if p.name != name || len(p.dims) != len(dims) {
			continue
		}
		match := true
		for k, v := range dims {
			if p.dims[k] != v {
				match = false
			}
		}
		if match {
			total += p.value
		}
	}
	return total
}

type env struct {
	b       *elbv2.Backend
	c       *elb.Client
	metrics *sink
}

func newEnv(t testing.TB, store state.Store) *env {
	t.Helper()
	m := &sink{}
	b, err := elbv2.New(elbv2.Config{Clock: clock.New(scale), Store: store, Metrics: m, PortOffset: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	c := elb.NewFromConfig(awsprototest.Config(awsprototest.Serve(t, b.Register)))
	return &env{b: b, c: c, metrics: m}
}

var ctx = context.Background()

// fixture is a load balancer, a listener and two target groups, blue as the
// default action at weight 100, green at 0.
type fixture struct {
	lb, listener, defaultRule, blue, green string
	addr                                   string
}

func (e *env) fixture(t testing.TB) fixture {
	t.Helper()
	var f fixture
	lb, err := e.c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		t.Fatalf("CreateLoadBalancer: %v", err)
	}
	f.lb = aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	for _, name := range []string{"blue", "green"} {
		tg, err := e.c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
			Name: aws.String("web-" + name), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(5000), VpcId: aws.String("vpc-1"),
			TargetType: types.TargetTypeEnumIp, HealthCheckPath: aws.String("/health"),
			HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2),
			HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
		})
		if err != nil {
			t.Fatalf("CreateTargetGroup(%s): %v", name, err)
		}
		arn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
		if _, err := e.c.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{
			TargetGroupArn: aws.String(arn),
			Attributes:     []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("10")}},
		}); err != nil {
			t.Fatalf("ModifyTargetGroupAttributes: %v", err)
		}
		if name == "blue" {
			f.blue = arn
		} else {
			f.green = arn
		}
	}
	l, err := e.c.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(f.lb), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{
			TargetGroups: []types.TargetGroupTuple{{TargetGroupArn: aws.String(f.blue), Weight: aws.Int32(100)}, {TargetGroupArn: aws.String(f.green), Weight: aws.Int32(0)}},
		}}},
	})
	if err != nil {
		t.Fatalf("CreateListener: %v", err)
	}
	f.listener = aws.ToString(l.Listeners[0].ListenerArn)
	rules, err := e.c.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(f.listener)})
	if err != nil || len(rules.Rules) != 1 {
		t.Fatalf("DescribeRules = %v, %v, want the default rule", rules, err)
	}
	f.defaultRule = aws.ToString(rules.Rules[0].RuleArn)
	f.addr, err = e.b.ListenerAddr(f.listener)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// app is a target: it answers / with its name and /health with healthStatus.
type app struct {
	name    string
	srv     *httptest.Server
	mu      sync.Mutex
	health  int
	status  int
	block   chan struct{} // when set, / signals entered and waits for block to close
	entered chan struct{}
}

func newApp(t testing.TB, name string) *app {
	t.Helper()
	a := &app{name: name, health: 200, status: 200, entered: make(chan struct{}, 1)}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		health, status, block := a.health, a.status, a.block
		a.mu.Unlock()
		if r.URL.Path == "/health" {
			w.WriteHeader(health)
			return
		}
		if block != nil {
			a.entered <- struct{}{}
			<-block
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, a.name)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) target() types.TargetDescription {
	_, port, _ := net.SplitHostPort(a.srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return types.TargetDescription{Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(p))}
}

func (a *app) set(health, status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.health, a.status = health, status
}

func get(t *testing.T, addr, path string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
	t.Fatalf("timed out waiting for %s; last state: %s", what, last)
}

func (e *env) states(t *testing.T, tg string) string {
	t.Helper()
	out, err := e.c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		t.Fatalf("DescribeTargetHealth: %v", err)
	}
	var s []string
	for _, d := range out.TargetHealthDescriptions {
		s = append(s, fmt.Sprintf("%d=%s", aws.ToInt32(d.Target.Port), d.TargetHealth.State))
	}
	return strings.Join(s, ",")
}

func (e *env) waitState(t *testing.T, tg string, a *app, want types.TargetHealthStateEnum) {
	t.Helper()
	port := aws.ToInt32(a.target().Port)
	waitFor(t, fmt.Sprintf("%s target %d %s", tg, port, want), func() (bool, string) {
		s := e.states(t, tg)
		return strings.Contains(s, fmt.Sprintf("%d=%s", port, want)), s
	})
}

func TestRoutingWeightsAndHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, state.Store{})
	f := e.fixture(t)
	blue, green := newApp(t, "blue"), newApp(t, "green")

	if code, _ := get(t, f.addr, "/"); code != http.StatusServiceUnavailable {
		t.Errorf("GET / with no targets = %d, want 503", code)
	}
	if got := e.metrics.sum("HTTPCode_ELB_5XX_Count", map[string]string{"LoadBalancer": strings.SplitN(f.lb, "loadbalancer/", 2)[1]}); got != 1 {
		t.Errorf("HTTPCode_ELB_5XX_Count = %v, want 1", got)
	}

	for tg, a := range map[string]*app{f.blue: blue, f.green: green} {
		if _, err := e.c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []types.TargetDescription{a.target()}}); err != nil {
			t.Fatalf("RegisterTargets: %v", err)
		}
	}
	e.waitState(t, f.blue, blue, types.TargetHealthStateEnumHealthy)
	e.waitState(t, f.green, green, types.TargetHealthStateEnumHealthy)

	for range 5 {
		if code, body := get(t, f.addr, "/"); code != 200 || body != "blue" {
			t.Fatalf("GET / at blue 100 = %d %q, want 200 blue", code, body)
		}
	}
	// Flip the default rule's weights through the API, as ECS does.
	if _, err := e.c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(f.defaultRule), Actions: []types.Action{{
		Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{
			{TargetGroupArn: aws.String(f.blue), Weight: aws.Int32(0)}, {TargetGroupArn: aws.String(f.green), Weight: aws.Int32(100)},
		}},
	}}}); err != nil {
		t.Fatalf("ModifyRule: %v", err)
	}
	for range 5 {
		if code, body := get(t, f.addr, "/"); code != 200 || body != "green" {
			t.Fatalf("GET / at green 100 = %d %q, want 200 green", code, body)
		}
	}
	// And back in-process.
	if err := e.b.SetRuleForward(ctx, f.defaultRule, []elbv2.WeightedTargetGroup{{TargetGroupARN: f.blue, Weight: 100}, {TargetGroupARN: f.green, Weight: 0}}); err != nil {
		t.Fatalf("SetRuleForward: %v", err)
	}
	info, err := e.b.Rule(ctx, f.defaultRule)
	if err != nil || !info.ForwardOnly || len(info.TargetGroups) != 2 || info.TargetGroups[0].Weight != 100 || info.TargetGroups[1].Weight != 0 {
		t.Errorf("Rule() = %+v, %v, want forward-only blue 100 green 0", info, err)
	}
	if _, body := get(t, f.addr, "/"); body != "blue" {
		t.Errorf("GET / after SetRuleForward(blue 100) = %q, want blue", body)
	}

	// Rules by priority: a header rule to green, a path rule with a fixed response.
	if _, err := e.c.CreateRule(ctx, &elb.CreateRuleInput{
		ListenerArn: aws.String(f.listener), Priority: aws.Int32(10),
		Conditions: []types.RuleCondition{{Field: aws.String("http-header"), HttpHeaderConfig: &types.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X-Test"), Values: []string{"gr*n"}}}},
		Actions:    []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(f.green)}},
	}); err != nil {
		t.Fatalf("CreateRule(header): %v", err)
	}
	if _, err := e.c.CreateRule(ctx, &elb.CreateRuleInput{
		ListenerArn: aws.String(f.listener), Priority: aws.Int32(5),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/static/*"}}}},
		Actions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
			StatusCode: aws.String("418"), MessageBody: aws.String("teapot"), ContentType: aws.String("text/plain"),
		}}},
	}); err != nil {
		t.Fatalf("CreateRule(path): %v", err)
	}
	tests := []struct {
		name       string
		path       string
		hdr        []string
		wantStatus int
		wantBody   string
	}{
		{"default rule", "/", nil, 200, "blue"},
		{"header rule", "/", []string{"X-Test", "GREEN"}, 200, "green"},
		{"header mismatch", "/", []string{"X-Test", "blue"}, 200, "blue"},
		{"path rule wins by priority", "/static/x.css", []string{"X-Test", "green"}, 418, "teapot"},
	}
	for _, tt := range tests {
		if code, body := get(t, f.addr, tt.path, tt.hdr...); code != tt.wantStatus || body != tt.wantBody {
			t.Errorf("%s: GET %s = %d %q, want %d %q", tt.name, tt.path, code, body, tt.wantStatus, tt.wantBody)
		}
	}

	// Health: blue starts failing → unhealthy, and the group fails open.
	blue.set(500, 200)
	e.waitState(t, f.blue, blue, types.TargetHealthStateEnumUnhealthy)
	th, err := e.b.TargetHealth(ctx, f.blue)
	if err != nil || len(th) != 1 || th[0].Reason != "Target.ResponseCodeMismatch" {
		t.Errorf("TargetHealth = %+v, %v, want one unhealthy with Target.ResponseCodeMismatch", th, err)
	}
	if code, body := get(t, f.addr, "/"); code != 200 || body != "blue" {
		t.Errorf("GET / with every blue target unhealthy = %d %q, want 200 blue (fail open)", code, body)
	}

	// Target 5XX are counted per load balancer and target group.
	blue.set(200, 500)
	before := e.metrics.sum("HTTPCode_Target_5XX_Count", map[string]string{"LoadBalancer": strings.SplitN(f.lb, "loadbalancer/", 2)[1], "TargetGroup": "targetgroup/" + strings.SplitN(f.blue, "targetgroup/", 2)[1]})
	get(t, f.addr, "/")
	after := e.metrics.sum("HTTPCode_Target_5XX_Count", map[string]string{"LoadBalancer": strings.SplitN(f.lb, "loadbalancer/", 2)[1], "TargetGroup": "targetgroup/" + strings.SplitN(f.blue, "targetgroup/", 2)[1]})
	if after-before != 1 {
		t.Errorf("HTTPCode_Target_5XX_Count{LoadBalancer,TargetGroup} grew by %v, want 1", after-before)
	}
}

func TestDraining(t *testing.T) {
	t.Parallel()
	e := newEnv(t, state.Store{})
	f := e.fixture(t)
	a, b := newApp(t, "a"), newApp(t, "b")
	if _, err := e.c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(f.blue), Targets: []types.TargetDescription{a.target(), b.target()}}); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, f.blue, a, types.TargetHealthStateEnumHealthy)
	e.waitState(t, f.blue, b, types.TargetHealthStateEnumHealthy)

	// Hold a request on a, then deregister a.
	release := make(chan struct{})
	a.mu.Lock()
	a.block = release
	a.mu.Unlock()
	type result struct {
		code int
		body string
	}
	inflight := make(chan result, 1)
	go func() {
		// Round robin sends one of any two requests to a, where it blocks.
		for {
			resp, err := http.Get("http://" + f.addr + "/")
			if err != nil {
				inflight <- result{0, err.Error()}
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) == "a" {
				inflight <- result{resp.StatusCode, string(body)}
				return
			}
		}
	}()
	select {
	case <-a.entered:
	case r := <-inflight:
		t.Fatalf("request finished before reaching a: %+v", r)
	case <-time.After(10 * time.Second):
		t.Fatal("no request reached target a")
	}
	// A deregistration delay of 100 s (2 s scaled), not the fixture's 200 ms:
	// the draining state must still be there when the next call sees it,
	// however slow the machine is between the two.
	if _, err := e.c.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{
		TargetGroupArn: aws.String(f.blue),
		Attributes:     []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("100")}},
	}); err != nil {
		t.Fatalf("ModifyTargetGroupAttributes: %v", err)
	}
	if _, err := e.c.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(f.blue), Targets: []types.TargetDescription{a.target()}}); err != nil {
		t.Fatal(err)
	}
	if s := e.states(t, f.blue); !strings.Contains(s, fmt.Sprintf("%d=draining", aws.ToInt32(a.target().Port))) {
		t.Errorf("states after deregister = %s, want a draining", s)
	}
	for range 6 {
		if code, body := get(t, f.addr, "/"); code != 200 || body != "b" {
			t.Errorf("GET / while a drains = %d %q, want 200 b", code, body)
		}
	}
	close(release)
	select {
	case r := <-inflight:
		if r.code != 200 || r.body != "a" {
			t.Errorf("in-flight request on draining target = %d %q, want 200 a", r.code, r.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("in-flight request never completed")
	}
	// After the (scaled) delay the target is gone.
	waitFor(t, "a to leave the group", func() (bool, string) {
		s := e.states(t, f.blue)
		return !strings.Contains(s, strconv.Itoa(int(aws.ToInt32(a.target().Port)))+"="), s
	})
}

func TestRestoreRestartsProxiesAndChecks(t *testing.T) {
	t.Parallel()
	store := state.Store{Dir: t.TempDir()}
	e := newEnv(t, store)
	f := e.fixture(t)
	a := newApp(t, "a")
	if _, err := e.c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(f.blue), Targets: []types.TargetDescription{a.target()}}); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, f.blue, a, types.TargetHealthStateEnumHealthy)
	e.b.Close()

	e2 := newEnv(t, store)
	out, err := e2.c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil || len(out.LoadBalancers) != 1 || aws.ToString(out.LoadBalancers[0].LoadBalancerArn) != f.lb {
		t.Fatalf("DescribeLoadBalancers after restart = %v, %v, want %s", out, err, f.lb)
	}
	e2.waitState(t, f.blue, a, types.TargetHealthStateEnumHealthy)
	addr, err := e2.b.ListenerAddr(f.listener)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, addr, "/"); code != 200 || body != "a" {
		t.Errorf("GET / after restart = %d %q, want 200 a", code, body)
	}
}

func TestAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, state.Store{})
	f := e.fixture(t)

	lbs, err := e.c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	lb := lbs.LoadBalancers[0]
	if !strings.HasPrefix(aws.ToString(lb.LoadBalancerArn), "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/web/") ||
		!strings.HasSuffix(aws.ToString(lb.DNSName), ".us-east-1.elb.amazonaws.com") || lb.State.Code != types.LoadBalancerStateEnumActive || lb.CreatedTime == nil {
		t.Errorf("load balancer = %+v, want a realistic ARN, DNS name, active state and creation time", lb)
	}
	tgs, err := e.c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(f.lb)})
	if err != nil || len(tgs.TargetGroups) != 2 {
		t.Fatalf("DescribeTargetGroups(lb) = %v, %v, want 2", tgs, err)
	}
	if got := tgs.TargetGroups[0]; aws.ToString(got.HealthCheckPath) != "/health" || aws.ToInt32(got.HealthCheckIntervalSeconds) != 5 || got.Matcher == nil || aws.ToString(got.Matcher.HttpCode) != "200" || len(got.LoadBalancerArns) != 1 {
		t.Errorf("target group = %+v, want the health-check settings and its load balancer", got)
	}
	attrs, err := e.c.DescribeTargetGroupAttributes(ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(f.blue)})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range attrs.Attributes {
		if aws.ToString(a.Key) == "deregistration_delay.timeout_seconds" {
			found = aws.ToString(a.Value) == "10"
		}
	}
	if !found {
		t.Errorf("DescribeTargetGroupAttributes = %v, want deregistration_delay.timeout_seconds=10", attrs.Attributes)
	}
	ls, err := e.c.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(f.lb)})
	if err != nil || len(ls.Listeners) != 1 || aws.ToInt32(ls.Listeners[0].Port) != 80 {
		t.Fatalf("DescribeListeners = %v, %v, want one on port 80", ls, err)
	}
	if !strings.Contains(f.defaultRule, ":listener-rule/app/web/") {
		t.Errorf("default rule ARN = %s, want listener-rule/app/web/...", f.defaultRule)
	}
	act := ls.Listeners[0].DefaultActions[0]
	if act.ForwardConfig == nil || len(act.ForwardConfig.TargetGroups) != 2 || aws.ToInt32(act.ForwardConfig.TargetGroups[1].Weight) != 0 {
		t.Errorf("default action = %+v, want forward blue 100 green 0", act)
	}
	tgInfo, err := e.b.TargetGroup(ctx, f.blue)
	if err != nil || tgInfo.TargetType != "ip" || tgInfo.DeregistrationDelay != 10*time.Second || len(tgInfo.LoadBalancerARNs) != 1 || tgInfo.HealthCheck.HealthyThreshold != 2 {
		t.Errorf("TargetGroup() = %+v, %v", tgInfo, err)
	}
	rule, err := e.c.CreateRule(ctx, &elb.CreateRuleInput{
		ListenerArn: aws.String(f.listener), Priority: aws.Int32(1),
		Conditions: []types.RuleCondition{{Field: aws.String("host-header"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"*.example.com"}}}},
		Actions:    []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(f.green)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ruleARN := aws.ToString(rule.Rules[0].RuleArn)

	bad := "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/nope/0123456789abcdef"
	tests := []struct {
		name     string
		call     func() error
		wantCode string
		wantType any
	}{
		{"describe unknown target group", func() error {
			_, err := e.c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(bad)})
			return err
		}, "TargetGroupNotFound", new(*types.TargetGroupNotFoundException)},
		{"listener on unknown load balancer", func() error {
			_, err := e.c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(f.lb + "x"), Port: aws.Int32(81), Protocol: types.ProtocolEnumHttp,
				DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(f.blue)}}})
			return err
		}, "LoadBalancerNotFound", new(*types.LoadBalancerNotFoundException)},
		{"duplicate listener", func() error {
			_, err := e.c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(f.lb), Port: aws.Int32(80), Protocol: types.ProtocolEnumHttp,
				DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(f.blue)}}})
			return err
		}, "DuplicateListener", new(*types.DuplicateListenerException)},
		{"forward to unknown target group", func() error {
			_, err := e.c.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: aws.String(f.listener), Priority: aws.Int32(2),
				Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/x"}}},
				Actions:    []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(bad)}}})
			return err
		}, "TargetGroupNotFound", new(*types.TargetGroupNotFoundException)},
		{"priority in use", func() error {
			_, err := e.c.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: aws.String(f.listener), Priority: aws.Int32(1),
				Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/x"}}},
				Actions:    []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(f.blue)}}})
			return err
		}, "PriorityInUse", new(*types.PriorityInUseException)},
		{"rule without conditions", func() error {
			_, err := e.c.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: aws.String(f.listener), Priority: aws.Int32(3), Conditions: []types.RuleCondition{},
				Actions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(f.blue)}}})
			return err
		}, "ValidationError", nil},
		{"unknown rule", func() error {
			_, err := e.c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(ruleARN + "0")})
			return err
		}, "RuleNotFound", new(*types.RuleNotFoundException)},
		{"delete default rule", func() error {
			_, err := e.c.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: aws.String(f.defaultRule)})
			return err
		}, "OperationNotPermitted", new(*types.OperationNotPermittedException)},
		{"delete target group in use", func() error {
			_, err := e.c.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(f.blue)})
			return err
		}, "ResourceInUse", new(*types.ResourceInUseException)},
		{"timeout not below interval", func() error {
			_, err := e.c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("x"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1"),
				HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(5)})
			return err
		}, "ValidationError", nil},
		{"target group name too long", func() error {
			_, err := e.c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(strings.Repeat("x", 33)), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1")})
			return err
		}, "ValidationError", nil},
		{"duplicate target group with other settings", func() error {
			_, err := e.c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("web-blue"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(81), VpcId: aws.String("vpc-1")})
			return err
		}, "DuplicateTargetGroupName", new(*types.DuplicateTargetGroupNameException)},
		{"unknown attribute", func() error {
			_, err := e.c.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(f.blue),
				Attributes: []types.TargetGroupAttribute{{Key: aws.String("nope"), Value: aws.String("1")}}})
			return err
		}, "ValidationError", nil},
		{"deregistration delay out of range", func() error {
			_, err := e.c.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(f.blue),
				Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("3601")}}})
			return err
		}, "ValidationError", nil},
		{"register a non-IP in an ip group", func() error {
			_, err := e.c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(f.blue), Targets: []types.TargetDescription{{Id: aws.String("i-123")}}})
			return err
		}, "ValidationError", nil},
		{"deregister an unknown target", func() error {
			_, err := e.c.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(f.blue), Targets: []types.TargetDescription{{Id: aws.String("10.0.0.9"), Port: aws.Int32(5000)}}})
			return err
		}, "InvalidTarget", new(*types.InvalidTargetException)},
		{"one subnet", func() error {
			_, err := e.c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("other"), Subnets: []string{"subnet-a"}})
			return err
		}, "ValidationError", nil},
		{"describe listeners without a filter", func() error {
			_, err := e.c.DescribeListeners(ctx, &elb.DescribeListenersInput{})
			return err
		}, "ValidationError", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.wantCode {
				t.Fatalf("error = %v, want code %s", err, tt.wantCode)
			}
			if tt.wantType != nil {
				if !errors.As(err, tt.wantType) {
					t.Errorf("error %T is not %T", err, tt.wantType)
				}
			}
		})
	}
	// Bad requests changed nothing.
	rules, err := e.c.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(f.listener)})
	if err != nil || len(rules.Rules) != 2 || aws.ToString(rules.Rules[0].Priority) != "1" || aws.ToString(rules.Rules[1].Priority) != "default" {
		t.Errorf("rules after bad requests = %v, %v, want priority 1 then default", rules, err)
	}
	all, err := e.c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{})
	if err != nil || len(all.TargetGroups) != 2 {
		t.Errorf("target groups after bad requests = %d, %v, want 2", len(all.TargetGroups), err)
	}
	lbs, err = e.c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil || len(lbs.LoadBalancers) != 1 {
		t.Errorf("load balancers after bad requests = %d, %v, want 1", len(lbs.LoadBalancers), err)
	}

	// Deletes, in dependency order.
	if _, err := e.c.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: aws.String(ruleARN)}); err != nil {
		t.Errorf("DeleteRule: %v", err)
	}
	if _, err := e.c.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: aws.String(f.listener)}); err != nil {
		t.Errorf("DeleteListener: %v", err)
	}
	if _, err := net.DialTimeout("tcp", f.addr, time.Second); err == nil {
		t.Errorf("listener proxy %s still accepts connections after DeleteListener", f.addr)
	}
	for _, tg := range []string{f.blue, f.green} {
		if _, err := e.c.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg)}); err != nil {
			t.Errorf("DeleteTargetGroup: %v", err)
		}
	}
	if _, err := e.c.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(f.lb)}); err != nil {
		t.Errorf("DeleteLoadBalancer: %v", err)
	}
	if _, err := e.c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{f.lb}}); !errors.As(err, new(*types.LoadBalancerNotFoundException)) {
		t.Errorf("DescribeLoadBalancers(deleted) error = %v, want LoadBalancerNotFound", err)
	}
}

func TestDropInvalidHeaderFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t, state.Store{})
	f := e.fixture(t)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "good=%q bad=%q", r.Header.Get("X-Good"), r.Header.Get("X_Bad"))
	}))
	defer target.Close()
	_, port, _ := net.SplitHostPort(target.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	if _, err := e.c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(f.blue), Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(p))}}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		enabled string
		want    string
	}{
		{"false", `good="1" bad="1"`},
		{"true", `good="1" bad=""`},
	}
	for _, tt := range tests {
		if _, err := e.c.ModifyLoadBalancerAttributes(ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(f.lb),
			Attributes: []types.LoadBalancerAttribute{{Key: aws.String("routing.http.drop_invalid_header_fields.enabled"), Value: aws.String(tt.enabled)}}}); err != nil {
			t.Fatal(err)
		}
		if _, body := get(t, f.addr, "/", "X-Good", "1", "X_Bad", "1"); body != tt.want {
			t.Errorf("drop_invalid_header_fields=%s: target saw %s, want %s", tt.enabled, body, tt.want)
		}
	}
	if _, err := e.c.ModifyLoadBalancerAttributes(ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(f.lb),
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("idle_timeout.timeout_seconds"), Value: aws.String("0")}}}); err == nil {
		t.Error("ModifyLoadBalancerAttributes(idle_timeout 0) = nil error, want ValidationError")
	}
}

// TestTargetDown: a target that refuses connections fails its health checks,
// the group fails open to it, and the load balancer answers 502 itself,
// counted as HTTPCode_ELB_502_Count.
func TestTargetDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, state.Store{})
	f := e.fixture(t)
	a := newApp(t, "a")
	target := a.target()
	a.srv.Close() // nothing listens on its port any more
	if _, err := e.c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(f.blue), Targets: []types.TargetDescription{target}}); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, f.blue, a, types.TargetHealthStateEnumUnhealthy)
	if code, _ := get(t, f.addr, "/"); code != http.StatusBadGateway {
		t.Errorf("GET / to a refusing target = %d, want 502", code)
	}
	lb := map[string]string{"LoadBalancer": strings.SplitN(f.lb, "loadbalancer/", 2)[1]}
	if got := e.metrics.sum("HTTPCode_ELB_502_Count", lb); got != 1 {
		t.Errorf("HTTPCode_ELB_502_Count = %v, want 1", got)
	}
	if got := e.metrics.sum("HTTPCode_Target_5XX_Count", lb); got != 0 {
		t.Errorf("HTTPCode_Target_5XX_Count = %v, want 0 (the load balancer answered, not the target)", got)
	}
}

func TestPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, state.Store{})
	for _, name := range []string{"a", "b", "c"} {
		if _, err := e.c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1")}); err != nil {
			t.Fatal(err)
		}
	}
	p := elb.NewDescribeTargetGroupsPaginator(e.c, &elb.DescribeTargetGroupsInput{PageSize: aws.Int32(2)})
	var names []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, tg := range out.TargetGroups {
			names = append(names, aws.ToString(tg.TargetGroupName))
		}
	}
	if got := strings.Join(names, ","); got != "a,b,c" || pages != 2 {
		t.Errorf("paged DescribeTargetGroups = %s in %d pages, want a,b,c in 2", got, pages)
	}
	if _, err := e.c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Marker: aws.String("x")}); err == nil {
		t.Error("DescribeTargetGroups(bad marker) = nil error, want ValidationError")
	}
}

func TestSetRulePriorities(t *testing.T) {
	t.Parallel()
	e := newEnv(t, state.Store{})
	f := e.fixture(t)
	var arns []string
	for _, p := range []int32{1, 2} {
		out, err := e.c.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: aws.String(f.listener), Priority: aws.Int32(p),
			Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{fmt.Sprintf("/%d", p)}}},
			Actions:    []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(f.blue)}}})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, aws.ToString(out.Rules[0].RuleArn))
	}
	// Swapping two priorities in one call is fine; colliding with a third is not.
	if _, err := e.c.SetRulePriorities(ctx, &elb.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{
		{RuleArn: aws.String(arns[0]), Priority: aws.Int32(2)}, {RuleArn: aws.String(arns[1]), Priority: aws.Int32(1)}}}); err != nil {
		t.Fatalf("SetRulePriorities(swap): %v", err)
	}
	if _, err := e.c.SetRulePriorities(ctx, &elb.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{{RuleArn: aws.String(arns[0]), Priority: aws.Int32(1)}}}); !errors.As(err, new(*types.PriorityInUseException)) {
		t.Errorf("SetRulePriorities(collision) error = %v, want PriorityInUse", err)
	}
	if _, err := e.c.SetRulePriorities(ctx, &elb.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{{RuleArn: aws.String(f.defaultRule), Priority: aws.Int32(9)}}}); !errors.As(err, new(*types.OperationNotPermittedException)) {
		t.Errorf("SetRulePriorities(default rule) error = %v, want OperationNotPermitted", err)
	}
	rules, err := e.c.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(f.listener)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(rules.Rules[0].RuleArn); got != arns[1] {
		t.Errorf("first rule after the swap = %s, want %s", got, arns[1])
	}
}
