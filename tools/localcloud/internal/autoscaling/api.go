package autoscaling

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// TargetPrefix is Application Auto Scaling's X-Amz-Target prefix.
const TargetPrefix = "AnyScaleFrontendService"

// Error codes, as the SDK's types name them.
const (
	CodeValidation     = "ValidationException"
	CodeObjectNotFound = "ObjectNotFoundException"
)

func errf(code, format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func required(fields ...string) error {
	vs := make([]awsproto.Violation, len(fields))
	for i, f := range fields {
		vs[i] = awsproto.Required(f)
	}
	return awsproto.Validation(CodeValidation, vs...)
}

func op[In any](b *Backend, f func(context.Context, *In) (any, error)) awsproto.JSONOp {
	return awsproto.Op[In](func(ctx context.Context, in *In) (any, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		out, err := f(ctx, in)
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("encode autoscaling output: %w", err)
		}
		b.saveLocked()
		return json.RawMessage(raw), nil
	}).JSON()
}

// Register answers Application Auto Scaling (JSON 1.1).
func (b *Backend) Register(m *awsproto.Mux) {
	m.HandleJSON(awsproto.JSONService{TargetPrefix: TargetPrefix, Version: "1.1", Ops: map[string]awsproto.JSONOp{
		"RegisterScalableTarget":    op(b, b.apiRegisterScalableTarget),
		"DeregisterScalableTarget":  op(b, b.apiDeregisterScalableTarget),
		"DescribeScalableTargets":   op(b, b.apiDescribeScalableTargets),
		"PutScalingPolicy":          op(b, b.apiPutScalingPolicy),
		"DescribeScalingPolicies":   op(b, b.apiDescribeScalingPolicies),
		"DeleteScalingPolicy":       op(b, b.apiDeleteScalingPolicy),
		"DescribeScalingActivities": op(b, b.apiDescribeScalingActivities),
	}})
}

func newID() string {
	var x [16]byte
	_, _ = rand.Read(x[:])
	h := hex.EncodeToString(x[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

type targetIn struct {
	ServiceNamespace  *string         `json:"ServiceNamespace"`
	ResourceID        *string         `json:"ResourceId"`
	ScalableDimension *string         `json:"ScalableDimension"`
	MinCapacity       *int32          `json:"MinCapacity"`
	MaxCapacity       *int32          `json:"MaxCapacity"`
	RoleARN           string          `json:"RoleARN"`
	SuspendedState    *suspendedState `json:"SuspendedState"`
}

// checkTarget validates the three members that name a scalable target.
func checkTarget(ns, res, dim *string) error {
	var missing []string
	if ns == nil {
		missing = append(missing, "serviceNamespace")
	}
	if res == nil {
		missing = append(missing, "resourceId")
	}
	if dim == nil {
		missing = append(missing, "scalableDimension")
	}
	if len(missing) > 0 {
		return required(missing...)
	}
	if *ns != "ecs" {
		return errf(CodeValidation, "Unsupported service namespace %s: localcloud scales ECS services only.", *ns)
	}
	if *dim != "ecs:service:DesiredCount" {
		return errf(CodeValidation, "Unsupported scalable dimension '%s' for service namespace ecs.", *dim)
	}
	if c, s := parseResource(*res); c == "" || s == "" {
		return errf(CodeValidation, "Unsupported resource ID '%s': expected service/<cluster>/<service>.", *res)
	}
	return nil
}

func (b *Backend) apiRegisterScalableTarget(_ context.Context, in *targetIn) (any, error) {
	if err := checkTarget(in.ServiceNamespace, in.ResourceID, in.ScalableDimension); err != nil {
		return nil, err
	}
	k := key(*in.ServiceNamespace, *in.ResourceID, *in.ScalableDimension)
	tg, exists := b.st.Targets[k]
	if !exists && (in.MinCapacity == nil || in.MaxCapacity == nil) {
		return nil, errf(CodeValidation, "MinCapacity and MaxCapacity are required for registering a new scalable target")
	}
	minC, maxC := int32(0), int32(0)
	if exists {
		minC, maxC = tg.MinCapacity, tg.MaxCapacity
	}
	if in.MinCapacity != nil {
		minC = *in.MinCapacity
	}
	if in.MaxCapacity != nil {
		maxC = *in.MaxCapacity
	}
	if minC < 0 || maxC < 0 {
		return nil, errf(CodeValidation, "Capacities must be non-negative.")
	}
	if minC > maxC {
		return nil, errf(CodeValidation, "Minimum capacity cannot be greater than maximum capacity")
	}
	cluster, service := parseResource(*in.ResourceID)
	current, _, err := b.cfg.ECS.ScalingState(cluster, service)
	if err != nil {
		return nil, errf(CodeValidation, "ECS service doesn't exist: %s", *in.ResourceID)
	}
	if !exists {
		tg = &target{
			ServiceNamespace: *in.ServiceNamespace, ResourceID: *in.ResourceID, ScalableDimension: *in.ScalableDimension,
			CreationTime:      awsproto.NewTimestamp(b.cfg.Clock.Now()),
			ScalableTargetARN: fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/%s", b.cfg.Region, b.cfg.Account, hex.EncodeToString([]byte(newID()))[:32]),
			RoleARN:           fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService", b.cfg.Account),
		}
		b.st.Targets[k] = tg
	}
	tg.MinCapacity, tg.MaxCapacity = minC, maxC
	if in.RoleARN != "" {
		tg.RoleARN = in.RoleARN
	}
	if in.SuspendedState != nil {
		tg.SuspendedState = in.SuspendedState
	}
	// The target's range applies at once.
	if want := min(max(current, minC), maxC); want != current {
		cause := fmt.Sprintf("the desired count %d was outside the scalable target's range [%d, %d]", current, minC, maxC)
		b.apply(tg, current, want, cause, b.cfg.Clock.Now())
	}
	b.log.Info("scalable target registered", "resource", tg.ResourceID, "min", minC, "max", maxC)
	return map[string]any{"ScalableTargetARN": tg.ScalableTargetARN}, nil
}

func (b *Backend) apiDeregisterScalableTarget(_ context.Context, in *targetIn) (any, error) {
	if err := checkTarget(in.ServiceNamespace, in.ResourceID, in.ScalableDimension); err != nil {
		return nil, err
	}
	k := key(*in.ServiceNamespace, *in.ResourceID, *in.ScalableDimension)
	if _, ok := b.st.Targets[k]; !ok {
		return nil, errf(CodeObjectNotFound, "No scalable target found for service namespace: %s, resource ID: %s, scalable dimension: %s", *in.ServiceNamespace, *in.ResourceID, *in.ScalableDimension)
	}
	delete(b.st.Targets, k)
	for arn, p := range b.st.Policies {
		if key(p.ServiceNamespace, p.ResourceID, p.ScalableDimension) == k {
			delete(b.st.Policies, arn)
		}
	}
	return map[string]any{}, nil
}

type describeIn struct {
	ServiceNamespace  *string  `json:"ServiceNamespace"`
	ResourceIDs       []string `json:"ResourceIds"`
	ResourceID        string   `json:"ResourceId"`
	ScalableDimension string   `json:"ScalableDimension"`
	PolicyNames       []string `json:"PolicyNames"`
	MaxResults        *int32   `json:"MaxResults"`
	NextToken         string   `json:"NextToken"`
}

func (in *describeIn) check() error {
	if in.ServiceNamespace == nil {
		return required("serviceNamespace")
	}
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 50) {
		return errf(CodeValidation, "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 50", *in.MaxResults)
	}
	return nil
}

func (b *Backend) apiDescribeScalableTargets(_ context.Context, in *describeIn) (any, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	out := []target{}
	for _, tg := range b.st.Targets {
		if tg.ServiceNamespace != *in.ServiceNamespace || (len(in.ResourceIDs) > 0 && !slices.Contains(in.ResourceIDs, tg.ResourceID)) ||
			(in.ScalableDimension != "" && in.ScalableDimension != tg.ScalableDimension) {
			continue
		}
		out = append(out, *tg)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ResourceID < out[j].ResourceID })
	return map[string]any{"ScalableTargets": out}, nil
}

type putPolicyIn struct {
	PolicyName                               *string         `json:"PolicyName"`
	ServiceNamespace                         *string         `json:"ServiceNamespace"`
	ResourceID                               *string         `json:"ResourceId"`
	ScalableDimension                        *string         `json:"ScalableDimension"`
	PolicyType                               string          `json:"PolicyType"`
	TargetTrackingScalingPolicyConfiguration *targetTracking `json:"TargetTrackingScalingPolicyConfiguration"`
	StepScalingPolicyConfiguration           json.RawMessage `json:"StepScalingPolicyConfiguration"`
}

func (b *Backend) apiPutScalingPolicy(_ context.Context, in *putPolicyIn) (any, error) {
	if in.PolicyName == nil {
		return nil, required("policyName")
	}
	if err := checkTarget(in.ServiceNamespace, in.ResourceID, in.ScalableDimension); err != nil {
		return nil, err
	}
	if _, ok := b.st.Targets[key(*in.ServiceNamespace, *in.ResourceID, *in.ScalableDimension)]; !ok {
		return nil, errf(CodeObjectNotFound, "No scalable target registered for service namespace: %s, resource ID: %s, scalable dimension: %s", *in.ServiceNamespace, *in.ResourceID, *in.ScalableDimension)
	}
	ptype := in.PolicyType
	if ptype == "" {
		ptype = "StepScaling"
	}
	p := &policy{
		PolicyName: *in.PolicyName, ServiceNamespace: *in.ServiceNamespace, ResourceID: *in.ResourceID, ScalableDimension: *in.ScalableDimension,
		PolicyType: ptype, CreationTime: awsproto.NewTimestamp(b.cfg.Clock.Now()),
	}
	switch ptype {
	case "TargetTrackingScaling":
		tt := in.TargetTrackingScalingPolicyConfiguration
		if tt == nil || tt.TargetValue == nil {
			return nil, errf(CodeValidation, "TargetTrackingScalingPolicyConfiguration with a TargetValue is required for a TargetTrackingScaling policy")
		}
		if *tt.TargetValue <= 0 {
			return nil, errf(CodeValidation, "TargetValue must be greater than 0")
		}
		if (tt.PredefinedMetricSpecification == nil) == (tt.CustomizedMetricSpecification == nil) {
			return nil, errf(CodeValidation, "Exactly one of PredefinedMetricSpecification or CustomizedMetricSpecification must be specified")
		}
		if pm := tt.PredefinedMetricSpecification; pm != nil {
			switch pm.PredefinedMetricType {
			case "ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization":
			case "ALBRequestCountPerTarget":
				if pm.ResourceLabel == "" {
					return nil, errf(CodeValidation, "ResourceLabel is required for the predefined metric type ALBRequestCountPerTarget")
				}
			default:
				return nil, errf(CodeValidation, "Unsupported predefined metric type %s for service namespace ecs", pm.PredefinedMetricType)
			}
		}
		p.TargetTrackingScalingPolicyConfiguration = tt
		id := newID()
		p.Alarms = []alarmRef{
			{AlarmName: fmt.Sprintf("TargetTracking-%s-AlarmHigh-%s", *in.ResourceID, id)},
			{AlarmName: fmt.Sprintf("TargetTracking-%s-AlarmLow-%s", *in.ResourceID, newID())},
		}
		for i := range p.Alarms {
			p.Alarms[i].AlarmARN = fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", b.cfg.Region, b.cfg.Account, p.Alarms[i].AlarmName)
		}
	case "StepScaling":
		if in.StepScalingPolicyConfiguration == nil {
			return nil, errf(CodeValidation, "StepScalingPolicyConfiguration is required for a StepScaling policy")
		}
		p.StepScalingPolicyConfiguration = in.StepScalingPolicyConfiguration
		p.Alarms = []alarmRef{}
	default:
		return nil, errf(CodeValidation, "Unsupported policy type %s", ptype)
	}
	// Replacing a policy keeps its ARN.
	for arn, old := range b.st.Policies {
		if old.PolicyName == p.PolicyName && key(old.ServiceNamespace, old.ResourceID, old.ScalableDimension) == key(p.ServiceNamespace, p.ResourceID, p.ScalableDimension) {
			delete(b.st.Policies, arn)
			p.PolicyARN = arn
		}
	}
	if p.PolicyARN == "" {
		p.PolicyARN = fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%s:resource/ecs/%s:policyName/%s", b.cfg.Region, b.cfg.Account, newID(), *in.ResourceID, p.PolicyName)
	}
	b.st.Policies[p.PolicyARN] = p
	b.log.Info("scaling policy put", "policy", p.PolicyName, "resource", p.ResourceID, "type", ptype)
	return map[string]any{"PolicyARN": p.PolicyARN, "Alarms": p.Alarms}, nil
}

func (b *Backend) apiDescribeScalingPolicies(_ context.Context, in *describeIn) (any, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	out := []policy{}
	for _, p := range b.st.Policies {
		if p.ServiceNamespace != *in.ServiceNamespace || (in.ResourceID != "" && p.ResourceID != in.ResourceID) ||
			(in.ScalableDimension != "" && p.ScalableDimension != in.ScalableDimension) ||
			(len(in.PolicyNames) > 0 && !slices.Contains(in.PolicyNames, p.PolicyName)) {
			continue
		}
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PolicyARN < out[j].PolicyARN })
	return map[string]any{"ScalingPolicies": out}, nil
}

func (b *Backend) apiDeleteScalingPolicy(_ context.Context, in *putPolicyIn) (any, error) {
	if in.PolicyName == nil {
		return nil, required("policyName")
	}
	if err := checkTarget(in.ServiceNamespace, in.ResourceID, in.ScalableDimension); err != nil {
		return nil, err
	}
	for arn, p := range b.st.Policies {
		if p.PolicyName == *in.PolicyName && key(p.ServiceNamespace, p.ResourceID, p.ScalableDimension) == key(*in.ServiceNamespace, *in.ResourceID, *in.ScalableDimension) {
			delete(b.st.Policies, arn)
			return map[string]any{}, nil
		}
	}
	return nil, errf(CodeObjectNotFound, "No scaling policy found for service namespace: %s, resource ID: %s, scalable dimension: %s, policy name: %s", *in.ServiceNamespace, *in.ResourceID, *in.ScalableDimension, *in.PolicyName)
}

func (b *Backend) apiDescribeScalingActivities(_ context.Context, in *describeIn) (any, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	out := []Activity{}
	for _, a := range b.st.Activities {
		if a.ServiceNamespace == *in.ServiceNamespace && (in.ResourceID == "" || a.ResourceID == in.ResourceID) {
			out = append(out, a)
		}
	}
	return map[string]any{"ScalingActivities": out}, nil
}
