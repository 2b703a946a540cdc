package ecs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// metricPeriod is how often, in AWS time, ECS publishes service
// utilization (CloudWatch's standard one-minute period).
const metricPeriod = time.Minute

// Utilization is a service's average CPU and memory use over its running
// tasks, in percent of the task size, as AWS/ECS CPUUtilization and
// MemoryUtilization report them.
type Utilization struct {
	CPU, Memory float64
	Tasks       int
	At          time.Time
}

func (b *Backend) sampleMetrics(ctx context.Context) {
	t := b.cfg.Clock.NewTicker(metricPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			b.publishUtilization()
		}
	}
}

// SampleUtilization measures every service now and publishes the metrics;
// the scheduler calls it every metric period.
func (b *Backend) publishUtilization() {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.cfg.Clock.Now()
	for _, s := range b.st.Services {
		if s.Status != "ACTIVE" {
			continue
		}
		u, ok := b.measure(s, now)
		if !ok {
			continue
		}
		s.util = u
		if b.cfg.Metrics != nil {
			dims := map[string]string{"ClusterName": s.Cluster, "ServiceName": s.ServiceName}
			b.cfg.Metrics.PutMetric("AWS/ECS", "CPUUtilization", dims, u.CPU, now)
			b.cfg.Metrics.PutMetric("AWS/ECS", "MemoryUtilization", dims, u.Memory, now)
		}
	}
}

// measure averages the service's running tasks' utilization since the last
// sample of each task, from /proc.
func (b *Backend) measure(s *serviceRec, now time.Time) (Utilization, bool) {
	var cpuSum, memSum float64
	n := 0
	for id, t := range b.st.Tasks {
		if t.ServiceID != s.key() || t.LastStatus != "RUNNING" {
			continue
		}
		p, ok := b.procs[id]
		if !ok {
			continue
		}
		use, err := p.Usage()
		if err != nil {
			continue
		}
		prev, seen := b.usage[id]
		b.usage[id] = cpuSample{cpu: use.CPUSeconds, at: now}
		if !seen {
			prev = cpuSample{cpu: 0, at: p.StartedAt}
		}
		wall := now.Sub(prev.at).Seconds()
		units, _ := strconv.ParseFloat(t.CPU, 64)
		if units <= 0 {
			units = 1024
		}
		mib, _ := strconv.ParseFloat(t.Memory, 64)
		if mib <= 0 {
			mib = 512
		}
		if wall > 0 {
			cpuSum += (use.CPUSeconds - prev.cpu) / wall / (units / 1024) * 100
		}
		memSum += float64(use.RSSBytes) / (mib * 1024 * 1024) * 100
		n++
	}
	if n == 0 {
		return Utilization{}, false
	}
	return Utilization{CPU: cpuSum / float64(n), Memory: memSum / float64(n), Tasks: n, At: now}, true
}

// ServiceMetrics returns the service's latest published CPU and memory
// utilization (percent) and when they were measured.
func (b *Backend) ServiceMetrics(cluster, service string) (cpu, mem float64, at time.Time, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, found := b.st.Services[serviceKey(clusterName(cluster), service)]
	if !found || s.util.At.IsZero() {
		return 0, 0, time.Time{}, false
	}
	return s.util.CPU, s.util.Memory, s.util.At, true
}

// ScalingState reports a service's desired count and whether a deployment
// is in flight (Application Auto Scaling does not scale in then).
func (b *Backend) ScalingState(cluster, service string) (desired int32, deploying bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, found := b.st.Services[serviceKey(clusterName(cluster), service)]
	if !found || s.Status != "ACTIVE" {
		return 0, false, fmt.Errorf("read service %s/%s: %w", cluster, service, ErrServiceNotFound)
	}
	d := b.st.Deployments[s.Deployment]
	return s.DesiredCount, d != nil && !d.done(), nil
}

// ErrServiceNotFound is returned for a service that does not exist or is
// not ACTIVE.
var ErrServiceNotFound = errors.New("service not found")

// SetDesiredCount changes a service's desired count on behalf of a scaler,
// as a scheduler-initiated change (it emits SERVICE_DESIRED_COUNT_UPDATED).
func (b *Backend) SetDesiredCount(cluster, service string, n int32, cause string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, found := b.st.Services[serviceKey(clusterName(cluster), service)]
	if !found || s.Status != "ACTIVE" {
		return fmt.Errorf("set desired count of %s/%s: %w", cluster, service, ErrServiceNotFound)
	}
	if n < 0 {
		return fmt.Errorf("set desired count of %s/%s: %d is negative", cluster, service, n)
	}
	if s.DesiredCount == n {
		return nil
	}
	b.log.Info("desired count changed", "service", s.ServiceName, "from", s.DesiredCount, "to", n, "cause", cause)
	s.DesiredCount = n
	s.Steady = false
	b.serviceEvent(s, fmt.Sprintf("(service %s) desired count changed to %d: %s", s.ServiceName, n, cause))
	b.serviceAction(s, "INFO", "SERVICE_DESIRED_COUNT_UPDATED")
	b.dirty = true
	b.saveLocked()
	b.poke()
	return nil
}
