package autoscaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
)

// Services is what the scaler needs of ECS; *ecs.Backend satisfies it.
type Services interface {
	ServiceMetrics(cluster, service string) (cpu, mem float64, at time.Time, ok bool)
	ScalingState(cluster, service string) (desired int32, deploying bool, err error)
	SetDesiredCount(cluster, service string, n int32, cause string) error
}

type store interface {
	Load(name string, v any) (bool, error)
	Save(name string, v any) error
}

// Config configures a Backend.
type Config struct {
	Account, Region string
	Clock           clock.Clock
	Logger          *slog.Logger
	Store           store
	ECS             Services
}

// Backend holds scalable targets and policies and runs the scaler.
type Backend struct {
	cfg Config
	log *slog.Logger

	cancel context.CancelFunc

	mu sync.Mutex
	st *world
}

// Close stops the scaler.
func (b *Backend) Close() error {
	if b.cancel != nil {
		b.cancel()
	}
	return nil
}

type world struct {
	Targets    map[string]*target // by namespace|resource|dimension
	Policies   map[string]*policy // by policy ARN
	Activities []Activity
}

type target struct {
	ServiceNamespace  string             `json:"ServiceNamespace"`
	ResourceID        string             `json:"ResourceId"`
	ScalableDimension string             `json:"ScalableDimension"`
	MinCapacity       int32              `json:"MinCapacity"`
	MaxCapacity       int32              `json:"MaxCapacity"`
	RoleARN           string             `json:"RoleARN"`
	CreationTime      awsproto.Timestamp `json:"CreationTime"`
	SuspendedState    *suspendedState    `json:"SuspendedState,omitempty"`
	ScalableTargetARN string             `json:"ScalableTargetARN"`
}

type suspendedState struct {
	DynamicScalingInSuspended  *bool `json:"DynamicScalingInSuspended,omitempty"`
	DynamicScalingOutSuspended *bool `json:"DynamicScalingOutSuspended,omitempty"`
	ScheduledScalingSuspended  *bool `json:"ScheduledScalingSuspended,omitempty"`
}

type predefinedMetric struct {
	PredefinedMetricType string `json:"PredefinedMetricType"`
	ResourceLabel        string `json:"ResourceLabel,omitempty"`
}

type targetTracking struct {
	TargetValue                   *float64          `json:"TargetValue"`
	PredefinedMetricSpecification *predefinedMetric `json:"PredefinedMetricSpecification,omitempty"`
	CustomizedMetricSpecification any               `json:"CustomizedMetricSpecification,omitempty"`
	ScaleOutCooldown              *int32            `json:"ScaleOutCooldown,omitempty"`
	ScaleInCooldown               *int32            `json:"ScaleInCooldown,omitempty"`
	DisableScaleIn                *bool             `json:"DisableScaleIn,omitempty"`
}

type alarmRef struct {
	AlarmName string `json:"AlarmName"`
	AlarmARN  string `json:"AlarmARN"`
}

type policy struct {
	PolicyARN                                string             `json:"PolicyARN"`
	PolicyName                               string             `json:"PolicyName"`
	ServiceNamespace                         string             `json:"ServiceNamespace"`
	ResourceID                               string             `json:"ResourceId"`
	ScalableDimension                        string             `json:"ScalableDimension"`
	PolicyType                               string             `json:"PolicyType"`
	TargetTrackingScalingPolicyConfiguration *targetTracking    `json:"TargetTrackingScalingPolicyConfiguration,omitempty"`
	StepScalingPolicyConfiguration           any                `json:"StepScalingPolicyConfiguration,omitempty"`
	Alarms                                   []alarmRef         `json:"Alarms"`
	CreationTime                             awsproto.Timestamp `json:"CreationTime"`

	// Scaler state.
	High, Low          int       `json:"-"`
	LastOut, LastIn    time.Time `json:"-"`
	LastMetricSampleAt time.Time `json:"-"`
}

// Activity is a scaling activity.
type Activity struct {
	ActivityID        string              `json:"ActivityId"`
	ServiceNamespace  string              `json:"ServiceNamespace"`
	ResourceID        string              `json:"ResourceId"`
	ScalableDimension string              `json:"ScalableDimension"`
	Description       string              `json:"Description"`
	Cause             string              `json:"Cause"`
	StartTime         awsproto.Timestamp  `json:"StartTime"`
	EndTime           *awsproto.Timestamp `json:"EndTime,omitempty"`
	StatusCode        string              `json:"StatusCode"`
	StatusMessage     string              `json:"StatusMessage,omitempty"`
}

const stateName = "applicationautoscaling"

// New loads the persisted state. Start runs the scaler.
func New(cfg Config) (*Backend, error) {
	if cfg.Clock == nil || cfg.ECS == nil {
		return nil, errors.New("create autoscaling backend: Clock and ECS are required")
	}
	if cfg.Account == "" {
		cfg.Account = "000000000000"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Backend{cfg: cfg, log: cfg.Logger, st: &world{}}
	if cfg.Store != nil {
		if _, err := cfg.Store.Load(stateName, b.st); err != nil {
			return nil, fmt.Errorf("load autoscaling state: %w", err)
		}
	}
	if b.st.Targets == nil {
		b.st.Targets = map[string]*target{}
	}
	if b.st.Policies == nil {
		b.st.Policies = map[string]*policy{}
	}
	return b, nil
}

func (b *Backend) saveLocked() {
	if b.cfg.Store == nil {
		return
	}
	if err := b.cfg.Store.Save(stateName, b.st); err != nil {
		b.log.Error("save autoscaling state", "error", err)
	}
}

// period is how often, in AWS time, target tracking evaluates: the
// one-minute period of the alarms AWS creates.
const period = time.Minute

// The alarm shapes AWS creates for target tracking: 3 of 3 periods above
// the target to scale out, 15 of 15 below 90% of it to scale in.
const (
	highPeriods   = 3
	lowPeriods    = 15
	lowFraction   = 0.9
	defaultCoolEC = 300 * time.Second
)

// Start runs the scaler until ctx ends or Close; it returns at once.
func (b *Backend) Start(ctx context.Context) {
	ctx, b.cancel = context.WithCancel(ctx)
	go func() {
		t := b.cfg.Clock.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C():
				b.Evaluate()
			}
		}
	}()
}

// decision is what one evaluation of a target-tracking policy decides.
type decision struct {
	Desired int32
	Reason  string
}

// decide applies the target-tracking rule to one sample. high and low are
// the consecutive periods above the target and below 90% of it, this
// sample included.
func decide(current, minCap, maxCap int32, metric, targetValue float64, high, low int, scaleInAllowed bool) (decision, bool) {
	want := int32(math.Ceil(float64(current) * metric / targetValue))
	switch {
	case current < minCap:
		return decision{minCap, "below the minimum capacity"}, true
	case current > maxCap:
		return decision{maxCap, "above the maximum capacity"}, true
	case high >= highPeriods && metric > targetValue && current < maxCap:
		return decision{min(max(want, current+1), maxCap), fmt.Sprintf("the metric %.1f was above the target %.1f for %d periods", metric, targetValue, high)}, true
	case scaleInAllowed && low >= lowPeriods && current > minCap:
		return decision{max(want, minCap), fmt.Sprintf("the metric %.1f was below 90%% of the target %.1f for %d periods", metric, targetValue, low)}, true
	}
	return decision{}, false
}

// Evaluate runs one evaluation of every target-tracking policy.
func (b *Backend) Evaluate() {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.cfg.Clock.Now()
	arns := make([]string, 0, len(b.st.Policies))
	for arn := range b.st.Policies {
		arns = append(arns, arn)
	}
	sort.Strings(arns)
	for _, arn := range arns {
		p := b.st.Policies[arn]
		tt := p.TargetTrackingScalingPolicyConfiguration
		if p.PolicyType != "TargetTrackingScaling" || tt == nil || tt.PredefinedMetricSpecification == nil || p.ServiceNamespace != "ecs" {
			continue
		}
		mt := tt.PredefinedMetricSpecification.PredefinedMetricType
		if mt != "ECSServiceAverageCPUUtilization" && mt != "ECSServiceAverageMemoryUtilization" {
			continue
		}
		tg := b.st.Targets[key(p.ServiceNamespace, p.ResourceID, p.ScalableDimension)]
		if tg == nil {
			continue
		}
		cluster, service := parseResource(p.ResourceID)
		cpu, mem, at, ok := b.cfg.ECS.ServiceMetrics(cluster, service)
		if !ok || !at.After(p.LastMetricSampleAt) {
			continue // no new datapoint: missing data changes nothing
		}
		p.LastMetricSampleAt = at
		metric := cpu
		if mt == "ECSServiceAverageMemoryUtilization" {
			metric = mem
		}
		target := *tt.TargetValue
		if metric > target {
			p.High++
		} else {
			p.High = 0
		}
		if metric < target*lowFraction {
			p.Low++
		} else {
			p.Low = 0
		}
		current, deploying, err := b.cfg.ECS.ScalingState(cluster, service)
		if err != nil {
			continue
		}
		inCool, outCool := defaultCoolEC, defaultCoolEC
		if tt.ScaleInCooldown != nil {
			inCool = time.Duration(*tt.ScaleInCooldown) * time.Second
		}
		if tt.ScaleOutCooldown != nil {
			outCool = time.Duration(*tt.ScaleOutCooldown) * time.Second
		}
		scaleIn := !deploying && (tt.DisableScaleIn == nil || !*tt.DisableScaleIn) && now.Sub(p.LastIn) >= b.cfg.Clock.Scale(inCool) && now.Sub(p.LastOut) >= b.cfg.Clock.Scale(outCool)
		if tg.SuspendedState != nil && tg.SuspendedState.DynamicScalingInSuspended != nil && *tg.SuspendedState.DynamicScalingInSuspended {
			scaleIn = false
		}
		d, ok := decide(current, tg.MinCapacity, tg.MaxCapacity, metric, target, p.High, p.Low, scaleIn)
		if !ok || d.Desired == current {
			continue
		}
		if d.Desired > current && now.Sub(p.LastOut) < b.cfg.Clock.Scale(outCool) {
			continue
		}
		if tg.SuspendedState != nil && d.Desired > current && tg.SuspendedState.DynamicScalingOutSuspended != nil && *tg.SuspendedState.DynamicScalingOutSuspended {
			continue
		}
		b.applyPolicy(tg, p, current, d, now)
	}
}

// apply records a scaling activity and sets the service's desired count.
func (b *Backend) apply(tg *target, current, desired int32, cause string, now time.Time) {
	cluster, service := parseResource(tg.ResourceID)
	act := Activity{
		ActivityID: newID(), ServiceNamespace: tg.ServiceNamespace, ResourceID: tg.ResourceID, ScalableDimension: tg.ScalableDimension,
		Description: fmt.Sprintf("Setting desired count to %d.", desired), Cause: cause, StartTime: awsproto.NewTimestamp(now), StatusCode: "Successful",
		StatusMessage: fmt.Sprintf("Successfully set desired count to %d. Change successfully fulfilled by ecs.", desired),
	}
	if err := b.cfg.ECS.SetDesiredCount(cluster, service, desired, cause); err != nil {
		act.StatusCode, act.StatusMessage = "Failed", err.Error()
	}
	end := awsproto.NewTimestamp(b.cfg.Clock.Now())
	act.EndTime = &end
	b.st.Activities = append([]Activity{act}, b.st.Activities...)
	if len(b.st.Activities) > 1000 {
		b.st.Activities = b.st.Activities[:1000]
	}
	b.log.Info("scaling activity", "resource", tg.ResourceID, "from", current, "to", desired, "status", act.StatusCode)
	b.saveLocked()
}

// applyPolicy scales for a target-tracking policy and starts its cooldown.
func (b *Backend) applyPolicy(tg *target, p *policy, current int32, d decision, now time.Time) {
	alarm := p.Alarms[0].AlarmName
	if d.Desired < current {
		alarm = p.Alarms[1].AlarmName
	}
	b.apply(tg, current, d.Desired, fmt.Sprintf("monitor alarm %s in state ALARM triggered policy %s: %s", alarm, p.PolicyName, d.Reason), now)
	if d.Desired > current {
		p.LastOut, p.High = now, 0
	} else {
		p.LastIn, p.Low = now, 0
	}
}

func key(ns, resource, dim string) string { return ns + "|" + resource + "|" + dim }

// parseResource splits service/<cluster>/<service>.
func parseResource(id string) (cluster, service string) {
	parts := strings.Split(id, "/")
	if len(parts) != 3 || parts[0] != "service" {
		return "", ""
	}
	return parts[1], parts[2]
}
