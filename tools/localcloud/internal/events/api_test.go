package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/events"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

var ctx = context.Background()

// queues stands in for the SQS backend: it records every message per queue.
type queues struct {
	mu   sync.Mutex
	msgs map[string][]message
}

type message struct {
	Body  string
	Attrs map[string]string
}

func (q *queues) SendMessage(_ context.Context, arn, body string, attrs map[string]string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.msgs == nil {
		q.msgs = map[string][]message{}
	}
	q.msgs[arn] = append(q.msgs[arn], message{body, attrs})
	return nil
}

func (q *queues) get(arn string) []message {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]message(nil), q.msgs[arn]...)
}

func newBackend(t *testing.T, cfg events.Config) (*events.Backend, *eventbridge.Client) {
	t.Helper()
	b, err := events.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, eventbridge.NewFromConfig(awsprototest.Config(awsprototest.Serve(t, b.Register)))
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRulesAndTargets(t *testing.T) {
	t.Parallel()
	store := state.Store{Dir: t.TempDir()}
	_, c := newBackend(t, events.Config{Store: store})
	pattern := `{"source":["aws.ecs"],"detail-type":["ECS Deployment State Change"]}`
	put, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("deploys"), EventPattern: aws.String(pattern), Description: aws.String("d")})
	if err != nil {
		t.Fatalf("PutRule: %v", err)
	}
	if got, want := aws.ToString(put.RuleArn), "arn:aws:events:us-east-1:000000000000:rule/deploys"; got != want {
		t.Errorf("PutRule RuleArn = %s, want %s", got, want)
	}
	d, err := c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("deploys")})
	if err != nil {
		t.Fatalf("DescribeRule: %v", err)
	}
	if d.State != types.RuleStateEnabled || aws.ToString(d.EventPattern) != pattern || aws.ToString(d.EventBusName) != "default" {
		t.Errorf("DescribeRule = state %s pattern %s bus %s, want ENABLED, the pattern, default", d.State, aws.ToString(d.EventPattern), aws.ToString(d.EventBusName))
	}
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("alarms"), EventPattern: aws.String(`{"source":["aws.cloudwatch"]}`), State: types.RuleStateDisabled}); err != nil {
		t.Fatalf("PutRule alarms: %v", err)
	}
	list, err := c.ListRules(ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String("dep")})
	if err != nil || len(list.Rules) != 1 || aws.ToString(list.Rules[0].Name) != "deploys" {
		t.Errorf("ListRules(dep) = %v, %v; want [deploys]", list, err)
	}
	page, err := c.ListRules(ctx, &eventbridge.ListRulesInput{Limit: aws.Int32(1)})
	if err != nil || len(page.Rules) != 1 || page.NextToken == nil {
		t.Fatalf("ListRules(limit 1) = %v, %v; want one rule and a NextToken", page, err)
	}
	next, err := c.ListRules(ctx, &eventbridge.ListRulesInput{Limit: aws.Int32(1), NextToken: page.NextToken})
	if err != nil || len(next.Rules) != 1 || aws.ToString(next.Rules[0].Name) == aws.ToString(page.Rules[0].Name) {
		t.Errorf("ListRules page 2 = %v, %v; want the other rule", next, err)
	}
	targets := []types.Target{
		{Id: aws.String("fn"), Arn: aws.String("arn:aws:lambda:us-east-1:000000000000:function:watch"),
			RetryPolicy:      &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(3), MaximumEventAgeInSeconds: aws.Int32(600)},
			DeadLetterConfig: &types.DeadLetterConfig{Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:dlq")}},
		{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:events"), InputPath: aws.String("$.detail")},
	}
	pt, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("deploys"), Targets: targets})
	if err != nil || pt.FailedEntryCount != 0 {
		t.Fatalf("PutTargets = %v, %v", pt, err)
	}
	lt, err := c.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("deploys")})
	if err != nil || len(lt.Targets) != 2 {
		t.Fatalf("ListTargetsByRule = %v, %v; want 2 targets", lt, err)
	}
	if rp := lt.Targets[0].RetryPolicy; rp == nil || aws.ToInt32(rp.MaximumRetryAttempts) != 3 || aws.ToString(lt.Targets[0].DeadLetterConfig.Arn) != "arn:aws:sqs:us-east-1:000000000000:dlq" {
		t.Errorf("ListTargetsByRule[0] = %+v, want the retry policy and DLQ", lt.Targets[0])
	}
	byTarget, err := c.ListRuleNamesByTarget(ctx, &eventbridge.ListRuleNamesByTargetInput{TargetArn: aws.String("arn:aws:sqs:us-east-1:000000000000:events")})
	if err != nil || len(byTarget.RuleNames) != 1 {
		t.Errorf("ListRuleNamesByTarget = %v, %v; want [deploys]", byTarget, err)
	}
	_, err = c.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("deploys")})
	if apiCode(err) != "ValidationException" {
		t.Errorf("DeleteRule with targets = %v, want ValidationException", err)
	}
	rt, err := c.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String("deploys"), Ids: []string{"fn", "q", "nope"}})
	if err != nil || rt.FailedEntryCount != 1 || aws.ToString(rt.FailedEntries[0].TargetId) != "nope" {
		t.Errorf("RemoveTargets = %v, %v; want one failed entry for nope", rt, err)
	}
	if _, err := c.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("deploys")}); err != nil {
		t.Errorf("DeleteRule without targets: %v", err)
	}
	if _, err := c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("deploys")}); !errors.As(err, new(*types.ResourceNotFoundException)) {
		t.Errorf("DescribeRule after delete = %v, want ResourceNotFoundException", err)
	}
}

func TestRestoreRules(t *testing.T) {
	t.Parallel()
	store := state.Store{Dir: t.TempDir()}
	_, c := newBackend(t, events.Config{Store: store})
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["s"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:q")}}}); err != nil {
		t.Fatal(err)
	}
	q := &queues{}
	b2, err := events.New(events.Config{Store: store, Queues: q})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer b2.Close()
	if err := b2.Emit(ctx, events.Event{Source: "s", DetailType: "t", Detail: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the restored rule to deliver", func() bool { return len(q.get("arn:aws:sqs:us-east-1:000000000000:q")) == 1 })
}

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return fmt.Sprint(err)
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	_, c := newBackend(t, events.Config{})
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["s"]}`)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"describe missing rule", func() error {
			_, err := c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("nope")})
			return err
		}, "ResourceNotFoundException"},
		{"bad pattern", func() error {
			_, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bad"), EventPattern: aws.String(`{"source":"aws.ecs"}`)})
			return err
		}, "InvalidEventPatternException"},
		{"no pattern nor schedule", func() error {
			_, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("empty")})
			return err
		}, "ValidationException"},
		{"bad rule name", func() error {
			_, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("a b"), EventPattern: aws.String(`{"source":["s"]}`)})
			return err
		}, "ValidationException"},
		{"other bus", func() error {
			_, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("x"), EventBusName: aws.String("custom"), EventPattern: aws.String(`{"source":["s"]}`)})
			return err
		}, "ResourceNotFoundException"},
		{"targets of a missing rule", func() error {
			_, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("nope"), Targets: []types.Target{{Id: aws.String("t"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:q")}}})
			return err
		}, "ResourceNotFoundException"},
		{"retry attempts out of range", func() error {
			_, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{{Id: aws.String("t"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:q"), RetryPolicy: &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(186)}}}})
			return err
		}, "ValidationException"},
		{"dead-letter queue not SQS", func() error {
			_, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{{Id: aws.String("t"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:q"), DeadLetterConfig: &types.DeadLetterConfig{Arn: aws.String("arn:aws:sns:us-east-1:000000000000:t")}}}})
			return err
		}, "ValidationException"},
		{"too many targets", func() error {
			var ts []types.Target
			for i := range 6 {
				ts = append(ts, types.Target{Id: aws.String(fmt.Sprint("t", i)), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:q")})
			}
			_, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: ts})
			return err
		}, "LimitExceededException"},
		{"test pattern invalid", func() error {
			_, err := c.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(`[]`), Event: aws.String(`{}`)})
			return err
		}, "InvalidEventPatternException"},
		{"test pattern event without envelope", func() error {
			_, err := c.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(`{"source":["s"]}`), Event: aws.String(`{"source":"s"}`)})
			return err
		}, "ValidationException"},
		{"unsupported custom bus", func() error {
			_, err := c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("custom")})
			return err
		}, "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := apiCode(tt.call()); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.name, got, tt.want)
			}
		})
	}
	lt, err := c.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("r")})
	if err != nil || len(lt.Targets) != 0 {
		t.Errorf("targets after the refused PutTargets = %v, %v; want none", lt, err)
	}
	var typed *types.InvalidEventPatternException
	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bad"), EventPattern: aws.String(`{"detail":{"n":[{"numeric":[">"]}]}}`)})
	if !errors.As(err, &typed) || !strings.Contains(typed.ErrorMessage(), "Event pattern is not valid") {
		t.Errorf("PutRule(bad numeric) = %v, want a typed InvalidEventPatternException", err)
	}
}

func TestTestEventPattern(t *testing.T) {
	t.Parallel()
	_, c := newBackend(t, events.Config{})
	event := `{"id":"1","account":"000000000000","source":"aws.ecs","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail-type":"ECS Task State Change","detail":{"lastStatus":"STOPPED"}}`
	tests := []struct {
		pattern string
		want    bool
	}{
		{`{"source":["aws.ecs"],"detail":{"lastStatus":["STOPPED"]}}`, true},
		{`{"source":["aws.ecs"],"detail":{"lastStatus":[{"anything-but":"STOPPED"}]}}`, false},
	}
	for _, tt := range tests {
		out, err := c.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{Event: aws.String(event), EventPattern: aws.String(tt.pattern)})
		if err != nil || out.Result != tt.want {
			t.Errorf("TestEventPattern(%s) = %v, %v; want %v", tt.pattern, out, err, tt.want)
		}
	}
}

func TestPutEventsDeliversMatchingEventsInOrder(t *testing.T) {
	t.Parallel()
	q := &queues{}
	_, c := newBackend(t, events.Config{Queues: q, Clock: clock.New(0.001)})
	const arn = "arn:aws:sqs:us-east-1:000000000000:orders"
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("orders"), EventPattern: aws.String(`{"source":["shop"],"detail":{"total":[{"numeric":[">=",10]}]}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("orders"), Targets: []types.Target{
		{Id: aws.String("q"), Arn: aws.String(arn), InputPath: aws.String("$.detail")},
	}}); err != nil {
		t.Fatal(err)
	}
	var entries []types.PutEventsRequestEntry
	for i := range 10 {
		entries = append(entries, types.PutEventsRequestEntry{Source: aws.String("shop"), DetailType: aws.String("Order"), Detail: aws.String(fmt.Sprintf(`{"n":%d,"total":%d}`, i, i*3))})
	}
	out, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
	if err != nil || out.FailedEntryCount != 0 || len(out.Entries) != 10 || aws.ToString(out.Entries[0].EventId) == "" {
		t.Fatalf("PutEvents = %v, %v; want 10 accepted entries with ids", out, err)
	}
	// total >= 10 for n = 4..9.
	waitFor(t, 5*time.Second, "6 deliveries", func() bool { return len(q.get(arn)) >= 6 })
	got := q.get(arn)
	for i, m := range got {
		if want := fmt.Sprintf(`{"n":%d,"total":%d}`, i+4, (i+4)*3); m.Body != want {
			t.Errorf("delivery %d = %s, want %s", i, m.Body, want)
		}
	}
	bad, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("shop"), DetailType: aws.String("Order"), Detail: aws.String(`not json`)},
		{Source: aws.String("aws.ecs"), DetailType: aws.String("Order"), Detail: aws.String(`{}`)},
		{Source: aws.String("shop"), DetailType: aws.String("Order")},
		{Source: aws.String("shop"), DetailType: aws.String("Order"), Detail: aws.String(`{"total":1}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	wantCodes := []string{"MalformedDetail", "NotAuthorizedForSourceException", "InvalidArgument", ""}
	if bad.FailedEntryCount != 3 || len(bad.Entries) != 4 {
		t.Fatalf("PutEvents(bad) = %d failed of %d, want 3 of 4", bad.FailedEntryCount, len(bad.Entries))
	}
	for i, want := range wantCodes {
		if got := aws.ToString(bad.Entries[i].ErrorCode); got != want {
			t.Errorf("PutEvents(bad) entry %d ErrorCode = %q, want %q", i, got, want)
		}
	}
}

// failingLambda fails every invocation, counting them.
type failingLambda struct {
	mu    sync.Mutex
	calls int
}

func (f *failingLambda) InvokeAs(_ context.Context, principal, source, fn string, _ []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return nil, errors.New("function failed")
}

func (f *failingLambda) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func TestRetryThenDeadLetter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		policy        *types.RetryPolicy
		wantCalls     int
		wantExhausted string
	}{
		{"retry attempts", &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(2)}, 3, "MaximumRetryAttempts"},
		{"no retries", &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(0)}, 1, "MaximumRetryAttempts"},
		// 60 s at scale 0.001 is 60 ms: backoff 1+2+4+8+16+32 ms passes it after
		// a handful of attempts, well short of 185.
		{"event age", &types.RetryPolicy{MaximumEventAgeInSeconds: aws.Int32(60)}, -1, "MaximumEventAgeInSeconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, fn := &queues{}, &failingLambda{}
			_, c := newBackend(t, events.Config{Queues: q, Lambda: fn, Clock: clock.New(0.001)})
			const dlq = "arn:aws:sqs:us-east-1:000000000000:dlq"
			if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["app"]}`)}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{{
				Id: aws.String("fn"), Arn: aws.String("arn:aws:lambda:us-east-1:000000000000:function:f"),
				RetryPolicy: tt.policy, DeadLetterConfig: &types.DeadLetterConfig{Arn: aws.String(dlq)},
			}}}); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if _, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{Source: aws.String("app"), DetailType: aws.String("x"), Detail: aws.String(`{"k":1}`)}}}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "the dead-letter queue", func() bool { return len(q.get(dlq)) == 1 })
			t.Logf("dead-lettered after %d attempts in %v", fn.count(), time.Since(start).Round(time.Millisecond))
			if tt.wantCalls >= 0 && fn.count() != tt.wantCalls {
				t.Errorf("invocations = %d, want %d", fn.count(), tt.wantCalls)
			}
			m := q.get(dlq)[0]
			var ev events.Event
			if err := json.Unmarshal([]byte(m.Body), &ev); err != nil || string(ev.Detail) != `{"k":1}` {
				t.Errorf("dead letter body = %s (%v), want the event", m.Body, err)
			}
			want := map[string]string{
				"RULE_ARN": "arn:aws:events:us-east-1:000000000000:rule/r", "TARGET_ARN": "arn:aws:lambda:us-east-1:000000000000:function:f",
				"ERROR_CODE": "LambdaInvocationFailed", "EXHAUSTED_RETRY_CONDITION": tt.wantExhausted,
				"RETRY_ATTEMPTS": fmt.Sprint(fn.count() - 1),
			}
			for k, v := range want {
				if m.Attrs[k] != v {
					t.Errorf("dead letter attribute %s = %q, want %q", k, m.Attrs[k], v)
				}
			}
		})
	}
}

func TestScheduledRule(t *testing.T) {
	t.Parallel()
	q := &queues{}
	// rate(1 minute) at time scale 0.001 fires every 60 ms.
	_, c := newBackend(t, events.Config{Queues: q, Clock: clock.New(0.001)})
	const arn = "arn:aws:sqs:us-east-1:000000000000:ticks"
	for _, bad := range []string{"rate(1 minutes)", "rate(2 minute)", "rate(0 minutes)", "every minute"} {
		_, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bad"), ScheduleExpression: aws.String(bad)})
		if apiCode(err) != "ValidationException" {
			t.Errorf("PutRule(ScheduleExpression %q) = %v, want ValidationException", bad, err)
		}
	}
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("tick"), ScheduleExpression: aws.String("rate(1 minute)")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("tick"), Targets: []types.Target{{Id: aws.String("q"), Arn: aws.String(arn)}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "two scheduled events", func() bool { return len(q.get(arn)) >= 2 })
	var e events.Event
	if err := json.Unmarshal([]byte(q.get(arn)[0].Body), &e); err != nil {
		t.Fatal(err)
	}
	if e.Source != "aws.events" || e.DetailType != "Scheduled Event" || len(e.Resources) != 1 || e.Resources[0] != "arn:aws:events:us-east-1:000000000000:rule/tick" || string(e.Detail) != "{}" {
		t.Errorf("scheduled event = %+v, want source aws.events, Scheduled Event, the rule ARN, {}", e)
	}
}
