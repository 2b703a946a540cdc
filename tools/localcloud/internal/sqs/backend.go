// Package sqs emulates Amazon SQS standard queues in both protocols AWS
// serves it: awsJson1_0 (target AmazonSQS, what aws-sdk-go-v2 speaks) and
// awsQuery (what the aws CLI v1 speaks).
//
// The rules, as on SQS:
//   - A queue is addressed by its URL, http://<endpoint>/000000000000/<name>;
//     any host is accepted, only the name counts. CreateQueue with the name
//     of an existing queue returns it when the attributes agree and answers
//     QueueNameExists otherwise.
//   - A received message is invisible for the queue's VisibilityTimeout (or
//     the request's), then visible again with ApproximateReceiveCount one
//     higher; DeleteMessage with its receipt handle removes it for good.
//     DelaySeconds hides a new message; MessageRetentionPeriod drops old
//     ones. Every one of these AWS durations is scaled by the clock, so at
//     time scale 0.05 a 30 s visibility timeout is 1.5 s.
//   - ReceiveMessage long-polls for up to WaitTimeSeconds (scaled) when the
//     queue is empty, and answers as soon as a message arrives.
//   - A RedrivePolicy moves a message to the dead-letter queue when it would
//     be received more than maxReceiveCount times.
//   - MD5OfMessageBody and MD5OfMessageAttributes are computed as SQS does,
//     so the SDK's checks pass.
//   - The queue policy and the other attributes are recorded and returned;
//     policies are not enforced. FIFO queues are refused with a clear error.
//   - Queues and their messages persist in the state store.
package sqs

import (
	"context"
	"crypto/md5" //nolint:gosec // SQS digests bodies and attributes with MD5 by protocol
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// Config is what the backend needs.
type Config struct {
	Logger *slog.Logger
	Clock  clock.Clock
	Store  state.Store
	// Endpoint is the base of queue URLs (default http://127.0.0.1:4566);
	// the server sets it to the address it listens on.
	Endpoint        string
	Region, Account string
}

// Backend is the SQS emulator; its methods are safe for concurrent use.
type Backend struct {
	cfg   Config
	log   *slog.Logger
	clock clock.Clock

	mu       sync.Mutex
	endpoint string
	queues   map[string]*queue
	// arrived is closed (and replaced) whenever a message becomes
	// available, waking long polls.
	arrived chan struct{}
}

type queue struct {
	Name       string
	Created    time.Time
	Modified   time.Time
	Attributes map[string]string
	Tags       map[string]string `json:",omitempty"`
	Messages   []*message
}

// MessageAttribute is an SQS message attribute.
type MessageAttribute struct {
	DataType    string
	StringValue *string `json:",omitempty"`
	BinaryValue []byte  `json:",omitempty"`
}

type message struct {
	ID              string
	Body            string
	MD5Body         string
	MD5Attrs        string `json:",omitempty"`
	Attributes      map[string]MessageAttribute
	Sent            time.Time
	VisibleAt       time.Time
	ReceiveCount    int
	FirstReceive    time.Time `json:",omitzero"`
	ReceiptHandle   string    `json:",omitempty"`
	SenderID        string
	DeadLetterSrcID string `json:",omitempty"`
}

// defaultAttributes are a new queue's settable attributes.
var defaultAttributes = map[string]string{
	"DelaySeconds":                  "0",
	"MaximumMessageSize":            "262144",
	"MessageRetentionPeriod":        "345600",
	"ReceiveMessageWaitTimeSeconds": "0",
	"VisibilityTimeout":             "30",
	"SqsManagedSseEnabled":          "true",
}

// settable are the attributes CreateQueue and SetQueueAttributes accept.
var settable = map[string]bool{
	"DelaySeconds": true, "MaximumMessageSize": true, "MessageRetentionPeriod": true, "Policy": true,
	"ReceiveMessageWaitTimeSeconds": true, "VisibilityTimeout": true, "RedrivePolicy": true, "RedriveAllowPolicy": true,
	"KmsMasterKeyId": true, "KmsDataKeyReusePeriodSeconds": true, "SqsManagedSseEnabled": true,
	"FifoQueue": true, "ContentBasedDeduplication": true, "DeduplicationScope": true, "FifoThroughputLimit": true,
}

// New returns a backend with the queues saved in cfg.Store.
func New(cfg Config) (*Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New(1)
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = "http://127.0.0.1:4566"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Account == "" {
		cfg.Account = "000000000000"
	}
	b := &Backend{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, endpoint: cfg.Endpoint, queues: map[string]*queue{}, arrived: make(chan struct{})}
	var saved []*queue
	ok, err := cfg.Store.Load("sqs", &saved)
	if err != nil {
		return nil, fmt.Errorf("restore sqs: %w", err)
	}
	if ok {
		msgs := 0
		for _, q := range saved {
			b.queues[q.Name] = q
			msgs += len(q.Messages)
		}
		b.log.Info("restored sqs", "queues", len(saved), "messages", msgs)
	}
	return b, nil
}

// SetEndpoint sets the base of queue URLs, e.g. http://127.0.0.1:4566.
func (b *Backend) SetEndpoint(endpoint string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.endpoint = strings.TrimSuffix(endpoint, "/")
}

func (b *Backend) saveLocked() error {
	qs := make([]*queue, 0, len(b.queues))
	for _, n := range sortedNames(b.queues) {
		qs = append(qs, b.queues[n])
	}
	if err := b.cfg.Store.Save("sqs", qs); err != nil {
		return fmt.Errorf("save sqs: %w", err)
	}
	return nil
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ARN is a queue's ARN.
func (b *Backend) ARN(name string) string {
	return "arn:aws:sqs:" + b.cfg.Region + ":" + b.cfg.Account + ":" + name
}

// URL is a queue's URL.
func (b *Backend) URL(name string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.urlLocked(name)
}

func (b *Backend) urlLocked(name string) string { return b.endpoint + "/" + b.cfg.Account + "/" + name }

// nameFromURL takes the queue name from a queue URL (or accepts a bare
// name, or an ARN).
func nameFromURL(u string) string {
	u = strings.TrimSuffix(u, "/")
	if strings.HasPrefix(u, "arn:") {
		return u[strings.LastIndex(u, ":")+1:]
	}
	return u[strings.LastIndex(u, "/")+1:]
}

func (b *Backend) queueLocked(url string) (*queue, error) {
	if url == "" {
		return nil, missing("QueueUrl")
	}
	q, ok := b.queues[nameFromURL(url)]
	if !ok {
		return nil, errNoQueue()
	}
	return q, nil
}

// seconds reads a queue's duration attribute.
func (q *queue) seconds(attr string) time.Duration {
	n, _ := strconv.Atoi(q.Attributes[attr])
	return time.Duration(n) * time.Second
}

// expireLocked drops messages older than the retention period.
func (b *Backend) expireLocked(q *queue, now time.Time) {
	keep := b.clock.Scale(q.seconds("MessageRetentionPeriod"))
	kept := q.Messages[:0]
	for _, m := range q.Messages {
		if now.Sub(m.Sent) < keep {
			kept = append(kept, m)
		}
	}
	q.Messages = kept
}

// wakeLocked wakes every long poll.
func (b *Backend) wakeLocked() {
	close(b.arrived)
	b.arrived = make(chan struct{})
}

// Send puts a message on the queue with the ARN, for in-process senders
// (EventBridge dead-letter queues, SNS subscriptions).
func (b *Backend) Send(ctx context.Context, queueARN, body string, attrs map[string]MessageAttribute) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.queues[nameFromURL(queueARN)]
	if !ok || b.ARN(q.Name) != queueARN {
		return "", errNoQueue()
	}
	m, err := b.sendLocked(q, body, attrs, nil, "AIDAEXAMPLELOCALCLOUD")
	if err != nil {
		return "", err
	}
	return m.ID, nil
}

func (b *Backend) sendLocked(q *queue, body string, attrs map[string]MessageAttribute, delay *int32, sender string) (*message, error) {
	if body == "" {
		return nil, missing("MessageBody")
	}
	maxSize, _ := strconv.Atoi(q.Attributes["MaximumMessageSize"])
	if size := len(body) + attrsSize(attrs); size > maxSize {
		return nil, invalidValue("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", maxSize)
	}
	if err := checkBody(body); err != nil {
		return nil, err
	}
	for name, a := range attrs {
		if a.DataType == "" {
			return nil, invalidValue("The message attribute '%s' must contain non-empty message attribute type.", name)
		}
		base, _, _ := strings.Cut(a.DataType, ".")
		switch base {
		case "String", "Number":
			if a.StringValue == nil {
				return nil, invalidValue("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, a.DataType)
			}
		case "Binary":
			if a.BinaryValue == nil {
				return nil, invalidValue("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, a.DataType)
			}
		default:
			return nil, invalidValue("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		}
	}
	d := q.seconds("DelaySeconds")
	if delay != nil {
		if *delay < 0 || *delay > 900 {
			return nil, invalidValue("Value %d for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.", *delay)
		}
		d = time.Duration(*delay) * time.Second
	}
	now := b.clock.Now()
	sum := md5.Sum([]byte(body)) //nolint:gosec // MD5OfMessageBody is MD5 by protocol
	m := &message{ID: newID(), Body: body, MD5Body: hex.EncodeToString(sum[:]), MD5Attrs: attrsMD5(attrs), Attributes: attrs, Sent: now, VisibleAt: now.Add(b.clock.Scale(d)), SenderID: sender}
	q.Messages = append(q.Messages, m)
	if err := b.saveLocked(); err != nil {
		q.Messages = q.Messages[:len(q.Messages)-1]
		return nil, err
	}
	if d == 0 {
		b.wakeLocked()
	} else {
		go func() {
			<-b.clock.After(d)
			b.mu.Lock()
			b.wakeLocked()
			b.mu.Unlock()
		}()
	}
	return m, nil
}

// checkBody refuses characters SQS does not allow in a message.
func checkBody(s string) error {
	for _, r := range s {
		if r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF) {
			continue
		}
		return &awsproto.Error{Code: "InvalidMessageContents", Shape: "InvalidMessageContents", Message: "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"}
	}
	return nil
}

func attrsSize(attrs map[string]MessageAttribute) int {
	n := 0
	for k, a := range attrs {
		n += len(k) + len(a.DataType) + len(a.BinaryValue)
		if a.StringValue != nil {
			n += len(*a.StringValue)
		}
	}
	return n
}

// attrsMD5 is SQS's digest of message attributes: for each attribute in
// name order, length-prefixed name, data type, a transport byte (1 string,
// 2 binary) and length-prefixed value.
func attrsMD5(attrs map[string]MessageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	h := md5.New() //nolint:gosec // MD5OfMessageAttributes is MD5 by protocol
	put := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, name := range sortedNames(attrs) {
		a := attrs[name]
		put([]byte(name))
		put([]byte(a.DataType))
		if a.BinaryValue != nil && strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			put(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			v := ""
			if a.StringValue != nil {
				v = *a.StringValue
			}
			put([]byte(v))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func newID() string {
	var r [16]byte
	rand.Read(r[:])
	h := hex.EncodeToString(r[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func newReceiptHandle(id string) string {
	var r [24]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:]) + "." + id
}
