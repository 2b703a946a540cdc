package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/cloudwatch"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/events"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/lambda"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/lambda/lambdatest"
)

// testZip deploys the test function (../lambda/testfn), built once.
var testZip []byte

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "events-testfn-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	exe, took, err := lambdatest.Build(dir)
	if err == nil {
		testZip, err = lambdatest.Zip(exe, "bootstrap")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "built the test function in %v\n", took.Round(time.Millisecond))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cloud is EventBridge, Lambda and CloudWatch wired as the server wires
// them, behind one mux, with the real SDK clients.
type cloud struct {
	events *events.Backend
	eb     *eventbridge.Client
	lambda *awslambda.Client
	cw     *cw.Client
	queues *queues
}

type objects map[string][]byte

func (o objects) GetObject(_ context.Context, bucket, key string) ([]byte, error) {
	if b, ok := o[bucket+"/"+key]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no such key %s/%s", bucket, key)
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	c := &cloud{queues: &queues{}}
	lb, err := lambda.New(lambda.Config{CodeDir: t.TempDir(), S3: objects{"code/fn.zip": testZip}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Close() })
	cwb, err := cloudwatch.New(cloudwatch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cwb.Close() })
	c.events, err = events.New(events.Config{Clock: clock.New(0.001), Lambda: lb, Queues: c.queues})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.events.Close() })
	t.Cleanup(cwb.Subscribe(c.events.EmitAlarmChange))
	ep := awsprototest.Serve(t, c.events.Register, lb.Register, cwb.Register)
	lb.SetEndpoint(ep)
	cfg := awsprototest.Config(ep)
	c.eb = eventbridge.NewFromConfig(cfg)
	c.lambda = awslambda.NewFromConfig(cfg)
	c.cw = cw.NewFromConfig(cfg)
	return c
}

// function deploys the test function recording its events to a file, with
// a permission for EventBridge rule allowRule ("" for none), and returns
// its ARN and a reader of what it received.
func (c *cloud) function(t *testing.T, name, allowRule string, vars map[string]string) (string, func() []string) {
	t.Helper()
	record := filepath.Join(t.TempDir(), "received.jsonl")
	env := map[string]string{"RECORD_FILE": record}
	for k, v := range vars {
		env[k] = v
	}
	out, err := c.lambda.CreateFunction(ctx, &awslambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: lambdatypes.RuntimeProvidedal2023, Role: aws.String("arn:aws:iam::000000000000:role/fn"),
		Code: &lambdatypes.FunctionCode{S3Bucket: aws.String("code"), S3Key: aws.String("fn.zip")}, Environment: &lambdatypes.Environment{Variables: env},
	})
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	if allowRule != "" {
		if _, err := c.lambda.AddPermission(ctx, &awslambda.AddPermissionInput{
			FunctionName: aws.String(name), StatementId: aws.String("events"), Action: aws.String("lambda:InvokeFunction"),
			Principal: aws.String("events.amazonaws.com"), SourceArn: aws.String("arn:aws:events:us-east-1:000000000000:rule/" + allowRule),
		}); err != nil {
			t.Fatalf("AddPermission: %v", err)
		}
	}
	return aws.ToString(out.FunctionArn), func() []string {
		b, _ := os.ReadFile(record)
		return strings.Split(strings.TrimSpace(string(b)), "\n")[:strings.Count(string(b), "\n")]
	}
}

func (c *cloud) rule(t *testing.T, name, pattern string, target types.Target) {
	t.Helper()
	if _, err := c.eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(pattern)}); err != nil {
		t.Fatalf("PutRule: %v", err)
	}
	if out, err := c.eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []types.Target{target}}); err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutTargets = %v, %v", out, err)
	}
}

func (c *cloud) put(t *testing.T, details ...string) {
	t.Helper()
	var entries []types.PutEventsRequestEntry
	for _, d := range details {
		entries = append(entries, types.PutEventsRequestEntry{Source: aws.String("app"), DetailType: aws.String("Deploy"), Detail: aws.String(d)})
	}
	out, err := c.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents = %v, %v", out, err)
	}
}

func TestRuleDeliversMatchingEventsToLambda(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	arn, received := c.function(t, "watch", "deploys", nil)
	c.rule(t, "deploys", `{"source":["app"],"detail":{"kind":["deploy"]}}`, types.Target{Id: aws.String("fn"), Arn: aws.String(arn)})
	start := time.Now()
	c.put(t, `{"kind":"deploy","n":1}`, `{"kind":"other","n":2}`, `{"kind":"deploy","n":3}`)
	// Deliveries per target are ordered, so once the last one arrives
	// anything that was going to arrive has.
	c.put(t, `{"kind":"deploy","n":4}`)
	waitFor(t, 20*time.Second, "three matching events at the function", func() bool { return len(received()) >= 3 })
	t.Logf("three deliveries through a cold function took %v", time.Since(start).Round(time.Millisecond))
	got := received()
	var ns []float64
	for _, line := range got {
		var e struct {
			Version, ID, Source, Account, Region, Time string
			DetailType                                 string `json:"detail-type"`
			Detail                                     struct {
				Kind string
				N    float64
			}
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("function received %s: %v", line, err)
		}
		if e.Version != "0" || e.Source != "app" || e.DetailType != "Deploy" || e.Account != "000000000000" || e.Region != "us-east-1" || len(e.ID) != 36 {
			t.Errorf("function received envelope %s, want version 0, source app, detail-type Deploy, the account, region and a UUID", line)
		}
		if _, err := time.Parse(time.RFC3339, e.Time); err != nil {
			t.Errorf("event time %q is not RFC 3339: %v", e.Time, err)
		}
		ns = append(ns, e.Detail.N)
	}
	if fmt.Sprint(ns) != "[1 3 4]" {
		t.Errorf("function received events n = %v, want [1 3 4] (the matching ones, in order)", ns)
	}
}

func TestFailingLambdaTargetIsRetriedThenDeadLettered(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	const dlq = "arn:aws:sqs:us-east-1:000000000000:deploys-dlq"
	tests := []struct {
		name, rule string
		allow      bool
		vars       map[string]string
		wantCalls  int
	}{
		{"function error", "failing", true, map[string]string{"FAIL": "1"}, 3},
		{"no permission", "denied", false, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			allow := ""
			if tt.allow {
				allow = tt.rule
			}
			arn, received := c.function(t, tt.rule+"-fn", allow, tt.vars)
			c.rule(t, tt.rule, `{"source":["app"],"detail":{"rule":["`+tt.rule+`"]}}`, types.Target{
				Id: aws.String("fn"), Arn: aws.String(arn),
				RetryPolicy:      &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(2), MaximumEventAgeInSeconds: aws.Int32(3600)},
				DeadLetterConfig: &types.DeadLetterConfig{Arn: aws.String(dlq)},
			})
			start := time.Now()
			c.put(t, `{"rule":"`+tt.rule+`"}`)
			var letter *message
			waitFor(t, 20*time.Second, "the dead letter", func() bool {
				for _, m := range c.queues.get(dlq) {
					if strings.Contains(m.Body, tt.rule) {
						letter = &m
						return true
					}
				}
				return false
			})
			t.Logf("dead-lettered in %v", time.Since(start).Round(time.Millisecond))
			if got := len(received()); got != tt.wantCalls {
				t.Errorf("function ran %d times, want %d", got, tt.wantCalls)
			}
			if letter.Attrs["RETRY_ATTEMPTS"] != "2" || letter.Attrs["EXHAUSTED_RETRY_CONDITION"] != "MaximumRetryAttempts" || letter.Attrs["TARGET_ARN"] != arn {
				t.Errorf("dead letter attributes = %v, want 2 retries, MaximumRetryAttempts, target %s", letter.Attrs, arn)
			}
			if tt.allow && !strings.Contains(letter.Attrs["ERROR_MESSAGE"], "configured to fail") {
				t.Errorf("dead letter ERROR_MESSAGE = %q, want the function's error", letter.Attrs["ERROR_MESSAGE"])
			}
			if !tt.allow && !strings.Contains(letter.Attrs["ERROR_MESSAGE"], "not authorized") {
				t.Errorf("dead letter ERROR_MESSAGE = %q, want a permission error", letter.Attrs["ERROR_MESSAGE"])
			}
		})
	}
}

func TestSetAlarmStateReachesLambda(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	arn, received := c.function(t, "alarms", "alarms", nil)
	c.rule(t, "alarms", `{"source":["aws.cloudwatch"],"detail-type":["CloudWatch Alarm State Change"],"detail":{"state":{"value":["ALARM"]}}}`,
		types.Target{Id: aws.String("fn"), Arn: aws.String(arn)})
	_, err := c.cw.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{
		AlarmName: aws.String("web-5xx"), AlarmDescription: aws.String("5XX from targets"),
		Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_Target_5XX_Count"), Statistic: cwtypes.StatisticSum,
		Dimensions: []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String("app/web/1")}},
		Period:     aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(5), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
	})
	if err != nil {
		t.Fatalf("PutMetricAlarm: %v", err)
	}
	const reasonData = `{"version":"1.0","drill":true}`
	if _, err := c.cw.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("web-5xx"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("drill"), StateReasonData: aws.String(reasonData)}); err != nil {
		t.Fatalf("SetAlarmState: %v", err)
	}
	waitFor(t, 20*time.Second, "the alarm event at the function", func() bool { return len(received()) >= 1 })
	line := received()[0]
	var e struct {
		Source     string
		DetailType string `json:"detail-type"`
		Resources  []string
		Detail     struct {
			AlarmName     string
			State         struct{ Value, Reason, ReasonData, Timestamp string }
			PreviousState struct{ Value string }
			Configuration struct {
				Description string
				Metrics     []struct {
					ReturnData bool
					MetricStat struct {
						Metric struct {
							Namespace, Name string
							Dimensions      map[string]string
						}
						Period int
						Stat   string
					}
				}
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(line)))
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("function received %s: %v", line, err)
	}
	d := e.Detail
	checks := []struct{ what, got, want string }{
		{"source", e.Source, "aws.cloudwatch"},
		{"detail-type", e.DetailType, "CloudWatch Alarm State Change"},
		{"resources", fmt.Sprint(e.Resources), "[arn:aws:cloudwatch:us-east-1:000000000000:alarm:web-5xx]"},
		{"detail.alarmName", d.AlarmName, "web-5xx"},
		{"detail.state.value", d.State.Value, "ALARM"},
		{"detail.state.reason", d.State.Reason, "drill"},
		{"detail.state.reasonData", d.State.ReasonData, reasonData},
		{"detail.previousState.value", d.PreviousState.Value, "INSUFFICIENT_DATA"},
		{"detail.configuration.description", d.Configuration.Description, "5XX from targets"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("alarm event %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if _, err := time.Parse(events.AlarmTimeLayout, d.State.Timestamp); err != nil {
		t.Errorf("alarm event state.timestamp %q: %v", d.State.Timestamp, err)
	}
	if len(d.Configuration.Metrics) != 1 {
		t.Fatalf("alarm event configuration.metrics = %d, want 1", len(d.Configuration.Metrics))
	}
	m := d.Configuration.Metrics[0]
	if m.MetricStat.Metric.Name != "HTTPCode_Target_5XX_Count" || m.MetricStat.Metric.Namespace != "AWS/ApplicationELB" || m.MetricStat.Period != 60 || m.MetricStat.Stat != "Sum" || !m.ReturnData || m.MetricStat.Metric.Dimensions["LoadBalancer"] != "app/web/1" {
		t.Errorf("alarm event metric = %+v, want the alarm's metric", m)
	}
}
