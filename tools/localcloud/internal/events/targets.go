package events

import (
	"context"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/sns"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/sqs"
)

// SQS adapts the SQS backend to QueueSender: targets and dead-letter queues
// get string message attributes.
func SQS(b *sqs.Backend) QueueSender { return sqsQueues{b} }

type sqsQueues struct{ b *sqs.Backend }

func (q sqsQueues) SendMessage(ctx context.Context, queueARN, body string, attributes map[string]string) error {
	var attrs map[string]sqs.MessageAttribute
	if len(attributes) > 0 {
		attrs = make(map[string]sqs.MessageAttribute, len(attributes))
		for k, v := range attributes {
			attrs[k] = sqs.MessageAttribute{DataType: "String", StringValue: &v}
		}
	}
	_, err := q.b.Send(ctx, queueARN, body, attrs)
	return err
}

// SNS adapts the SNS backend to TopicPublisher.
func SNS(b *sns.Backend) TopicPublisher { return snsTopics{b} }

type snsTopics struct{ b *sns.Backend }

func (t snsTopics) Publish(ctx context.Context, topicARN, message string) error {
	_, err := t.b.Publish(ctx, topicARN, "", message, nil)
	return err
}
