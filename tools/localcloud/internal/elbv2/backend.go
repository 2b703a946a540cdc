// Package elbv2 emulates Elastic Load Balancing v2 (Application Load
// Balancers) over awsQuery, and does for real what an ALB does:
//
//   - Every listener is a reverse proxy on loopback, on the listener's port
//     plus Config.PortOffset (80 → 8080), or a free port when the offset is -1
//     or the mapped port is taken (with Config.StrictPorts a taken port is an
//     error instead). ListenerAddr and Listeners tell where.
//   - Requests are matched against the listener's rules by priority
//     (path-pattern, host-header, http-header, http-request-method,
//     query-string, source-ip), then the default rule; a forward action picks
//     a target group by weight (ForwardConfig weights 100/0 are what ECS
//     blue/green flips), then a target round robin.
//   - Every registered target of a target group that a listener or rule uses
//     is health checked with the group's path, port, matcher, interval,
//     timeout and thresholds, the durations compressed by the clock. States
//     are initial, healthy, unhealthy, draining and unused, as AWS reports
//     them. When no target is healthy the group fails open: requests go to
//     every registered target that is not draining.
//   - A deregistered target drains for deregistration_delay.timeout_seconds
//     (scaled): requests in flight complete, no new ones are routed, then it
//     is gone.
//   - Each request is counted into CloudWatch metrics (AWS/ApplicationELB:
//     RequestCount, HTTPCode_Target_{2,3,4,5}XX_Count, HTTPCode_ELB_{4,5}XX_Count,
//     TargetResponseTime; HealthyHostCount and UnHealthyHostCount per
//     health-check round), with AWS's LoadBalancer and TargetGroup dimensions.
//
// The backend's Go methods (RegisterTargets, TargetHealth, Rule,
// SetRuleForward, ...) are the same operations for in-process callers such as
// the ECS backend; their errors are *awsproto.Error with ELBv2's codes.
package elbv2

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// Region and account of every ARN localcloud mints.
const (
	Region  = "us-east-1"
	Account = "000000000000"
)

// ELBv2 error codes, as the query protocol carries them.
const (
	CodeValidation           = "ValidationError"
	CodeLoadBalancerNotFound = "LoadBalancerNotFound"
	CodeTargetGroupNotFound  = "TargetGroupNotFound"
	CodeListenerNotFound     = "ListenerNotFound"
	CodeRuleNotFound         = "RuleNotFound"
	CodeDuplicateLBName      = "DuplicateLoadBalancerName"
	CodeDuplicateTGName      = "DuplicateTargetGroupName"
	CodeDuplicateListener    = "DuplicateListener"
	CodePriorityInUse        = "PriorityInUse"
	CodeInvalidTarget        = "InvalidTarget"
	CodeResourceInUse        = "ResourceInUse"
	CodeOperationNotAllowed  = "OperationNotPermitted"
	CodeInvalidConfiguration = "InvalidConfigurationRequest"
	CodeInvalidLBAction      = "InvalidLoadBalancerAction"
	CodeTGAssociationLimit   = "TargetGroupAssociationLimit"
	CodeIncompatibleProtocol = "IncompatibleProtocols"
)

func notFound(code, what string) *awsproto.Error {
	return awsproto.Errorf(code, "One or more %s not found", what)
}

// MetricSink receives the load balancer's CloudWatch metrics; the CloudWatch
// backend implements it.
type MetricSink interface {
	PutMetric(namespace, name string, dims map[string]string, value float64, at time.Time)
}

// Config is what the backend needs.
type Config struct {
	Logger  *slog.Logger
	Clock   clock.Clock
	Store   state.Store
	Metrics MetricSink // may be nil
	// PortOffset: a listener on port P is served on 127.0.0.1:P+PortOffset;
	// -1 serves every listener on a free port.
	PortOffset int
	// StrictPorts makes a taken port+offset an error (CreateListener and
	// ModifyListener answer InvalidConfigurationRequest, New fails) instead
	// of serving the listener on a free port.
	StrictPorts bool
	// Host is the loopback address proxies bind; default 127.0.0.1.
	Host string
}

// Target is a registered target: an IP address (target type ip) and port.
type Target struct {
	ID   string
	Port int32
}

func (t Target) String() string { return net.JoinHostPort(t.ID, strconv.Itoa(int(t.Port))) }

// Target health states, as DescribeTargetHealth reports them.
const (
	StateInitial   = "initial"
	StateHealthy   = "healthy"
	StateUnhealthy = "unhealthy"
	StateUnused    = "unused"
	StateDraining  = "draining"
)

// TargetHealth is a target's state and the reason code AWS gives for it
// (Elb.RegistrationInProgress, Target.FailedHealthChecks, ...).
type TargetHealth struct {
	Target Target
	State  string
	Reason string
}

// HealthCheck is a target group's health-check settings.
type HealthCheck struct {
	Enabled            bool
	Protocol           string
	Port               string // "traffic-port" or a number
	Path               string
	IntervalSeconds    int32
	TimeoutSeconds     int32
	HealthyThreshold   int32
	UnhealthyThreshold int32
	Matcher            string
}

// TargetGroupInfo is what in-process callers need to know about a group.
type TargetGroupInfo struct {
	ARN                 string
	Name                string
	TargetType          string
	Protocol            string
	Port                int32
	VpcID               string
	HealthCheck         HealthCheck
	DeregistrationDelay time.Duration // the AWS duration; the wait is scaled
	LoadBalancerARNs    []string
}

// WeightedTargetGroup is one target group of a forward action.
type WeightedTargetGroup struct {
	TargetGroupARN string
	Weight         int32
}

// RuleInfo describes a listener rule for in-process callers.
type RuleInfo struct {
	ARN         string
	ListenerARN string
	IsDefault   bool
	// ForwardOnly is true when every action is a forward (blue/green
	// requires it).
	ForwardOnly bool
	// TargetGroups are the forward action's groups and weights.
	TargetGroups []WeightedTargetGroup
}

type loadBalancer struct {
	ARN            string
	Name           string
	DNSName        string
	Scheme         string
	Type           string
	IPAddressType  string
	VpcID          string
	Subnets        []string
	SecurityGroups []string
	Created        time.Time
	Tags           []Tag `json:",omitempty"`
	Attributes     map[string]string
}

type targetGroup struct {
	ARN             string
	Name            string
	Protocol        string
	ProtocolVersion string `json:",omitempty"`
	Port            int32
	VpcID           string
	TargetType      string
	IPAddressType   string
	HealthCheck     HealthCheck
	Attributes      map[string]string
	Tags            []Tag    `json:",omitempty"`
	Registered      []Target // persisted; health is re-checked on restore

	targets map[Target]*targetRuntime
	rr      uint64 // round-robin cursor
}

type listener struct {
	ARN      string
	LBARN    string
	Port     int32
	Protocol string
	Tags     []Tag `json:",omitempty"`
	// DefaultRuleARN names the default rule, which holds the default actions.
	DefaultRuleARN string
}

type rule struct {
	ARN         string
	ListenerARN string
	Priority    int // 0 for the default rule
	IsDefault   bool
	Conditions  []RuleCondition
	Actions     []Action
	Tags        []Tag `json:",omitempty"`
}

// Backend is the ELBv2 emulator. Its exported methods are safe for
// concurrent use.
type Backend struct {
	cfg   Config
	log   *slog.Logger
	clock clock.Clock

	mu        sync.RWMutex
	lbs       map[string]*loadBalancer
	tgs       map[string]*targetGroup
	listeners map[string]*listener
	rules     map[string]*rule
	proxies   map[string]*proxy // by listener ARN

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

const stateName = "elbv2"

type snapshot struct {
	LoadBalancers []*loadBalancer
	TargetGroups  []*targetGroup
	Listeners     []*listener
	Rules         []*rule
}

// New returns a backend with the state saved in cfg.Store, its listeners'
// proxies started and its targets' health checks running.
func New(cfg Config) (*Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New(1)
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Backend{
		cfg: cfg, log: cfg.Logger, clock: cfg.Clock,
		lbs: map[string]*loadBalancer{}, tgs: map[string]*targetGroup{},
		listeners: map[string]*listener{}, rules: map[string]*rule{}, proxies: map[string]*proxy{},
		ctx: ctx, cancel: cancel,
	}
	b.wg.Add(1)
	go b.hostCountLoop()
	var snap snapshot
	ok, err := cfg.Store.Load(stateName, &snap)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("restore elbv2: %w", err)
	}
	if ok {
		if err := b.restore(&snap); err != nil {
			// Strict ports: fail loudly rather than serve where nobody looks.
			b.Close()
			return nil, fmt.Errorf("restore elbv2: %w", err)
		}
	}
	return b, nil
}

// restore takes the saved state in and starts its listeners. A listener
// that cannot be served is logged, unless its port is taken with
// StrictPorts: that is the error.
func (b *Backend) restore(snap *snapshot) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, lb := range snap.LoadBalancers {
		b.lbs[lb.ARN] = lb
	}
	for _, tg := range snap.TargetGroups {
		tg.targets = map[Target]*targetRuntime{}
		for _, t := range tg.Registered {
			tg.targets[t] = &targetRuntime{target: t, state: StateInitial, reason: "Elb.RegistrationInProgress"}
		}
		b.tgs[tg.ARN] = tg
	}
	for _, r := range snap.Rules {
		b.rules[r.ARN] = r
	}
	for _, l := range snap.Listeners {
		b.listeners[l.ARN] = l
		if err := b.startProxyLocked(l); err != nil {
			if errors.Is(err, ErrPortTaken) {
				return err
			}
			b.log.Error("restart listener", "listener", l.ARN, "err", err)
		}
	}
	b.reconcileHealthLocked()
	b.log.Info("restored elbv2", "load_balancers", len(b.lbs), "target_groups", len(b.tgs), "listeners", len(b.listeners))
	return nil
}

// Close stops every proxy and health check.
func (b *Backend) Close() error {
	b.cancel()
	b.mu.Lock()
	for arn, p := range b.proxies {
		p.close()
		delete(b.proxies, arn)
	}
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}

// saveLocked persists the state; the caller holds b.mu.
func (b *Backend) saveLocked() {
	snap := snapshot{}
	for _, lb := range b.lbs {
		snap.LoadBalancers = append(snap.LoadBalancers, lb)
	}
	for _, tg := range b.tgs {
		tg.Registered = tg.Registered[:0]
		for t, rt := range tg.targets {
			if rt.state != StateDraining {
				tg.Registered = append(tg.Registered, t)
			}
		}
		sort.Slice(tg.Registered, func(i, j int) bool { return tg.Registered[i].String() < tg.Registered[j].String() })
		snap.TargetGroups = append(snap.TargetGroups, tg)
	}
	for _, l := range b.listeners {
		snap.Listeners = append(snap.Listeners, l)
	}
	for _, r := range b.rules {
		snap.Rules = append(snap.Rules, r)
	}
	sort.Slice(snap.LoadBalancers, func(i, j int) bool { return snap.LoadBalancers[i].ARN < snap.LoadBalancers[j].ARN })
	sort.Slice(snap.TargetGroups, func(i, j int) bool { return snap.TargetGroups[i].ARN < snap.TargetGroups[j].ARN })
	sort.Slice(snap.Listeners, func(i, j int) bool { return snap.Listeners[i].ARN < snap.Listeners[j].ARN })
	sort.Slice(snap.Rules, func(i, j int) bool { return snap.Rules[i].ARN < snap.Rules[j].ARN })
	if err := b.cfg.Store.Save(stateName, snap); err != nil {
		b.log.Error("save elbv2 state", "err", err)
	}
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newDigits(n int) string {
	var sb strings.Builder
	for range n {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		sb.WriteByte(byte('0' + d.Int64()))
	}
	return sb.String()
}

const arnPrefix = "arn:aws:elasticloadbalancing:" + Region + ":" + Account + ":"

// lbSuffix is the "app/<name>/<id>" part of a load balancer ARN, which is also
// its CloudWatch LoadBalancer dimension.
func lbSuffix(arn string) string {
	return strings.TrimPrefix(arn, arnPrefix+"loadbalancer/")
}

// tgSuffix is "targetgroup/<name>/<id>", the TargetGroup dimension.
func tgSuffix(arn string) string {
	return strings.TrimPrefix(arn, arnPrefix)
}

// ---- in-process API ----

func (b *Backend) targetGroupLocked(arn string) (*targetGroup, error) {
	tg, ok := b.tgs[arn]
	if !ok {
		return nil, notFound(CodeTargetGroupNotFound, "target groups")
	}
	return tg, nil
}

// RegisterTargets registers targets (IP and port; port 0 means the group's
// port) in a target group. A target already registered is left as is; one
// that was draining is registered again and re-checked.
func (b *Backend) RegisterTargets(_ context.Context, targetGroupARN string, targets []Target) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	tg, err := b.targetGroupLocked(targetGroupARN)
	if err != nil {
		return err
	}
	resolved := make([]Target, 0, len(targets))
	for _, t := range targets {
		if t.Port == 0 {
			t.Port = tg.Port
		}
		if err := validateTarget(tg, t); err != nil {
			return err
		}
		resolved = append(resolved, t)
	}
	for _, t := range resolved {
		if rt, ok := tg.targets[t]; ok {
			if rt.state != StateDraining {
				continue
			}
			rt.stop()
			delete(tg.targets, t)
		}
		tg.targets[t] = &targetRuntime{target: t, state: StateInitial, reason: "Elb.RegistrationInProgress"}
		b.log.Info("target registered", "target_group", tg.Name, "target", t.String())
	}
	b.reconcileHealthLocked()
	b.saveLocked()
	return nil
}

func validateTarget(tg *targetGroup, t Target) error {
	if t.Port < 1 || t.Port > 65535 {
		return awsproto.Validation(CodeValidation, awsproto.Violation{Field: "port", Value: t.Port, Constraint: "Member must have value between 1 and 65535"})
	}
	if tg.TargetType == "ip" {
		ip := net.ParseIP(t.ID)
		if ip == nil || ip.To4() == nil {
			return awsproto.Errorf(CodeValidation, "The IP address '%s' is not a valid IPv4 address", t.ID)
		}
	}
	if t.ID == "" {
		return awsproto.Validation(CodeValidation, awsproto.Required("id"))
	}
	return nil
}

// DeregisterTargets starts draining targets: no new requests reach them, and
// after the group's deregistration delay (scaled) they are removed.
func (b *Backend) DeregisterTargets(_ context.Context, targetGroupARN string, targets []Target) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	tg, err := b.targetGroupLocked(targetGroupARN)
	if err != nil {
		return err
	}
	var missing []string
	resolved := make([]Target, 0, len(targets))
	for _, t := range targets {
		if t.Port == 0 {
			t.Port = tg.Port
		}
		if _, ok := tg.targets[t]; !ok {
			missing = append(missing, fmt.Sprintf("Id: %s, Port: %d", t.ID, t.Port))
		}
		resolved = append(resolved, t)
	}
	if len(missing) > 0 {
		return awsproto.Errorf(CodeInvalidTarget, "The following targets are not registered in target group '%s': %s", tg.ARN, strings.Join(missing, "; "))
	}
	delay := tg.deregistrationDelay()
	for _, t := range resolved {
		rt := tg.targets[t]
		if rt.state == StateDraining {
			continue
		}
		rt.stop()
		rt.state, rt.reason, rt.description = StateDraining, "Target.DeregistrationInProgress", "Target deregistration is in progress"
		b.log.Info("target draining", "target_group", tg.Name, "target", t.String(), "delay", delay)
		b.drainLocked(tg, rt, delay)
	}
	b.saveLocked()
	return nil
}

func (b *Backend) drainLocked(tg *targetGroup, rt *targetRuntime, delay time.Duration) {
	ctx, cancel := context.WithCancel(b.ctx)
	rt.cancel = cancel
	tgARN := tg.ARN
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		select {
		case <-ctx.Done():
			return
		case <-b.clock.After(delay):
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		tg, ok := b.tgs[tgARN]
		if !ok {
			return
		}
		if cur, ok := tg.targets[rt.target]; ok && cur == rt {
			delete(tg.targets, rt.target)
			b.log.Info("target deregistered", "target_group", tg.Name, "target", rt.target.String())
		}
	}()
}

func (tg *targetGroup) deregistrationDelay() time.Duration {
	n, err := strconv.Atoi(tg.Attributes["deregistration_delay.timeout_seconds"])
	if err != nil {
		n = 300
	}
	return time.Duration(n) * time.Second
}

// TargetHealth reports every target of the group, draining ones included.
func (b *Backend) TargetHealth(_ context.Context, targetGroupARN string) ([]TargetHealth, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	tg, err := b.targetGroupLocked(targetGroupARN)
	if err != nil {
		return nil, err
	}
	out := make([]TargetHealth, 0, len(tg.targets))
	for _, rt := range tg.sortedTargets() {
		out = append(out, TargetHealth{Target: rt.target, State: rt.state, Reason: rt.reason})
	}
	return out, nil
}

func (tg *targetGroup) sortedTargets() []*targetRuntime {
	out := make([]*targetRuntime, 0, len(tg.targets))
	for _, rt := range tg.targets {
		out = append(out, rt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].target.String() < out[j].target.String() })
	return out
}

// TargetGroup describes a target group.
func (b *Backend) TargetGroup(_ context.Context, arn string) (TargetGroupInfo, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	tg, err := b.targetGroupLocked(arn)
	if err != nil {
		return TargetGroupInfo{}, err
	}
	return TargetGroupInfo{
		ARN: tg.ARN, Name: tg.Name, TargetType: tg.TargetType, Protocol: tg.Protocol, Port: tg.Port, VpcID: tg.VpcID,
		HealthCheck: tg.HealthCheck, DeregistrationDelay: tg.deregistrationDelay(), LoadBalancerARNs: b.tgLoadBalancersLocked(tg.ARN),
	}, nil
}

// Rule describes a listener rule (a listener's default rule included).
func (b *Backend) Rule(_ context.Context, ruleARN string) (RuleInfo, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	r, ok := b.rules[ruleARN]
	if !ok {
		return RuleInfo{}, notFound(CodeRuleNotFound, "rules")
	}
	info := RuleInfo{ARN: r.ARN, ListenerARN: r.ListenerARN, IsDefault: r.IsDefault, ForwardOnly: len(r.Actions) > 0}
	for _, a := range r.Actions {
		if a.Type != "forward" {
			info.ForwardOnly = false
			continue
		}
		for _, t := range forwardTuples(a) {
			info.TargetGroups = append(info.TargetGroups, WeightedTargetGroup{TargetGroupARN: t.TargetGroupArn, Weight: weightOf(t)})
		}
	}
	return info, nil
}

// SetRuleForward replaces a rule's actions with one weighted forward, as ECS
// does when it shifts traffic between blue and green.
func (b *Backend) SetRuleForward(_ context.Context, ruleARN string, tgs []WeightedTargetGroup) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.rules[ruleARN]
	if !ok {
		return notFound(CodeRuleNotFound, "rules")
	}
	fc := &ForwardConfig{}
	for _, a := range r.Actions {
		if a.ForwardConfig != nil && a.ForwardConfig.TargetGroupStickinessConfig != nil {
			fc.TargetGroupStickinessConfig = a.ForwardConfig.TargetGroupStickinessConfig
		}
	}
	for _, w := range tgs {
		weight := w.Weight
		fc.TargetGroups = append(fc.TargetGroups, TargetGroupTuple{TargetGroupArn: w.TargetGroupARN, Weight: &weight})
	}
	actions := []Action{{Type: "forward", ForwardConfig: fc}}
	l := b.listeners[r.ListenerARN]
	if err := b.validateActionsLocked(l, actions); err != nil {
		return err
	}
	r.Actions = normalizeActions(actions)
	b.log.Info("rule weights set", "rule", ruleARN, "forward", forwardSummary(r.Actions))
	b.reconcileHealthLocked()
	b.saveLocked()
	return nil
}

// forwardSummary renders a rule's forward weights for the log, e.g.
// "web-blue=100,web-green=0".
func forwardSummary(actions []Action) string {
	var desc []string
	for _, a := range actions {
		for _, t := range forwardTuples(a) {
			desc = append(desc, fmt.Sprintf("%s=%d", tgNameFromARN(t.TargetGroupArn), weightOf(t)))
		}
	}
	if len(desc) == 0 {
		return "none"
	}
	return strings.Join(desc, ",")
}

func tgNameFromARN(arn string) string {
	parts := strings.Split(tgSuffix(arn), "/")
	if len(parts) == 3 {
		return parts[1]
	}
	return arn
}

// ListenerAddr is the loopback address the listener's proxy serves on.
func (b *Backend) ListenerAddr(listenerARN string) (string, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	p, ok := b.proxies[listenerARN]
	if !ok {
		return "", notFound(CodeListenerNotFound, "listeners")
	}
	return p.addr, nil
}

// ListenerInfo is where one listener is served, as GET /_localcloud/info
// reports it.
type ListenerInfo struct {
	LoadBalancerARN  string
	LoadBalancerName string
	DNSName          string
	ListenerARN      string
	Protocol         string
	Port             int32
	// Addr is the loopback host:port actually served; "" when the listener
	// could not be served (see the log).
	Addr string
	// Binding is BindingOffset, BindingFallback or BindingFree; "" when not
	// served.
	Binding string
	// OffsetAddr is the host:port port + offset names ("" with offset -1);
	// it differs from Addr when Binding is BindingFallback.
	OffsetAddr string
}

// Listeners lists every listener and where it is served, by load balancer
// name, then port.
func (b *Backend) Listeners() []ListenerInfo {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]ListenerInfo, 0, len(b.listeners))
	for _, l := range b.listeners {
		li := ListenerInfo{LoadBalancerARN: l.LBARN, ListenerARN: l.ARN, Protocol: l.Protocol, Port: l.Port}
		if lb, ok := b.lbs[l.LBARN]; ok {
			li.LoadBalancerName, li.DNSName = lb.Name, lb.DNSName
		}
		if p, ok := b.proxies[l.ARN]; ok {
			li.Addr, li.Binding, li.OffsetAddr = p.addr, p.binding, p.offsetAddr
		}
		out = append(out, li)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].LoadBalancerName != out[j].LoadBalancerName {
			return out[i].LoadBalancerName < out[j].LoadBalancerName
		}
		if out[i].LoadBalancerARN != out[j].LoadBalancerARN {
			return out[i].LoadBalancerARN < out[j].LoadBalancerARN
		}
		return out[i].Port < out[j].Port
	})
	return out
}

// tgLoadBalancersLocked lists the load balancers whose listeners or rules
// forward to the group.
func (b *Backend) tgLoadBalancersLocked(tgARN string) []string {
	seen := map[string]bool{}
	for _, r := range b.rules {
		for _, a := range r.Actions {
			for _, t := range forwardTuples(a) {
				if t.TargetGroupArn == tgARN {
					if l, ok := b.listeners[r.ListenerARN]; ok {
						seen[l.LBARN] = true
					}
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for arn := range seen {
		out = append(out, arn)
	}
	sort.Strings(out)
	return out
}

func forwardTuples(a Action) []TargetGroupTuple {
	if a.Type != "forward" {
		return nil
	}
	if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
		return a.ForwardConfig.TargetGroups
	}
	if a.TargetGroupArn != "" {
		return []TargetGroupTuple{{TargetGroupArn: a.TargetGroupArn}}
	}
	return nil
}

func weightOf(t TargetGroupTuple) int32 {
	if t.Weight == nil {
		return 1
	}
	return *t.Weight
}
