package elbv2

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// minProbeTimeout keeps a scaled health-check timeout from being so short
// that a healthy target on a busy machine fails it.
const minProbeTimeout = 250 * time.Millisecond

// targetRuntime is one registered target's live health.
type targetRuntime struct {
	target      Target
	state       string
	reason      string
	description string
	successes   int32
	failures    int32
	// cancel stops the target's health checks or drain timer.
	cancel context.CancelFunc
}

func (rt *targetRuntime) stop() {
	if rt.cancel != nil {
		rt.cancel()
		rt.cancel = nil
	}
}

// usedTargetGroupsLocked are the groups some listener or rule forwards to.
func (b *Backend) usedTargetGroupsLocked() map[string]bool {
	used := map[string]bool{}
	for _, r := range b.rules {
		for _, a := range r.Actions {
			for _, t := range forwardTuples(a) {
				used[t.TargetGroupArn] = true
			}
		}
	}
	return used
}

// reconcileHealthLocked starts health checks for the targets of groups in
// use and parks the targets of unused groups, after any change to
// registrations, rules or listeners.
func (b *Backend) reconcileHealthLocked() {
	used := b.usedTargetGroupsLocked()
	for _, tg := range b.tgs {
		for _, rt := range tg.targets {
			if rt.state == StateDraining {
				continue
			}
			if !used[tg.ARN] {
				if rt.state != StateUnused {
					rt.stop()
					rt.state, rt.reason, rt.description = StateUnused, "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"
					rt.successes, rt.failures = 0, 0
				}
				continue
			}
			if rt.state == StateUnused {
				rt.state, rt.reason, rt.description = StateInitial, "Elb.RegistrationInProgress", "Target registration is in progress"
			}
			if rt.cancel == nil {
				b.startChecksLocked(tg, rt)
			}
		}
	}
}

func (b *Backend) startChecksLocked(tg *targetGroup, rt *targetRuntime) {
	ctx, cancel := context.WithCancel(b.ctx)
	rt.cancel = cancel
	b.wg.Add(1)
	go b.checkLoop(ctx, tg.ARN, rt)
}

var probeClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // an ALB judges the redirect itself
	},
}

func (b *Backend) checkLoop(ctx context.Context, tgARN string, rt *targetRuntime) {
	defer b.wg.Done()
	for {
		b.mu.RLock()
		tg, ok := b.tgs[tgARN]
		var hc HealthCheck
		if ok {
			hc = tg.HealthCheck
		}
		b.mu.RUnlock()
		if !ok {
			return
		}
		pass, reason, desc := b.probe(ctx, rt.target, hc)
		b.mu.Lock()
		if ctx.Err() != nil {
			b.mu.Unlock()
			return
		}
		b.recordLocked(tg, rt, hc, pass, reason, desc)
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-b.clock.After(time.Duration(hc.IntervalSeconds) * time.Second):
		}
	}
}

// probe runs one health check.
func (b *Backend) probe(ctx context.Context, t Target, hc HealthCheck) (pass bool, reason, desc string) {
	if !hc.Enabled {
		return true, "", ""
	}
	port := strconv.Itoa(int(t.Port))
	if hc.Port != "" && hc.Port != "traffic-port" {
		port = hc.Port
	}
	timeout := max(b.clock.Scale(time.Duration(hc.TimeoutSeconds)*time.Second), minProbeTimeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	scheme := "http"
	if hc.Protocol == "HTTPS" {
		scheme = "https"
	}
	path := hc.Path
	if path == "" {
		path = "/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+net.JoinHostPort(t.ID, port)+path, nil)
	if err != nil {
		return false, "Target.FailedHealthChecks", "Health checks failed"
	}
	req.Header.Set("User-Agent", "ELB-HealthChecker/2.0")
	resp, err := probeClient.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return false, "Target.Timeout", "Request timed out"
		}
		return false, "Target.FailedHealthChecks", "Health checks failed"
	}
	resp.Body.Close()
	if !matches(hc.Matcher, resp.StatusCode) {
		return false, "Target.ResponseCodeMismatch", fmt.Sprintf("Health checks failed with these codes: [%d]", resp.StatusCode)
	}
	return true, "", ""
}

// matches reports whether code is in a matcher such as "200", "200-299" or
// "200,202".
func matches(matcher string, code int) bool {
	if matcher == "" {
		matcher = "200"
	}
	for part := range strings.SplitSeq(matcher, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		l, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		h := l
		if isRange {
			if h, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		if code >= l && code <= h {
			return true
		}
	}
	return false
}

func (b *Backend) recordLocked(tg *targetGroup, rt *targetRuntime, hc HealthCheck, pass bool, reason, desc string) {
	if cur, ok := tg.targets[rt.target]; !ok || cur != rt || rt.state == StateDraining || rt.state == StateUnused {
		return
	}
	if pass {
		rt.failures = 0
		rt.successes++
	} else {
		rt.successes = 0
		rt.failures++
	}
	prev := rt.state
	switch {
	case pass && rt.state != StateHealthy && rt.successes >= max(hc.HealthyThreshold, 1):
		rt.state, rt.reason, rt.description = StateHealthy, "", ""
	case !pass && rt.state != StateUnhealthy && rt.failures >= max(hc.UnhealthyThreshold, 1):
		rt.state, rt.reason, rt.description = StateUnhealthy, reason, desc
	case !pass && rt.state == StateUnhealthy:
		rt.reason, rt.description = reason, desc
	case rt.state == StateInitial:
		rt.reason, rt.description = "Elb.InitialHealthChecking", "Initial health checks in progress"
	}
	if rt.state != prev {
		if rt.state == StateHealthy {
			b.log.Info("target healthy", "target_group", tg.Name, "target", rt.target.String())
		} else {
			b.log.Info("target unhealthy", "target_group", tg.Name, "target", rt.target.String(), "reason", rt.reason, "detail", rt.description)
		}
	}
}

// hostCountLoop publishes HealthyHostCount and UnHealthyHostCount for every
// group in use, every 10 AWS seconds.
func (b *Backend) hostCountLoop() {
	defer b.wg.Done()
	if b.cfg.Metrics == nil {
		return
	}
	t := b.clock.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C():
		}
		b.mu.RLock()
		type point struct {
			dims             map[string]string
			healthy, unhealt float64
		}
		var points []point
		for _, tg := range b.tgs {
			lbs := b.tgLoadBalancersLocked(tg.ARN)
			if len(lbs) == 0 {
				continue
			}
			var healthy, unhealthy float64
			for _, rt := range tg.targets {
				switch rt.state {
				case StateHealthy:
					healthy++
				case StateUnhealthy:
					unhealthy++
				}
			}
			for _, lb := range lbs {
				points = append(points, point{map[string]string{"LoadBalancer": lbSuffix(lb), "TargetGroup": tgSuffix(tg.ARN)}, healthy, unhealthy})
			}
		}
		b.mu.RUnlock()
		now := b.clock.Now()
		for _, p := range points {
			b.cfg.Metrics.PutMetric(namespace, "HealthyHostCount", p.dims, p.healthy, now)
			b.cfg.Metrics.PutMetric(namespace, "UnHealthyHostCount", p.dims, p.unhealt, now)
		}
	}
}
