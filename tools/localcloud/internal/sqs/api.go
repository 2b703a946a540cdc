package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// SQS errors: the query code and, for JSON, the error shape.
func errNoQueue() *awsproto.Error {
	return &awsproto.Error{Code: "AWS.SimpleQueueService.NonExistentQueue", Shape: "QueueDoesNotExist", Message: "The specified queue does not exist."}
}

func missing(param string) *awsproto.Error {
	return &awsproto.Error{Code: "MissingParameter", Shape: "MissingParameter", Message: "The request must contain the parameter " + param + "."}
}

func invalidValue(format string, a ...any) *awsproto.Error {
	return &awsproto.Error{Code: "InvalidParameterValue", Shape: "InvalidParameterValueException", Message: fmt.Sprintf(format, a...)}
}

func invalidAttrName(name string) *awsproto.Error {
	return &awsproto.Error{Code: "InvalidAttributeName", Shape: "InvalidAttributeName", Message: "Unknown Attribute " + name + "."}
}

func invalidAttrValue(format string, a ...any) *awsproto.Error {
	return &awsproto.Error{Code: "InvalidAttributeValue", Shape: "InvalidAttributeValue", Message: fmt.Sprintf(format, a...)}
}

func invalidReceipt(h string) *awsproto.Error {
	return &awsproto.Error{Code: "ReceiptHandleIsInvalid", Shape: "ReceiptHandleIsInvalid", Message: `The input receipt handle "` + h + `" is not a valid receipt handle.`}
}

// Register adds SQS in JSON 1.0 (AmazonSQS) and query (2012-11-05).
func (b *Backend) Register(m *awsproto.Mux) {
	json := map[string]awsproto.JSONOp{}
	query := map[string]awsproto.QueryOp{}
	add := func(name string, j awsproto.JSONOp, q awsproto.QueryOp) {
		json[name], query[name] = j, q
	}
	add("CreateQueue", awsproto.Op[createQueueIn](b.createQueue).JSON(), b.queryCreateQueue)
	add("GetQueueUrl", awsproto.Op[getQueueURLIn](b.getQueueURL).JSON(), b.queryGetQueueURL)
	add("GetQueueAttributes", awsproto.Op[getAttrsIn](b.getQueueAttributes).JSON(), b.queryGetQueueAttributes)
	add("SetQueueAttributes", awsproto.Op[setAttrsIn](b.setQueueAttributes).JSON(), b.querySetQueueAttributes)
	add("SendMessage", awsproto.Op[sendIn](b.sendMessage).JSON(), b.querySendMessage)
	add("SendMessageBatch", awsproto.Op[sendBatchIn](b.sendMessageBatch).JSON(), b.querySendMessageBatch)
	add("ReceiveMessage", awsproto.Op[receiveIn](b.receiveMessage).JSON(), b.queryReceiveMessage)
	add("DeleteMessage", awsproto.Op[deleteIn](b.deleteMessage).JSON(), b.queryDeleteMessage)
	add("DeleteMessageBatch", awsproto.Op[deleteBatchIn](b.deleteMessageBatch).JSON(), b.queryDeleteMessageBatch)
	add("ChangeMessageVisibility", awsproto.Op[visibilityIn](b.changeVisibility).JSON(), b.queryChangeVisibility)
	add("DeleteQueue", awsproto.Op[queueURLIn](b.deleteQueue).JSON(), b.queryDeleteQueue)
	add("PurgeQueue", awsproto.Op[queueURLIn](b.purgeQueue).JSON(), b.queryPurgeQueue)
	add("ListQueues", awsproto.Op[listIn](b.listQueues).JSON(), b.queryListQueues)
	add("TagQueue", awsproto.Op[tagIn](b.tagQueue).JSON(), b.queryTagQueue)
	add("UntagQueue", awsproto.Op[untagIn](b.untagQueue).JSON(), b.queryUntagQueue)
	add("ListQueueTags", awsproto.Op[queueURLIn](b.listQueueTags).JSON(), b.queryListQueueTags)
	m.HandleJSON(awsproto.JSONService{TargetPrefix: "AmazonSQS", Version: "1.0", QueryCompatible: true, Ops: json})
	m.HandleQuery(awsproto.QueryService{Version: "2012-11-05", SigningName: "sqs", XMLNamespace: "http://queue.amazonaws.com/doc/2012-11-05/", ValidationCode: "InvalidParameterValue", Ops: query})
}

type queueURLIn struct{ QueueUrl string }

type createQueueIn struct {
	QueueName  string
	Attributes map[string]string
	Tags       map[string]string `json:"tags"`
}

type queueURLOut struct{ QueueUrl string }

var queueNameOK = func(n string) bool {
	if n == "" || len(n) > 80 {
		return false
	}
	for _, c := range n {
		if !(c == '-' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// checkAttributes validates settable attributes, in SQS's words.
func checkAttributes(attrs map[string]string) error {
	ranges := map[string][2]int{
		"DelaySeconds": {0, 900}, "MaximumMessageSize": {1024, 262144}, "MessageRetentionPeriod": {60, 1209600},
		"ReceiveMessageWaitTimeSeconds": {0, 20}, "VisibilityTimeout": {0, 43200}, "KmsDataKeyReusePeriodSeconds": {60, 86400},
	}
	for _, k := range sortedNames(attrs) {
		v := attrs[k]
		if !settable[k] {
			return invalidAttrName(k)
		}
		if r, ok := ranges[k]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < r[0] || n > r[1] {
				return invalidAttrValue("Invalid value for the parameter %s.", k)
			}
		}
		switch k {
		case "FifoQueue":
			if v == "true" {
				return invalidAttrValue("localcloud does not emulate FIFO queues; use a standard queue.")
			}
		case "Policy", "RedriveAllowPolicy":
			if v != "" && !json.Valid([]byte(v)) {
				return invalidAttrValue("Invalid value for the parameter %s.", k)
			}
		case "RedrivePolicy":
			if v == "" {
				continue
			}
			var rp struct {
				DeadLetterTargetArn string
				MaxReceiveCount     json.Number
			}
			if err := json.Unmarshal([]byte(v), &rp); err != nil || rp.DeadLetterTargetArn == "" {
				return invalidAttrValue("Value %s for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map.", v)
			}
			if n, err := strconv.Atoi(string(rp.MaxReceiveCount)); err != nil || n < 1 || n > 1000 {
				return invalidAttrValue("Value %s for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: %s, valid values are from 1 to 1000 both inclusive.", v, rp.MaxReceiveCount)
			}
		case "SqsManagedSseEnabled":
			if v != "true" && v != "false" {
				return invalidAttrValue("Invalid value for the parameter %s.", k)
			}
		}
	}
	return nil
}

// CreateQueue creates a queue (or returns the existing one with the same
// attributes) and returns its URL, for in-process callers and the API.
func (b *Backend) CreateQueue(ctx context.Context, name string, attrs, tags map[string]string) (string, error) {
	if name == "" {
		return "", missing("QueueName")
	}
	if strings.HasSuffix(name, ".fifo") {
		return "", invalidAttrValue("localcloud does not emulate FIFO queues; use a standard queue.")
	}
	if !queueNameOK(name) {
		return "", invalidValue("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	if err := checkAttributes(attrs); err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if q, ok := b.queues[name]; ok {
		for k, v := range attrs {
			if q.Attributes[k] != v {
				return "", &awsproto.Error{Code: "QueueAlreadyExists", Shape: "QueueNameExists", Message: "A queue already exists with the same name and a different value for attribute " + k}
			}
		}
		return b.urlLocked(name), nil
	}
	now := b.clock.Now()
	q := &queue{Name: name, Created: now, Modified: now, Attributes: map[string]string{}, Tags: tags}
	for k, v := range defaultAttributes {
		q.Attributes[k] = v
	}
	for k, v := range attrs {
		q.Attributes[k] = v
	}
	b.queues[name] = q
	if err := b.saveLocked(); err != nil {
		delete(b.queues, name)
		return "", err
	}
	b.log.Info("queue created", "queue", name)
	return b.urlLocked(name), nil
}

func (b *Backend) createQueue(ctx context.Context, in *createQueueIn) (any, error) {
	u, err := b.CreateQueue(ctx, in.QueueName, in.Attributes, in.Tags)
	if err != nil {
		return nil, err
	}
	return queueURLOut{u}, nil
}

type getQueueURLIn struct {
	QueueName              string
	QueueOwnerAWSAccountId string
}

func (b *Backend) getQueueURL(ctx context.Context, in *getQueueURLIn) (any, error) {
	if in.QueueName == "" {
		return nil, missing("QueueName")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.queues[in.QueueName]; !ok {
		return nil, errNoQueue()
	}
	return queueURLOut{b.urlLocked(in.QueueName)}, nil
}

type getAttrsIn struct {
	QueueUrl       string
	AttributeNames []string
}

var computedAttributes = []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn"}

// QueueAttributes returns a queue's attributes (all of them), for
// in-process callers (CloudFormation's GetAtt, CloudWatch metrics).
func (b *Backend) QueueAttributes(ctx context.Context, queueURL string) (map[string]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(queueURL)
	if err != nil {
		return nil, err
	}
	return b.attributesLocked(q, []string{"All"})
}

func (b *Backend) attributesLocked(q *queue, names []string) (map[string]string, error) {
	now := b.clock.Now()
	b.expireLocked(q, now)
	all := map[string]string{}
	for k, v := range q.Attributes {
		if v != "" {
			all[k] = v
		}
	}
	var visible, inflight, delayed int
	for _, m := range q.Messages {
		switch {
		case m.ReceiveCount == 0 && m.VisibleAt.After(now):
			delayed++
		case m.VisibleAt.After(now):
			inflight++
		default:
			visible++
		}
	}
	all["ApproximateNumberOfMessages"] = strconv.Itoa(visible)
	all["ApproximateNumberOfMessagesNotVisible"] = strconv.Itoa(inflight)
	all["ApproximateNumberOfMessagesDelayed"] = strconv.Itoa(delayed)
	all["CreatedTimestamp"] = strconv.FormatInt(q.Created.Unix(), 10)
	all["LastModifiedTimestamp"] = strconv.FormatInt(q.Modified.Unix(), 10)
	all["QueueArn"] = b.ARN(q.Name)
	out := map[string]string{}
	for _, n := range names {
		if n == "All" {
			return all, nil
		}
		if !settable[n] && !slices.Contains(computedAttributes, n) {
			return nil, invalidAttrName(n)
		}
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	return out, nil
}

type attrsOut struct {
	Attributes map[string]string `json:",omitempty"`
}

func (b *Backend) getQueueAttributes(ctx context.Context, in *getAttrsIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	attrs, err := b.attributesLocked(q, in.AttributeNames)
	if err != nil {
		return nil, err
	}
	return attrsOut{attrs}, nil
}

type setAttrsIn struct {
	QueueUrl   string
	Attributes map[string]string
}

// SetQueueAttributes changes a queue's attributes (the queue policy too).
func (b *Backend) SetQueueAttributes(ctx context.Context, queueURL string, attrs map[string]string) error {
	if attrs == nil {
		return missing("Attribute.1.Name")
	}
	if err := checkAttributes(attrs); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(queueURL)
	if err != nil {
		return err
	}
	old := map[string]string{}
	for k, v := range q.Attributes {
		old[k] = v
	}
	for k, v := range attrs {
		q.Attributes[k] = v
	}
	q.Modified = b.clock.Now()
	if err := b.saveLocked(); err != nil {
		q.Attributes = old
		return err
	}
	return nil
}

func (b *Backend) setQueueAttributes(ctx context.Context, in *setAttrsIn) (any, error) {
	return struct{}{}, b.SetQueueAttributes(ctx, in.QueueUrl, in.Attributes)
}

type sendIn struct {
	QueueUrl          string
	MessageBody       string
	DelaySeconds      *int32
	MessageAttributes map[string]MessageAttribute
	MessageGroupId    string
}

type sendOut struct {
	MessageId              string
	MD5OfMessageBody       string
	MD5OfMessageAttributes string `json:",omitempty"`
}

func (b *Backend) sendMessage(ctx context.Context, in *sendIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	m, err := b.sendLocked(q, in.MessageBody, in.MessageAttributes, in.DelaySeconds, "AIDAEXAMPLELOCALCLOUD")
	if err != nil {
		return nil, err
	}
	return sendOut{m.ID, m.MD5Body, m.MD5Attrs}, nil
}

type batchEntry struct {
	Id                string
	MessageBody       string
	DelaySeconds      *int32
	MessageAttributes map[string]MessageAttribute
	ReceiptHandle     string
}

type sendBatchIn struct {
	QueueUrl string
	Entries  []batchEntry
}

type batchOK struct {
	Id                     string
	MessageId              string `json:",omitempty"`
	MD5OfMessageBody       string `json:",omitempty"`
	MD5OfMessageAttributes string `json:",omitempty"`
}

type batchFailed struct {
	Id          string
	Code        string
	Message     string
	SenderFault bool
}

type batchOut struct {
	Successful []batchOK
	Failed     []batchFailed
}

// failedEntry reports one batch entry's error: an SQS error is the
// sender's fault, anything else the service's.
func failedEntry(id string, err error) batchFailed {
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		return batchFailed{Id: id, Code: ae.Code, Message: ae.Message, SenderFault: true}
	}
	return batchFailed{Id: id, Code: "InternalError", Message: err.Error()}
}

func checkBatch(entries []batchEntry) error {
	if len(entries) == 0 {
		return &awsproto.Error{Code: "AWS.SimpleQueueService.EmptyBatchRequest", Shape: "EmptyBatchRequest", Message: "There should be at least one SendMessageBatchRequestEntry in the request."}
	}
	if len(entries) > 10 {
		return &awsproto.Error{Code: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", Shape: "TooManyEntriesInBatchRequest", Message: fmt.Sprintf("Maximum number of entries per request are 10. You have sent %d.", len(entries))}
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.Id] {
			return &awsproto.Error{Code: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", Shape: "BatchEntryIdsNotDistinct", Message: "Id " + e.Id + " repeated."}
		}
		seen[e.Id] = true
	}
	return nil
}

func (b *Backend) sendMessageBatch(ctx context.Context, in *sendBatchIn) (any, error) {
	if err := checkBatch(in.Entries); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	out := batchOut{Successful: []batchOK{}, Failed: []batchFailed{}}
	for _, e := range in.Entries {
		m, err := b.sendLocked(q, e.MessageBody, e.MessageAttributes, e.DelaySeconds, "AIDAEXAMPLELOCALCLOUD")
		if err != nil {
			out.Failed = append(out.Failed, failedEntry(e.Id, err))
			continue
		}
		out.Successful = append(out.Successful, batchOK{e.Id, m.ID, m.MD5Body, m.MD5Attrs})
	}
	return out, nil
}

type receiveIn struct {
	QueueUrl                    string
	AttributeNames              []string
	MessageSystemAttributeNames []string
	MessageAttributeNames       []string
	MaxNumberOfMessages         *int32
	VisibilityTimeout           *int32
	WaitTimeSeconds             *int32
}

// ReceivedMessage is one message as ReceiveMessage returns it.
type ReceivedMessage struct {
	MessageId              string
	ReceiptHandle          string
	MD5OfBody              string
	Body                   string
	Attributes             map[string]string           `json:",omitempty"`
	MD5OfMessageAttributes string                      `json:",omitempty"`
	MessageAttributes      map[string]MessageAttribute `json:",omitempty"`
}

type receiveOut struct {
	Messages []ReceivedMessage `json:",omitempty"`
}

// Receive takes up to MaxNumberOfMessages messages, waiting up to wait (an AWS duration,
// scaled) for the first, for in-process readers and the API alike.
func (b *Backend) Receive(ctx context.Context, in *receiveIn) ([]ReceivedMessage, error) {
	limit := int32(1)
	if in.MaxNumberOfMessages != nil {
		limit = *in.MaxNumberOfMessages
		if limit < 1 || limit > 10 {
			return nil, invalidValue("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", limit)
		}
	}
	if in.VisibilityTimeout != nil && (*in.VisibilityTimeout < 0 || *in.VisibilityTimeout > 43200) {
		return nil, invalidValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", *in.VisibilityTimeout)
	}
	if in.WaitTimeSeconds != nil && (*in.WaitTimeSeconds < 0 || *in.WaitTimeSeconds > 20) {
		return nil, invalidValue("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", *in.WaitTimeSeconds)
	}
	var deadline <-chan time.Time
	for first := true; ; first = false {
		b.mu.Lock()
		q, err := b.queueLocked(in.QueueUrl)
		if err != nil {
			b.mu.Unlock()
			return nil, err
		}
		msgs := b.takeLocked(q, int(limit), in)
		wake := b.arrived
		if len(msgs) > 0 {
			err := b.saveLocked()
			b.mu.Unlock()
			if err != nil {
				return nil, err
			}
			return msgs, nil
		}
		if first {
			wait := q.seconds("ReceiveMessageWaitTimeSeconds")
			if in.WaitTimeSeconds != nil {
				wait = time.Duration(*in.WaitTimeSeconds) * time.Second
			}
			if wait == 0 {
				b.mu.Unlock()
				return nil, nil
			}
			deadline = b.clock.After(wait)
		}
		// Wake up for visibility timeouts that end during the wait too.
		next := b.nextVisibleLocked(q)
		b.mu.Unlock()
		var timer <-chan time.Time
		if !next.IsZero() {
			timer = time.After(time.Until(next))
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-deadline:
			return nil, nil
		case <-wake:
		case <-timer:
		}
	}
}

func (b *Backend) nextVisibleLocked(q *queue) time.Time {
	var next time.Time
	now := b.clock.Now()
	for _, m := range q.Messages {
		if m.VisibleAt.After(now) && (next.IsZero() || m.VisibleAt.Before(next)) {
			next = m.VisibleAt
		}
	}
	return next
}

// takeLocked receives up to limit visible messages, moving those past their
// redrive limit to the dead-letter queue.
func (b *Backend) takeLocked(q *queue, limit int, in *receiveIn) []ReceivedMessage {
	now := b.clock.Now()
	b.expireLocked(q, now)
	vt := q.seconds("VisibilityTimeout")
	if in.VisibilityTimeout != nil {
		vt = time.Duration(*in.VisibilityTimeout) * time.Second
	}
	dlq, maxReceives := b.redriveLocked(q)
	var out []ReceivedMessage
	kept := q.Messages[:0]
	for _, m := range q.Messages {
		if len(out) >= limit || m.VisibleAt.After(now) {
			kept = append(kept, m)
			continue
		}
		if dlq != nil && m.ReceiveCount >= maxReceives {
			m.DeadLetterSrcID = b.ARN(q.Name)
			m.VisibleAt, m.ReceiptHandle = now, ""
			dlq.Messages = append(dlq.Messages, m)
			b.log.Info("message moved to dead-letter queue", "queue", q.Name, "dlq", dlq.Name, "message", m.ID)
			continue
		}
		m.ReceiveCount++
		if m.FirstReceive.IsZero() {
			m.FirstReceive = now
		}
		m.VisibleAt = now.Add(b.clock.Scale(vt))
		m.ReceiptHandle = newReceiptHandle(m.ID)
		out = append(out, b.render(m, in))
		kept = append(kept, m)
	}
	q.Messages = kept
	if dlq != nil && len(dlq.Messages) > 0 {
		b.wakeLocked()
	}
	return out
}

func (b *Backend) redriveLocked(q *queue) (*queue, int) {
	rp := q.Attributes["RedrivePolicy"]
	if rp == "" {
		return nil, 0
	}
	var p struct {
		DeadLetterTargetArn string
		MaxReceiveCount     json.Number
	}
	if json.Unmarshal([]byte(rp), &p) != nil {
		return nil, 0
	}
	n, _ := strconv.Atoi(string(p.MaxReceiveCount))
	dlq, ok := b.queues[nameFromURL(p.DeadLetterTargetArn)]
	if !ok || n < 1 || dlq == q {
		return nil, 0
	}
	return dlq, n
}

func (b *Backend) render(m *message, in *receiveIn) ReceivedMessage {
	r := ReceivedMessage{MessageId: m.ID, ReceiptHandle: m.ReceiptHandle, MD5OfBody: m.MD5Body, Body: m.Body}
	sys := map[string]string{
		"SenderId":                         m.SenderID,
		"SentTimestamp":                    strconv.FormatInt(m.Sent.UnixMilli(), 10),
		"ApproximateReceiveCount":          strconv.Itoa(m.ReceiveCount),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.FirstReceive.UnixMilli(), 10),
	}
	if m.DeadLetterSrcID != "" {
		sys["DeadLetterQueueSourceArn"] = m.DeadLetterSrcID
	}
	for _, n := range append(slices.Clone(in.AttributeNames), in.MessageSystemAttributeNames...) {
		if n == "All" {
			r.Attributes = sys
			break
		}
		if v, ok := sys[n]; ok {
			if r.Attributes == nil {
				r.Attributes = map[string]string{}
			}
			r.Attributes[n] = v
		}
	}
	picked := map[string]MessageAttribute{}
	for _, n := range in.MessageAttributeNames {
		for k, a := range m.Attributes {
			if n == "All" || n == ".*" || k == n || (strings.HasSuffix(n, ".*") && strings.HasPrefix(k, strings.TrimSuffix(n, "*"))) {
				picked[k] = a
			}
		}
	}
	if len(picked) > 0 {
		r.MessageAttributes = picked
		r.MD5OfMessageAttributes = attrsMD5(picked)
	}
	return r
}

func (b *Backend) receiveMessage(ctx context.Context, in *receiveIn) (any, error) {
	msgs, err := b.Receive(ctx, in)
	if err != nil {
		return nil, err
	}
	return receiveOut{msgs}, nil
}

type deleteIn struct {
	QueueUrl      string
	ReceiptHandle string
}

// findLocked finds the message a receipt handle names.
func findLocked(q *queue, handle string) (int, error) {
	if handle == "" {
		return 0, missing("ReceiptHandle")
	}
	_, id, ok := strings.Cut(handle, ".")
	if !ok {
		return 0, invalidReceipt(handle)
	}
	for i, m := range q.Messages {
		if m.ID == id {
			return i, nil
		}
	}
	// A handle for a message already deleted is accepted, as on SQS.
	return -1, nil
}

func (b *Backend) deleteLocked(q *queue, handle string) error {
	i, err := findLocked(q, handle)
	if err != nil || i < 0 {
		return err
	}
	q.Messages = append(q.Messages[:i], q.Messages[i+1:]...)
	return nil
}

func (b *Backend) deleteMessage(ctx context.Context, in *deleteIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := b.deleteLocked(q, in.ReceiptHandle); err != nil {
		return nil, err
	}
	return struct{}{}, b.saveLocked()
}

type deleteBatchIn struct {
	QueueUrl string
	Entries  []batchEntry
}

func (b *Backend) deleteMessageBatch(ctx context.Context, in *deleteBatchIn) (any, error) {
	if err := checkBatch(in.Entries); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	out := batchOut{Successful: []batchOK{}, Failed: []batchFailed{}}
	for _, e := range in.Entries {
		if err := b.deleteLocked(q, e.ReceiptHandle); err != nil {
			out.Failed = append(out.Failed, failedEntry(e.Id, err))
			continue
		}
		out.Successful = append(out.Successful, batchOK{Id: e.Id})
	}
	return out, b.saveLocked()
}

type visibilityIn struct {
	QueueUrl          string
	ReceiptHandle     string
	VisibilityTimeout *int32
}

func (b *Backend) changeVisibility(ctx context.Context, in *visibilityIn) (any, error) {
	if in.VisibilityTimeout == nil {
		return nil, missing("VisibilityTimeout")
	}
	if *in.VisibilityTimeout < 0 || *in.VisibilityTimeout > 43200 {
		return nil, invalidValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", *in.VisibilityTimeout)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	i, err := findLocked(q, in.ReceiptHandle)
	if err != nil {
		return nil, err
	}
	if i < 0 || q.Messages[i].ReceiptHandle != in.ReceiptHandle {
		return nil, &awsproto.Error{Code: "AWS.SimpleQueueService.MessageNotInflight", Shape: "MessageNotInflight", Message: "Message does not exist or is not available for visibility timeout change."}
	}
	q.Messages[i].VisibleAt = b.clock.Now().Add(b.clock.Scale(time.Duration(*in.VisibilityTimeout) * time.Second))
	if *in.VisibilityTimeout == 0 {
		b.wakeLocked()
	}
	return struct{}{}, b.saveLocked()
}

func (b *Backend) deleteQueue(ctx context.Context, in *queueURLIn) (any, error) {
	return struct{}{}, b.DeleteQueue(ctx, in.QueueUrl)
}

// DeleteQueue deletes a queue and its messages.
func (b *Backend) DeleteQueue(ctx context.Context, queueURL string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(queueURL)
	if err != nil {
		return err
	}
	delete(b.queues, q.Name)
	if err := b.saveLocked(); err != nil {
		b.queues[q.Name] = q
		return err
	}
	b.log.Info("queue deleted", "queue", q.Name)
	return nil
}

func (b *Backend) purgeQueue(ctx context.Context, in *queueURLIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	q.Messages = nil
	return struct{}{}, b.saveLocked()
}

type listIn struct {
	QueueNamePrefix string
	MaxResults      *int32
	NextToken       string
}

type listOut struct {
	QueueUrls []string `json:",omitempty" xml:"QueueUrl"`
	NextToken string   `json:",omitempty"`
}

func (b *Backend) listQueues(ctx context.Context, in *listIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	limit := 1000
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 1000 {
			return nil, invalidValue("Value %d for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.", *in.MaxResults)
		}
		limit = int(*in.MaxResults)
	}
	var out listOut
	for _, n := range sortedNames(b.queues) {
		if !strings.HasPrefix(n, in.QueueNamePrefix) || n <= in.NextToken {
			continue
		}
		if len(out.QueueUrls) == limit {
			out.NextToken = nameFromURL(out.QueueUrls[len(out.QueueUrls)-1])
			break
		}
		out.QueueUrls = append(out.QueueUrls, b.urlLocked(n))
	}
	return out, nil
}

type tagIn struct {
	QueueUrl string
	Tags     map[string]string
}

type untagIn struct {
	QueueUrl string
	TagKeys  []string
}

func (b *Backend) tagQueue(ctx context.Context, in *tagIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if q.Tags == nil {
		q.Tags = map[string]string{}
	}
	for k, v := range in.Tags {
		q.Tags[k] = v
	}
	return struct{}{}, b.saveLocked()
}

func (b *Backend) untagQueue(ctx context.Context, in *untagIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(q.Tags, k)
	}
	return struct{}{}, b.saveLocked()
}

type tagsOut struct {
	Tags map[string]string `json:",omitempty"`
}

func (b *Backend) listQueueTags(ctx context.Context, in *queueURLIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return tagsOut{q.Tags}, nil
}
