package ecs

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// want is how many tasks of a revision the scheduler keeps running, and
// the target groups they are registered in.
type want struct {
	rev   string
	count int32
	tgs   []string
}

// stoppedRetention is how long, in AWS time, a STOPPED task stays
// describable, as on AWS (about an hour).
const stoppedRetention = time.Hour

func (b *Backend) reconcileAll(ctx context.Context) {
	b.pruneStopped()
	keys := make([]string, 0, len(b.st.Services))
	for k := range b.st.Services {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := b.st.Services[k]
		b.reconcileService(ctx, s)
	}
}

func (b *Backend) reconcileService(ctx context.Context, s *serviceRec) {
	d := b.st.Deployments[s.Deployment]
	health := b.checkHealth(ctx, s, d)
	if d != nil && !d.done() {
		if d.Strategy == "BLUE_GREEN" {
			b.advanceBlueGreen(ctx, s, d, health)
		} else {
			b.advanceRolling(ctx, s, d, health)
		}
	}
	b.converge(ctx, s, d, b.wants(s, d), health)
	if d == nil || d.done() {
		b.noteSteadyState(s, health)
	}
	if s.Status == "DRAINING" && b.serviceTaskCount(s.key()) == 0 {
		s.Status = "INACTIVE"
		b.dirty = true
		b.log.Info("service deleted", "service", s.ServiceName, "cluster", s.Cluster)
	}
}

// liveTGs are the target groups a steady service's tasks are registered in.
func liveTGs(s *serviceRec) []string {
	if s.blueGreen() {
		if s.LiveTG == "" {
			return nil
		}
		return []string{s.LiveTG}
	}
	var out []string
	for _, lb := range s.LoadBalancers {
		if lb.TargetGroupArn != "" {
			out = append(out, lb.TargetGroupArn)
		}
	}
	return out
}

func tgList(tg string) []string {
	if tg == "" {
		return nil
	}
	return []string{tg}
}

// wants says which revisions run how many tasks, from the deployment stage.
func (b *Backend) wants(s *serviceRec, d *deploymentRec) []want {
	n := s.DesiredCount
	if s.Status != "ACTIVE" {
		return nil
	}
	if d == nil || d.done() {
		if s.Revision == "" {
			return nil
		}
		return []want{{rev: s.Revision, count: n, tgs: liveTGs(s)}}
	}
	var out []want
	add := func(rev string, tgs []string) {
		if rev != "" {
			out = append(out, want{rev: rev, count: n, tgs: tgs})
		}
	}
	if d.Strategy == "BLUE_GREEN" {
		switch {
		case d.RollingBack || d.Status == "ROLLBACK_REQUESTED":
			add(d.SourceRevision, tgList(d.SourceTG))
			if d.SourceRevision == "" {
				add(d.TargetRevision, tgList(d.TargetTG))
			}
		case d.LifecycleStage == "PRE_SCALE_UP" || d.Status == "PENDING" || d.LifecycleStage == "RECONCILE_SERVICE":
			add(d.SourceRevision, tgList(d.SourceTG))
		case d.LifecycleStage == "CLEAN_UP":
			add(d.TargetRevision, tgList(d.TargetTG))
		default:
			add(d.SourceRevision, tgList(d.SourceTG))
			add(d.TargetRevision, tgList(d.TargetTG))
		}
		return out
	}
	tgs := liveTGs(s)
	switch {
	case d.RollingBack:
		add(d.SourceRevision, tgs)
	case d.LifecycleStage == "CLEAN_UP" || d.SourceRevision == "":
		add(d.TargetRevision, tgs)
	default:
		out = append(out, want{rev: d.SourceRevision, count: d.SourceWant, tgs: tgs}, want{rev: d.TargetRevision, count: d.TargetWant, tgs: tgs})
	}
	return out
}

// checkHealth reads target health for the service's tasks, records each
// task's health status, and stops tasks that failed their health checks
// after the grace period, as the ECS scheduler does. It returns the state
// per task ID.
func (b *Backend) checkHealth(ctx context.Context, s *serviceRec, d *deploymentRec) map[string]string {
	out := map[string]string{}
	if b.cfg.ELB == nil {
		return out
	}
	byTG := map[string]map[string]TargetHealth{}
	now := b.cfg.Clock.Now()
	grace := time.Duration(0)
	if s.HealthCheckGracePeriodSeconds != nil {
		grace = b.cfg.Clock.Scale(time.Duration(*s.HealthCheckGracePeriodSeconds) * time.Second)
	}
	for _, t := range b.st.Tasks {
		if t.ServiceID != s.key() || t.LastStatus != "RUNNING" || t.DesiredStatus != "RUNNING" || len(t.TargetGroups) == 0 {
			continue
		}
		state := "healthy"
		failedTG := ""
		for _, tg := range t.TargetGroups {
			hs, ok := byTG[tg]
			if !ok {
				hs = map[string]TargetHealth{}
				list, err := b.cfg.ELB.TargetHealth(ctx, tg)
				if err != nil {
					b.log.Warn("read target health", "targetGroup", tg, "error", err)
				}
				for _, h := range list {
					hs[fmt.Sprintf("%s:%d", h.ID, h.Port)] = h
				}
				byTG[tg] = hs
			}
			h, ok := hs[fmt.Sprintf("%s:%d", t.Host, t.Port)]
			switch {
			case !ok:
				state = "initial" // registration not seen yet
			case h.State == "unhealthy":
				state, failedTG = "unhealthy", tg
			case h.State != "healthy" && state == "healthy":
				state = h.State
			}
		}
		out[t.ID] = state
		if state == "unhealthy" && now.Sub(t.StartedAtT) >= grace {
			b.serviceEvent(s, fmt.Sprintf("(service %s) (task %s) failed ELB health checks in (target-group %s)", s.ServiceName, t.ID, failedTG))
			b.countFailure(d, t)
			b.beginStop(ctx, t, fmt.Sprintf("Task failed ELB health checks in (target-group %s)", failedTG), "ServiceSchedulerInitiated")
		}
	}
	return out
}

// countFailure counts a failed task of the deployment's target revision.
func (b *Backend) countFailure(d *deploymentRec, t *taskRec) {
	if d == nil || d.done() || t.Failed || t.Revision != d.TargetRevision {
		return
	}
	t.Failed = true
	d.Failures++
	b.dirty = true
}

// restartBackoff spaces out replacements of a revision whose tasks keep
// failing, as the ECS scheduler throttles task launches.
const restartBackoff = 10 * time.Second

// converge starts and stops tasks until each revision runs what it should.
func (b *Backend) converge(ctx context.Context, s *serviceRec, d *deploymentRec, wants []want, health map[string]string) {
	byRev := map[string][]*taskRec{}
	var lastFailure time.Time
	for _, t := range b.st.Tasks {
		if t.ServiceID != s.key() {
			continue
		}
		if t.LastStatus == "STOPPED" {
			if t.StopCode == "EssentialContainerExited" || t.StopCode == "TaskFailedToStart" || t.Failed {
				if t.StoppedAt != nil && t.StoppedAt.After(lastFailure) {
					lastFailure = t.StoppedAt.Time
				}
				if d != nil && !d.done() && t.Revision == d.TargetRevision && !t.Failed {
					t.Failed = true
					d.Failures++
					b.dirty = true
				}
			}
			continue
		}
		if t.DesiredStatus != "RUNNING" {
			continue
		}
		byRev[t.Revision] = append(byRev[t.Revision], t)
	}
	wanted := map[string]bool{}
	for _, w := range wants {
		wanted[w.rev] = true
		tasks := byRev[w.rev]
		rev := b.st.Revisions[w.rev]
		switch {
		case int32(len(tasks)) < w.count && rev != nil:
			if !lastFailure.IsZero() && b.cfg.Clock.Now().Sub(lastFailure) < b.cfg.Clock.Scale(restartBackoff) {
				continue
			}
			var started []string
			for range w.count - int32(len(tasks)) {
				t, err := b.launchTask(ctx, s, rev, w.tgs)
				if err != nil {
					b.log.Error("launch task", "service", s.ServiceName, "error", err)
					break
				}
				started = append(started, t.ID)
			}
			if len(started) > 0 {
				b.serviceEvent(s, fmt.Sprintf("(service %s) has started %d tasks: %s.", s.ServiceName, len(started), taskList(started)))
			}
		case int32(len(tasks)) > w.count:
			b.stopExtra(ctx, s, d, tasks, int(int32(len(tasks))-w.count), health)
		}
	}
	for rev, tasks := range byRev {
		if !wanted[rev] {
			b.stopExtra(ctx, s, d, tasks, len(tasks), health)
		}
	}
}

func taskList(ids []string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = "(task " + id + ")"
	}
	return strings.Join(parts, " ")
}

// stopExtra stops n of tasks: unhealthy and pending ones first, then the
// newest.
func (b *Backend) stopExtra(ctx context.Context, s *serviceRec, d *deploymentRec, tasks []*taskRec, n int, health map[string]string) {
	rank := func(t *taskRec) int {
		switch {
		case t.LastStatus != "RUNNING":
			return 0
		case health[t.ID] != "healthy":
			return 1
		}
		return 2
	}
	slices.SortFunc(tasks, func(a, c *taskRec) int {
		if ra, rc := rank(a), rank(c); ra != rc {
			return ra - rc
		}
		return c.CreatedAt.Compare(a.CreatedAt.Time)
	})
	by := "service " + s.ServiceName
	if d != nil {
		by = "deployment " + d.LegacyID
	}
	var stopped []string
	for _, t := range tasks[:min(n, len(tasks))] {
		b.beginStop(ctx, t, fmt.Sprintf("Scaling activity initiated by (%s)", by), "ServiceSchedulerInitiated")
		stopped = append(stopped, t.ID)
	}
	if len(stopped) > 0 {
		b.serviceEvent(s, fmt.Sprintf("(service %s) has stopped %d running tasks: %s.", s.ServiceName, len(stopped), taskList(stopped)))
	}
}

// serviceEvent is the one place a service's event log grows.
func (b *Backend) serviceEvent(s *serviceRec, msg string) {
	e := ServiceEvent{ID: randomUUID(), CreatedAt: b.now(), Message: msg}
	s.Events = append([]ServiceEvent{e}, s.Events...)
	if len(s.Events) > 100 {
		s.Events = s.Events[:100]
	}
	b.dirty = true
	b.log.Debug("service event", "service", s.ServiceName, "message", msg)
}

// serviceAction emits an "ECS Service Action" event.
func (b *Backend) serviceAction(s *serviceRec, eventType, name string) {
	b.emit("ECS Service Action", s.ServiceArn, map[string]any{
		"eventType": eventType, "eventName": name, "clusterArn": s.ClusterArn,
		"createdAt": b.cfg.Clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
	})
}

func randomUUID() string {
	h := randomHex(32)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// serviceTaskCount counts a service's tasks that are not STOPPED.
func (b *Backend) serviceTaskCount(id string) int {
	n := 0
	for _, t := range b.st.Tasks {
		if t.ServiceID == id && t.running() {
			n++
		}
	}
	return n
}

// revisionCounts counts a revision's RUNNING and pending tasks.
func (b *Backend) revisionCounts(rev string) (running, pending int32) {
	for _, t := range b.st.Tasks {
		if t.Revision != rev || t.DesiredStatus != "RUNNING" {
			continue
		}
		switch t.LastStatus {
		case "RUNNING":
			running++
		case "PROVISIONING", "PENDING", "ACTIVATING":
			pending++
		}
	}
	return running, pending
}

// healthyCount counts a revision's tasks that are RUNNING and, when they
// belong to target groups, healthy in all of them.
func (b *Backend) healthyCount(rev string, health map[string]string) int32 {
	var n int32
	for _, t := range b.st.Tasks {
		if t.Revision != rev || t.LastStatus != "RUNNING" || t.DesiredStatus != "RUNNING" {
			continue
		}
		// Healthy in its target groups, and in its container health
		// check when the task definition has one.
		if (len(t.TargetGroups) == 0 || health[t.ID] == "healthy") && (!t.HealthChecked || t.HealthStatus == "HEALTHY") {
			n++
		}
	}
	return n
}

// revisionLive counts a revision's tasks that are not yet STOPPED.
func (b *Backend) revisionLive(rev string) int {
	n := 0
	for _, t := range b.st.Tasks {
		if t.Revision == rev && t.running() {
			n++
		}
	}
	return n
}

// pruneStopped forgets tasks that stopped longer than stoppedRetention ago,
// and with them their directories (the copy of their output).
func (b *Backend) pruneStopped() {
	cutoff := b.cfg.Clock.Now().Add(-b.cfg.Clock.Scale(stoppedRetention))
	td, _ := b.cfg.Runner.(taskDirs)
	for id, t := range b.st.Tasks {
		if t.LastStatus == "STOPPED" && t.StoppedAt != nil && t.StoppedAt.Before(cutoff) {
			delete(b.st.Tasks, id)
			delete(b.st.Tags, t.TaskArn)
			b.dirty = true
			if td != nil {
				if err := td.RemoveTask(id); err != nil {
					b.log.Warn("remove stopped task's directory", "task", id, "err", err)
				}
			}
		}
	}
}
