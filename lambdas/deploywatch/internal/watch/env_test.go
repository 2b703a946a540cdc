package watch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/watch"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
	"github.com/shipyard-ecs/shipyard/platform/ledger/ledgertest"
)

func TestMain(m *testing.M) { ledgertest.Main(m) }

var clusters atomic.Int64

// world is one test's ECS cluster with service "web" on localcloud, a
// ledger table, and a handler watching them. The handler reaches ECS
// through a proxy that counts the calls that change things.
type world struct {
	t        testing.TB
	ecs      *ecs.Client // the test's own, direct
	ledger   *ledger.Ledger
	h        *watch.Handler
	cfg      watch.Config
	metrics  *syncBuffer
	logs     *syncBuffer
	cluster  string
	taskDefs []string
	calls    sync.Map // ECS operation -> *atomic.Int32
	// failNext makes calls of an operation fail: with a server error
	// (a struct{} value) until the test deletes the entry, so that the
	// SDK's own retries fail too, as when ECS is down; or once, with the
	// client error a string value names (ConflictException, say), which
	// the SDK does not retry.
	failNext sync.Map // ECS operation -> struct{} or error code
	// ecsURL is the counting proxy's address, for other handlers.
	ecsURL string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (w *world) count(op string) int32 {
	v, _ := w.calls.LoadOrStore(op, new(atomic.Int32))
	return v.(*atomic.Int32).Load()
}

// newWorld creates the cluster, two task definitions (A, B) and the
// service on A with no tasks, and waits for that first deployment.
func newWorld(t testing.TB, edit func(*watch.Config)) *world {
	t.Helper()
	cloud := ledgertest.Localcloud(t)
	db := ledgertest.DynamoDB(t)
	table := ledgertest.NewTable(t, db)
	w := &world{t: t, ecs: ecs.NewFromConfig(ledgertest.Config(cloud.Endpoint)), ledger: ledger.New(db, table),
		metrics: &syncBuffer{}, logs: &syncBuffer{}, cluster: fmt.Sprintf("watch-%d-%d", time.Now().UnixNano()%1e6, clusters.Add(1))}
	target, _ := url.Parse(cloud.Endpoint)
	proxy := httputil.NewSingleHostReverseProxy(target)
	counting := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if _, op, ok := strings.Cut(r.Header.Get("X-Amz-Target"), "."); ok {
			if v, fail := w.failNext.Load(op); fail {
				status, code := http.StatusInternalServerError, "ServerException"
				if c, ok := v.(string); ok {
					status, code = http.StatusBadRequest, c
					w.failNext.CompareAndDelete(op, v)
				}
				rw.Header().Set("Content-Type", "application/x-amz-json-1.1")
				rw.WriteHeader(status)
				fmt.Fprintf(rw, `{"__type":%q,"message":"injected by the test"}`, code)
				return
			}
			v, _ := w.calls.LoadOrStore(op, new(atomic.Int32))
			v.(*atomic.Int32).Add(1)
		}
		proxy.ServeHTTP(rw, r)
	}))
	t.Cleanup(counting.Close)
	w.ecsURL = counting.URL
	w.cfg = watch.Config{Table: table, Cluster: w.cluster, Service: "web", WatchedAlarms: []string{"web-target-5xx", "web-elb-5xx"},
		GuardWindow: 15 * time.Minute, Cooldown: 10 * time.Minute, SmokeChecks: []watch.Check{{Path: "/health", Status: 200}},
		SmokeWarmup: time.Minute, SmokeBudget: 5 * time.Second, CallBackDelay: 15 * time.Second}
	if edit != nil {
		edit(&w.cfg)
	}
	w.h = watch.New(w.cfg, watch.Deps{
		ECS: ecs.NewFromConfig(ledgertest.Config(counting.URL)), Ledger: w.ledger,
		Log: slog.New(slog.NewJSONHandler(w.logs, nil)), Metrics: w.metrics,
	})
	ctx := context.Background()
	if _, err := w.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(w.cluster)}); err != nil {
		t.Fatalf("CreateCluster: %v", err)
	}
	for _, tag := range []string{"a", "b"} {
		out, err := w.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(w.cluster + "-web"), NetworkMode: types.NetworkModeAwsvpc, RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			Cpu: aws.String("256"), Memory: aws.String("512"),
			// No registry serves this image: the tests need deployments,
			// not processes, and a task that cannot start keeps a
			// deployment in flight.
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("registry.invalid/web:" + tag), Essential: aws.Bool(true)}},
		})
		if err != nil {
			t.Fatalf("RegisterTaskDefinition: %v", err)
		}
		w.taskDefs = append(w.taskDefs, aws.ToString(out.TaskDefinition.TaskDefinitionArn))
	}
	if _, err := w.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(w.cluster), ServiceName: aws.String("web"), TaskDefinition: aws.String(w.taskDefs[0]), DesiredCount: aws.Int32(0),
		LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets: []string{"subnet-a", "subnet-b"}, AssignPublicIp: types.AssignPublicIpDisabled}},
	}); err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	t.Cleanup(func() {
		// Stop the failing tasks from being retried after the test.
		if _, err := w.ecs.UpdateService(context.Background(), &ecs.UpdateServiceInput{Cluster: aws.String(w.cluster), Service: aws.String("web"), DesiredCount: aws.Int32(0)}); err != nil {
			t.Logf("scale the service to 0: %v", err)
		}
		if _, err := w.ecs.DeleteService(context.Background(), &ecs.DeleteServiceInput{Cluster: aws.String(w.cluster), Service: aws.String("web"), Force: aws.Bool(true)}); err != nil {
			t.Logf("delete the service: %v", err)
		}
		if t.Failed() {
			t.Logf("handler logs:\n%s", w.logs.String())
		}
	})
	w.waitDeployment(1, "SUCCESSFUL")
	return w
}

// deploy starts a deployment of task definition i with desired tasks.
func (w *world) deploy(i int, desired int32) {
	w.t.Helper()
	if _, err := w.ecs.UpdateService(context.Background(), &ecs.UpdateServiceInput{
		Cluster: aws.String(w.cluster), Service: aws.String("web"), TaskDefinition: aws.String(w.taskDefs[i]), DesiredCount: aws.Int32(desired),
	}); err != nil {
		w.t.Fatalf("UpdateService: %v", err)
	}
}

// waitDeployment waits until the service has n deployments and the newest
// has one of statuses, and returns it.
func (w *world) waitDeployment(n int, statuses ...string) types.ServiceDeployment {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for {
		list, err := w.ecs.ListServiceDeployments(context.Background(), &ecs.ListServiceDeploymentsInput{Cluster: aws.String(w.cluster), Service: aws.String("web")})
		if err != nil {
			w.t.Fatalf("ListServiceDeployments: %v", err)
		}
		if len(list.ServiceDeployments) == n {
			d := w.describe(aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn))
			for _, st := range statuses {
				if string(d.Status) == st {
					return d
				}
			}
			last = string(d.Status)
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("service has %d deployments, newest %s; want %d, newest one of %v", len(list.ServiceDeployments), last, n, statuses)
		}
		time.Sleep(50 * time.Millisecond) // polling ECS, as a client must
	}
}

func (w *world) describe(arn string) types.ServiceDeployment {
	w.t.Helper()
	out, err := w.ecs.DescribeServiceDeployments(context.Background(), &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	if err != nil || len(out.ServiceDeployments) != 1 {
		w.t.Fatalf("DescribeServiceDeployments(%s) = %v, %v", arn, out, err)
	}
	return out.ServiceDeployments[0]
}

func (w *world) key(d types.ServiceDeployment) ledger.Key {
	return ledger.Key{Cluster: w.cluster, Service: "web", Arn: aws.ToString(d.ServiceDeploymentArn), CreatedAt: aws.ToTime(d.CreatedAt)}
}

// legacyID is the ecs-svc/… id ECS shows for task definition i.
func (w *world) legacyID(i int) string {
	w.t.Helper()
	out, err := w.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(w.cluster), Services: []string{"web"}})
	if err != nil || len(out.Services) != 1 {
		w.t.Fatalf("DescribeServices = %v, %v", out, err)
	}
	for _, d := range out.Services[0].Deployments {
		if aws.ToString(d.TaskDefinition) == w.taskDefs[i] {
			return aws.ToString(d.Id)
		}
	}
	w.t.Fatalf("no legacy deployment of %s in %+v", w.taskDefs[i], out.Services[0].Deployments)
	return ""
}

func (w *world) invoke(payload []byte) watch.Answer {
	w.t.Helper()
	out, err := w.h.Invoke(context.Background(), payload)
	if err != nil {
		w.t.Fatalf("Invoke(%s) error = %v", payload, err)
	}
	var a watch.Answer
	if err := json.Unmarshal(out, &a); err != nil {
		w.t.Fatalf("Invoke answer %s: %v", out, err)
	}
	return a
}

func (w *world) serviceArn() string {
	return "arn:aws:ecs:us-east-1:000000000000:service/" + w.cluster + "/web"
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func alarmEvent(id, alarm, state string, at time.Time) []byte {
	prev := "OK"
	if state == "OK" {
		prev = "ALARM"
	}
	return mustJSON(map[string]any{
		"version": "0", "id": id, "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
		"account": "000000000000", "time": at.UTC().Format(time.RFC3339), "region": "us-east-1",
		"resources": []string{"arn:aws:cloudwatch:us-east-1:000000000000:alarm:" + alarm},
		"detail": map[string]any{
			"alarmName":     alarm,
			"state":         map[string]any{"value": state, "reason": "Threshold Crossed", "timestamp": at.UTC().Format("2006-01-02T15:04:05.000-0700")},
			"previousState": map[string]any{"value": prev, "reason": "Threshold Crossed", "timestamp": at.Add(-time.Minute).UTC().Format("2006-01-02T15:04:05.000-0700")},
			"configuration": map[string]any{"description": "5XX"},
		},
	})
}

func deploymentEvent(id, serviceArn, name, legacyID, reason string, at time.Time) []byte {
	return mustJSON(map[string]any{
		"version": "0", "id": id, "detail-type": "ECS Deployment State Change", "source": "aws.ecs",
		"account": "000000000000", "time": at.UTC().Format(time.RFC3339), "region": "us-east-1", "resources": []string{serviceArn},
		"detail": map[string]any{"eventType": "INFO", "eventName": name, "deploymentId": legacyID,
			"updatedAt": at.UTC().Format(time.RFC3339Nano), "reason": reason},
	})
}

// handler is another handler on the world's ECS and ledger, with cfg.
func (w *world) handler(cfg watch.Config) *watch.Handler {
	return watch.New(cfg, watch.Deps{ECS: w.ecs, Ledger: w.ledger, Log: slog.New(slog.NewJSONHandler(w.logs, nil)), Metrics: w.metrics})
}

func hookInvocation(id, stage, deploymentArn, serviceArn, target string, test, prod map[string]float64, details map[string]any) []byte {
	m := map[string]any{
		"executionId": id, "lifecycleStage": stage, "resourceArn": deploymentArn,
		"executionDetails": map[string]any{"serviceArn": serviceArn, "targetServiceRevisionArn": target,
			"testTrafficWeights": test, "productionTrafficWeights": prod},
	}
	if details != nil {
		m["hookDetails"] = details
	}
	return mustJSON(m)
}
