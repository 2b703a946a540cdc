package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// loadBalancer is the part of the ELBv2 client a watch reads.
type loadBalancer interface {
	DescribeRules(ctx context.Context, in *elb.DescribeRulesInput, optFns ...func(*elb.Options)) (*elb.DescribeRulesOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elb.DescribeTargetHealthInput, optFns ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error)
}

// alarms is the part of the CloudWatch client a watch reads.
type alarms interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

// Snapshot is one look at a deployment and the resources it moves.
type Snapshot struct {
	At     time.Time `json:"at"`
	Arn    string    `json:"deployment"`
	Status string    `json:"status"`
	Reason string    `json:"reason,omitempty"`
	Stage  string    `json:"stage,omitempty"`
	// Production and Test are the listener rules' weights by target group
	// ("blue", "green").
	Production map[string]int `json:"production,omitempty"`
	Test       map[string]int `json:"test,omitempty"`
	// Targets counts the targets of each target group by state.
	Targets map[string]map[string]int `json:"targets,omitempty"`
	// Alarms is each deployment alarm's state.
	Alarms map[string]string `json:"alarms,omitempty"`
	// Target and Sources are the task counts of the revisions.
	Target  RevisionTasks   `json:"target"`
	Sources []RevisionTasks `json:"sources,omitempty"`
	// BakeLeft is the wall-clock time left in BAKE_TIME (the engine's
	// TimeScale applied), while the deployment bakes and does not roll
	// back; zero otherwise.
	BakeLeft        time.Duration `json:"bakeLeft,omitempty"`
	TriggeredAlarms []string      `json:"triggeredAlarms,omitempty"`
	RollbackReason  string        `json:"rollbackReason,omitempty"`
	// RollbackRevision is the revision a rollback returns to.
	RollbackRevision string `json:"-"`
	// CreatedAt, StartedAt and FinishedAt are ECS's times of the deployment.
	CreatedAt  time.Time `json:"-"`
	StartedAt  time.Time `json:"-"`
	FinishedAt time.Time `json:"-"`
}

// RevisionTasks is a service revision's task counts.
type RevisionTasks struct {
	Revision string `json:"revision"`
	Running  int32  `json:"running"`
	Pending  int32  `json:"pending"`
	Desired  int32  `json:"desired"`
}

// Final reports whether the deployment has ended.
func (s Snapshot) Final() bool {
	return !slices.Contains(InFlightStatuses, types.ServiceDeploymentStatus(s.Status))
}

// Line is the snapshot as one line for people.
func (s Snapshot) Line() string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(s.Status + " " + s.Stage))
	if s.Production != nil {
		fmt.Fprintf(&b, " | prod blue %d green %d", s.Production["blue"], s.Production["green"])
	}
	if s.Test != nil {
		fmt.Fprintf(&b, " | test blue %d green %d", s.Test["blue"], s.Test["green"])
	}
	for _, tg := range []string{"blue", "green"} {
		if c := s.Targets[tg]; len(c) > 0 {
			fmt.Fprintf(&b, " | %s %s", tg, counts(c))
		}
	}
	if len(s.Alarms) > 0 {
		names := make([]string, 0, len(s.Alarms))
		for n := range s.Alarms {
			names = append(names, n)
		}
		slices.Sort(names)
		var parts []string
		for _, n := range names {
			parts = append(parts, n+"="+s.Alarms[n])
		}
		fmt.Fprintf(&b, " | alarms %s", strings.Join(parts, " "))
	}
	if s.BakeLeft > 0 {
		fmt.Fprintf(&b, " | bake %s left", s.BakeLeft.Round(time.Second))
	}
	return strings.TrimPrefix(b.String(), " | ")
}

func counts(c map[string]int) string {
	states := make([]string, 0, len(c))
	for st := range c {
		states = append(states, st)
	}
	slices.Sort(states)
	var parts []string
	for _, st := range states {
		parts = append(parts, fmt.Sprintf("%d %s", c[st], st))
	}
	return strings.Join(parts, ", ")
}

// Look takes one snapshot of deployment arn.
func (e *Engine) Look(ctx context.Context, arn string) (Snapshot, error) {
	out, err := e.Reader.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	if err != nil {
		return Snapshot{}, fmt.Errorf("describe deployment %s: %w", arn, err)
	}
	if len(out.ServiceDeployments) == 0 {
		return Snapshot{}, fmt.Errorf("describe deployment %s: not found", arn)
	}
	d := out.ServiceDeployments[0]
	s := Snapshot{At: e.now(), Arn: arn, Status: string(d.Status), Reason: aws.ToString(d.StatusReason), Stage: string(d.LifecycleStage)}
	if t := d.TargetServiceRevision; t != nil {
		s.Target = RevisionTasks{Revision: aws.ToString(t.Arn), Running: t.RunningTaskCount, Pending: t.PendingTaskCount, Desired: t.RequestedTaskCount}
	}
	for _, src := range d.SourceServiceRevisions {
		s.Sources = append(s.Sources, RevisionTasks{Revision: aws.ToString(src.Arn), Running: src.RunningTaskCount, Pending: src.PendingTaskCount, Desired: src.RequestedTaskCount})
	}
	if d.Alarms != nil {
		s.TriggeredAlarms = d.Alarms.TriggeredAlarmNames
	}
	if d.Rollback != nil {
		s.RollbackReason = aws.ToString(d.Rollback.Reason)
		s.RollbackRevision = aws.ToString(d.Rollback.ServiceRevisionArn)
	}
	s.CreatedAt, s.StartedAt, s.FinishedAt = aws.ToTime(d.CreatedAt), aws.ToTime(d.StartedAt), aws.ToTime(d.FinishedAt)
	// A rollback keeps the stage it started in: only a deployment in
	// progress bakes.
	if s.Stage == string(types.ServiceDeploymentLifecycleStageBakeTime) && d.Status == types.ServiceDeploymentStatusInProgress &&
		d.DeploymentConfiguration != nil && d.DeploymentConfiguration.BakeTimeInMinutes != nil {
		if e.bakeStart.IsZero() || e.bakeArn != arn {
			e.bakeStart, e.bakeArn = s.At, arn
		}
		bake := time.Duration(*d.DeploymentConfiguration.BakeTimeInMinutes) * time.Minute
		if e.TimeScale > 0 {
			bake = time.Duration(float64(bake) * e.TimeScale)
		}
		if left := bake - s.At.Sub(e.bakeStart); left > 0 {
			s.BakeLeft = left
		}
	}
	if err := e.lookAround(ctx, &s); err != nil {
		return s, err
	}
	return s, nil
}

// lookAround adds the weights, target health and alarm states.
func (e *Engine) lookAround(ctx context.Context, s *Snapshot) error {
	svc := e.Service
	var err error
	if e.ELB != nil && svc.ProductionRule != "" {
		if s.Production, err = e.weights(ctx, svc.ProductionRule); err != nil {
			return err
		}
		if svc.TestRule != "" {
			if s.Test, err = e.weights(ctx, svc.TestRule); err != nil {
				return err
			}
		}
		s.Targets = map[string]map[string]int{}
		for name, tg := range map[string]string{"blue": svc.BlueTargetGroup, "green": svc.GreenTargetGroup} {
			if tg == "" {
				continue
			}
			out, err := e.ELB.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
			if err != nil {
				return fmt.Errorf("describe target health of %s: %w", name, err)
			}
			c := map[string]int{}
			for _, d := range out.TargetHealthDescriptions {
				if d.TargetHealth != nil {
					c[string(d.TargetHealth.State)]++
				}
			}
			s.Targets[name] = c
		}
	}
	if e.Alarms != nil && len(svc.Alarms) > 0 {
		out, err := e.Alarms.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: svc.Alarms})
		if err != nil {
			return fmt.Errorf("describe alarms %s: %w", strings.Join(svc.Alarms, ", "), err)
		}
		s.Alarms = map[string]string{}
		for _, a := range out.MetricAlarms {
			s.Alarms[aws.ToString(a.AlarmName)] = string(a.StateValue)
		}
		for _, a := range out.CompositeAlarms {
			s.Alarms[aws.ToString(a.AlarmName)] = string(a.StateValue)
		}
	}
	return nil
}

// weights reads a listener rule's forward weights as blue and green.
func (e *Engine) weights(ctx context.Context, rule string) (map[string]int, error) {
	out, err := e.ELB.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{rule}})
	if err != nil {
		return nil, fmt.Errorf("describe listener rule %s: %w", rule, err)
	}
	w := map[string]int{}
	for _, r := range out.Rules {
		for _, a := range r.Actions {
			if a.ForwardConfig == nil {
				if a.TargetGroupArn != nil {
					w[e.color(aws.ToString(a.TargetGroupArn))] += 100
				}
				continue
			}
			for _, tg := range a.ForwardConfig.TargetGroups {
				w[e.color(aws.ToString(tg.TargetGroupArn))] += int(aws.ToInt32(tg.Weight))
			}
		}
	}
	return w, nil
}

func (e *Engine) color(tg string) string {
	switch tg {
	case e.Service.BlueTargetGroup:
		return "blue"
	case e.Service.GreenTargetGroup:
		return "green"
	}
	return tg
}

// Watch looks at deployment arn every Poll and hands each snapshot that
// differs from the one before to progress, until the deployment ends or ctx
// does. Ending ctx ends the watch, never the deployment: the outcome is
// then ClassTimeout (ctx's deadline) or ClassInterrupted.
func (e *Engine) Watch(ctx context.Context, arn string, progress func(Snapshot)) (Outcome, error) {
	var last string
	start := e.now()
	for {
		s, err := e.Look(ctx, arn)
		if err != nil {
			if ctx.Err() != nil {
				return e.cut(ctx, arn, last, start), nil
			}
			return Outcome{}, err
		}
		if line := s.Line(); line != last {
			last = line
			if progress != nil {
				progress(s)
			}
		}
		if s.Final() {
			return e.outcome(ctx, s, start), nil
		}
		if err := e.sleep(ctx, e.poll()); err != nil {
			return e.cut(ctx, arn, last, start), nil
		}
	}
}

// cut is the outcome of a watch that ended before the deployment.
func (e *Engine) cut(ctx context.Context, arn, last string, start time.Time) Outcome {
	o := Outcome{Arn: arn, Status: "IN_PROGRESS", Duration: e.now().Sub(start), Class: ClassInterrupted}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		o.Class = ClassTimeout
	}
	o.Reason = "stopped watching; the deployment goes on (" + last + "); run ship status --watch to follow it"
	return o
}

// LookService takes a snapshot of the service's surroundings only — the
// weights, target health and alarm states — for when no deployment runs.
func (e *Engine) LookService(ctx context.Context) (Snapshot, error) {
	s := Snapshot{At: e.now()}
	err := e.lookAround(ctx, &s)
	return s, err
}
