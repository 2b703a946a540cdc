package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/manifest"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// TestUp runs ship up on an empty localcloud with the repository's own
// ship.yaml (test listener, deploywatch Lambda and its smoke-test hook
// included): both stacks through change sets, the deploywatch package,
// the service and its first deployment, auto scaling; the service answers
// through the load balancer. A second ship up changes neither stack, the
// listener weights nor the task definition.
func TestUp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts localcloud and creates the whole environment")
	}
	start := time.Now()
	c := startLocalcloud(t, 0.02)
	t.Setenv("AWS_ENDPOINT_URL", c.endpoint)
	ctx := context.Background()
	args := []string{"up", "--yes", "--manifest", repoManifest, "--poll", "100ms", "--timeout", "2m"}
	stdout, stderr, code := shipIn(ctx, args...)
	if code != exitOK {
		t.Fatalf("ship up exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"stack shipyard-local-bootstrap: create", "stack shipyard-local-environment: create", "CREATE_COMPLETE", "deploywatch package s3://", "first deployment", "SUCCEEDED: SUCCESSFUL", "up to date"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("ship up output lacks %q:\n%s", want, stdout)
		}
	}
	t.Logf("first ship up took %s:\n%s", time.Since(start).Round(time.Millisecond), stdout)

	m, err := manifest.Load(repoManifest)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := m.Spec("local")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + c.listener(t, stack.ClusterName(spec), spec.LoadBalancer.ListenerPort) + "/"
	eventually(t, "the service answers through the load balancer", 20*time.Second, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	cfg := aws.Config{Region: spec.Region, Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), BaseEndpoint: aws.String(c.endpoint)}
	outs, err := deploy.Outputs(ctx, cloudformationClient(cfg), stack.EnvironmentName(spec))
	if err != nil {
		t.Fatal(err)
	}
	live := func() (string, string) {
		rules, err := elb.NewFromConfig(cfg).DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{outs[stack.OutputProductionRule]}})
		if err != nil || len(rules.Rules) != 1 {
			t.Fatalf("describe the production rule: %v", err)
		}
		var w []string
		for _, tg := range rules.Rules[0].Actions[0].ForwardConfig.TargetGroups {
			w = append(w, aws.ToString(tg.TargetGroupArn)+"="+string(rune('0'+aws.ToInt32(tg.Weight)/100)))
		}
		svc, err := ecs.NewFromConfig(cfg).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(outs[stack.OutputCluster]), Services: []string{stack.ServiceName(spec)}})
		if err != nil || len(svc.Services) != 1 {
			t.Fatalf("describe the service: %v", err)
		}
		return strings.Join(w, ","), aws.ToString(svc.Services[0].TaskDefinition)
	}
	weights, td := live()

	again := time.Now()
	stdout, stderr, code = shipIn(ctx, args...)
	if code != exitOK {
		t.Fatalf("second ship up exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"stack shipyard-local-bootstrap: no changes", "stack shipyard-local-environment: no changes", "uploaded false", "service shipyard exists"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("second ship up output lacks %q:\n%s", want, stdout)
		}
	}
	if w, d := live(); w != weights || d != td {
		t.Errorf("after a second ship up: weights %s, task definition %s; want %s and %s unchanged", w, d, weights, td)
	}
	t.Logf("second ship up took %s; whole test %s", time.Since(again).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

func cloudformationClient(cfg aws.Config) *cloudformation.Client {
	return cloudformation.NewFromConfig(cfg)
}
