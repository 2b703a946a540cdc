package ecs_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	ecrapi "github.com/aws/aws-sdk-go-v2/service/ecr"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/autoscaling"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr/ecrtest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/server"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/taskrun"
)

// TestAssembled wires ECR, the task runner, ECS and Application Auto
// Scaling into the server as localcloud does, pushes the app image to the
// repository URI the ECR API returns, runs it as a service whose output
// reaches CloudWatch Logs, and rolls a blue/green deployment back with a
// real CloudWatch alarm set by SetAlarmState.
func TestAssembled(t *testing.T) {
	dir := t.TempDir()
	clk := clock.New(scale)
	store := state.Store{Dir: dir}
	log := slog.New(slog.DiscardHandler)
	srv, err := server.New(ctx, server.Config{Logger: log, Clock: clk, Store: store, PortOffset: -1})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// --- the wiring main needs ---
	registry, err := ecr.New(ecr.Config{Dir: dir + "/ecr", Store: store, Host: ln.Addr().String(), Clock: clk, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv.Add(registry)
	runner, err := taskrun.New(taskrun.Config{Dir: dir + "/tasks", Images: registry, Logs: srv.Logs, Clock: clk, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer runner.Close()
	ecsb, err := ecs.New(ecs.Config{Clock: clk, Store: store, Runner: runner, Images: registry, ELB: ecs.ELBv2(srv.ELBv2), Alarms: srv.CloudWatch, Metrics: srv.CloudWatch, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv.Add(ecsb)
	scaler, err := autoscaling.New(autoscaling.Config{Clock: clk, Store: store, ECS: ecsb, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv.Add(scaler)
	runCtx, cancel := context.WithCancel(ctx)
	ecsb.Start(runCtx)
	scaler.Start(runCtx)
	// ---
	served := make(chan error, 1)
	go func() { served <- srv.Serve(runCtx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve = %v", err)
		}
		srv.Close()
	}()

	endpoint := "http://" + ln.Addr().String()
	cfg := awsprototest.Config(endpoint)
	ecrc, ecsc, logc, cwc := ecrapi.NewFromConfig(cfg), ecsapi.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)

	repo, err := ecrc.CreateRepository(ctx, &ecrapi.CreateRepositoryInput{RepositoryName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	uri := aws.ToString(repo.Repository.RepositoryUri)
	host, name, _ := strings.Cut(uri, "/")
	bin := sharedBinary(t)
	img, err := ecrtest.Image(bin, "APP_VERSION=v1")
	if err != nil {
		t.Fatal(err)
	}
	image, err := ecrtest.Push(img, host, name, "v1")
	if err != nil {
		t.Fatalf("push to %s: %v", uri, err)
	}

	e := &env{t: t, ecs: ecsc, elb: nil}
	if _, err := ecsc.CreateCluster(ctx, &ecsapi.CreateClusterInput{ClusterName: aws.String("c1")}); err != nil {
		t.Fatal(err)
	}
	td, err := ecsc.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{
		Family: aws.String("app"), NetworkMode: types.NetworkModeAwsvpc, RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu: aws.String("256"), Memory: aws.String("512"), ExecutionRoleArn: aws.String("arn:aws:iam::000000000000:role/exec"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(image), PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(5000)}},
			LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{
				"awslogs-group": "/ecs/app", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ecsc.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: aws.String("c1"), ServiceName: aws.String("app"),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1), NetworkConfiguration: awsvpc}); err != nil {
		t.Fatal(err)
	}
	e.eventually("the task runs", 20*time.Second, func() bool { return e.running("app", 1) })
	task := e.tasks("app")[0]
	id := aws.ToString(task.TaskArn)[strings.LastIndexByte(aws.ToString(task.TaskArn), '/')+1:]
	stream := "ecs/app/" + id
	e.eventually("the task's output reaches its log stream", 10*time.Second, func() bool {
		out, err := logc.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/ecs/app"), LogStreamName: aws.String(stream)})
		if err != nil {
			return false
		}
		for _, ev := range out.Events {
			if strings.Contains(aws.ToString(ev.Message), "listening on") {
				return true
			}
		}
		return false
	})
	if aws.ToString(task.Containers[0].ImageDigest) == "" || !strings.HasSuffix(image, aws.ToString(task.Containers[0].ImageDigest)) {
		t.Errorf("task image digest = %q, want the pushed %s", aws.ToString(task.Containers[0].ImageDigest), image)
	}

	// A real alarm in ALARM is what ECS sees.
	if _, err := cwc.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("app-5xx"), Namespace: aws.String("AWS/ApplicationELB"),
		MetricName: aws.String("HTTPCode_Target_5XX_Count"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cwc.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("app-5xx"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("drill")}); err != nil {
		t.Fatal(err)
	}
	st, err := srv.CloudWatch.AlarmState(ctx, "app-5xx")
	if err != nil || st != "ALARM" {
		t.Errorf("AlarmState(app-5xx) after SetAlarmState = %q, %v; want ALARM", st, err)
	}
}

// sharedBinary builds the test app once more for the assembled test (the
// shared image lives in another registry).
func sharedBinary(t *testing.T) string {
	t.Helper()
	bin, err := ecrtest.GoBuild("../taskrun/testdata/testapp", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
