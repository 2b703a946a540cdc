package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/bundle"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
	"github.com/shipyard-ecs/shipyard/platform/ledger/ledgertest"
)

func TestMain(m *testing.M) { ledgertest.Main(m) }

// defaultTags build the bootstrap as the Makefile and ship up do for
// Lambda (platform/bundle's Tags): without aws-lambda-go's RPC mode, which
// only the retired go1.x runtime used (it brings net/rpc and encoding/gob,
// a third of the binary).
var defaultTags = strings.Join(bundle.Tags, ",")

// build compiles a package of this module as Lambda does: static, trimmed.
func build(t testing.TB, pkg, name string) string {
	t.Helper()
	return buildTags(t, pkg, name, defaultTags)
}

// buildTags is build with other build tags.
func buildTags(t testing.TB, pkg, name, tags string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-trimpath", "-tags", tags, "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// underRIE runs bootstrap as Lambda would, behind AWS's Runtime Interface
// Emulator, with the AWS variables for the local cloud at cloud (DynamoDB
// at dynamo) and env, until the test ends. invoke sends it a payload and
// returns its answer; logs has the emulator's and the function's output.
func underRIE(t *testing.T, bootstrap, cloud, dynamo string, env ...string) (invoke func(payload []byte) string, logs *lockedBuffer) {
	t.Helper()
	rie := build(t, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie", "aws-lambda-rie")
	addr := freeAddr(t)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", freeAddr(t), bootstrap)
	cmd.Env = append(os.Environ(),
		"AWS_ENDPOINT_URL="+cloud, "AWS_ENDPOINT_URL_DYNAMODB="+dynamo, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true")
	cmd.Env = append(cmd.Env, env...)
	logs = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait() // killed: the error says so
		if t.Failed() {
			t.Logf("emulator and function output:\n%s", logs.String())
		}
	})
	url := "http://" + addr + "/2015-03-31/functions/function/invocations"
	invoke = func(payload []byte) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := http.Post(url, "application/json", bytes.NewReader(payload))
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				return string(b)
			}
			if time.Now().After(deadline) {
				t.Fatalf("invoke through the emulator: %v", err)
			}
			time.Sleep(20 * time.Millisecond) // the emulator is starting
		}
	}
	return invoke, logs
}

// TestInitFailsNamingTheVariable: a bad configuration stops the cold start
// with a message that says which variable to fix. (BenchmarkBinarySize, in
// make bench, holds the binary to its size limit.)
func TestInitFailsNamingTheVariable(t *testing.T) {
	t.Parallel()
	bin := build(t, ".", "bootstrap")
	base := []string{platform.EnvLedgerTable + "=t", platform.EnvCluster + "=c", platform.EnvService + "=s",
		platform.EnvWatchedAlarms + "=a", platform.EnvEnforcement + "=enforce", platform.EnvGuardWindowMinutes + "=5"}
	tests := []struct{ name, env, want string }{
		{"bad enforcement mode", platform.EnvEnforcement + "=maybe", platform.EnvEnforcement},
		// The default build has no OTLP exporter: say so, and how to get one.
		{"OTLP asked of the default build", "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318", "-tags lambda.norpc,otlp,grpcnotrace"},
		{"unknown span exporter", "OTEL_TRACES_EXPORTER=jaeger", "OTEL_TRACES_EXPORTER"},
	}
	for _, tt := range tests {
		cmd := exec.Command(bin)
		cmd.Env = append(slices.Clone(base), tt.env) // the last value of a variable wins
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if err == nil || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("bootstrap with %s: err %v, stderr %q; want a failed init naming %s", tt.env, err, stderr.String(), tt.want)
		}
	}
}

// TestBootstrapUnderRuntimeInterfaceEmulator runs the built bootstrap as
// Lambda would, behind AWS's Runtime Interface Emulator, against
// localcloud, and invokes it with real event JSON.
func TestBootstrapUnderRuntimeInterfaceEmulator(t *testing.T) {
	t.Parallel()
	start := time.Now()
	cloud, dynamo := awsEnv(t)
	db := ledgertest.DynamoDB(t)
	table := ledgertest.NewTable(t, db)
	led := ledger.New(db, table)
	client := ecs.NewFromConfig(ledgertest.Config(cloud))
	ctx := context.Background()
	cluster := fmt.Sprintf("rie-%d", time.Now().UnixNano()%1e9)
	tds := setupService(t, client, cluster)

	invoke, logs := underRIE(t, build(t, ".", "bootstrap"), cloud, dynamo,
		platform.EnvLedgerTable+"="+table, platform.EnvCluster+"="+cluster, platform.EnvService+"=web",
		platform.EnvWatchedAlarms+"=web-target-5xx", platform.EnvEnforcement+"="+platform.EnforceRollback,
		platform.EnvGuardWindowMinutes+"=15", platform.EnvHealthCheckPath+"=/health")

	svc, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	legacy := aws.ToString(svc.Services[0].Deployments[0].Id)
	list, err := client.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	newest := list.ServiceDeployments[0]
	serviceArn := aws.ToString(newest.ServiceArn)
	now := time.Now()
	event := func(id string) []byte {
		b, _ := json.Marshal(map[string]any{
			"version": "0", "id": id, "detail-type": "ECS Deployment State Change", "source": "aws.ecs", "account": "000000000000",
			"time": now.UTC().Format(time.RFC3339), "region": "us-east-1", "resources": []string{serviceArn},
			"detail": map[string]any{"eventType": "INFO", "eventName": "SERVICE_DEPLOYMENT_COMPLETED", "deploymentId": legacy,
				"updatedAt": now.UTC().Format(time.RFC3339Nano), "reason": "ECS deployment " + legacy + " completed."},
		})
		return b
	}
	hook, _ := json.Marshal(map[string]any{
		"executionId": "e-1", "lifecycleStage": "PRE_SCALE_UP", "resourceArn": aws.ToString(newest.ServiceDeploymentArn),
		"executionDetails": map[string]any{"serviceArn": serviceArn, "targetServiceRevisionArn": aws.ToString(newest.TargetServiceRevisionArn),
			"testTrafficWeights": map[string]any{}, "productionTrafficWeights": map[string]any{}},
	})
	tests := []struct {
		name, payload string
		want          []string
	}{
		{"deployment completed", string(event("rie-1")), []string{`"action":"recorded"`, aws.ToString(newest.ServiceDeploymentArn)}},
		{"redelivered", string(event("rie-1")), []string{`"action":"duplicate"`}},
		{"malformed", `{"id":"rie-2","detail-type":"ECS Deployment State Change","source":"aws.ecs","time":"now"}`, []string{`"action":"rejected"`, "time"}},
		{"lifecycle hook", string(hook), []string{`"hookStatus":"SUCCEEDED"`}},
	}
	for _, tt := range tests {
		got := invoke([]byte(tt.payload))
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("invoke(%s) = %s, want it to contain %s", tt.name, got, w)
			}
		}
	}
	rec, err := led.Get(ctx, ledger.Key{Cluster: cluster, Service: "web", Arn: aws.ToString(newest.ServiceDeploymentArn), CreatedAt: aws.ToTime(newest.CreatedAt)})
	if err != nil || rec.Status != "SUCCESSFUL" || rec.TaskDefinition != tds[1] || len(rec.LegacyIDs) != 1 {
		t.Errorf("ledger record = %+v, %v; want SUCCESSFUL with task definition %s and its legacy id", rec, err, tds[1])
	}
	if !strings.Contains(logs.String(), `"eventId":"rie-1"`) || !strings.Contains(logs.String(), `"requestId":"`) {
		t.Errorf("function logs lack JSON lines with the event id and the request id:\n%s", logs.String())
	}
	// No exporter configured: no tracing, and no span in the output.
	if strings.Contains(logs.String(), `"SpanContext"`) || strings.Contains(logs.String(), "tracing on") {
		t.Errorf("function output has spans with no exporter configured:\n%s", logs.String())
	}
	t.Logf("took %s", time.Since(start).Round(time.Millisecond))
}

// setupService creates a cluster and service "web" with two task
// definitions, both deployed in turn with no tasks; it returns their ARNs.
func setupService(t *testing.T, c *ecs.Client, cluster string) []string {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	var tds []string
	for _, tag := range []string{"a", "b"} {
		out, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(cluster + "-web"), NetworkMode: types.NetworkModeAwsvpc, RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			Cpu: aws.String("256"), Memory: aws.String("512"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("registry.invalid/web:" + tag)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		tds = append(tds, aws.ToString(out.TaskDefinition.TaskDefinitionArn))
	}
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}}
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("web"),
		TaskDefinition: aws.String(tds[0]), DesiredCount: aws.Int32(0), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: net}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"), TaskDefinition: aws.String(tds[1])}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := c.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String("web")})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.ServiceDeployments) == 2 && list.ServiceDeployments[0].Status == types.ServiceDeploymentStatusSuccessful {
			return tds
		}
		if time.Now().After(deadline) {
			t.Fatalf("second deployment did not succeed: %+v", list.ServiceDeployments)
		}
		time.Sleep(50 * time.Millisecond) // polling ECS, as a client must
	}
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
