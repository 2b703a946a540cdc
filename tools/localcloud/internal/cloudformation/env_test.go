package cloudformation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfnapi "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwlogs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	ecrapi "github.com/aws/aws-sdk-go-v2/service/ecr"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/autoscaling"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/cloudformation"
	cwbackend "github.com/shipyard-ecs/shipyard/tools/localcloud/internal/cloudwatch"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/dynamodb"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/elbv2"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/events"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/lambda"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/logs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/s3"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/sns"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/sqs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/taskrun"
)

// sharedSchemas is where the registry schemas sit beside the repository.
const sharedSchemas = "../../../../../shared/cfn-schemas"

// registrySchemas loads the registry schemas beside the repository, or
// gives nil, so that properties are not validated, where there are none.
func registrySchemas(t *testing.T) *cloudformation.Schemas {
	t.Helper()
	if _, err := os.Stat(sharedSchemas); err != nil {
		t.Logf("no registry schemas at %s: properties are not validated in this run", sharedSchemas)
		return nil
	}
	s, err := cloudformation.LoadSchemas(sharedSchemas)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// env is localcloud with CloudFormation on a free loopback port, and the SDK
// clients to drive and inspect it.
type env struct {
	t    *testing.T
	addr string
	cfn  *cfnapi.Client
	elb  *elb.Client
	cw   *cloudwatch.Client
	logs *cwlogs.Client
	ecr  *ecrapi.Client
}

type envOptions struct {
	schemas *cloudformation.Schemas
	// minimal leaves out the services the platform's environment stack
	// adds to the ECS core (S3, DynamoDB, SQS, SNS, EventBridge, Lambda),
	// to test a localcloud that does not serve them.
	minimal bool
}

// noRunner is an ECS task runner for tests that start no tasks.
type noRunner struct{}

func (noRunner) Start(context.Context, taskrun.Spec, func(taskrun.Exit)) (*taskrun.Process, error) {
	return nil, errors.New("this test runs no tasks")
}
func (noRunner) Stop(context.Context, *taskrun.Process) error { return nil }

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	clk := clock.New(0.01)
	dir := t.TempDir()
	store := state.Store{Dir: dir}
	// The services CloudFormation provisions through, on one mux, as
	// localcloud assembles them.
	mux := awsproto.NewMux(log)
	var closers []io.Closer
	cw, err := cwbackend.New(cwbackend.Config{Logger: log, Clock: clk, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	lb, err := elbv2.New(elbv2.Config{Logger: log, Clock: clk, Store: store, Metrics: cw, PortOffset: -1})
	if err != nil {
		t.Fatal(err)
	}
	lg, err := logs.New(logs.Config{Logger: log, Clock: clk, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := ecr.New(ecr.Config{Dir: t.TempDir(), Host: addr, Logger: log, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ecsb, err := ecs.New(ecs.Config{Clock: clk, Runner: noRunner{}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ecsb.Start(ctx)
	cf, err := cloudformation.New(cloudformation.Config{Logger: log, Clock: clk, Store: store, Handler: mux, Schemas: o.schemas})
	if err != nil {
		t.Fatal(err)
	}
	scaler, err := autoscaling.New(autoscaling.Config{Clock: clk, Store: store, ECS: ecsb, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	services := []interface{ Register(*awsproto.Mux) }{cw, lb, lg, reg, ecsb, scaler}
	if !o.minimal {
		services = append(services, dataServices(t, addr, store, clk, log, lg)...)
	}
	// CloudFormation last, so it is closed first: its operations finish
	// before the services they call go away.
	services = append(services, cf)
	for _, svc := range services {
		svc.Register(mux)
		if c, ok := svc.(io.Closer); ok {
			closers = append(closers, c)
		}
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }() // ends with ErrServerClosed at cleanup
	t.Cleanup(func() {
		hs.Close()
		cancel()
		for i := len(closers) - 1; i >= 0; i-- {
			if err := closers[i].Close(); err != nil {
				t.Errorf("close backend: %v", err)
			}
		}
	})
	cfg := awsprototest.Config("http://" + addr)
	return &env{
		t: t, addr: addr,
		cfn: cfnapi.NewFromConfig(cfg), elb: elb.NewFromConfig(cfg), cw: cloudwatch.NewFromConfig(cfg),
		logs: cwlogs.NewFromConfig(cfg), ecr: ecrapi.NewFromConfig(cfg),
	}
}

// dataServices builds the backends the environment stack needs beyond the
// ECS core, as localcloud wires them (without event delivery, which no test
// here needs).
func dataServices(t *testing.T, addr string, store state.Store, clk clock.Clock, log *slog.Logger, lg *logs.Backend) []interface{ Register(*awsproto.Mux) } {
	t.Helper()
	objects, err := s3.New(s3.Config{Logger: log, Clock: clk, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	tables, err := dynamodb.New(dynamodb.Config{Logger: log, Clock: clk, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	queues, err := sqs.New(sqs.Config{Logger: log, Clock: clk, Store: store, Endpoint: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	topics, err := sns.New(sns.Config{Logger: log, Clock: clk, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := events.New(events.Config{Logger: log, Clock: clk, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	functions, err := lambda.New(lambda.Config{Logger: log, Clock: clk, Store: store, CodeDir: t.TempDir(), Endpoint: "http://" + addr, Logs: lg, S3: objects})
	if err != nil {
		t.Fatal(err)
	}
	return []interface{ Register(*awsproto.Mux) }{objects, tables, queues, topics, rules, functions}
}

var ctx = context.Background()

// sdkConfig is what SDK clients need to reach the env.
func (e *env) sdkConfig() aws.Config {
	return awsprototest.Config("http://" + e.addr)
}

// waitStatus polls the stack until its status is final (not *_IN_PROGRESS)
// and returns it; it fails the test after the deadline.
func (e *env) waitStatus(name string) cfntypes.Stack {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := e.cfn.DescribeStacks(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String(name)})
		if err != nil {
			e.t.Fatalf("DescribeStacks(%s): %v", name, err)
		}
		st := out.Stacks[0]
		if !strings.HasSuffix(string(st.StackStatus), "_IN_PROGRESS") || st.StackStatus == cfntypes.StackStatusReviewInProgress {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("stack %s still %s after 30s", name, st.StackStatus)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, as the SDK waiters poll
	}
}

func (e *env) waiterOpts() (func(*cfnapi.StackCreateCompleteWaiterOptions), func(*cfnapi.StackUpdateCompleteWaiterOptions), func(*cfnapi.StackDeleteCompleteWaiterOptions)) {
	return func(o *cfnapi.StackCreateCompleteWaiterOptions) {
			o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
		},
		func(o *cfnapi.StackUpdateCompleteWaiterOptions) {
			o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
		},
		func(o *cfnapi.StackDeleteCompleteWaiterOptions) {
			o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
		}
}

// createStack creates a stack and waits with the SDK's waiter.
func (e *env) createStack(name, body string, params map[string]string) cfntypes.Stack {
	e.t.Helper()
	in := &cfnapi.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(body), Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam}}
	for k, v := range params {
		in.Parameters = append(in.Parameters, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	if _, err := e.cfn.CreateStack(ctx, in); err != nil {
		e.t.Fatalf("CreateStack(%s): %v", name, err)
	}
	create, _, _ := e.waiterOpts()
	if err := cfnapi.NewStackCreateCompleteWaiter(e.cfn, create).Wait(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String(name)}, 30*time.Second); err != nil {
		e.t.Fatalf("wait for %s to create: %v; events:\n%s", name, err, e.failures(name))
	}
	return e.waitStatus(name)
}

// failures lists the stack's failed events, for test messages.
func (e *env) failures(name string) string {
	out, err := e.cfn.DescribeStackEvents(ctx, &cfnapi.DescribeStackEventsInput{StackName: aws.String(name)})
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, ev := range out.StackEvents {
		if strings.Contains(string(ev.ResourceStatus), "FAILED") {
			fmt.Fprintf(&b, "  %s %s: %s\n", aws.ToString(ev.LogicalResourceId), ev.ResourceStatus, aws.ToString(ev.ResourceStatusReason))
		}
	}
	return b.String()
}

// events returns the stack's events, oldest first.
func (e *env) events(name string) []cfntypes.StackEvent {
	e.t.Helper()
	out, err := e.cfn.DescribeStackEvents(ctx, &cfnapi.DescribeStackEventsInput{StackName: aws.String(name)})
	if err != nil {
		e.t.Fatalf("DescribeStackEvents(%s): %v", name, err)
	}
	evs := out.StackEvents
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs
}

func outputs(st cfntypes.Stack) map[string]string {
	m := map[string]string{}
	for _, o := range st.Outputs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return m
}

// tmpl renders a template document to its JSON body.
func tmpl(t *testing.T, doc map[string]any) string {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
