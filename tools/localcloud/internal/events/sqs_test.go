package events_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/events"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/sqs"
)

// TestSQSTargetAndDeadLetterQueue delivers to the real SQS backend through
// events.SQS and reads the messages back with the SQS SDK client.
func TestSQSTargetAndDeadLetterQueue(t *testing.T) {
	t.Parallel()
	q, err := sqs.New(sqs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := events.New(events.Config{Clock: clock.New(0.001), Queues: events.SQS(q)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	ep := awsprototest.Serve(t, b.Register, q.Register)
	q.SetEndpoint(ep)
	cfg := awsprototest.Config(ep)
	eb := eventbridge.NewFromConfig(cfg)
	sq := awssqs.NewFromConfig(cfg)

	queue := func(name string) (url, arn string) {
		out, err := sq.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			t.Fatalf("CreateQueue(%s): %v", name, err)
		}
		attrs, err := sq.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			t.Fatalf("GetQueueAttributes(%s): %v", name, err)
		}
		return aws.ToString(out.QueueUrl), attrs.Attributes["QueueArn"]
	}
	targetURL, targetARN := queue("deploys")
	dlqURL, dlqARN := queue("deploys-dlq")
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["app"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{
		{Id: aws.String("q"), Arn: aws.String(targetARN), InputTransformer: &types.InputTransformer{
			InputPathsMap: map[string]string{"svc": "$.detail.service"}, InputTemplate: aws.String(`{"deployed":<svc>}`),
		}},
		// No Lambda backend here: every delivery to the function fails.
		{Id: aws.String("fn"), Arn: aws.String("arn:aws:lambda:us-east-1:000000000000:function:missing"),
			RetryPolicy: &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(1)}, DeadLetterConfig: &types.DeadLetterConfig{Arn: aws.String(dlqARN)}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{Source: aws.String("app"), DetailType: aws.String("Deploy"), Detail: aws.String(`{"service":"web"}`)}}}); err != nil {
		t.Fatal(err)
	}
	receive := func(url string) sqstypes.Message {
		t.Helper()
		var msgs []sqstypes.Message
		waitFor(t, 10*time.Second, "a message on "+url, func() bool {
			out, err := sq.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MessageAttributeNames: []string{"All"}})
			if err != nil {
				t.Fatalf("ReceiveMessage: %v", err)
			}
			msgs = out.Messages
			return len(msgs) > 0
		})
		return msgs[0]
	}
	if m := receive(targetURL); aws.ToString(m.Body) != `{"deployed":"web"}` {
		t.Errorf("target queue message = %s, want the transformed input", aws.ToString(m.Body))
	}
	m := receive(dlqURL)
	want := map[string]string{"RULE_ARN": "arn:aws:events:us-east-1:000000000000:rule/r", "ERROR_CODE": "ResourceNotFoundException", "RETRY_ATTEMPTS": "1", "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts"}
	for k, v := range want {
		a, ok := m.MessageAttributes[k]
		if !ok || aws.ToString(a.StringValue) != v || aws.ToString(a.DataType) != "String" {
			t.Errorf("dead letter attribute %s = %+v, want String %q", k, a, v)
		}
	}
}
