package taskrun

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/elbv2"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// TestTaskReachesLoadBalancerByName: a task process's plain net/http GET
// of http://<load balancer DNS name>:<listener port>/ reaches the
// listener's target through the VPC proxy in its environment.
func TestTaskReachesLoadBalancerByName(t *testing.T) {
	ctx := context.Background()
	lbs, err := elbv2.New(elbv2.Config{Clock: clock.New(0.02), Store: state.Store{}, PortOffset: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lbs.Close() })
	c := elb.NewFromConfig(awsprototest.Config(awsprototest.Serve(t, lbs.Register)))

	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "target "+r.URL.Path)
	}))
	t.Cleanup(target.Close)
	_, portStr, _ := net.SplitHostPort(strings.TrimPrefix(target.URL, "http://"))
	port, _ := strconv.Atoi(portStr)
	lb, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
		Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(int32(port)), VpcId: aws.String("vpc-1"),
		TargetType: elbtypes.TargetTypeEnumIp, HealthCheckPath: aws.String("/health"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroups[0].TargetGroupArn}},
	}); err != nil {
		t.Fatal(err)
	}
	// One target and no healthy one yet: the group fails open to it, so no
	// wait for health checks is needed.
	if _, err := c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroups[0].TargetGroupArn, Targets: []elbtypes.TargetDescription{{Id: aws.String("127.0.0.1")}}}); err != nil {
		t.Fatal(err)
	}
	proxy, err := lbs.ServeVPCProxy("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })

	r, err := New(Config{Dir: t.TempDir(), Images: shared.reg, Clock: clock.New(0.01), ProxyEnv: proxy.Env()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	host := freeHost(t, 5000)
	p, err := r.Start(ctx, Spec{TaskID: "vpc", Image: shared.ref, Host: host, Port: 5000, StopTimeout: time.Minute, Metadata: meta{arn: "arn:aws:ecs:us-east-1:000000000000:task/c/vpc"}}, func(Exit) {})
	if err != nil {
		t.Fatalf("Start = %v", err)
	}
	t.Cleanup(func() { r.Kill(p) })

	name := "http://" + aws.ToString(lb.LoadBalancers[0].DNSName) + "/from-task"
	var got struct {
		Status int
		Body   string
	}
	var last string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last /fetch answer: %s", last)
		}
	})
	eventually(t, "the task answers /fetch", func() bool {
		resp, err := http.Get("http://" + host + ":5000/fetch?url=" + url.QueryEscape(name))
		if err != nil {
			return false // not listening yet
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		last = string(b)
		return resp.StatusCode == http.StatusOK && json.Unmarshal(b, &got) == nil
	})
	if got.Status != 200 || got.Body != "target /from-task" {
		t.Errorf("the task's GET %s = %d %q, want 200 from the listener's target", name, got.Status, got.Body)
	}
}
