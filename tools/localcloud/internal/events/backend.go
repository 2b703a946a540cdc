// Package events emulates Amazon EventBridge over JSON 1.1 (target prefix
// AWSEvents) on the default event bus: rules with event patterns, targets,
// PutEvents and TestEventPattern, plus Emit for the other backends, which
// publish the events AWS services publish (ECS state changes, CloudWatch
// alarm state changes) with the real envelope.
//
// Rules:
//   - Only the default bus exists ("default" or its ARN); other buses answer
//     ResourceNotFoundException.
//   - Event patterns follow EventBridge's matching rules (see Pattern). A
//     rule with ScheduleExpression rate(N unit) sends its targets a
//     "Scheduled Event" every N units on the scaled clock; cron() schedules
//     are recorded but never fire.
//   - Every event is matched against the enabled rules when it is put; each
//     matching target gets its own copy, delivered asynchronously and in order
//     per target, at least once.
//   - A delivery that fails is retried with exponential backoff (1 s doubling
//     up to 5 min, each wait scaled by the time scale) until the target's
//     RetryPolicy runs out: MaximumRetryAttempts (default 185) or
//     MaximumEventAgeInSeconds (default 86400, scaled). The event then goes to
//     the target's DeadLetterConfig queue, with the attributes AWS adds
//     (RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
//     EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS), or is dropped and logged.
//   - Lambda targets are invoked in process and need a permission for
//     events.amazonaws.com (the rule ARN as SourceArn, when the statement has
//     one). Unlike AWS, a function error counts as a failed delivery, so the
//     target's retry policy and dead-letter queue see it (on AWS the function's
//     own asynchronous retries would).
//   - SQS targets receive the event as the message body; SNS targets as the
//     message.
//   - Rules and targets persist across restarts; events in flight do not.
package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
)

// Region and account of the default bus, rule ARNs and emitted events.
const (
	Region  = "us-east-1"
	Account = "000000000000"
)

// DefaultBus is the one event bus.
const DefaultBus = "default"

// Event is an EventBridge event with the envelope AWS delivers.
type Event struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// LambdaInvoker invokes a function on behalf of a service principal; the
// Lambda backend checks the function's resource policy for principal and
// sourceARN. A function error is an error.
type LambdaInvoker interface {
	InvokeAs(ctx context.Context, principal, sourceARN, functionARN string, payload []byte) ([]byte, error)
}

// QueueSender sends a message to an SQS queue by ARN (a target or a
// dead-letter queue).
type QueueSender interface {
	SendMessage(ctx context.Context, queueARN, body string, attributes map[string]string) error
}

// TopicPublisher publishes a message to an SNS topic by ARN.
type TopicPublisher interface {
	Publish(ctx context.Context, topicARN, message string) error
}

// store persists named JSON documents; internal/state.Store satisfies it.
type store interface {
	Load(name string, v any) (bool, error)
	Save(name string, v any) error
}

// Config configures a Backend. Lambda, Queues and Topics are optional; a
// target of a missing kind fails its deliveries.
type Config struct {
	Logger *slog.Logger
	Clock  clock.Clock
	Store  store
	Lambda LambdaInvoker
	Queues QueueSender
	Topics TopicPublisher
}

// Backend is the EventBridge emulator; its methods are safe for concurrent
// use.
type Backend struct {
	cfg   Config
	log   *slog.Logger
	clock clock.Clock

	mu     sync.Mutex
	rules  map[string]*rule // by name
	queues map[string]*deliveryQueue

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type rule struct {
	Name               string
	Arn                string
	EventPattern       string `json:",omitempty"`
	ScheduleExpression string `json:",omitempty"`
	State              string
	Description        string            `json:",omitempty"`
	RoleArn            string            `json:",omitempty"`
	Tags               map[string]string `json:",omitempty"`
	Targets            []Target

	pattern *Pattern
	// cancel stops the rule's rate() schedule.
	cancel context.CancelFunc
}

const stateName = "events"

type snapshot struct {
	Rules []*rule
}

// New returns a backend holding the rules saved in cfg.Store.
func New(cfg Config) (*Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Backend{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, rules: map[string]*rule{}, queues: map[string]*deliveryQueue{}, ctx: ctx, cancel: cancel}
	if cfg.Store != nil {
		var snap snapshot
		ok, err := cfg.Store.Load(stateName, &snap)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("restore events: %w", err)
		}
		if ok {
			for _, r := range snap.Rules {
				if r.EventPattern != "" {
					p, err := CompilePattern(r.EventPattern)
					if err != nil {
						cancel()
						return nil, fmt.Errorf("restore events rule %s: %w", r.Name, err)
					}
					r.pattern = p
				}
				b.rules[r.Name] = r
				b.scheduleLocked(r)
			}
			b.log.Info("restored events", "rules", len(snap.Rules))
		}
	}
	return b, nil
}

// SetLambda connects the Lambda backend after construction (the two are
// built independently).
func (b *Backend) SetLambda(l LambdaInvoker) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg.Lambda = l
}

// SetQueues connects the SQS backend after construction.
func (b *Backend) SetQueues(q QueueSender) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg.Queues = q
}

// SetTopics connects the SNS backend after construction.
func (b *Backend) SetTopics(t TopicPublisher) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg.Topics = t
}

// Close stops delivery; events still queued are dropped.
func (b *Backend) Close() error {
	b.cancel()
	b.mu.Lock()
	for _, q := range b.queues {
		q.close()
	}
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}

func (b *Backend) saveLocked() {
	if b.cfg.Store == nil {
		return
	}
	snap := snapshot{Rules: make([]*rule, 0, len(b.rules))}
	for _, r := range b.rules {
		snap.Rules = append(snap.Rules, r)
	}
	sort.Slice(snap.Rules, func(i, j int) bool { return snap.Rules[i].Name < snap.Rules[j].Name })
	if err := b.cfg.Store.Save(stateName, snap); err != nil {
		b.log.Error("save events state", "err", err)
	}
}

func ruleARN(name string) string {
	return "arn:aws:events:" + Region + ":" + Account + ":rule/" + name
}

func busARN() string {
	return "arn:aws:events:" + Region + ":" + Account + ":event-bus/" + DefaultBus
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// NewEvent fills in the envelope of an event a service publishes: version
// "0", a new id, the account and region, and the time (RFC 3339, seconds).
func NewEvent(source, detailType string, resources []string, at time.Time, detail any) (Event, error) {
	raw, err := json.Marshal(detail)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s detail: %w", detailType, err)
	}
	if resources == nil {
		resources = []string{}
	}
	return Event{
		Version: "0", ID: newUUID(), DetailType: detailType, Source: source, Account: Account,
		Time: at.UTC().Format(time.RFC3339), Region: Region, Resources: resources, Detail: raw,
	}, nil
}

// Emit publishes an event from an AWS service (source aws.*) on the default
// bus. Missing envelope fields are filled in.
func (b *Backend) Emit(ctx context.Context, e Event) error {
	if e.Source == "" || e.DetailType == "" {
		return errors.New("emit event: source and detail-type are required")
	}
	if e.Version == "" {
		e.Version = "0"
	}
	if e.ID == "" {
		e.ID = newUUID()
	}
	if e.Account == "" {
		e.Account = Account
	}
	if e.Region == "" {
		e.Region = Region
	}
	if e.Time == "" {
		e.Time = b.clock.Now().UTC().Format(time.RFC3339)
	}
	if e.Resources == nil {
		e.Resources = []string{}
	}
	if len(e.Detail) == 0 {
		e.Detail = json.RawMessage("{}")
	}
	return b.publish(ctx, e)
}

// publish matches the event against the enabled rules and queues a delivery
// per matching target.
func (b *Backend) publish(_ context.Context, e Event) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	names := make([]string, 0, len(b.rules))
	for n := range b.rules {
		names = append(names, n)
	}
	sort.Strings(names)
	matched := 0
	for _, n := range names {
		r := b.rules[n]
		if r.State != "ENABLED" || r.pattern == nil {
			continue
		}
		ok, err := r.pattern.Match(raw)
		if err != nil || !ok {
			continue
		}
		matched++
		for _, t := range r.Targets {
			b.enqueueLocked(r, t, e, raw)
		}
	}
	b.log.Debug("event put", "source", e.Source, "detailType", e.DetailType, "id", e.ID, "rules", matched)
	return nil
}

// deliveryQueue delivers one target's events in order.
type deliveryQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []delivery
	closed bool
}

type delivery struct {
	ruleArn string
	target  Target
	event   Event
	raw     []byte
	queued  time.Time
}

func (q *deliveryQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

func (b *Backend) enqueueLocked(r *rule, t Target, e Event, raw []byte) {
	if b.ctx.Err() != nil {
		return // closed
	}
	key := r.Arn + "\x00" + t.Id
	q, ok := b.queues[key]
	if !ok {
		q = &deliveryQueue{}
		q.cond = sync.NewCond(&q.mu)
		b.queues[key] = q
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.deliverLoop(q)
		}()
	}
	q.mu.Lock()
	q.items = append(q.items, delivery{ruleArn: r.Arn, target: t, event: e, raw: raw, queued: b.clock.Now()})
	q.mu.Unlock()
	q.cond.Signal()
}

func (b *Backend) deliverLoop(q *deliveryQueue) {
	for {
		q.mu.Lock()
		for len(q.items) == 0 && !q.closed {
			q.cond.Wait()
		}
		if q.closed {
			q.mu.Unlock()
			return
		}
		d := q.items[0]
		q.items = q.items[1:]
		q.mu.Unlock()
		b.deliver(d)
	}
}

// backoff is the wait before retry n (1-based), in AWS time.
func backoff(n int) time.Duration {
	d := time.Second << min(n-1, 20)
	return min(d, 5*time.Minute)
}

// deliver sends one event to one target, retrying per the target's policy,
// then dead-lettering it.
func (b *Backend) deliver(d delivery) {
	maxAttempts, maxAge := 185, 86400
	if rp := d.target.RetryPolicy; rp != nil {
		if rp.MaximumRetryAttempts != nil {
			maxAttempts = int(*rp.MaximumRetryAttempts)
		}
		if rp.MaximumEventAgeInSeconds != nil {
			maxAge = int(*rp.MaximumEventAgeInSeconds)
		}
	}
	ageLimit := b.clock.Scale(time.Duration(maxAge) * time.Second)
	retries := 0
	for {
		err := b.send(d)
		if err == nil {
			b.log.Debug("event delivered", "rule", d.ruleArn, "target", d.target.Arn, "id", d.event.ID, "retries", retries)
			return
		}
		b.log.Warn("deliver event", "rule", d.ruleArn, "target", d.target.Arn, "id", d.event.ID, "attempt", retries+1, "err", err)
		exhausted := ""
		switch {
		case retries >= maxAttempts:
			exhausted = "MaximumRetryAttempts"
		case b.clock.Now().Sub(d.queued) >= ageLimit:
			exhausted = "MaximumEventAgeInSeconds"
		}
		if exhausted != "" {
			b.deadLetter(d, err, exhausted, retries)
			return
		}
		retries++
		select {
		case <-b.clock.After(backoff(retries)):
		case <-b.ctx.Done():
			return
		}
	}
}

// DeliveryError is a failed delivery with the error code AWS reports.
type DeliveryError struct {
	Code string
	Err  error
}

func (e *DeliveryError) Error() string { return e.Code + ": " + e.Err.Error() }
func (e *DeliveryError) Unwrap() error { return e.Err }

func (b *Backend) send(d delivery) error {
	payload, err := targetInput(d.target, d.raw)
	if err != nil {
		return &DeliveryError{Code: "InputTransformationFailed", Err: err}
	}
	b.mu.Lock()
	lam, queues, topics := b.cfg.Lambda, b.cfg.Queues, b.cfg.Topics
	b.mu.Unlock()
	ctx := b.ctx
	switch service(d.target.Arn) {
	case "lambda":
		if lam == nil {
			return &DeliveryError{Code: "ResourceNotFoundException", Err: errors.New("no Lambda service in this localcloud")}
		}
		if _, err := lam.InvokeAs(ctx, "events.amazonaws.com", d.ruleArn, d.target.Arn, payload); err != nil {
			return &DeliveryError{Code: "LambdaInvocationFailed", Err: err}
		}
		return nil
	case "sqs":
		if queues == nil {
			return &DeliveryError{Code: "ResourceNotFoundException", Err: errors.New("no SQS service in this localcloud")}
		}
		if err := queues.SendMessage(ctx, d.target.Arn, string(payload), nil); err != nil {
			return &DeliveryError{Code: "SQSSendFailed", Err: err}
		}
		return nil
	case "sns":
		if topics == nil {
			return &DeliveryError{Code: "ResourceNotFoundException", Err: errors.New("no SNS service in this localcloud")}
		}
		if err := topics.Publish(ctx, d.target.Arn, string(payload)); err != nil {
			return &DeliveryError{Code: "SNSPublishFailed", Err: err}
		}
		return nil
	}
	return &DeliveryError{Code: "UnsupportedTarget", Err: fmt.Errorf("localcloud does not deliver to %s targets", service(d.target.Arn))}
}

// service is the service part of an ARN (arn:aws:<service>:...).
func service(arn string) string {
	parts := strings.SplitN(arn, ":", 4)
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

func (b *Backend) deadLetter(d delivery, cause error, exhausted string, retries int) {
	dlq := ""
	if d.target.DeadLetterConfig != nil {
		dlq = d.target.DeadLetterConfig.Arn
	}
	if dlq == "" {
		b.log.Error("event dropped after retries", "rule", d.ruleArn, "target", d.target.Arn, "id", d.event.ID, "exhausted", exhausted, "err", cause)
		return
	}
	code := "DeliveryFailed"
	var de *DeliveryError
	if errors.As(cause, &de) {
		code = de.Code
		cause = de.Err
	}
	attrs := map[string]string{
		"RULE_ARN": d.ruleArn, "TARGET_ARN": d.target.Arn, "ERROR_CODE": code, "ERROR_MESSAGE": cause.Error(),
		"EXHAUSTED_RETRY_CONDITION": exhausted, "RETRY_ATTEMPTS": fmt.Sprint(retries),
	}
	b.mu.Lock()
	queues := b.cfg.Queues
	b.mu.Unlock()
	if queues == nil {
		b.log.Error("event dropped: no SQS service for the dead-letter queue", "dlq", dlq, "id", d.event.ID)
		return
	}
	if err := queues.SendMessage(b.ctx, dlq, string(d.raw), attrs); err != nil {
		b.log.Error("send event to dead-letter queue", "dlq", dlq, "id", d.event.ID, "err", err)
		return
	}
	b.log.Info("event sent to dead-letter queue", "rule", d.ruleArn, "target", d.target.Arn, "dlq", dlq, "id", d.event.ID, "exhausted", exhausted)
}
