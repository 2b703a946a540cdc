package sqs

import (
	"context"
	"encoding/base64"
	"net/url"
	"strconv"
)

// The query protocol flattens SQS's maps and lists
// (Attribute.1.Name/Value, AttributeName.1, MessageAttribute.1.Name/
// Value.StringValue, SendMessageBatchRequestEntry.1.Id, …); these adapters
// read them into the JSON inputs and write the XML results.

func flatMap(p url.Values, prefix, key, value string) map[string]string {
	var m map[string]string
	for i := 1; ; i++ {
		k := prefix + "." + strconv.Itoa(i)
		name, ok := p[k+"."+key]
		if !ok {
			return m
		}
		if m == nil {
			m = map[string]string{}
		}
		m[name[0]] = p.Get(k + "." + value)
	}
}

func flatList(p url.Values, prefix string) []string {
	var l []string
	for i := 1; ; i++ {
		v, ok := p[prefix+"."+strconv.Itoa(i)]
		if !ok {
			return l
		}
		l = append(l, v[0])
	}
}

func int32Param(p url.Values, name string) (*int32, error) {
	s, ok := p[name]
	if !ok {
		return nil, nil
	}
	n, err := strconv.ParseInt(s[0], 10, 32)
	if err != nil {
		return nil, invalidValue("Value %s for parameter %s is invalid. Reason: must be an integer.", s[0], name)
	}
	v := int32(n)
	return &v, nil
}

func msgAttrs(p url.Values, prefix string) (map[string]MessageAttribute, error) {
	var m map[string]MessageAttribute
	for i := 1; ; i++ {
		k := prefix + "." + strconv.Itoa(i)
		name, ok := p[k+".Name"]
		if !ok {
			return m, nil
		}
		a := MessageAttribute{DataType: p.Get(k + ".Value.DataType")}
		if s, ok := p[k+".Value.StringValue"]; ok {
			a.StringValue = &s[0]
		}
		if s, ok := p[k+".Value.BinaryValue"]; ok {
			b, err := base64.StdEncoding.DecodeString(s[0])
			if err != nil {
				return nil, invalidValue("The message attribute '%s' has an invalid binary value.", name[0])
			}
			a.BinaryValue = b
		}
		if m == nil {
			m = map[string]MessageAttribute{}
		}
		m[name[0]] = a
	}
}

type xmlAttr struct {
	Name  string
	Value string
}

func xmlAttrs(m map[string]string) []xmlAttr {
	var out []xmlAttr
	for _, k := range sortedNames(m) {
		out = append(out, xmlAttr{k, m[k]})
	}
	return out
}

func (b *Backend) queryCreateQueue(ctx context.Context, p url.Values) (any, error) {
	out, err := b.createQueue(ctx, &createQueueIn{QueueName: p.Get("QueueName"), Attributes: flatMap(p, "Attribute", "Name", "Value"), Tags: flatMap(p, "Tag", "Key", "Value")})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (b *Backend) queryGetQueueURL(ctx context.Context, p url.Values) (any, error) {
	return b.getQueueURL(ctx, &getQueueURLIn{QueueName: p.Get("QueueName")})
}

func (b *Backend) queryGetQueueAttributes(ctx context.Context, p url.Values) (any, error) {
	out, err := b.getQueueAttributes(ctx, &getAttrsIn{QueueUrl: p.Get("QueueUrl"), AttributeNames: flatList(p, "AttributeName")})
	if err != nil {
		return nil, err
	}
	return struct {
		Attribute []xmlAttr
	}{xmlAttrs(out.(attrsOut).Attributes)}, nil
}

func (b *Backend) querySetQueueAttributes(ctx context.Context, p url.Values) (any, error) {
	return b.setQueueAttributes(ctx, &setAttrsIn{QueueUrl: p.Get("QueueUrl"), Attributes: flatMap(p, "Attribute", "Name", "Value")})
}

func (b *Backend) querySendMessage(ctx context.Context, p url.Values) (any, error) {
	delay, err := int32Param(p, "DelaySeconds")
	if err != nil {
		return nil, err
	}
	attrs, err := msgAttrs(p, "MessageAttribute")
	if err != nil {
		return nil, err
	}
	return b.sendMessage(ctx, &sendIn{QueueUrl: p.Get("QueueUrl"), MessageBody: p.Get("MessageBody"), DelaySeconds: delay, MessageAttributes: attrs})
}

func batchEntries(p url.Values, prefix string) ([]batchEntry, error) {
	var out []batchEntry
	for i := 1; ; i++ {
		k := prefix + "." + strconv.Itoa(i)
		id, ok := p[k+".Id"]
		if !ok {
			return out, nil
		}
		e := batchEntry{Id: id[0], MessageBody: p.Get(k + ".MessageBody"), ReceiptHandle: p.Get(k + ".ReceiptHandle")}
		var err error
		if e.DelaySeconds, err = int32Param(p, k+".DelaySeconds"); err != nil {
			return nil, err
		}
		if e.MessageAttributes, err = msgAttrs(p, k+".MessageAttribute"); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
}

func (b *Backend) querySendMessageBatch(ctx context.Context, p url.Values) (any, error) {
	entries, err := batchEntries(p, "SendMessageBatchRequestEntry")
	if err != nil {
		return nil, err
	}
	out, err := b.sendMessageBatch(ctx, &sendBatchIn{QueueUrl: p.Get("QueueUrl"), Entries: entries})
	if err != nil {
		return nil, err
	}
	o := out.(batchOut)
	return struct {
		Ok     []batchOK     `xml:"SendMessageBatchResultEntry"`
		Failed []batchFailed `xml:"BatchResultErrorEntry"`
	}{o.Successful, o.Failed}, nil
}

func (b *Backend) queryDeleteMessageBatch(ctx context.Context, p url.Values) (any, error) {
	entries, err := batchEntries(p, "DeleteMessageBatchRequestEntry")
	if err != nil {
		return nil, err
	}
	out, err := b.deleteMessageBatch(ctx, &deleteBatchIn{QueueUrl: p.Get("QueueUrl"), Entries: entries})
	if err != nil {
		return nil, err
	}
	o := out.(batchOut)
	type ok struct{ Id string }
	var oks []ok
	for _, s := range o.Successful {
		oks = append(oks, ok{s.Id})
	}
	return struct {
		Ok     []ok          `xml:"DeleteMessageBatchResultEntry"`
		Failed []batchFailed `xml:"BatchResultErrorEntry"`
	}{oks, o.Failed}, nil
}

type xmlMsgAttr struct {
	Name  string
	Value struct {
		StringValue string `xml:",omitempty"`
		BinaryValue string `xml:",omitempty"`
		DataType    string
	}
}

type xmlMessage struct {
	MessageId              string
	ReceiptHandle          string
	MD5OfBody              string
	Body                   string
	Attribute              []xmlAttr
	MD5OfMessageAttributes string `xml:",omitempty"`
	MessageAttribute       []xmlMsgAttr
}

func (b *Backend) queryReceiveMessage(ctx context.Context, p url.Values) (any, error) {
	in := &receiveIn{QueueUrl: p.Get("QueueUrl"), AttributeNames: flatList(p, "AttributeName"), MessageSystemAttributeNames: flatList(p, "MessageSystemAttributeName"), MessageAttributeNames: flatList(p, "MessageAttributeName")}
	var err error
	for name, dst := range map[string]**int32{"MaxNumberOfMessages": &in.MaxNumberOfMessages, "VisibilityTimeout": &in.VisibilityTimeout, "WaitTimeSeconds": &in.WaitTimeSeconds} {
		if *dst, err = int32Param(p, name); err != nil {
			return nil, err
		}
	}
	msgs, err := b.Receive(ctx, in)
	if err != nil {
		return nil, err
	}
	var out []xmlMessage
	for _, m := range msgs {
		x := xmlMessage{MessageId: m.MessageId, ReceiptHandle: m.ReceiptHandle, MD5OfBody: m.MD5OfBody, Body: m.Body, Attribute: xmlAttrs(m.Attributes), MD5OfMessageAttributes: m.MD5OfMessageAttributes}
		for _, k := range sortedNames(m.MessageAttributes) {
			a := m.MessageAttributes[k]
			xa := xmlMsgAttr{Name: k}
			xa.Value.DataType = a.DataType
			if a.StringValue != nil {
				xa.Value.StringValue = *a.StringValue
			}
			if a.BinaryValue != nil {
				xa.Value.BinaryValue = base64.StdEncoding.EncodeToString(a.BinaryValue)
			}
			x.MessageAttribute = append(x.MessageAttribute, xa)
		}
		out = append(out, x)
	}
	return struct {
		Message []xmlMessage
	}{out}, nil
}

func (b *Backend) queryDeleteMessage(ctx context.Context, p url.Values) (any, error) {
	return b.deleteMessage(ctx, &deleteIn{QueueUrl: p.Get("QueueUrl"), ReceiptHandle: p.Get("ReceiptHandle")})
}

func (b *Backend) queryChangeVisibility(ctx context.Context, p url.Values) (any, error) {
	vt, err := int32Param(p, "VisibilityTimeout")
	if err != nil {
		return nil, err
	}
	return b.changeVisibility(ctx, &visibilityIn{QueueUrl: p.Get("QueueUrl"), ReceiptHandle: p.Get("ReceiptHandle"), VisibilityTimeout: vt})
}

func (b *Backend) queryDeleteQueue(ctx context.Context, p url.Values) (any, error) {
	return b.deleteQueue(ctx, &queueURLIn{p.Get("QueueUrl")})
}

func (b *Backend) queryPurgeQueue(ctx context.Context, p url.Values) (any, error) {
	return b.purgeQueue(ctx, &queueURLIn{p.Get("QueueUrl")})
}

func (b *Backend) queryListQueues(ctx context.Context, p url.Values) (any, error) {
	maxResults, err := int32Param(p, "MaxResults")
	if err != nil {
		return nil, err
	}
	return b.listQueues(ctx, &listIn{QueueNamePrefix: p.Get("QueueNamePrefix"), MaxResults: maxResults, NextToken: p.Get("NextToken")})
}

func (b *Backend) queryTagQueue(ctx context.Context, p url.Values) (any, error) {
	return b.tagQueue(ctx, &tagIn{QueueUrl: p.Get("QueueUrl"), Tags: flatMap(p, "Tag", "Key", "Value")})
}

func (b *Backend) queryUntagQueue(ctx context.Context, p url.Values) (any, error) {
	return b.untagQueue(ctx, &untagIn{QueueUrl: p.Get("QueueUrl"), TagKeys: flatList(p, "TagKey")})
}

func (b *Backend) queryListQueueTags(ctx context.Context, p url.Values) (any, error) {
	out, err := b.listQueueTags(ctx, &queueURLIn{p.Get("QueueUrl")})
	if err != nil {
		return nil, err
	}
	type tag struct{ Key, Value string }
	var tags []tag
	m := out.(tagsOut).Tags
	for _, k := range sortedNames(m) {
		tags = append(tags, tag{k, m[k]})
	}
	return struct {
		Tag []tag
	}{tags}, nil
}
