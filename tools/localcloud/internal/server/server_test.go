package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/server"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// start runs a server on a free loopback port until stop is called or the
// test ends.
func start(t *testing.T, dir string) (srv *server.Server, endpoint string, stop func()) {
	t.Helper()
	var err error
	srv, err = server.New(context.Background(), server.Config{Clock: clock.New(0.02), Store: state.Store{Dir: dir}, PortOffset: -1})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	t.Cleanup(stop)
	return srv, "http://" + ln.Addr().String(), stop
}

// TestOnePortEveryProtocol drives each service through its real SDK client on
// the one port, then restarts the server on the same state.
func TestOnePortEveryProtocol(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	srv, endpoint, stop := start(t, dir)
	sdk := awsprototest.Config(endpoint)

	id, err := sts.NewFromConfig(sdk).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "000000000000" {
		t.Fatalf("GetCallerIdentity = %v, %v", id, err)
	}
	lbc := elb.NewFromConfig(sdk)
	lb, err := lbc.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"a", "b"}})
	if err != nil {
		t.Fatalf("CreateLoadBalancer: %v", err)
	}
	listener, err := lbc.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("200"), MessageBody: aws.String("hello")}}}})
	if err != nil {
		t.Fatalf("CreateListener: %v", err)
	}
	listenerARN := aws.ToString(listener.Listeners[0].ListenerArn)
	cwc := cw.NewFromConfig(sdk)
	if _, err := cwc.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{AlarmName: aws.String("web-requests"), Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("RequestCount"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String(strings.SplitN(aws.ToString(lb.LoadBalancers[0].LoadBalancerArn), "loadbalancer/", 2)[1])}},
		Statistic:  cwtypes.StatisticSum, Period: aws.Int32(10), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching")}); err != nil {
		t.Fatalf("PutMetricAlarm: %v", err)
	}
	logc := cwl.NewFromConfig(sdk)
	if _, err := logc.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/ecs/web")}); err != nil {
		t.Fatalf("CreateLogGroup: %v", err)
	}

	// Requests through the listener are counted into CloudWatch, where the
	// alarm on the load balancer's RequestCount fires.
	addr, err := srv.ELBv2.ListenerAddr(listenerARN)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatalf("GET through listener: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hello" {
			t.Fatalf("GET through listener = %q, want hello", body)
		}
		if s, _ := srv.CloudWatch.AlarmState(ctx, "web-requests"); s == "ALARM" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("alarm on RequestCount never fired")
		}
		time.Sleep(10 * time.Millisecond) // request pacing, not synchronisation
	}
	if err := srv.Logs.Append(ctx, "/ecs/web", "web/1", time.Now(), "hello"); err != nil {
		t.Fatal(err)
	}

	resp, err := http.Get(endpoint + "/_localcloud/health")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET /_localcloud/health = %v, %v, want 200", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}

	// Restart on the same state: everything is back and the listener serves.
	stop()
	srv2, endpoint2, _ := start(t, dir)
	lbc2 := elb.NewFromConfig(awsprototest.Config(endpoint2))
	ls, err := lbc2.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{listenerARN}})
	if err != nil || len(ls.Listeners) != 1 {
		t.Fatalf("DescribeListeners after restart = %v, %v", ls, err)
	}
	addr2, err := srv2.ELBv2.ListenerAddr(listenerARN)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := http.Get("http://" + addr2 + "/")
	if err != nil {
		t.Fatalf("GET through restored listener: %v", err)
	}
	r2.Body.Close()
	if _, err := srv2.CloudWatch.AlarmState(ctx, "web-requests"); err != nil {
		t.Errorf("alarm after restart: %v", err)
	}
	if evs, err := srv2.Logs.Events(ctx, "/ecs/web", "web/1"); err != nil || len(evs) != 1 {
		t.Errorf("log events after restart = %v, %v, want 1", evs, err)
	}
}

// TestAWSCLI points the aws CLI (v1: query for ELBv2 and STS, JSON 1.0 for
// CloudWatch, JSON 1.1 for Logs) at the server.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not on PATH")
	}
	_, endpoint, _ := start(t, t.TempDir())
	// One success and one AWS error per protocol; order-independent, so the
	// slow CLI starts run in parallel.
	tests := []struct {
		args     []string
		wantOut  string
		wantFail bool
	}{
		{[]string{"sts", "get-caller-identity", "--query", "Account", "--output", "text"}, "000000000000", false},
		{[]string{"elbv2", "create-target-group", "--name", "cli-tg", "--protocol", "HTTP", "--port", "5000", "--vpc-id", "vpc-1", "--target-type", "ip", "--query", "TargetGroups[0].HealthCheckPath", "--output", "text"}, "/", false},
		{[]string{"elbv2", "describe-target-groups", "--names", "nope"}, "TargetGroupNotFound", true},
		{[]string{"cloudwatch", "put-metric-data", "--namespace", "App", "--metric-name", "Errors", "--value", "3"}, "", false},
		{[]string{"cloudwatch", "set-alarm-state", "--alarm-name", "nope", "--state-value", "OK", "--state-reason", "x"}, "ResourceNotFound", true},
		{[]string{"logs", "create-log-group", "--log-group-name", "/cli"}, "", false},
		{[]string{"logs", "describe-log-streams", "--log-group-name", "/nope"}, "ResourceNotFoundException", true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:2], " "), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "aws", tt.args...)
			cmd.Env = append(cmd.Environ(), "AWS_ENDPOINT_URL="+endpoint, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1", "AWS_PAGER=")
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			failed := errors.As(err, &ee)
			if err != nil && !failed {
				t.Fatalf("run aws %v: %v", tt.args, err)
			}
			if failed != tt.wantFail || !strings.Contains(string(out), tt.wantOut) {
				t.Errorf("aws %s = %q (failed %v), want %q (failed %v)", strings.Join(tt.args, " "), out, failed, tt.wantOut, tt.wantFail)
			}
		})
	}
}
