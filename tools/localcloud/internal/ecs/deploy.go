package ecs

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// The blue/green lifecycle stages, in order (RECONCILE_SERVICE is not used:
// localcloud never has more than one active revision when a deployment
// starts).
var blueGreenStages = []string{
	"PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
	"PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP",
}

// alarmStages are the stages during which deployment alarms are watched:
// from the test traffic shift to the end of the bake time.
var alarmStages = []string{
	"TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME",
}

func nextStage(stage string) string {
	i := slices.Index(blueGreenStages, stage)
	if i < 0 || i+1 >= len(blueGreenStages) {
		return ""
	}
	return blueGreenStages[i+1]
}

func (b *Backend) now() awsproto.Timestamp { return awsproto.NewTimestamp(b.cfg.Clock.Now()) }

// failureThreshold is the circuit breaker's default threshold: half the
// desired count, at least 3 and at most 200.
func failureThreshold(desired int32) int32 {
	return min(max((desired+1)/2, 3), 200)
}

// newDeployment records a service deployment from the service's current
// revision to rev. It supersedes an unfinished one.
func (b *Backend) newDeployment(ctx context.Context, s *serviceRec, rev *revisionRec) *deploymentRec {
	if old := b.st.Deployments[s.Deployment]; old != nil && !old.done() {
		b.supersede(ctx, s, old)
	}
	id := randomID(21)
	now := b.now()
	d := &deploymentRec{
		ServiceID: s.key(), LegacyID: rev.LegacyID, TargetRevision: rev.ServiceRevisionArn,
		SourceRevision: s.Revision, DesiredCount: s.DesiredCount, Strategy: "ROLLING",
	}
	if s.blueGreen() {
		d.Strategy = "BLUE_GREEN"
	}
	var cfg DeploymentConfiguration
	if s.DeploymentConfiguration != nil {
		cfg = *s.DeploymentConfiguration
	}
	d.ServiceDeployment = ServiceDeployment{
		ServiceDeploymentArn: b.arn("service-deployment/" + s.Cluster + "/" + s.ServiceName + "/" + id),
		ServiceArn:           s.ServiceArn, ClusterArn: s.ClusterArn, Status: "PENDING",
		DeploymentConfiguration: &cfg, CreatedAt: now, UpdatedAt: &now,
	}
	if cfg.Alarms != nil {
		st := "DISABLED"
		if cfg.Alarms.Enable {
			st = "MONITORING"
		}
		d.Alarms = &DeploymentAlarmsStatus{AlarmNames: cfg.Alarms.AlarmNames, Status: st}
	}
	cb := &CircuitBreakerStatus{Status: "DISABLED", Threshold: failureThreshold(s.DesiredCount)}
	if cfg.DeploymentCircuitBreaker != nil && cfg.DeploymentCircuitBreaker.Enable {
		cb.Status = "MONITORING"
	}
	d.DeploymentCircuitBreaker = cb
	if d.Strategy == "BLUE_GREEN" && len(s.LoadBalancers) > 0 {
		lb := s.LoadBalancers[0]
		primary, alternate := lb.TargetGroupArn, ""
		if ac := lb.AdvancedConfiguration; ac != nil {
			alternate = ac.AlternateTargetGroupArn
			d.ProdRule, d.TestRule = ac.ProductionListenerRule, ac.TestListenerRule
		}
		live := s.LiveTG
		if live == "" {
			live = primary
		}
		if d.SourceRevision == "" {
			// The first deployment fills the primary target group.
			d.TargetTG, d.SourceTG = live, other(live, primary, alternate)
		} else {
			d.SourceTG, d.TargetTG = live, other(live, primary, alternate)
		}
	}
	b.st.Deployments[d.ServiceDeploymentArn] = d
	s.Deployment = d.ServiceDeploymentArn
	s.Steady = false
	b.dirty = true
	b.log.Info("service deployment created", "service", s.ServiceName, "deployment", d.ServiceDeploymentArn, "strategy", d.Strategy, "taskDefinition", rev.TaskDefinition)
	b.poke()
	return d
}

func other(tg, a, c string) string {
	if tg == a {
		return c
	}
	return a
}

// supersede stops an unfinished deployment for a newer one: production
// traffic goes back to the live target group and its tasks are drained.
func (b *Backend) supersede(ctx context.Context, s *serviceRec, d *deploymentRec) {
	// Until CLEAN_UP makes green live, production belongs back on blue.
	if d.Strategy == "BLUE_GREEN" && d.WeightsMoved && d.SourceRevision != "" && s.LiveTG == d.SourceTG {
		b.setWeights(ctx, d.ProdRule, d.SourceTG, d.TargetTG)
		if d.TestShifted {
			b.setWeights(ctx, d.TestRule, d.SourceTG, d.TargetTG)
		}
	}
	now := b.now()
	d.StoppedAt = &now
	b.setDeploymentStatus(s, d, "STOPPED", "Service deployment stopped: a newer deployment of the service started.")
}

// setDeploymentStatus is the one place a deployment's status changes; it
// logs and emits the deployment state change.
func (b *Backend) setDeploymentStatus(s *serviceRec, d *deploymentRec, status, reason string) {
	if d.Status == status && d.StatusReason == reason {
		return
	}
	now := b.now()
	d.Status, d.StatusReason, d.UpdatedAt = status, reason, &now
	if d.done() {
		d.FinishedAt = &now
		if d.Alarms != nil && d.Alarms.Status == "MONITORING" {
			d.Alarms.Status = "MONITORING_COMPLETE"
		}
		if d.DeploymentCircuitBreaker != nil && d.DeploymentCircuitBreaker.Status == "MONITORING" {
			d.DeploymentCircuitBreaker.Status = "MONITORING_COMPLETE"
		}
	}
	b.dirty = true
	b.log.Info("deployment "+status, "service", s.ServiceName, "deployment", d.ServiceDeploymentArn, "reason", reason)
	type ev struct{ eventType, name, reason string }
	var evs []ev
	switch status {
	case "IN_PROGRESS":
		evs = []ev{{"INFO", "SERVICE_DEPLOYMENT_IN_PROGRESS", fmt.Sprintf("ECS deployment %s in progress.", d.LegacyID)}}
	case "ROLLBACK_IN_PROGRESS":
		// The deployment failed, and the rollback is a deployment in progress.
		src := ""
		if r := b.st.Revisions[d.SourceRevision]; r != nil {
			src = r.LegacyID
		}
		evs = []ev{{"ERROR", "SERVICE_DEPLOYMENT_FAILED", reason},
			{"INFO", "SERVICE_DEPLOYMENT_IN_PROGRESS", fmt.Sprintf("ECS deployment circuit breaker: rolling back to deploymentId %s.", src)}}
	case "SUCCESSFUL", "ROLLBACK_SUCCESSFUL":
		evs = []ev{{"INFO", "SERVICE_DEPLOYMENT_COMPLETED", fmt.Sprintf("ECS deployment %s completed.", d.LegacyID)}}
	case "ROLLBACK_FAILED", "STOPPED":
		evs = []ev{{"ERROR", "SERVICE_DEPLOYMENT_FAILED", reason}}
	}
	for _, e := range evs {
		b.emit("ECS Deployment State Change", s.ServiceArn, map[string]any{
			"eventType": e.eventType, "eventName": e.name, "clusterArn": s.ClusterArn, "deploymentId": d.LegacyID,
			"updatedAt": now.UTC().Format("2006-01-02T15:04:05.000Z"), "reason": e.reason,
		})
	}
}

// setStage is the one place a deployment's lifecycle stage changes.
func (b *Backend) setStage(s *serviceRec, d *deploymentRec, stage string) {
	d.LifecycleStage = stage
	d.StageEntered = b.cfg.Clock.Now()
	d.HooksStarted, d.HooksPending, d.HookFailed = false, 0, ""
	d.StageSeq++
	now := b.now()
	d.UpdatedAt = &now
	b.dirty = true
	b.log.Info("deployment stage", "service", s.ServiceName, "deployment", d.ServiceDeploymentArn, "stage", stage)
}

// start moves a PENDING deployment to IN_PROGRESS and notes which alarms
// are already in ALARM: those are ignored for this deployment, as on AWS.
func (b *Backend) start(ctx context.Context, s *serviceRec, d *deploymentRec, stage string) {
	now := b.now()
	d.StartedAt = &now
	if a := d.DeploymentConfiguration.Alarms; a != nil && a.Enable && b.cfg.Alarms != nil {
		for _, name := range a.AlarmNames {
			if st, err := b.cfg.Alarms.AlarmState(ctx, name); err == nil && st == "ALARM" {
				d.IgnoredAlarms = append(d.IgnoredAlarms, name)
				b.log.Info("alarm already in ALARM, ignored for this deployment", "alarm", name, "deployment", d.ServiceDeploymentArn)
			}
		}
	}
	b.setDeploymentStatus(s, d, "IN_PROGRESS", "")
	b.setStage(s, d, stage)
}

// triggeredAlarm returns the first watched alarm in ALARM, if any.
func (b *Backend) triggeredAlarm(ctx context.Context, d *deploymentRec) string {
	a := d.DeploymentConfiguration.Alarms
	if a == nil || !a.Enable || b.cfg.Alarms == nil {
		return ""
	}
	for _, name := range a.AlarmNames {
		if slices.Contains(d.IgnoredAlarms, name) {
			continue
		}
		if st, err := b.cfg.Alarms.AlarmState(ctx, name); err == nil && st == "ALARM" {
			return name
		}
	}
	return ""
}

func (b *Backend) setWeights(ctx context.Context, rule, to, from string) {
	if rule == "" || b.cfg.ELB == nil {
		return
	}
	tgs := []WeightedTargetGroup{{TargetGroupARN: to, Weight: 100}}
	if from != "" {
		tgs = append(tgs, WeightedTargetGroup{TargetGroupARN: from, Weight: 0})
	}
	if err := b.cfg.ELB.SetRuleForward(ctx, rule, tgs); err != nil {
		b.log.Error("set listener rule weights", "rule", rule, "error", err)
		return
	}
	b.log.Info("weights flipped", "rule", rule, "to", to, "from", from)
}

// checkWiring validates the blue/green networking as ECS does when a
// deployment starts; a violation rolls the deployment back.
func (b *Backend) checkWiring(ctx context.Context, d *deploymentRec) string {
	const invalid = "Service deployment rolled back because of invalid networking configuration. Both targetGroup and alternateTargetGroup must be associated with the productionListenerRule or testListenerRule."
	if b.cfg.ELB == nil {
		return "Service deployment rolled back because of invalid networking configuration. No load balancer is available."
	}
	prod, err := b.cfg.ELB.Rule(ctx, d.ProdRule)
	if err != nil {
		return fmt.Sprintf("Service deployment rolled back because of invalid networking configuration. The productionListenerRule %s could not be described: %v", d.ProdRule, err)
	}
	if !prod.ForwardOnly {
		return fmt.Sprintf("Service deployment rolled back because of invalid networking configuration. The listener rule %s has actions other than forward, which blue/green deployments do not support.", d.ProdRule)
	}
	on := map[string]bool{}
	for _, tg := range prod.TargetGroups {
		on[tg.TargetGroupARN] = true
	}
	if d.TestRule != "" {
		test, err := b.cfg.ELB.Rule(ctx, d.TestRule)
		if err != nil {
			return fmt.Sprintf("Service deployment rolled back because of invalid networking configuration. The testListenerRule %s could not be described: %v", d.TestRule, err)
		}
		if !test.ForwardOnly {
			return fmt.Sprintf("Service deployment rolled back because of invalid networking configuration. The listener rule %s has actions other than forward, which blue/green deployments do not support.", d.TestRule)
		}
		for _, tg := range test.TargetGroups {
			on[tg.TargetGroupARN] = true
		}
	}
	if !on[d.SourceTG] || !on[d.TargetTG] {
		return invalid
	}
	return ""
}

// advanceBlueGreen moves a blue/green deployment through its stages.
func (b *Backend) advanceBlueGreen(ctx context.Context, s *serviceRec, d *deploymentRec, health map[string]string) {
	if d.Status == "PENDING" {
		b.start(ctx, s, d, "PRE_SCALE_UP")
	}
	if d.Status == "ROLLBACK_REQUESTED" && !d.RollingBack {
		b.rollback(ctx, s, d, "Service deployment rolled back because a rollback was requested with StopServiceDeployment.")
	}
	if d.RollingBack {
		if d.RollbackHooks {
			b.rollbackHooks(ctx, s, d)
			return
		}
		if d.SourceRevision != "" && b.revisionLive(d.TargetRevision) == 0 && b.healthyCount(d.SourceRevision, health) >= s.DesiredCount {
			b.setDeploymentStatus(s, d, "ROLLBACK_SUCCESSFUL", d.Rollback.Reason)
		}
		return
	}
	if d.HookFailed != "" {
		b.rollback(ctx, s, d, d.HookFailed)
		return
	}
	if slices.Contains(alarmStages, d.LifecycleStage) {
		if name := b.triggeredAlarm(ctx, d); name != "" {
			d.Alarms.Status = "TRIGGERED"
			d.Alarms.TriggeredAlarmNames = append(d.Alarms.TriggeredAlarmNames, name)
			reason := fmt.Sprintf("Service deployment rolled back because alarm %s went into the ALARM state.", name)
			if d.DeploymentConfiguration.Alarms.Rollback {
				b.rollback(ctx, s, d, reason)
			} else {
				b.fail(ctx, s, d, fmt.Sprintf("Service deployment failed because alarm %s went into the ALARM state.", name))
			}
			return
		}
	}
	if d.LifecycleStage != "CLEAN_UP" && d.Failures >= failureThreshold(s.DesiredCount) {
		d.DeploymentCircuitBreaker.FailureCount = d.Failures
		if d.DeploymentCircuitBreaker.Status == "MONITORING" {
			d.DeploymentCircuitBreaker.Status = "TRIGGERED"
		}
		b.rollback(ctx, s, d, fmt.Sprintf("Service deployment rolled back because %d tasks of the target revision failed to start or failed ELB health checks in (target-group %s).", d.Failures, d.TargetTG))
		return
	}
	d.DeploymentCircuitBreaker.FailureCount = d.Failures
	now := b.cfg.Clock.Now()
	switch d.LifecycleStage {
	case "PRE_SCALE_UP":
		if reason := b.checkWiring(ctx, d); reason != "" {
			b.rollback(ctx, s, d, reason)
			return
		}
		if b.hooksDone(ctx, s, d) {
			b.setStage(s, d, "SCALE_UP")
		}
	case "SCALE_UP":
		if b.healthyCount(d.TargetRevision, health) >= s.DesiredCount {
			b.setStage(s, d, "POST_SCALE_UP")
		}
	case "TEST_TRAFFIC_SHIFT":
		if d.TestRule != "" && !d.TestShifted {
			b.setWeights(ctx, d.TestRule, d.TargetTG, d.SourceTG)
			d.TestShifted = true
		}
		if b.hooksDone(ctx, s, d) {
			b.setStage(s, d, nextStage(d.LifecycleStage))
		}
	case "PRODUCTION_TRAFFIC_SHIFT":
		if !d.WeightsMoved {
			b.setWeights(ctx, d.ProdRule, d.TargetTG, d.SourceTG)
			d.WeightsMoved = true
		}
		if b.hooksDone(ctx, s, d) {
			b.setStage(s, d, nextStage(d.LifecycleStage))
		}
	case "BAKE_TIME":
		bake := time.Duration(0)
		if d.DeploymentConfiguration.BakeTimeInMinutes != nil {
			bake = time.Duration(*d.DeploymentConfiguration.BakeTimeInMinutes) * time.Minute
		}
		if d.SourceRevision == "" || now.Sub(d.StageEntered) >= b.cfg.Clock.Scale(bake) {
			b.setStage(s, d, "CLEAN_UP")
			s.LiveTG, s.Revision = d.TargetTG, d.TargetRevision
		}
	case "CLEAN_UP":
		if d.SourceRevision == "" || b.revisionLive(d.SourceRevision) == 0 {
			b.setDeploymentStatus(s, d, "SUCCESSFUL", fmt.Sprintf("Service deployment %s completed.", d.LegacyID))
		}
	default: // POST_* stages: hooks only
		if b.hooksDone(ctx, s, d) {
			b.setStage(s, d, nextStage(d.LifecycleStage))
		}
	}
}

// advanceRolling runs a rolling deployment: the new revision scales up next
// to the old one, and the old one is drained once the new is healthy.
func (b *Backend) advanceRolling(ctx context.Context, s *serviceRec, d *deploymentRec, health map[string]string) {
	if d.Status == "PENDING" {
		b.start(ctx, s, d, "SCALE_UP")
	}
	if d.Status == "ROLLBACK_REQUESTED" && !d.RollingBack {
		b.rollback(ctx, s, d, "Service deployment rolled back because a rollback was requested with StopServiceDeployment.")
	}
	if d.RollingBack {
		if d.SourceRevision != "" && b.revisionLive(d.TargetRevision) == 0 {
			b.setDeploymentStatus(s, d, "ROLLBACK_SUCCESSFUL", d.Rollback.Reason)
		}
		return
	}
	d.DeploymentCircuitBreaker.FailureCount = d.Failures
	if cb := d.DeploymentConfiguration.DeploymentCircuitBreaker; cb != nil && cb.Enable && d.Failures >= failureThreshold(s.DesiredCount) {
		d.DeploymentCircuitBreaker.Status = "TRIGGERED"
		reason := "ECS deployment circuit breaker: tasks failed to start."
		if cb.Rollback {
			b.rollback(ctx, s, d, reason)
		} else {
			b.fail(ctx, s, d, reason)
		}
		return
	}
	if name := b.triggeredAlarm(ctx, d); name != "" {
		d.Alarms.Status = "TRIGGERED"
		d.Alarms.TriggeredAlarmNames = append(d.Alarms.TriggeredAlarmNames, name)
		if d.DeploymentConfiguration.Alarms.Rollback {
			b.rollback(ctx, s, d, fmt.Sprintf("Service deployment rolled back because alarm %s went into the ALARM state.", name))
		} else {
			b.fail(ctx, s, d, fmt.Sprintf("Service deployment failed because alarm %s went into the ALARM state.", name))
		}
		return
	}
	switch d.LifecycleStage {
	case "SCALE_UP":
		if b.healthyCount(d.TargetRevision, health) >= s.DesiredCount {
			s.Revision = d.TargetRevision
			b.setStage(s, d, "CLEAN_UP")
			return
		}
		b.rollingStep(s, d, health)
	case "CLEAN_UP":
		if d.SourceRevision == "" || b.revisionLive(d.SourceRevision) == 0 {
			b.setDeploymentStatus(s, d, "SUCCESSFUL", fmt.Sprintf("Service deployment %s completed.", d.LegacyID))
		}
	}
}

// rollingStep sizes both revisions of a rolling deployment for this tick:
// no more live tasks than maximumPercent of the desired count, no fewer
// healthy ones than minimumHealthyPercent.
func (b *Backend) rollingStep(s *serviceRec, d *deploymentRec, health map[string]string) {
	n := s.DesiredCount
	maxPct, minPct := int32(200), int32(100)
	if c := d.DeploymentConfiguration; c.MaximumPercent != nil {
		maxPct = *c.MaximumPercent
	}
	if c := d.DeploymentConfiguration; c.MinimumHealthyPercent != nil {
		minPct = *c.MinimumHealthyPercent
	}
	maxLive := n * maxPct / 100
	minHealthy := (n*minPct + 99) / 100
	oldLive, newLive := int32(b.revisionLive(d.SourceRevision)), int32(b.revisionLive(d.TargetRevision))
	oldHealthy, newHealthy := b.healthyCount(d.SourceRevision, health), b.healthyCount(d.TargetRevision, health)
	// Start new tasks into the room maximumPercent leaves.
	d.TargetWant = min(n, max(newLive, maxLive-oldLive))
	// Keep old tasks until the new ones carry minimumHealthyPercent.
	keep := max(minHealthy-newHealthy, 0)
	if keep >= oldLive && newLive == d.TargetWant && newHealthy == newLive && oldLive > 0 && oldHealthy > 0 {
		// No room and nothing left to wait for: stop one old task to make
		// room, as ECS does when maximumPercent leaves none.
		keep = oldLive - 1
	}
	d.SourceWant = min(oldLive, keep)
	if d.SourceWant < oldLive || d.TargetWant != newLive {
		b.dirty = true
	}
}

// rollback starts rolling a deployment back to its source revision:
// production (and test) traffic returns to the source target group and the
// target revision's tasks are drained.
func (b *Backend) rollback(ctx context.Context, s *serviceRec, d *deploymentRec, reason string) {
	d.RollingBack = true
	d.Rollback = &Rollback{Reason: reason, ServiceRevisionArn: d.SourceRevision, StartedAt: b.now()}
	if d.SourceRevision == "" {
		// Nothing to roll back to: the service keeps trying its revision.
		s.Revision = d.TargetRevision
		b.setDeploymentStatus(s, d, "ROLLBACK_FAILED", reason+" There is no previous service revision to roll back to.")
		return
	}
	if d.Strategy == "BLUE_GREEN" {
		b.setWeights(ctx, d.ProdRule, d.SourceTG, d.TargetTG)
		if d.TestShifted {
			b.setWeights(ctx, d.TestRule, d.SourceTG, d.TargetTG)
		}
		s.LiveTG = d.SourceTG
	}
	s.Revision = d.SourceRevision
	if r := b.st.Revisions[d.SourceRevision]; r != nil {
		s.TaskDefinition = r.TaskDefinition
	}
	b.serviceEvent(s, fmt.Sprintf("(service %s) rolling back: %s", s.ServiceName, reason))
	b.setDeploymentStatus(s, d, "ROLLBACK_IN_PROGRESS", reason)
	if d.Strategy == "BLUE_GREEN" && (b.hasHooks(d, "TEST_TRAFFIC_SHIFT") || b.hasHooks(d, "PRODUCTION_TRAFFIC_SHIFT")) {
		d.RollbackHooks = true
		b.setStage(s, d, "TEST_TRAFFIC_SHIFT")
	}
}

func (b *Backend) hasHooks(d *deploymentRec, stage string) bool {
	for _, h := range d.DeploymentConfiguration.LifecycleHooks {
		if slices.Contains(h.LifecycleStages, stage) {
			return true
		}
	}
	return false
}

// rollbackHooks re-invokes the hooks at TEST_TRAFFIC_SHIFT and then
// PRODUCTION_TRAFFIC_SHIFT, as ECS does on rollback, with the weights back
// on the source revision. A hook that fails there fails the rollback.
func (b *Backend) rollbackHooks(ctx context.Context, s *serviceRec, d *deploymentRec) {
	if d.HookFailed != "" {
		d.RollbackHooks = false
		b.setDeploymentStatus(s, d, "ROLLBACK_FAILED", d.HookFailed)
		return
	}
	if !b.hooksDone(ctx, s, d) {
		return
	}
	if d.LifecycleStage == "TEST_TRAFFIC_SHIFT" {
		b.setStage(s, d, "PRODUCTION_TRAFFIC_SHIFT")
		return
	}
	d.RollbackHooks = false
	b.dirty = true
}

// fail ends a deployment that may not roll back.
func (b *Backend) fail(_ context.Context, s *serviceRec, d *deploymentRec, reason string) {
	now := b.now()
	d.StoppedAt = &now
	b.setDeploymentStatus(s, d, "STOPPED", reason)
}

// noteSteadyState records when a settled service runs its desired count,
// all healthy.
func (b *Backend) noteSteadyState(s *serviceRec, health map[string]string) {
	if s.Status != "ACTIVE" || s.Revision == "" {
		return
	}
	running, pending := b.revisionCounts(s.Revision)
	steady := pending == 0 && running == s.DesiredCount && b.healthyCount(s.Revision, health) == s.DesiredCount && b.serviceTaskCount(s.key()) == int(s.DesiredCount)
	if steady && !s.Steady {
		b.serviceEvent(s, fmt.Sprintf("(service %s) has reached a steady state.", s.ServiceName))
		b.serviceAction(s, "INFO", "SERVICE_STEADY_STATE")
	}
	if steady != s.Steady {
		s.Steady = steady
		b.dirty = true
	}
}
