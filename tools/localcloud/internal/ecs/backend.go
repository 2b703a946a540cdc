package ecs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/taskrun"
)

// Target is a target group member: a task's private address and port.
type Target struct {
	ID   string
	Port int32
}

// TargetHealth is a target's state in a target group: initial, healthy,
// unhealthy, draining or unused.
type TargetHealth struct {
	Target
	State, Reason string
}

// TargetGroupInfo is what ECS reads of a target group.
type TargetGroupInfo struct {
	ARN                 string
	TargetType          string
	Port                int32
	DeregistrationDelay time.Duration
	LoadBalancerARNs    []string
}

// WeightedTargetGroup is one target group of a forward action.
type WeightedTargetGroup struct {
	TargetGroupARN string
	Weight         int32
}

// RuleInfo is what ECS reads of a listener rule.
type RuleInfo struct {
	ARN, ListenerARN string
	// ForwardOnly is false when the rule has a non-forward action.
	ForwardOnly  bool
	TargetGroups []WeightedTargetGroup
}

// LoadBalancing is the ELBv2 backend as ECS drives it.
type LoadBalancing interface {
	RegisterTargets(ctx context.Context, targetGroupARN string, targets []Target) error
	DeregisterTargets(ctx context.Context, targetGroupARN string, targets []Target) error
	TargetHealth(ctx context.Context, targetGroupARN string) ([]TargetHealth, error)
	TargetGroup(ctx context.Context, arn string) (TargetGroupInfo, error)
	Rule(ctx context.Context, ruleARN string) (RuleInfo, error)
	SetRuleForward(ctx context.Context, ruleARN string, tgs []WeightedTargetGroup) error
}

// Alarms reads CloudWatch alarm states (OK, ALARM, INSUFFICIENT_DATA).
type Alarms interface {
	AlarmState(ctx context.Context, name string) (string, error)
}

// Metrics receives the AWS/ECS utilization metrics.
type Metrics interface {
	PutMetric(namespace, name string, dims map[string]string, value float64, at time.Time)
}

// Images pins image references to digests when a service revision is
// made; *ecr.Backend satisfies it.
type Images interface {
	Resolve(ref string) (string, error)
}

// Runner starts and stops task processes; *taskrun.Runner satisfies it.
type Runner interface {
	Start(ctx context.Context, spec taskrun.Spec, onExit func(taskrun.Exit)) (*taskrun.Process, error)
	Stop(ctx context.Context, p *taskrun.Process) error
}

// execer runs a command in a task's container; a Runner that has it gets
// container health checks run (*taskrun.Runner does).
type execer interface {
	Exec(ctx context.Context, p *taskrun.Process, argv []string, timeout time.Duration) (int, error)
}

// taskDirs removes what a runner keeps per task once the task is forgotten;
// a Runner that has it (*taskrun.Runner does) gets its task directories
// removed when STOPPED tasks age out of DescribeTasks.
type taskDirs interface {
	RemoveTask(taskID string) error
	PruneTasks(keep func(taskID string) bool) error
}

// store persists named JSON documents; internal/state.Store satisfies it.
type store interface {
	Load(name string, v any) (bool, error)
	Save(name string, v any) error
}

// Event is a state change an EventBridge emitter can turn into an event:
// DetailType is "ECS Task State Change", "ECS Deployment State Change" or
// "ECS Service Action".
type Event struct {
	DetailType string
	Resources  []string
	Time       time.Time
	Detail     map[string]any
}

// Config configures a Backend.
type Config struct {
	Account, Region string
	Clock           clock.Clock
	Logger          *slog.Logger
	Store           store
	Runner          Runner
	// ELB, Alarms, Metrics and Hooks are optional; without ELB services
	// cannot use load balancers.
	ELB LoadBalancing
	// Images, if set, pins each revision's images by digest, so a tag
	// pushed again mid-deployment does not change what tasks run.
	Images  Images
	Alarms  Alarms
	Metrics Metrics
	Hooks   HookInvoker
	// OnEvent, if set, receives every event in order, from one goroutine.
	OnEvent func(Event)
	// AvailabilityZones tasks are spread over; default <region>a, <region>b.
	AvailabilityZones []string
	// AddressPrefix is the first two octets of task addresses; default
	// "127.0". Tasks get <prefix>.X.Y.
	AddressPrefix string
}

// Backend is the ECS control plane and scheduler. Its methods are safe for
// concurrent use.
type Backend struct {
	cfg  Config
	log  *slog.Logger
	wake chan struct{}
	// ctx bounds everything the backend starts; set by Start, ended by
	// Close.
	ctx    context.Context
	cancel context.CancelFunc

	events chan Event

	mu sync.Mutex
	st *world
	// procs are the running processes by task ID (not persisted).
	procs map[string]*taskrun.Process
	// stopping marks tasks whose stop sequence is running.
	stopping map[string]bool
	dirty    bool
	// usage remembers the last CPU sample per task for utilization.
	usage map[string]cpuSample

	wg sync.WaitGroup
}

type cpuSample struct {
	cpu float64
	at  time.Time
}

const stateName = "ecs"

// New loads the persisted state. Start runs the scheduler.
func New(cfg Config) (*Backend, error) {
	if cfg.Clock == nil || cfg.Runner == nil {
		return nil, errors.New("create ecs backend: Clock and Runner are required")
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
	if len(cfg.AvailabilityZones) == 0 {
		cfg.AvailabilityZones = []string{cfg.Region + "a", cfg.Region + "b"}
	}
	if cfg.AddressPrefix == "" {
		cfg.AddressPrefix = "127.0"
	}
	b := &Backend{
		cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1), events: make(chan Event, 4096), ctx: context.Background(),
		st: newWorld(), procs: map[string]*taskrun.Process{}, stopping: map[string]bool{}, usage: map[string]cpuSample{},
	}
	if cfg.Store != nil {
		if _, err := cfg.Store.Load(stateName, b.st); err != nil {
			return nil, fmt.Errorf("load ecs state: %w", err)
		}
		b.st.init()
	}
	return b, nil
}

// Start reconciles state left by a previous run (its task processes are
// gone) and runs the scheduler until ctx ends. It returns at once.
func (b *Backend) Start(ctx context.Context) {
	ctx, b.cancel = context.WithCancel(ctx)
	b.mu.Lock()
	b.ctx = ctx
	b.recoverTasks(ctx)
	b.recoverDeployments()
	b.saveLocked()
	if td, ok := b.cfg.Runner.(taskDirs); ok {
		// Directories of tasks forgotten before forgetting removed them.
		if err := td.PruneTasks(func(id string) bool { _, ok := b.st.Tasks[id]; return ok }); err != nil {
			b.log.Warn("remove forgotten tasks' directories", "err", err)
		}
	}
	b.mu.Unlock()
	b.wg.Go(func() { b.dispatch(ctx) })
	b.wg.Go(func() { b.schedule(ctx) })
	b.wg.Go(func() { b.sampleMetrics(ctx) })
}

// Wait blocks until the scheduler goroutines have ended (after ctx ends).
func (b *Backend) Wait() { b.wg.Wait() }

// shutdownGrace bounds how long Close waits for task processes to stop.
const shutdownGrace = 10 * time.Second

// Close stops the scheduler, then stops every task as a shutdown of its
// host would: deregistered from its target groups, SIGTERM, then SIGKILL
// after the stopTimeout. The tasks are recorded STOPPED, so a restart
// starts replacements.
func (b *Backend) Close() error {
	if b.cancel != nil {
		b.cancel()
	}
	b.wg.Wait()
	b.mu.Lock()
	var procs []*taskrun.Process
	for id, p := range b.procs {
		if t, ok := b.st.Tasks[id]; ok && t.LastStatus != "STOPPED" {
			b.deregisterNow(context.Background(), t)
			t.DesiredStatus = "STOPPED"
			t.PendingReason, t.PendingCode = "Task stopped because localcloud shut down", "ServiceSchedulerInitiated"
			b.dirty = true
		}
		procs = append(procs, p)
	}
	b.saveLocked()
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { _ = b.cfg.Runner.Stop(ctx, p) })
	}
	wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.saveLocked()
	return nil
}

func (b *Backend) dispatch(ctx context.Context) {
	for {
		select {
		case e := <-b.events:
			if b.cfg.OnEvent != nil {
				b.cfg.OnEvent(e)
			}
		case <-ctx.Done():
			return
		}
	}
}

// emit queues an event; never blocks the scheduler for long.
func (b *Backend) emit(detailType string, resource string, detail map[string]any) {
	e := Event{DetailType: detailType, Resources: []string{resource}, Time: b.cfg.Clock.Now().UTC(), Detail: detail}
	select {
	case b.events <- e:
	default:
		b.log.Warn("event queue full, dropping event", "detailType", detailType)
	}
}

// poke wakes the scheduler.
func (b *Backend) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// schedTick is how often, in AWS time, the scheduler looks at every service.
const schedTick = time.Second

func (b *Backend) schedule(ctx context.Context) {
	t := b.cfg.Clock.NewTicker(schedTick)
	defer t.Stop()
	for {
		b.mu.Lock()
		b.reconcileAll(ctx)
		b.saveLocked()
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		case <-b.wake:
		}
	}
}

func (b *Backend) saveLocked() {
	if !b.dirty || b.cfg.Store == nil {
		return
	}
	if err := b.cfg.Store.Save(stateName, b.st); err != nil {
		b.log.Error("save ecs state", "error", err)
		return
	}
	b.dirty = false
}

// --- identifiers ---

func randomHex(n int) string {
	buf := make([]byte, n/2)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

func randomDigits(n int) string {
	s := ""
	for len(s) < n {
		v, _ := rand.Int(rand.Reader, big.NewInt(10))
		if s == "" && v.Int64() == 0 {
			continue
		}
		s += v.String()
	}
	return s
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomID(n int) string {
	out := make([]byte, n)
	for i := range out {
		v, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alnum))))
		out[i] = alnum[v.Int64()]
	}
	return string(out)
}

func (b *Backend) arn(resource string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:%s", b.cfg.Region, b.cfg.Account, resource)
}

// allocateAddress picks a free private address for a task: unused by other
// tasks and with the container port free to bind.
func (b *Backend) allocateAddress(port int32) (string, error) {
	used := map[string]bool{}
	for _, t := range b.st.Tasks {
		if t.LastStatus != "STOPPED" {
			used[t.Host] = true
		}
	}
	for range 200 {
		x, _ := rand.Int(rand.Reader, big.NewInt(254))
		y, _ := rand.Int(rand.Reader, big.NewInt(254))
		h := fmt.Sprintf("%s.%d.%d", b.cfg.AddressPrefix, x.Int64()+1, y.Int64()+1)
		if used[h] {
			continue
		}
		if port > 0 {
			ln, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(int(port))))
			if err != nil {
				continue
			}
			ln.Close()
		}
		return h, nil
	}
	return "", errors.New("allocate task address: no free loopback address")
}
