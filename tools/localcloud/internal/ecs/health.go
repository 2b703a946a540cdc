package ecs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/taskrun"
)

// containerHealthCheck is a container definition's healthCheck.
type containerHealthCheck struct {
	Command     []string `json:"command"`
	Interval    *int32   `json:"interval"`
	Timeout     *int32   `json:"timeout"`
	Retries     *int32   `json:"retries"`
	StartPeriod *int32   `json:"startPeriod"`
}

// parseHealthCheck reads a container health check with ECS's defaults
// (interval 30 s, timeout 5 s, 3 retries, no start period).
func parseHealthCheck(raw json.RawMessage) (containerHealthCheck, bool) {
	var hc containerHealthCheck
	if len(raw) == 0 || json.Unmarshal(raw, &hc) != nil || len(hc.Command) == 0 {
		return hc, false
	}
	def := func(p **int32, v int32) {
		if *p == nil {
			*p = &v
		}
	}
	def(&hc.Interval, 30)
	def(&hc.Timeout, 5)
	def(&hc.Retries, 3)
	def(&hc.StartPeriod, 0)
	return hc, true
}

// minCheckTimeout keeps a scaled health-check timeout long enough for a
// process to start on a busy machine.
const minCheckTimeout = time.Second

// watchContainerHealth runs a task's container health check every interval
// (scaled), as the ECS agent does: the container is HEALTHY after a
// success, UNHEALTHY after retries consecutive failures outside the start
// period, and an UNHEALTHY essential container stops the task.
func (b *Backend) watchContainerHealth(ctx context.Context, ex execer, id string, p *taskrun.Process, hc containerHealthCheck) {
	sec := func(v *int32) time.Duration { return time.Duration(*v) * time.Second }
	started := b.cfg.Clock.Now()
	timeout := max(b.cfg.Clock.Scale(sec(hc.Timeout)), minCheckTimeout)
	fails := int32(0)
	for {
		select {
		case <-b.cfg.Clock.After(sec(hc.Interval)):
		case <-p.Done():
			return
		case <-ctx.Done():
			return
		}
		code, err := ex.Exec(ctx, p, hc.Command, timeout)
		b.mu.Lock()
		t, ok := b.st.Tasks[id]
		if !ok || t.LastStatus != "RUNNING" || t.DesiredStatus != "RUNNING" {
			b.mu.Unlock()
			return
		}
		inStart := b.cfg.Clock.Now().Sub(started) < b.cfg.Clock.Scale(sec(hc.StartPeriod))
		switch {
		case err == nil && code == 0:
			fails = 0
			b.setHealth(t, "HEALTHY")
		case inStart:
			// Failures in the start period do not count.
		default:
			fails++
			b.log.Debug("container health check failed", "task", id, "code", code, "error", err, "consecutive", fails)
			if fails >= *hc.Retries {
				b.setHealth(t, "UNHEALTHY")
				s := b.st.Services[t.ServiceID]
				if s != nil {
					b.serviceEvent(s, fmt.Sprintf("(service %s) (task %s) failed container health checks.", s.ServiceName, id))
					b.countFailure(b.st.Deployments[s.Deployment], t)
				}
				b.beginStop(ctx, t, "Task failed container health checks", "ServiceSchedulerInitiated")
				b.poke()
				b.mu.Unlock()
				return
			}
		}
		b.mu.Unlock()
	}
}

// setHealth records the essential container's health as the task's.
func (b *Backend) setHealth(t *taskRec, status string) {
	if t.HealthStatus == status {
		return
	}
	t.HealthStatus = status
	for i := range t.Containers {
		t.Containers[i].HealthStatus = status
	}
	b.dirty = true
	b.poke()
}
