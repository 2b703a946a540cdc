package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/lambda/lambdatest"
)

// TestFunctionReachesLoadBalancerByName: a Lambda function's plain
// net/http GET of http://<load balancer DNS name>/ reaches the listener's
// target, as it would from inside the VPC on AWS, and an unknown name in the
// load balancers' domain answers 502 naming it.
func TestFunctionReachesLoadBalancerByName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	exe, _, err := lambdatest.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	zip, err := lambdatest.Zip(exe, "bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	_, endpoint, _ := start(t, dir)
	sdk := awsprototest.Config(endpoint)

	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			return
		}
		_, _ = io.WriteString(w, "target saw Host "+r.Host)
	}))
	t.Cleanup(target.Close)
	_, portStr, _ := net.SplitHostPort(strings.TrimPrefix(target.URL, "http://"))
	port, _ := strconv.Atoi(portStr)

	lbc := elb.NewFromConfig(sdk)
	lb, err := lbc.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"a", "b"}, Scheme: elbtypes.LoadBalancerSchemeEnumInternal})
	if err != nil {
		t.Fatal(err)
	}
	dns := aws.ToString(lb.LoadBalancers[0].DNSName)
	tg, err := lbc.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
		Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(int32(port)), VpcId: aws.String("vpc-1"),
		TargetType: elbtypes.TargetTypeEnumIp, HealthCheckPath: aws.String("/health"),
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2),
	})
	if err != nil {
		t.Fatal(err)
	}
	tgArn := tg.TargetGroups[0].TargetGroupArn
	if _, err := lbc.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tgArn}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := lbc.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: tgArn, Targets: []elbtypes.TargetDescription{{Id: aws.String("127.0.0.1")}}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		h, err := lbc.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tgArn})
		if err == nil && len(h.TargetHealthDescriptions) == 1 && h.TargetHealthDescriptions[0].TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("target not healthy in time: %+v %v", h, err)
		}
		time.Sleep(20 * time.Millisecond) // polling the health checks' outcome
	}

	fn := awslambda.NewFromConfig(sdk)
	if _, err := fn.CreateFunction(ctx, &awslambda.CreateFunctionInput{
		FunctionName: aws.String("smoke"), Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String("arn:aws:iam::000000000000:role/fn"), Code: &lambdatypes.FunctionCode{ZipFile: zip}, Timeout: aws.Int32(30),
	}); err != nil {
		t.Fatal(err)
	}
	get := func(url string) (status int, body string) {
		t.Helper()
		payload, _ := json.Marshal(map[string]string{"action": "get", "url": url})
		out, err := fn.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("smoke"), Payload: payload})
		if err != nil || out.FunctionError != nil {
			t.Fatalf("Invoke(get %s) = %v, function error %v: %s", url, err, aws.ToString(out.FunctionError), out.Payload)
		}
		var res struct {
			Status int
			Body   string
		}
		if err := json.Unmarshal(out.Payload, &res); err != nil {
			t.Fatalf("Invoke(get %s) answered %s: %v", url, out.Payload, err)
		}
		return res.Status, res.Body
	}
	url := "http://" + dns + ":8080/"
	if status, body := get(url); status != 200 || body != "target saw Host "+dns+":8080" {
		t.Errorf("the function's GET %s = %d %q, want 200 from the listener's target, with the name as Host", url, status, body)
	}
	unknown := "http://other-1.us-east-1.elb.amazonaws.com/"
	if status, body := get(unknown); status != http.StatusBadGateway || !strings.Contains(body, "other-1.us-east-1.elb.amazonaws.com") {
		t.Errorf("the function's GET %s = %d %q, want 502 naming the host", unknown, status, body)
	}
}
