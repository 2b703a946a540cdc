package sqs_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqssdk "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/sqs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

var ctx = context.Background()

func newEnv(t *testing.T, store state.Store, scale float64) (*sqs.Backend, *sqssdk.Client, string) {
	t.Helper()
	b, err := sqs.New(sqs.Config{Store: store, Clock: clock.New(scale)})
	if err != nil {
		t.Fatal(err)
	}
	ep := awsprototest.Serve(t, b.Register)
	b.SetEndpoint(ep)
	return b, sqssdk.NewFromConfig(awsprototest.Config(ep)), ep
}

func TestSendReceiveDelete(t *testing.T) {
	b, c, srvURL := newEnv(t, state.Store{}, 0.05)
	q, err := c.CreateQueue(ctx, &sqssdk.CreateQueueInput{QueueName: aws.String("events-dlq"), Attributes: map[string]string{"VisibilityTimeout": "30", "MessageRetentionPeriod": "1209600"}})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	if aws.ToString(q.QueueUrl) != srvURL+"/000000000000/events-dlq" {
		t.Errorf("QueueUrl = %s", aws.ToString(q.QueueUrl))
	}
	again, err := c.CreateQueue(ctx, &sqssdk.CreateQueueInput{QueueName: aws.String("events-dlq"), Attributes: map[string]string{"VisibilityTimeout": "30"}})
	if err != nil || aws.ToString(again.QueueUrl) != aws.ToString(q.QueueUrl) {
		t.Errorf("CreateQueue(same) = %v, %v, want the same URL", again, err)
	}
	_, err = c.CreateQueue(ctx, &sqssdk.CreateQueueInput{QueueName: aws.String("events-dlq"), Attributes: map[string]string{"VisibilityTimeout": "31"}})
	var exists *types.QueueNameExists
	if !errors.As(err, &exists) {
		t.Errorf("CreateQueue(different attributes) error = %v, want QueueNameExists", err)
	}
	sent, err := c.SendMessage(ctx, &sqssdk.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(`{"detail-type":"x"}`),
		MessageAttributes: map[string]types.MessageAttributeValue{"RULE_ARN": {DataType: aws.String("String"), StringValue: aws.String("arn:aws:events:us-east-1:000000000000:rule/r")}, "n": {DataType: aws.String("Number"), StringValue: aws.String("3")}, "b": {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2}}}})
	if err != nil {
		t.Fatalf("SendMessage: %v (the SDK checks both MD5s)", err)
	}
	got, err := c.ReceiveMessage(ctx, &sqssdk.ReceiveMessageInput{QueueUrl: q.QueueUrl, MessageAttributeNames: []string{"All"}, MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("ReceiveMessage = %+v, %v, want one message", got, err)
	}
	m := got.Messages[0]
	if aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) || aws.ToString(m.Body) != `{"detail-type":"x"}` || m.Attributes["ApproximateReceiveCount"] != "1" || len(m.MessageAttributes) != 3 {
		t.Errorf("message = %+v", m)
	}
	// Invisible now (for the scaled 30 s timeout, 1.5 s); visible again
	// after it.
	if again, _ := c.ReceiveMessage(ctx, &sqssdk.ReceiveMessageInput{QueueUrl: q.QueueUrl}); len(again.Messages) != 0 {
		t.Errorf("message visible during its visibility timeout")
	}
	var redo *sqssdk.ReceiveMessageOutput
	for deadline := time.Now().Add(20 * time.Second); ; {
		// A long poll (1 s scaled) wakes when the visibility timeout ends.
		redo, err = c.ReceiveMessage(ctx, &sqssdk.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 20, MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount}})
		if err != nil || len(redo.Messages) != 0 || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || len(redo.Messages) != 1 || redo.Messages[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("ReceiveMessage after the timeout = %+v, %v, want the message again, received twice", redo, err)
	}
	if _, err := c.DeleteMessage(ctx, &sqssdk.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: redo.Messages[0].ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqssdk.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil || attrs.Attributes["ApproximateNumberOfMessages"] != "0" || attrs.Attributes["QueueArn"] != "arn:aws:sqs:us-east-1:000000000000:events-dlq" {
		t.Errorf("GetQueueAttributes = %v, %v", attrs, err)
	}
	_, err = c.GetQueueAttributes(ctx, &sqssdk.GetQueueAttributesInput{QueueUrl: aws.String(srvURL + "/000000000000/nope")})
	var nq *types.QueueDoesNotExist
	if !errors.As(err, &nq) {
		t.Errorf("GetQueueAttributes(missing) error = %v, want QueueDoesNotExist", err)
	}
	// In-process send by ARN, as EventBridge's dead-letter queues do.
	if _, err := b.Send(ctx, "arn:aws:sqs:us-east-1:000000000000:events-dlq", "from eventbridge", nil); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got, _ := c.ReceiveMessage(ctx, &sqssdk.ReceiveMessageInput{QueueUrl: q.QueueUrl}); len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != "from eventbridge" {
		t.Errorf("in-process message not received: %+v", got)
	}
}

func TestLongPollAndRedrive(t *testing.T) {
	// Scale 0.25: the long poll's 20 s wait is 5 s, far from "at once"
	// even on a loaded machine; the visibility timeout is 250 ms.
	_, c, _ := newEnv(t, state.Store{}, 0.25)
	dlq, _ := c.CreateQueue(ctx, &sqssdk.CreateQueueInput{QueueName: aws.String("dlq")})
	src, err := c.CreateQueue(ctx, &sqssdk.CreateQueueInput{QueueName: aws.String("src"), Attributes: map[string]string{
		"VisibilityTimeout": "1", "RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"2"}`}})
	if err != nil {
		t.Fatalf("CreateQueue(redrive): %v", err)
	}
	// A long poll returns as soon as a message arrives.
	done := make(chan *sqssdk.ReceiveMessageOutput, 1)
	start := time.Now()
	go func() {
		out, _ := c.ReceiveMessage(ctx, &sqssdk.ReceiveMessageInput{QueueUrl: src.QueueUrl, WaitTimeSeconds: 20})
		done <- out
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := c.SendMessage(ctx, &sqssdk.SendMessageInput{QueueUrl: src.QueueUrl, MessageBody: aws.String("poison")}); err != nil {
		t.Error(err)
	}
	out := <-done
	if len(out.Messages) != 1 || time.Since(start) > 4*time.Second {
		t.Fatalf("long poll = %+v after %v, want the message at once (wait is 5 s scaled)", out, time.Since(start))
	}
	// An empty long poll waits out its (scaled) wait time.
	start = time.Now()
	empty, _ := c.ReceiveMessage(ctx, &sqssdk.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 4})
	if len(empty.Messages) != 0 || time.Since(start) < 750*time.Millisecond {
		t.Errorf("empty long poll returned %d messages after %v, want none after ~1s", len(empty.Messages), time.Since(start))
	}
	// Received twice without a delete: the third receive moves it to the DLQ.
	// The sleeps outlast the 250 ms visibility timeout.
	time.Sleep(300 * time.Millisecond)
	second, _ := c.ReceiveMessage(ctx, &sqssdk.ReceiveMessageInput{QueueUrl: src.QueueUrl, WaitTimeSeconds: 2})
	if len(second.Messages) != 1 {
		t.Fatalf("second receive got %d messages", len(second.Messages))
	}
	time.Sleep(300 * time.Millisecond)
	third, _ := c.ReceiveMessage(ctx, &sqssdk.ReceiveMessageInput{QueueUrl: src.QueueUrl})
	dead, _ := c.ReceiveMessage(ctx, &sqssdk.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 2, MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameDeadLetterQueueSourceArn}})
	if len(third.Messages) != 0 || len(dead.Messages) != 1 || aws.ToString(dead.Messages[0].Body) != "poison" || dead.Messages[0].Attributes["DeadLetterQueueSourceArn"] == "" {
		t.Errorf("after maxReceiveCount: source %d messages, DLQ %+v; want the message in the DLQ", len(third.Messages), dead.Messages)
	}
}

// TestQueryProtocol speaks the query protocol as the aws CLI v1 does.
func TestQueryProtocol(t *testing.T) {
	_, c, srvURL := newEnv(t, state.Store{}, 1)
	post := func(params url.Values) (int, string) {
		params.Set("Version", "2012-11-05")
		resp, err := http.Post(srvURL+"/", "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(params.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := post(url.Values{"Action": {"CreateQueue"}, "QueueName": {"cli"}, "Attribute.1.Name": {"Policy"}, "Attribute.1.Value": {`{"Version":"2012-10-17","Statement":[]}`}})
	if status != 200 || !strings.Contains(body, "<QueueUrl>"+srvURL+"/000000000000/cli</QueueUrl>") {
		t.Fatalf("CreateQueue (query) = %d %s", status, body)
	}
	qurl := srvURL + "/000000000000/cli"
	status, body = post(url.Values{"Action": {"SendMessage"}, "QueueUrl": {qurl}, "MessageBody": {"hello"}, "MessageAttribute.1.Name": {"k"}, "MessageAttribute.1.Value.DataType": {"String"}, "MessageAttribute.1.Value.StringValue": {"v"}})
	if status != 200 || !strings.Contains(body, "<MD5OfMessageBody>5d41402abc4b2a76b9719d911017c592</MD5OfMessageBody>") {
		t.Fatalf("SendMessage (query) = %d %s", status, body)
	}
	status, body = post(url.Values{"Action": {"ReceiveMessage"}, "QueueUrl": {qurl}, "AttributeName.1": {"All"}, "MessageAttributeName.1": {"All"}})
	if status != 200 || !strings.Contains(body, "<Body>hello</Body>") || !strings.Contains(body, "<Name>ApproximateReceiveCount</Name><Value>1</Value>") || !strings.Contains(body, "<StringValue>v</StringValue>") {
		t.Fatalf("ReceiveMessage (query) = %d %s", status, body)
	}
	status, body = post(url.Values{"Action": {"GetQueueAttributes"}, "QueueUrl": {qurl}, "AttributeName.1": {"Policy"}})
	if status != 200 || !strings.Contains(body, "<Name>Policy</Name>") {
		t.Errorf("GetQueueAttributes (query) = %d %s", status, body)
	}
	status, body = post(url.Values{"Action": {"GetQueueUrl"}, "QueueName": {"missing"}})
	if status != 400 || !strings.Contains(body, "<Code>AWS.SimpleQueueService.NonExistentQueue</Code>") {
		t.Errorf("GetQueueUrl(missing) (query) = %d %s", status, body)
	}
	// The queue made through the CLI's protocol is the SDK's queue too.
	if out, err := c.GetQueueUrl(ctx, &sqssdk.GetQueueUrlInput{QueueName: aws.String("cli")}); err != nil || aws.ToString(out.QueueUrl) != qurl {
		t.Errorf("GetQueueUrl = %v, %v", out, err)
	}
}

func TestQueuesSurviveRestart(t *testing.T) {
	store := state.Store{Dir: t.TempDir()}
	_, c, _ := newEnv(t, store, 1)
	q, _ := c.CreateQueue(ctx, &sqssdk.CreateQueueInput{QueueName: aws.String("keep")})
	if _, err := c.SendMessage(ctx, &sqssdk.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("survives")}); err != nil {
		t.Fatal(err)
	}
	_, c2, _ := newEnv(t, store, 1)
	q2, err := c2.GetQueueUrl(ctx, &sqssdk.GetQueueUrlInput{QueueName: aws.String("keep")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c2.ReceiveMessage(ctx, &sqssdk.ReceiveMessageInput{QueueUrl: q2.QueueUrl})
	if err != nil || len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != "survives" {
		t.Errorf("after restart = %+v, %v", got, err)
	}
}
