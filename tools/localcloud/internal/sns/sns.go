// Package sns emulates Amazon SNS topics over awsQuery (2010-03-31), the
// protocol every SDK and the aws CLI speak to it.
//
// The rules, as on SNS:
//   - CreateTopic is idempotent by name; topics are addressed by ARN
//     (arn:aws:sns:us-east-1:000000000000:<name>).
//   - Subscribe with protocol sqs delivers every Publish to the queue whose
//     ARN is the endpoint, at once (confirmed without a handshake), as the
//     SNS JSON envelope (Type Notification, MessageId, TopicArn, Subject,
//     Message, Timestamp, MessageAttributes) or, with RawMessageDelivery
//     true, as the bare message with its attributes. Other protocols are
//     recorded as PendingConfirmation and receive nothing.
//   - Topic attributes (Policy, DisplayName, KmsMasterKeyId, …) are
//     recorded and returned; policies are not enforced.
//   - Topics and subscriptions persist in the state store.
package sns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/sqs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// Queues is the SQS backend as SNS delivers to it.
type Queues interface {
	Send(ctx context.Context, queueARN, body string, attrs map[string]sqs.MessageAttribute) (string, error)
}

// Config is what the backend needs.
type Config struct {
	Logger          *slog.Logger
	Clock           clock.Clock
	Store           state.Store
	Queues          Queues
	Region, Account string
}

// Backend is the SNS emulator; its methods are safe for concurrent use.
type Backend struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	topics map[string]*topic // by ARN
}

type topic struct {
	ARN           string
	Attributes    map[string]string
	Tags          map[string]string `json:",omitempty"`
	Subscriptions []*subscription
}

type subscription struct {
	ARN        string
	Protocol   string
	Endpoint   string
	Attributes map[string]string `json:",omitempty"`
	Confirmed  bool
}

// SNS errors, by their query codes.
func notFound(msg string) *awsproto.Error {
	return &awsproto.Error{Code: "NotFound", Message: msg, Status: 404}
}

func invalidParameter(format string, a ...any) *awsproto.Error {
	return &awsproto.Error{Code: "InvalidParameter", Message: fmt.Sprintf(format, a...)}
}

// New returns a backend with the topics saved in cfg.Store.
func New(cfg Config) (*Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New(1)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Account == "" {
		cfg.Account = "000000000000"
	}
	b := &Backend{cfg: cfg, log: cfg.Logger, topics: map[string]*topic{}}
	var saved []*topic
	ok, err := cfg.Store.Load("sns", &saved)
	if err != nil {
		return nil, fmt.Errorf("restore sns: %w", err)
	}
	if ok {
		for _, t := range saved {
			b.topics[t.ARN] = t
		}
		b.log.Info("restored sns", "topics", len(saved))
	}
	return b, nil
}

func (b *Backend) saveLocked() error {
	arns := make([]string, 0, len(b.topics))
	for a := range b.topics {
		arns = append(arns, a)
	}
	sort.Strings(arns)
	ts := make([]*topic, len(arns))
	for i, a := range arns {
		ts[i] = b.topics[a]
	}
	if err := b.cfg.Store.Save("sns", ts); err != nil {
		return fmt.Errorf("save sns: %w", err)
	}
	return nil
}

// Register adds SNS (query, 2010-03-31) to the mux.
func (b *Backend) Register(m *awsproto.Mux) {
	m.HandleQuery(awsproto.QueryService{
		Version: "2010-03-31", SigningName: "sns", XMLNamespace: "http://sns.amazonaws.com/doc/2010-03-31/", ValidationCode: "InvalidParameter",
		Ops: map[string]awsproto.QueryOp{
			"CreateTopic":               b.createTopic,
			"DeleteTopic":               b.deleteTopic,
			"ListTopics":                b.listTopics,
			"GetTopicAttributes":        b.getTopicAttributes,
			"SetTopicAttributes":        b.setTopicAttributes,
			"Subscribe":                 b.subscribe,
			"Unsubscribe":               b.unsubscribe,
			"ListSubscriptionsByTopic":  b.listSubscriptionsByTopic,
			"ListSubscriptions":         b.listSubscriptions,
			"GetSubscriptionAttributes": b.getSubscriptionAttributes,
			"SetSubscriptionAttributes": b.setSubscriptionAttributes,
			"Publish":                   b.publish,
			"TagResource":               b.tagResource,
			"ListTagsForResource":       b.listTagsForResource,
			"ConfirmSubscription":       b.confirmSubscription,
		},
	})
}

// entries reads a query map: Prefix.entry.N.key / .value.
func entries(p url.Values, prefix string) map[string]string {
	var m map[string]string
	for i := 1; ; i++ {
		k := prefix + ".entry." + strconv.Itoa(i)
		key, ok := p[k+".key"]
		if !ok {
			return m
		}
		if m == nil {
			m = map[string]string{}
		}
		m[key[0]] = p.Get(k + ".value")
	}
}

type xmlEntry struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

func xmlEntries(m map[string]string) []xmlEntry {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]xmlEntry, len(keys))
	for i, k := range keys {
		out[i] = xmlEntry{k, m[k]}
	}
	return out
}

func validTopicName(n string) bool {
	if n == "" || len(n) > 256 {
		return false
	}
	for _, c := range n {
		if !(c == '-' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// CreateTopic creates a topic (or returns the existing one) and returns
// its ARN.
func (b *Backend) CreateTopic(ctx context.Context, name string, attrs, tags map[string]string) (string, error) {
	if strings.HasSuffix(name, ".fifo") {
		return "", invalidParameter("Invalid parameter: localcloud does not emulate FIFO topics")
	}
	if !validTopicName(name) {
		return "", invalidParameter("Invalid parameter: Topic Name")
	}
	arn := "arn:aws:sns:" + b.cfg.Region + ":" + b.cfg.Account + ":" + name
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.topics[arn]; ok {
		return arn, nil
	}
	t := &topic{ARN: arn, Attributes: map[string]string{}, Tags: tags}
	for k, v := range attrs {
		t.Attributes[k] = v
	}
	b.topics[arn] = t
	if err := b.saveLocked(); err != nil {
		delete(b.topics, arn)
		return "", err
	}
	b.log.Info("topic created", "topic", arn)
	return arn, nil
}

func (b *Backend) createTopic(ctx context.Context, p url.Values) (any, error) {
	var tags map[string]string
	for i := 1; ; i++ {
		k := "Tags.member." + strconv.Itoa(i)
		key, ok := p[k+".Key"]
		if !ok {
			break
		}
		if tags == nil {
			tags = map[string]string{}
		}
		tags[key[0]] = p.Get(k + ".Value")
	}
	arn, err := b.CreateTopic(ctx, p.Get("Name"), entries(p, "Attributes"), tags)
	if err != nil {
		return nil, err
	}
	return struct{ TopicArn string }{arn}, nil
}

func (b *Backend) topicLocked(arn string) (*topic, error) {
	if arn == "" {
		return nil, invalidParameter("Invalid parameter: TopicArn")
	}
	t, ok := b.topics[arn]
	if !ok {
		return nil, notFound("Topic does not exist")
	}
	return t, nil
}

// DeleteTopic deletes a topic and its subscriptions; a missing topic is
// not an error, as on SNS.
func (b *Backend) DeleteTopic(ctx context.Context, arn string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.topics[arn]
	if !ok {
		return nil
	}
	delete(b.topics, arn)
	if err := b.saveLocked(); err != nil {
		b.topics[arn] = t
		return err
	}
	return nil
}

func (b *Backend) deleteTopic(ctx context.Context, p url.Values) (any, error) {
	return struct{}{}, b.DeleteTopic(ctx, p.Get("TopicArn"))
}

func (b *Backend) listTopics(ctx context.Context, p url.Values) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	type member struct{ TopicArn string }
	var out []member
	for _, a := range slices.Sorted(maps.Keys(b.topics)) {
		out = append(out, member{a})
	}
	return struct {
		Topics []member `xml:"Topics>member"`
	}{out}, nil
}

func (b *Backend) getTopicAttributes(ctx context.Context, p url.Values) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.topicLocked(p.Get("TopicArn"))
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{"TopicArn": t.ARN, "Owner": b.cfg.Account, "DisplayName": "", "EffectiveDeliveryPolicy": `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false}}`}
	attrs["Policy"] = `{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"` + t.ARN + `","Condition":{"StringEquals":{"AWS:SourceOwner":"` + b.cfg.Account + `"}}}]}`
	for k, v := range t.Attributes {
		attrs[k] = v
	}
	confirmed, pending := 0, 0
	for _, s := range t.Subscriptions {
		if s.Confirmed {
			confirmed++
		} else {
			pending++
		}
	}
	attrs["SubscriptionsConfirmed"] = strconv.Itoa(confirmed)
	attrs["SubscriptionsPending"] = strconv.Itoa(pending)
	attrs["SubscriptionsDeleted"] = "0"
	return struct {
		Attributes []xmlEntry `xml:"Attributes>entry"`
	}{xmlEntries(attrs)}, nil
}

var topicAttributes = map[string]bool{"Policy": true, "DisplayName": true, "DeliveryPolicy": true, "KmsMasterKeyId": true, "SignatureVersion": true, "TracingConfig": true, "ArchivePolicy": true, "DataProtectionPolicy": true,
	"HTTPSuccessFeedbackRoleArn": true, "HTTPFailureFeedbackRoleArn": true, "SQSSuccessFeedbackRoleArn": true, "SQSFailureFeedbackRoleArn": true, "LambdaSuccessFeedbackRoleArn": true, "LambdaFailureFeedbackRoleArn": true}

// SetTopicAttribute sets one topic attribute (the topic policy too).
func (b *Backend) SetTopicAttribute(ctx context.Context, arn, name, value string) error {
	if !topicAttributes[name] {
		return invalidParameter("Invalid parameter: AttributeName")
	}
	if name == "Policy" && value != "" && !json.Valid([]byte(value)) {
		return invalidParameter("Invalid parameter: Policy Error: null")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.topicLocked(arn)
	if err != nil {
		return err
	}
	old, had := t.Attributes[name]
	t.Attributes[name] = value
	if err := b.saveLocked(); err != nil {
		if had {
			t.Attributes[name] = old
		} else {
			delete(t.Attributes, name)
		}
		return err
	}
	return nil
}

func (b *Backend) setTopicAttributes(ctx context.Context, p url.Values) (any, error) {
	return struct{}{}, b.SetTopicAttribute(ctx, p.Get("TopicArn"), p.Get("AttributeName"), p.Get("AttributeValue"))
}

// Subscribe subscribes an endpoint to a topic and returns the
// subscription ARN ("pending confirmation" for unconfirmed protocols).
func (b *Backend) Subscribe(ctx context.Context, topicARN, protocol, endpoint string, attrs map[string]string) (string, error) {
	switch protocol {
	case "sqs", "lambda", "http", "https", "email", "email-json", "sms", "application", "firehose":
	case "":
		return "", invalidParameter("Invalid parameter: Protocol")
	default:
		return "", invalidParameter("Invalid parameter: Amazon SNS does not support this protocol string: %s", protocol)
	}
	if protocol == "sqs" && !strings.HasPrefix(endpoint, "arn:aws:sqs:") {
		return "", invalidParameter("Invalid parameter: SQS endpoint ARN")
	}
	for k := range attrs {
		switch k {
		case "RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy", "DeliveryPolicy", "SubscriptionRoleArn":
		default:
			return "", invalidParameter("Invalid parameter: Attributes Reason: Unknown attribute %s", k)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.topicLocked(topicARN)
	if err != nil {
		return "", err
	}
	for _, s := range t.Subscriptions {
		if s.Protocol == protocol && s.Endpoint == endpoint {
			return s.ARN, nil
		}
	}
	s := &subscription{ARN: t.ARN + ":" + newID(), Protocol: protocol, Endpoint: endpoint, Attributes: attrs, Confirmed: protocol == "sqs" || protocol == "lambda"}
	t.Subscriptions = append(t.Subscriptions, s)
	if err := b.saveLocked(); err != nil {
		t.Subscriptions = t.Subscriptions[:len(t.Subscriptions)-1]
		return "", err
	}
	if !s.Confirmed {
		return "pending confirmation", nil
	}
	return s.ARN, nil
}

func (b *Backend) subscribe(ctx context.Context, p url.Values) (any, error) {
	arn, err := b.Subscribe(ctx, p.Get("TopicArn"), p.Get("Protocol"), p.Get("Endpoint"), entries(p, "Attributes"))
	if err != nil {
		return nil, err
	}
	return struct{ SubscriptionArn string }{arn}, nil
}

func (b *Backend) confirmSubscription(ctx context.Context, p url.Values) (any, error) {
	return nil, invalidParameter("Invalid token")
}

func (b *Backend) subscriptionLocked(arn string) (*topic, int, error) {
	for _, t := range b.topics {
		for i, s := range t.Subscriptions {
			if s.ARN == arn {
				return t, i, nil
			}
		}
	}
	return nil, 0, notFound("Subscription does not exist")
}

func (b *Backend) unsubscribe(ctx context.Context, p url.Values) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, i, err := b.subscriptionLocked(p.Get("SubscriptionArn"))
	if err != nil {
		return nil, err
	}
	t.Subscriptions = append(t.Subscriptions[:i], t.Subscriptions[i+1:]...)
	return struct{}{}, b.saveLocked()
}

type subMember struct {
	SubscriptionArn, Owner, Protocol, Endpoint, TopicArn string
}

func (b *Backend) members(t *topic) []subMember {
	var out []subMember
	for _, s := range t.Subscriptions {
		arn := s.ARN
		if !s.Confirmed {
			arn = "PendingConfirmation"
		}
		out = append(out, subMember{arn, b.cfg.Account, s.Protocol, s.Endpoint, t.ARN})
	}
	return out
}

func (b *Backend) listSubscriptionsByTopic(ctx context.Context, p url.Values) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.topicLocked(p.Get("TopicArn"))
	if err != nil {
		return nil, err
	}
	return struct {
		Subscriptions []subMember `xml:"Subscriptions>member"`
	}{b.members(t)}, nil
}

func (b *Backend) listSubscriptions(ctx context.Context, p url.Values) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var all []subMember
	for _, a := range slices.Sorted(maps.Keys(b.topics)) {
		all = append(all, b.members(b.topics[a])...)
	}
	return struct {
		Subscriptions []subMember `xml:"Subscriptions>member"`
	}{all}, nil
}

func (b *Backend) getSubscriptionAttributes(ctx context.Context, p url.Values) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, i, err := b.subscriptionLocked(p.Get("SubscriptionArn"))
	if err != nil {
		return nil, err
	}
	s := t.Subscriptions[i]
	attrs := map[string]string{"SubscriptionArn": s.ARN, "TopicArn": t.ARN, "Protocol": s.Protocol, "Endpoint": s.Endpoint, "Owner": b.cfg.Account,
		"ConfirmationWasAuthenticated": "true", "PendingConfirmation": strconv.FormatBool(!s.Confirmed), "RawMessageDelivery": "false"}
	for k, v := range s.Attributes {
		attrs[k] = v
	}
	return struct {
		Attributes []xmlEntry `xml:"Attributes>entry"`
	}{xmlEntries(attrs)}, nil
}

func (b *Backend) setSubscriptionAttributes(ctx context.Context, p url.Values) (any, error) {
	name := p.Get("AttributeName")
	switch name {
	case "RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy", "DeliveryPolicy", "SubscriptionRoleArn":
	default:
		return nil, invalidParameter("Invalid parameter: AttributeName")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, i, err := b.subscriptionLocked(p.Get("SubscriptionArn"))
	if err != nil {
		return nil, err
	}
	s := t.Subscriptions[i]
	if s.Attributes == nil {
		s.Attributes = map[string]string{}
	}
	s.Attributes[name] = p.Get("AttributeValue")
	return struct{}{}, b.saveLocked()
}

// MessageAttribute is an SNS message attribute.
type MessageAttribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

func messageAttributes(p url.Values) (map[string]MessageAttribute, error) {
	var m map[string]MessageAttribute
	for i := 1; ; i++ {
		k := "MessageAttributes.entry." + strconv.Itoa(i)
		name, ok := p[k+".Name"]
		if !ok {
			return m, nil
		}
		a := MessageAttribute{DataType: p.Get(k + ".Value.DataType"), StringValue: p.Get(k + ".Value.StringValue")}
		if a.DataType == "" {
			return nil, invalidParameter("Invalid parameter: MessageAttributes Reason: The message attribute '%s' must contain non-empty message attribute type.", name[0])
		}
		if m == nil {
			m = map[string]MessageAttribute{}
		}
		m[name[0]] = a
	}
}

// Publish sends a message to every confirmed SQS subscription of a topic
// and returns its message ID.
func (b *Backend) Publish(ctx context.Context, topicARN, subject, message string, attrs map[string]MessageAttribute) (string, error) {
	if message == "" {
		return "", invalidParameter("Invalid parameter: Empty message")
	}
	if len(message) > 256*1024 {
		return "", invalidParameter("Invalid parameter: Message too long")
	}
	b.mu.Lock()
	t, err := b.topicLocked(topicARN)
	if err != nil {
		b.mu.Unlock()
		return "", err
	}
	subs := make([]subscription, 0, len(t.Subscriptions))
	for _, s := range t.Subscriptions {
		subs = append(subs, *s)
	}
	b.mu.Unlock()
	id := newID()
	now := b.cfg.Clock.Now().UTC()
	for _, s := range subs {
		if s.Protocol != "sqs" || !s.Confirmed || b.cfg.Queues == nil {
			continue
		}
		body, qattrs := b.envelope(id, topicARN, subject, message, attrs, now, s)
		if _, err := b.cfg.Queues.Send(ctx, s.Endpoint, body, qattrs); err != nil {
			// SNS retries and gives up silently for a missing queue; log it.
			b.log.Warn("sns delivery failed", "topic", topicARN, "subscription", s.ARN, "err", err)
		}
	}
	return id, nil
}

func (b *Backend) envelope(id, topicARN, subject, message string, attrs map[string]MessageAttribute, now time.Time, s subscription) (string, map[string]sqs.MessageAttribute) {
	if s.Attributes["RawMessageDelivery"] == "true" {
		var qa map[string]sqs.MessageAttribute
		for k, a := range attrs {
			if qa == nil {
				qa = map[string]sqs.MessageAttribute{}
			}
			v := a.StringValue
			qa[k] = sqs.MessageAttribute{DataType: a.DataType, StringValue: &v, BinaryValue: a.BinaryValue}
		}
		return message, qa
	}
	type attr struct {
		Type  string
		Value string
	}
	env := map[string]any{
		"Type": "Notification", "MessageId": id, "TopicArn": topicARN, "Message": message,
		"Timestamp": now.Format("2006-01-02T15:04:05.000Z"), "SignatureVersion": "1", "Signature": "bG9jYWxjbG91ZA==",
		"SigningCertURL": "https://sns." + b.cfg.Region + ".amazonaws.com/SimpleNotificationService-localcloud.pem",
		"UnsubscribeURL": "https://sns." + b.cfg.Region + ".amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + s.ARN,
	}
	if subject != "" {
		env["Subject"] = subject
	}
	if len(attrs) > 0 {
		ma := map[string]attr{}
		for k, a := range attrs {
			ma[k] = attr{a.DataType, a.StringValue}
		}
		env["MessageAttributes"] = ma
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(env)
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func (b *Backend) publish(ctx context.Context, p url.Values) (any, error) {
	arn := p.Get("TopicArn")
	if arn == "" {
		arn = p.Get("TargetArn")
	}
	if p.Get("PhoneNumber") != "" {
		return nil, invalidParameter("Invalid parameter: localcloud does not send SMS")
	}
	msg := p.Get("Message")
	if p.Get("MessageStructure") == "json" {
		var per map[string]string
		if err := json.Unmarshal([]byte(msg), &per); err != nil || per["default"] == "" {
			return nil, invalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body")
		}
		if v, ok := per["sqs"]; ok {
			msg = v
		} else {
			msg = per["default"]
		}
	}
	attrs, err := messageAttributes(p)
	if err != nil {
		return nil, err
	}
	id, err := b.Publish(ctx, arn, p.Get("Subject"), msg, attrs)
	if err != nil {
		return nil, err
	}
	return struct{ MessageId string }{id}, nil
}

func (b *Backend) tagResource(ctx context.Context, p url.Values) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.topicLocked(p.Get("ResourceArn"))
	if err != nil {
		return nil, &awsproto.Error{Code: "ResourceNotFound", Message: "Resource does not exist", Status: 404}
	}
	if t.Tags == nil {
		t.Tags = map[string]string{}
	}
	for i := 1; ; i++ {
		k := "Tags.member." + strconv.Itoa(i)
		key, ok := p[k+".Key"]
		if !ok {
			break
		}
		t.Tags[key[0]] = p.Get(k + ".Value")
	}
	return struct{}{}, b.saveLocked()
}

func (b *Backend) listTagsForResource(ctx context.Context, p url.Values) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.topicLocked(p.Get("ResourceArn"))
	if err != nil {
		return nil, &awsproto.Error{Code: "ResourceNotFound", Message: "Resource does not exist", Status: 404}
	}
	type tag struct{ Key, Value string }
	var tags []tag
	for _, k := range slices.Sorted(maps.Keys(t.Tags)) {
		tags = append(tags, tag{k, t.Tags[k]})
	}
	return struct {
		Tags []tag `xml:"Tags>member"`
	}{tags}, nil
}

func newID() string {
	var r [16]byte
	rand.Read(r[:])
	h := hex.EncodeToString(r[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
