package sns_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	snssdk "github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	sqssdk "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/sns"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/sqs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

var ctx = context.Background()

func newEnv(t *testing.T, store state.Store) (*snssdk.Client, *sqssdk.Client) {
	t.Helper()
	q, err := sqs.New(sqs.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	n, err := sns.New(sns.Config{Store: store, Queues: q})
	if err != nil {
		t.Fatal(err)
	}
	ep := awsprototest.Serve(t, q.Register, n.Register)
	q.SetEndpoint(ep)
	cfg := awsprototest.Config(ep)
	return snssdk.NewFromConfig(cfg), sqssdk.NewFromConfig(cfg)
}

func TestPublishToSQS(t *testing.T) {
	store := state.Store{Dir: t.TempDir()}
	sn, sq := newEnv(t, store)
	topic, err := sn.CreateTopic(ctx, &snssdk.CreateTopicInput{Name: aws.String("deployments"), Attributes: map[string]string{"DisplayName": "Deployments"}})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	if again, _ := sn.CreateTopic(ctx, &snssdk.CreateTopicInput{Name: aws.String("deployments")}); aws.ToString(again.TopicArn) != aws.ToString(topic.TopicArn) {
		t.Errorf("CreateTopic is not idempotent: %s vs %s", aws.ToString(again.TopicArn), aws.ToString(topic.TopicArn))
	}
	env, _ := sq.CreateQueue(ctx, &sqssdk.CreateQueueInput{QueueName: aws.String("wrapped")})
	raw, _ := sq.CreateQueue(ctx, &sqssdk.CreateQueueInput{QueueName: aws.String("raw")})
	if _, err := sn.Subscribe(ctx, &snssdk.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:wrapped")}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	if _, err := sn.Subscribe(ctx, &snssdk.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:raw"),
		Attributes: map[string]string{"RawMessageDelivery": "true"}, ReturnSubscriptionArn: true}); err != nil {
		t.Fatalf("Subscribe(raw): %v", err)
	}
	if _, err := sn.SetTopicAttributes(ctx, &snssdk.SetTopicAttributesInput{TopicArn: topic.TopicArn, AttributeName: aws.String("Policy"), AttributeValue: aws.String(`{"Version":"2012-10-17","Statement":[]}`)}); err != nil {
		t.Fatalf("SetTopicAttributes: %v", err)
	}
	// State survives a restart before the publish.
	sn, sq = newEnv(t, store)
	subs, err := sn.ListSubscriptionsByTopic(ctx, &snssdk.ListSubscriptionsByTopicInput{TopicArn: topic.TopicArn})
	if err != nil || len(subs.Subscriptions) != 2 {
		t.Fatalf("ListSubscriptionsByTopic = %+v, %v, want 2", subs, err)
	}
	attrs, err := sn.GetTopicAttributes(ctx, &snssdk.GetTopicAttributesInput{TopicArn: topic.TopicArn})
	if err != nil || attrs.Attributes["Policy"] != `{"Version":"2012-10-17","Statement":[]}` || attrs.Attributes["DisplayName"] != "Deployments" || attrs.Attributes["SubscriptionsConfirmed"] != "2" {
		t.Errorf("GetTopicAttributes = %v, %v", attrs, err)
	}
	pub, err := sn.Publish(ctx, &snssdk.PublishInput{TopicArn: topic.TopicArn, Subject: aws.String("rollback"), Message: aws.String("deployment rolled back"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"service": {DataType: aws.String("String"), StringValue: aws.String("web")}}})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	got, err := sq.ReceiveMessage(ctx, &sqssdk.ReceiveMessageInput{QueueUrl: env.QueueUrl})
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("wrapped queue = %+v, %v", got, err)
	}
	var n struct {
		Type, MessageId, TopicArn, Subject, Message string
		MessageAttributes                           map[string]struct{ Type, Value string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(got.Messages[0].Body)), &n); err != nil {
		t.Fatalf("envelope %s: %v", aws.ToString(got.Messages[0].Body), err)
	}
	if n.Type != "Notification" || n.MessageId != aws.ToString(pub.MessageId) || n.TopicArn != aws.ToString(topic.TopicArn) || n.Subject != "rollback" || n.Message != "deployment rolled back" || n.MessageAttributes["service"].Value != "web" {
		t.Errorf("envelope = %+v", n)
	}
	rg, err := sq.ReceiveMessage(ctx, &sqssdk.ReceiveMessageInput{QueueUrl: raw.QueueUrl, MessageAttributeNames: []string{"All"}})
	if err != nil || len(rg.Messages) != 1 || aws.ToString(rg.Messages[0].Body) != "deployment rolled back" || aws.ToString(rg.Messages[0].MessageAttributes["service"].StringValue) != "web" {
		t.Errorf("raw queue = %+v, %v", rg, err)
	}
	_, err = sn.Publish(ctx, &snssdk.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:nope"), Message: aws.String("x")})
	var nf *snstypes.NotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("Publish(missing topic) error = %v, want NotFoundException", err)
	}
	if _, err := sn.DeleteTopic(ctx, &snssdk.DeleteTopicInput{TopicArn: topic.TopicArn}); err != nil {
		t.Fatalf("DeleteTopic: %v", err)
	}
	if _, err := sn.GetTopicAttributes(ctx, &snssdk.GetTopicAttributesInput{TopicArn: topic.TopicArn}); !errors.As(err, &nf) {
		t.Errorf("GetTopicAttributes(deleted) error = %v, want NotFoundException", err)
	}
}
