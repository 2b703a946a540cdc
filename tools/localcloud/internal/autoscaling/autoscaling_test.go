package autoscaling

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
)

func TestDecide(t *testing.T) {
	tests := []struct {
		name              string
		current, min, max int32
		metric            float64
		high, low         int
		scaleIn           bool
		want              int32
		wantChange        bool
	}{
		{"steady at target", 2, 1, 4, 70, 0, 0, true, 0, false},
		{"high for two periods only", 2, 1, 4, 140, 2, 0, true, 0, false},
		{"high for three periods", 2, 1, 4, 140, 3, 0, true, 4, true},
		{"high capped at max", 2, 1, 3, 700, 3, 0, true, 3, true},
		{"slightly high still adds one", 2, 1, 4, 71, 3, 0, true, 3, true},
		{"low for fourteen periods", 4, 1, 4, 10, 0, 14, true, 0, false},
		{"low for fifteen periods", 4, 1, 4, 10, 0, 15, true, 1, true},
		{"low but scale-in not allowed", 4, 1, 4, 10, 0, 15, false, 0, false},
		{"low floors at min", 4, 2, 4, 1, 0, 15, true, 2, true},
		{"below min is raised", 0, 2, 4, 0, 0, 0, false, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := decide(tt.current, tt.min, tt.max, tt.metric, 70, tt.high, tt.low, tt.scaleIn)
			if ok != tt.wantChange || (ok && d.Desired != tt.want) {
				t.Errorf("decide(%d in [%d,%d], metric %.0f, high %d, low %d, scaleIn %v) = %d, %v; want %d, %v",
					tt.current, tt.min, tt.max, tt.metric, tt.high, tt.low, tt.scaleIn, d.Desired, ok, tt.want, tt.wantChange)
			}
		})
	}
}

// fakeECS is a service whose utilization the test feeds.
type fakeECS struct {
	mu        sync.Mutex
	cpu       float64
	at        time.Time
	desired   int32
	deploying bool
}

func (f *fakeECS) ServiceMetrics(cluster, service string) (float64, float64, time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cpu, 10, f.at, !f.at.IsZero()
}

func (f *fakeECS) ScalingState(cluster, service string) (int32, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cluster != "c1" || service != "web" {
		return 0, false, errors.New("service not found")
	}
	return f.desired, f.deploying, nil
}

func (f *fakeECS) SetDesiredCount(cluster, service string, n int32, cause string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.desired = n
	return nil
}

func (f *fakeECS) feed(cpu float64, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cpu, f.at = cpu, at
}

func (f *fakeECS) count() int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.desired
}

func newAPI(t *testing.T, ecs *fakeECS, clk clock.Clock) (*Backend, *aas.Client) {
	t.Helper()
	b, err := New(Config{Clock: clk, ECS: ecs})
	if err != nil {
		t.Fatal(err)
	}
	return b, aas.NewFromConfig(awsprototest.Config(awsprototest.Serve(t, b.Register)))
}

var ctx = context.Background()

const resource = "service/c1/web"

func register(c *aas.Client, minC, maxC int32) error {
	_, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{
		ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resource), ScalableDimension: types.ScalableDimensionECSServiceDesiredCount,
		MinCapacity: aws.Int32(minC), MaxCapacity: aws.Int32(maxC),
	})
	return err
}

func TestAPI(t *testing.T) {
	ecs := &fakeECS{desired: 5}
	_, c := newAPI(t, ecs, clock.New(1))
	tests := []struct {
		name string
		call func() error
		want any
	}{
		{"policy before target", func() error {
			_, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("cpu"), ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resource),
				ScalableDimension: types.ScalableDimensionECSServiceDesiredCount, PolicyType: types.PolicyTypeTargetTrackingScaling,
				TargetTrackingScalingPolicyConfiguration: &types.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(70)}})
			return err
		}, &types.ObjectNotFoundException{}},
		{"unknown service", func() error {
			_, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String("service/c1/nope"),
				ScalableDimension: types.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2)})
			return err
		}, &types.ValidationException{}},
		{"new target without capacities", func() error {
			_, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resource),
				ScalableDimension: types.ScalableDimensionECSServiceDesiredCount})
			return err
		}, &types.ValidationException{}},
		{"min above max", func() error { return register(c, 5, 2) }, &types.ValidationException{}},
		{"deregister unknown", func() error {
			_, err := c.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resource), ScalableDimension: types.ScalableDimensionECSServiceDesiredCount})
			return err
		}, &types.ObjectNotFoundException{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil || !errors.As(err, &tt.want) {
				t.Errorf("%s = %v, want %T", tt.name, err, tt.want)
			}
		})
	}

	// Registering clamps the desired count into the range at once.
	if err := register(c, 2, 3); err != nil {
		t.Fatal(err)
	}
	if got := ecs.count(); got != 3 {
		t.Errorf("desired count after registering [2,3] with 5 = %d, want 3", got)
	}
	targets, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: types.ServiceNamespaceEcs})
	if err != nil || len(targets.ScalableTargets) != 1 || aws.ToInt32(targets.ScalableTargets[0].MaxCapacity) != 3 || targets.ScalableTargets[0].CreationTime == nil {
		t.Errorf("DescribeScalableTargets = %+v, %v; want the one target with max 3", targets, err)
	}
	put, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("cpu"), ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resource),
		ScalableDimension: types.ScalableDimensionECSServiceDesiredCount, PolicyType: types.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &types.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(70),
			PredefinedMetricSpecification: &types.PredefinedMetricSpecification{PredefinedMetricType: types.MetricTypeECSServiceAverageCPUUtilization}}})
	if err != nil || len(put.Alarms) != 2 || aws.ToString(put.PolicyARN) == "" {
		t.Fatalf("PutScalingPolicy = %+v, %v; want an ARN and two alarms", put, err)
	}
	pols, err := c.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resource)})
	if err != nil || len(pols.ScalingPolicies) != 1 || aws.ToFloat64(pols.ScalingPolicies[0].TargetTrackingScalingPolicyConfiguration.TargetValue) != 70 {
		t.Errorf("DescribeScalingPolicies = %+v, %v; want the cpu policy at 70", pols, err)
	}
	acts, err := c.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: types.ServiceNamespaceEcs})
	if err != nil || len(acts.ScalingActivities) != 1 || acts.ScalingActivities[0].StatusCode != types.ScalingActivityStatusCodeSuccessful {
		t.Errorf("DescribeScalingActivities = %+v, %v; want the clamp activity", acts, err)
	}
	if _, err := c.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resource), ScalableDimension: types.ScalableDimensionECSServiceDesiredCount}); err != nil {
		t.Fatal(err)
	}
	pols, _ = c.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: types.ServiceNamespaceEcs})
	if len(pols.ScalingPolicies) != 0 {
		t.Errorf("policies after deregistering the target = %d, want 0", len(pols.ScalingPolicies))
	}
}

func TestTargetTracking(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), 1)
	ecs := &fakeECS{desired: 1}
	b, c := newAPI(t, ecs, clk)
	if err := register(c, 1, 4); err != nil {
		t.Fatal(err)
	}
	put := func(disableIn bool) {
		if _, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("cpu"), ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resource),
			ScalableDimension: types.ScalableDimensionECSServiceDesiredCount, PolicyType: types.PolicyTypeTargetTrackingScaling,
			TargetTrackingScalingPolicyConfiguration: &types.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(50),
				ScaleInCooldown: aws.Int32(60), ScaleOutCooldown: aws.Int32(60), DisableScaleIn: aws.Bool(disableIn),
				PredefinedMetricSpecification: &types.PredefinedMetricSpecification{PredefinedMetricType: types.MetricTypeECSServiceAverageCPUUtilization}}}); err != nil {
			t.Fatal(err)
		}
	}
	put(false)
	// periods feeds n one-minute datapoints and evaluates after each.
	periods := func(n int, cpu float64) {
		for range n {
			clk.Advance(time.Minute)
			ecs.feed(cpu, clk.Now())
			b.Evaluate()
		}
	}
	steps := []struct {
		name      string
		n         int
		cpu       float64
		deploying bool
		want      int32
	}{
		{"two hot periods are not enough", 2, 200, false, 1},
		{"the third scales out to ceil(1*200/50)", 1, 200, false, 4},
		{"fourteen cool periods are not enough", 14, 5, false, 4},
		{"cool periods during a deployment never scale in", 5, 5, true, 4},
		{"once the deployment is over the cool spell scales in to the minimum", 1, 5, false, 1},
	}
	for _, s := range steps {
		ecs.mu.Lock()
		ecs.deploying = s.deploying
		ecs.mu.Unlock()
		periods(s.n, s.cpu)
		if got := ecs.count(); got != s.want {
			t.Fatalf("%s: desired count = %d, want %d", s.name, got, s.want)
		}
	}
	// With scale-in disabled, a long cool spell changes nothing.
	put(true)
	periods(3, 200)
	periods(30, 1)
	if got := ecs.count(); got != 4 {
		t.Errorf("desired count with scale-in disabled = %d, want 4 (scaled out, never in)", got)
	}
	acts, _ := c.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: types.ServiceNamespaceEcs})
	if len(acts.ScalingActivities) != 3 {
		t.Errorf("scaling activities = %d, want 3 (out, in, out)", len(acts.ScalingActivities))
	}
}

// TestBadRequests sends what the SDK would not; nothing may be registered.
func TestBadRequests(t *testing.T) {
	ecs := &fakeECS{desired: 1}
	b, c := newAPI(t, ecs, clock.New(1))
	url := aws.ToString(c.Options().BaseEndpoint)
	tests := []struct{ name, op, body, want string }{
		{"malformed", "RegisterScalableTarget", `{"ServiceNamespace":`, "SerializationException"},
		{"wrong type", "RegisterScalableTarget", `{"ServiceNamespace":"ecs","ResourceId":"service/c1/web","ScalableDimension":"ecs:service:DesiredCount","MinCapacity":"one","MaxCapacity":2}`, "SerializationException"},
		{"missing members", "RegisterScalableTarget", `{"MinCapacity":1,"MaxCapacity":2}`, "ValidationException"},
		{"other namespace", "RegisterScalableTarget", `{"ServiceNamespace":"dynamodb","ResourceId":"table/t","ScalableDimension":"dynamodb:table:ReadCapacityUnits","MinCapacity":1,"MaxCapacity":2}`, "ValidationException"},
		{"bad resource id", "RegisterScalableTarget", `{"ServiceNamespace":"ecs","ResourceId":"web","ScalableDimension":"ecs:service:DesiredCount","MinCapacity":1,"MaxCapacity":2}`, "ValidationException"},
		{"describe without namespace", "DescribeScalableTargets", `{}`, "ValidationException"},
		{"unknown operation", "ScaleEverything", `{}`, "UnknownOperationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(tt.body))
			req.Header.Set("X-Amz-Target", TargetPrefix+"."+tt.op)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tt.want) {
				t.Errorf("%s %s = %d %s, want 400 %s", tt.op, tt.body, resp.StatusCode, body, tt.want)
			}
		})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.st.Targets) != 0 {
		t.Errorf("targets after bad requests = %d, want 0", len(b.st.Targets))
	}
}
