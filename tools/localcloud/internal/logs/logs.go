// Package logs emulates Amazon CloudWatch Logs over JSON 1.1 (target prefix
// Logs_20140328): log groups with retention, log streams, PutLogEvents,
// GetLogEvents and FilterLogEvents, plus Append for in-process writers (task
// stdout and stderr).
//
// Rules:
//   - Timestamps are epoch milliseconds, as on AWS. Events are kept in
//     timestamp order per stream; a stream keeps about its last
//     MaxEventsPerStream events (trimmed in batches).
//   - Retention (retentionInDays) is enforced on the scaled clock: with time
//     scale 0.05 a one-day retention keeps 72 minutes of events.
//   - PutLogEvents rejects events older than 14 days (real time) or the
//     (scaled) retention, or more than 2 hours ahead, reporting them in
//     rejectedLogEventsInfo; the
//     sequence token is accepted and ignored, as AWS now does.
//   - Filter patterns support terms (all must match), "quoted phrases", ?term
//     alternatives and -term exclusions; JSON and space-delimited patterns are
//     refused with InvalidParameterException.
//   - State persists under the store, written at most once a second.
package logs

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// Region and account of log group ARNs.
const (
	Region  = "us-east-1"
	Account = "000000000000"
)

// MaxEventsPerStream bounds the events a stream keeps; older ones go first.
const MaxEventsPerStream = 100_000

// Error codes (JSON __type).
const (
	CodeInvalidParameter = "InvalidParameterException"
	CodeNotFound         = "ResourceNotFoundException"
	CodeAlreadyExists    = "ResourceAlreadyExistsException"
)

func invalid(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(CodeInvalidParameter, format, a...)
}

var (
	errNoGroup  = awsproto.Errorf(CodeNotFound, "The specified log group does not exist.")
	errNoStream = awsproto.Errorf(CodeNotFound, "The specified log stream does not exist.")
)

// Config is what the backend needs.
type Config struct {
	Logger *slog.Logger
	Clock  clock.Clock
	Store  state.Store
}

// Event is one stored log event.
type Event struct {
	Timestamp     int64
	Message       string
	IngestionTime int64
}

type stream struct {
	Name          string
	Created       int64
	LastIngestion int64
	Events        []Event
	StoredBytes   int64
}

type group struct {
	Name      string
	Created   int64
	Retention *int32
	Tags      map[string]string `json:",omitempty"`
	Streams   map[string]*stream
}

// Backend is the CloudWatch Logs emulator; its methods are safe for
// concurrent use.
type Backend struct {
	cfg   Config
	log   *slog.Logger
	clock clock.Clock

	mu     sync.Mutex
	groups map[string]*group
	dirty  bool

	stop chan struct{}
	done chan struct{}
}

const stateName = "logs"

// New returns a backend holding the groups saved in cfg.Store.
func New(cfg Config) (*Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New(1)
	}
	b := &Backend{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, groups: map[string]*group{}, stop: make(chan struct{}), done: make(chan struct{})}
	var saved struct{ Groups []*group }
	ok, err := cfg.Store.Load(stateName, &saved)
	if err != nil {
		return nil, fmt.Errorf("restore logs: %w", err)
	}
	if ok {
		for _, g := range saved.Groups {
			if g.Streams == nil {
				g.Streams = map[string]*stream{}
			}
			b.groups[g.Name] = g
		}
		b.log.Info("restored logs", "groups", len(b.groups))
	}
	go b.saver()
	return b, nil
}

// saver writes the state at most once a second while it changes.
func (b *Backend) saver() {
	defer close(b.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			b.save()
			return
		case <-t.C:
			b.save()
		}
	}
}

func (b *Backend) save() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.dirty {
		return
	}
	var saved struct{ Groups []*group }
	for _, g := range b.groups {
		saved.Groups = append(saved.Groups, g)
	}
	sort.Slice(saved.Groups, func(i, j int) bool { return saved.Groups[i].Name < saved.Groups[j].Name })
	if err := b.cfg.Store.Save(stateName, saved); err != nil {
		b.log.Error("save logs state", "err", err)
		return
	}
	b.dirty = false
}

// Close writes pending state and stops the saver.
func (b *Backend) Close() error {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.done
	return nil
}

func (b *Backend) nowMillis() int64 { return b.clock.Now().UnixMilli() }

// Append adds one event to group/stream, creating both if needed.
func (b *Backend) Append(_ context.Context, groupName, streamName string, at time.Time, message string) error {
	if err := validGroupName(groupName); err != nil {
		return err
	}
	if err := validStreamName(streamName); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.nowMillis()
	g, ok := b.groups[groupName]
	if !ok {
		g = &group{Name: groupName, Created: now, Streams: map[string]*stream{}}
		b.groups[groupName] = g
	}
	s, ok := g.Streams[streamName]
	if !ok {
		s = &stream{Name: streamName, Created: now}
		g.Streams[streamName] = s
	}
	b.appendLocked(g, s, []Event{{Timestamp: at.UnixMilli(), Message: message, IngestionTime: now}})
	return nil
}

func (b *Backend) appendLocked(g *group, s *stream, events []Event) {
	for _, e := range events {
		i := len(s.Events)
		if i > 0 && s.Events[i-1].Timestamp > e.Timestamp {
			i = sort.Search(len(s.Events), func(j int) bool { return s.Events[j].Timestamp > e.Timestamp })
		}
		s.Events = slices.Insert(s.Events, i, e)
		s.StoredBytes += int64(len(e.Message))
		s.LastIngestion = e.IngestionTime
	}
	b.trimLocked(g, s)
	b.dirty = true
}

// trimLocked drops events past the retention (scaled) or the per-stream
// cap. It compacts in batches, so a busy stream at its cap does not copy
// every event on every append; like AWS, which deletes expired events
// lazily, expired events may linger briefly.
func (b *Backend) trimLocked(g *group, s *stream) {
	drop := 0
	if g.Retention != nil {
		keep := b.clock.Scale(time.Duration(*g.Retention) * 24 * time.Hour)
		oldest := b.clock.Now().Add(-keep).UnixMilli()
		drop = sort.Search(len(s.Events), func(i int) bool { return s.Events[i].Timestamp >= oldest })
	}
	if len(s.Events) >= MaxEventsPerStream+MaxEventsPerStream/8 {
		drop = max(drop, len(s.Events)-MaxEventsPerStream)
	}
	if drop == 0 || (drop < 1024 && drop*8 < len(s.Events)) {
		return
	}
	for _, e := range s.Events[:drop] {
		s.StoredBytes -= int64(len(e.Message))
	}
	s.Events = append(s.Events[:0:0], s.Events[drop:]...)
}

// Events returns a copy of a stream's events, for tests and in-process readers.
func (b *Backend) Events(_ context.Context, groupName, streamName string) ([]Event, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, s, err := b.streamLocked(groupName, streamName)
	if err != nil {
		return nil, err
	}
	return slices.Clone(s.Events), nil
}

// streamLocked finds a stream and its group, or says which is missing.
func (b *Backend) streamLocked(groupName, streamName string) (*group, *stream, error) {
	g, ok := b.groups[groupName]
	if !ok {
		return nil, nil, errNoGroup
	}
	s, ok := g.Streams[streamName]
	if !ok {
		return nil, nil, errNoStream
	}
	return g, s, nil
}

// ---- API ----

// Register adds CloudWatch Logs (JSON 1.1) to the mux.
func (b *Backend) Register(m *awsproto.Mux) {
	m.HandleJSON(awsproto.JSONService{
		TargetPrefix: "Logs_20140328",
		Version:      "1.1",
		Ops: map[string]awsproto.JSONOp{
			"CreateLogGroup":        awsproto.Op[groupInput](b.createLogGroup).JSON(),
			"DeleteLogGroup":        awsproto.Op[groupInput](b.deleteLogGroup).JSON(),
			"PutRetentionPolicy":    awsproto.Op[groupInput](b.putRetentionPolicy).JSON(),
			"DeleteRetentionPolicy": awsproto.Op[groupInput](b.deleteRetentionPolicy).JSON(),
			"DescribeLogGroups":     awsproto.Op[describeGroupsInput](b.describeLogGroups).JSON(),
			"CreateLogStream":       awsproto.Op[streamInput](b.createLogStream).JSON(),
			"DeleteLogStream":       awsproto.Op[streamInput](b.deleteLogStream).JSON(),
			"DescribeLogStreams":    awsproto.Op[describeStreamsInput](b.describeLogStreams).JSON(),
			"PutLogEvents":          awsproto.Op[putEventsInput](b.putLogEvents).JSON(),
			"GetLogEvents":          awsproto.Op[getEventsInput](b.getLogEvents).JSON(),
			"FilterLogEvents":       awsproto.Op[filterInput](b.filterLogEvents).JSON(),
		},
	})
}

var (
	groupNameRE = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]+$`)
	retentions  = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

func required(field string) *awsproto.Error {
	return awsproto.Validation(CodeInvalidParameter, awsproto.Required(field))
}

func validGroupName(name string) error {
	switch {
	case name == "":
		return required("logGroupName")
	case len(name) > 512:
		return awsproto.Validation(CodeInvalidParameter, awsproto.Violation{Field: "logGroupName", Value: name, Constraint: "Member must have length less than or equal to 512"})
	case !groupNameRE.MatchString(name):
		return awsproto.Validation(CodeInvalidParameter, awsproto.Violation{Field: "logGroupName", Value: name, Constraint: `Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`})
	}
	return nil
}

func validStreamName(name string) error {
	switch {
	case name == "":
		return required("logStreamName")
	case len(name) > 512:
		return awsproto.Validation(CodeInvalidParameter, awsproto.Violation{Field: "logStreamName", Value: name, Constraint: "Member must have length less than or equal to 512"})
	case strings.ContainsAny(name, ":*"):
		return awsproto.Validation(CodeInvalidParameter, awsproto.Violation{Field: "logStreamName", Value: name, Constraint: "Member must satisfy regular expression pattern: [^:*]*"})
	}
	return nil
}

func groupARN(name string) string {
	return "arn:aws:logs:" + Region + ":" + Account + ":log-group:" + name
}

// groupID resolves logGroupName or logGroupIdentifier (a name or an ARN).
func groupID(name, identifier string) string {
	if name != "" {
		return name
	}
	id := strings.TrimSuffix(identifier, ":*")
	if rest, ok := strings.CutPrefix(id, "arn:aws:logs:"); ok {
		if i := strings.Index(rest, ":log-group:"); i >= 0 {
			return rest[i+len(":log-group:"):]
		}
	}
	return id
}

type groupInput struct {
	LogGroupName    string            `json:"logGroupName"`
	RetentionInDays *int32            `json:"retentionInDays"`
	Tags            map[string]string `json:"tags"`
	KmsKeyId        string            `json:"kmsKeyId"`
	LogGroupClass   string            `json:"logGroupClass"`
}

type empty struct{}

func (b *Backend) createLogGroup(_ context.Context, in *groupInput) (any, error) {
	if err := validGroupName(in.LogGroupName); err != nil {
		return nil, err
	}
	if in.LogGroupClass != "" && !slices.Contains([]string{"STANDARD", "INFREQUENT_ACCESS", "DELIVERY"}, in.LogGroupClass) {
		return nil, awsproto.Validation(CodeInvalidParameter, awsproto.Violation{Field: "logGroupClass", Value: in.LogGroupClass, Constraint: "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]"})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.groups[in.LogGroupName]; ok {
		return nil, awsproto.Errorf(CodeAlreadyExists, "The specified log group already exists")
	}
	b.groups[in.LogGroupName] = &group{Name: in.LogGroupName, Created: b.nowMillis(), Tags: in.Tags, Streams: map[string]*stream{}}
	b.dirty = true
	return empty{}, nil
}

func (b *Backend) deleteLogGroup(_ context.Context, in *groupInput) (any, error) {
	if in.LogGroupName == "" {
		return nil, required("logGroupName")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.groups[in.LogGroupName]; !ok {
		return nil, errNoGroup
	}
	delete(b.groups, in.LogGroupName)
	b.dirty = true
	return empty{}, nil
}

func (b *Backend) putRetentionPolicy(_ context.Context, in *groupInput) (any, error) {
	if in.LogGroupName == "" {
		return nil, required("logGroupName")
	}
	if in.RetentionInDays == nil {
		return nil, required("retentionInDays")
	}
	if !slices.Contains(retentions, *in.RetentionInDays) {
		vals := make([]string, len(retentions))
		for i, r := range retentions {
			vals[i] = strconv.Itoa(int(r))
		}
		return nil, awsproto.Validation(CodeInvalidParameter, awsproto.Violation{Field: "retentionInDays", Value: *in.RetentionInDays, Constraint: "Member must satisfy enum value set: [" + strings.Join(vals, ", ") + "]"})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	g, ok := b.groups[in.LogGroupName]
	if !ok {
		return nil, errNoGroup
	}
	r := *in.RetentionInDays
	g.Retention = &r
	for _, s := range g.Streams {
		b.trimLocked(g, s)
	}
	b.dirty = true
	return empty{}, nil
}

func (b *Backend) deleteRetentionPolicy(_ context.Context, in *groupInput) (any, error) {
	if in.LogGroupName == "" {
		return nil, required("logGroupName")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	g, ok := b.groups[in.LogGroupName]
	if !ok {
		return nil, errNoGroup
	}
	g.Retention = nil
	b.dirty = true
	return empty{}, nil
}

type describeGroupsInput struct {
	LogGroupNamePrefix  string `json:"logGroupNamePrefix"`
	LogGroupNamePattern string `json:"logGroupNamePattern"`
	Limit               *int32 `json:"limit"`
	NextToken           string `json:"nextToken"`
}

type logGroupOut struct {
	LogGroupName      string `json:"logGroupName"`
	CreationTime      int64  `json:"creationTime"`
	RetentionInDays   *int32 `json:"retentionInDays,omitempty"`
	MetricFilterCount int32  `json:"metricFilterCount"`
	Arn               string `json:"arn"`
	LogGroupArn       string `json:"logGroupArn"`
	StoredBytes       int64  `json:"storedBytes"`
	LogGroupClass     string `json:"logGroupClass"`
}

// page applies limit/nextToken paging (the token is an offset).
func page(n int, limit *int32, def, maxLimit int32, token string) (start, end int, next string, err error) {
	l := def
	if limit != nil {
		if *limit < 1 || *limit > maxLimit {
			return 0, 0, "", awsproto.Validation(CodeInvalidParameter, awsproto.Violation{Field: "limit", Value: *limit, Constraint: fmt.Sprintf("Member must have value between 1 and %d", maxLimit)})
		}
		l = *limit
	}
	if token != "" {
		start, err = strconv.Atoi(token)
		if err != nil || start < 0 || start > n {
			return 0, 0, "", invalid("The specified nextToken is invalid.")
		}
	}
	end = min(start+int(l), n)
	if end < n {
		next = strconv.Itoa(end)
	}
	return start, end, next, nil
}

func (b *Backend) describeLogGroups(_ context.Context, in *describeGroupsInput) (any, error) {
	if in.LogGroupNamePrefix != "" && in.LogGroupNamePattern != "" {
		return nil, invalid("LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive. Only one of these parameters can be passed.")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var names []string
	for name := range b.groups {
		if strings.HasPrefix(name, in.LogGroupNamePrefix) && (in.LogGroupNamePattern == "" || strings.Contains(strings.ToLower(name), strings.ToLower(in.LogGroupNamePattern))) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	start, end, next, err := page(len(names), in.Limit, 50, 50, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		LogGroups []logGroupOut `json:"logGroups"`
		NextToken string        `json:"nextToken,omitempty"`
	}{LogGroups: []logGroupOut{}, NextToken: next}
	for _, name := range names[start:end] {
		g := b.groups[name]
		var bytes int64
		for _, s := range g.Streams {
			bytes += s.StoredBytes
		}
		out.LogGroups = append(out.LogGroups, logGroupOut{
			LogGroupName: g.Name, CreationTime: g.Created, RetentionInDays: g.Retention,
			Arn: groupARN(g.Name) + ":*", LogGroupArn: groupARN(g.Name), StoredBytes: bytes, LogGroupClass: "STANDARD",
		})
	}
	return out, nil
}

type streamInput struct {
	LogGroupName  string `json:"logGroupName"`
	LogStreamName string `json:"logStreamName"`
}

func (b *Backend) createLogStream(_ context.Context, in *streamInput) (any, error) {
	if in.LogGroupName == "" {
		return nil, required("logGroupName")
	}
	if err := validStreamName(in.LogStreamName); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	g, ok := b.groups[in.LogGroupName]
	if !ok {
		return nil, errNoGroup
	}
	if _, ok := g.Streams[in.LogStreamName]; ok {
		return nil, awsproto.Errorf(CodeAlreadyExists, "The specified log stream already exists")
	}
	g.Streams[in.LogStreamName] = &stream{Name: in.LogStreamName, Created: b.nowMillis()}
	b.dirty = true
	return empty{}, nil
}

func (b *Backend) deleteLogStream(_ context.Context, in *streamInput) (any, error) {
	if in.LogGroupName == "" {
		return nil, required("logGroupName")
	}
	if in.LogStreamName == "" {
		return nil, required("logStreamName")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	g, _, err := b.streamLocked(in.LogGroupName, in.LogStreamName)
	if err != nil {
		return nil, err
	}
	delete(g.Streams, in.LogStreamName)
	b.dirty = true
	return empty{}, nil
}

type describeStreamsInput struct {
	LogGroupName        string `json:"logGroupName"`
	LogGroupIdentifier  string `json:"logGroupIdentifier"`
	LogStreamNamePrefix string `json:"logStreamNamePrefix"`
	OrderBy             string `json:"orderBy"`
	Descending          bool   `json:"descending"`
	Limit               *int32 `json:"limit"`
	NextToken           string `json:"nextToken"`
}

type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64 `json:"lastIngestionTime,omitempty"`
	UploadSequenceToken string `json:"uploadSequenceToken"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

func (b *Backend) describeLogStreams(_ context.Context, in *describeStreamsInput) (any, error) {
	name := groupID(in.LogGroupName, in.LogGroupIdentifier)
	if name == "" {
		return nil, required("logGroupName")
	}
	if in.OrderBy != "" && in.OrderBy != "LogStreamName" && in.OrderBy != "LastEventTime" {
		return nil, awsproto.Validation(CodeInvalidParameter, awsproto.Violation{Field: "orderBy", Value: in.OrderBy, Constraint: "Member must satisfy enum value set: [LogStreamName, LastEventTime]"})
	}
	if in.OrderBy == "LastEventTime" && in.LogStreamNamePrefix != "" {
		return nil, invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	g, ok := b.groups[name]
	if !ok {
		return nil, errNoGroup
	}
	var streams []*stream
	for _, s := range g.Streams {
		if strings.HasPrefix(s.Name, in.LogStreamNamePrefix) {
			streams = append(streams, s)
		}
	}
	last := func(s *stream) int64 {
		if len(s.Events) == 0 {
			return 0
		}
		return s.Events[len(s.Events)-1].Timestamp
	}
	sort.Slice(streams, func(i, j int) bool {
		less := streams[i].Name < streams[j].Name
		if in.OrderBy == "LastEventTime" && last(streams[i]) != last(streams[j]) {
			less = last(streams[i]) < last(streams[j])
		}
		if in.Descending {
			return !less
		}
		return less
	})
	start, end, next, err := page(len(streams), in.Limit, 50, 50, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		LogStreams []logStreamOut `json:"logStreams"`
		NextToken  string         `json:"nextToken,omitempty"`
	}{LogStreams: []logStreamOut{}, NextToken: next}
	for _, s := range streams[start:end] {
		o := logStreamOut{
			LogStreamName: s.Name, CreationTime: s.Created, UploadSequenceToken: "1",
			Arn: groupARN(g.Name) + ":log-stream:" + s.Name, StoredBytes: s.StoredBytes,
		}
		if len(s.Events) > 0 {
			first, lastTS, ing := s.Events[0].Timestamp, last(s), s.LastIngestion
			o.FirstEventTimestamp, o.LastEventTimestamp, o.LastIngestionTime = &first, &lastTS, &ing
		}
		out.LogStreams = append(out.LogStreams, o)
	}
	return out, nil
}

type inputEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

type putEventsInput struct {
	LogGroupName  string       `json:"logGroupName"`
	LogStreamName string       `json:"logStreamName"`
	LogEvents     []inputEvent `json:"logEvents"`
	SequenceToken string       `json:"sequenceToken"`
}

type rejectedInfo struct {
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
}

func (b *Backend) putLogEvents(_ context.Context, in *putEventsInput) (any, error) {
	var vs []awsproto.Violation
	if in.LogGroupName == "" {
		vs = append(vs, awsproto.Required("logGroupName"))
	}
	if in.LogStreamName == "" {
		vs = append(vs, awsproto.Required("logStreamName"))
	}
	if in.LogEvents == nil {
		vs = append(vs, awsproto.Required("logEvents"))
	}
	if len(vs) > 0 {
		return nil, awsproto.Validation(CodeInvalidParameter, vs...)
	}
	if len(in.LogEvents) == 0 || len(in.LogEvents) > 10000 {
		return nil, awsproto.Validation(CodeInvalidParameter, awsproto.Violation{Field: "logEvents", Value: len(in.LogEvents), Constraint: "Member must have length between 1 and 10000"})
	}
	size := 0
	for i, e := range in.LogEvents {
		if e.Timestamp == nil {
			return nil, required(fmt.Sprintf("logEvents.%d.member.timestamp", i+1))
		}
		if e.Message == nil || *e.Message == "" {
			return nil, awsproto.Validation(CodeInvalidParameter, awsproto.Violation{Field: fmt.Sprintf("logEvents.%d.member.message", i+1), Constraint: "Member must have length greater than or equal to 1"})
		}
		if i > 0 && *e.Timestamp < *in.LogEvents[i-1].Timestamp {
			return nil, invalid("Log events in a single PutLogEvents request must be in chronological order.")
		}
		size += len(*e.Message) + 26
	}
	if size > 1_048_576 {
		return nil, invalid("Upload too large: %d bytes exceeds limit of 1048576", size)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	g, s, err := b.streamLocked(in.LogGroupName, in.LogStreamName)
	if err != nil {
		return nil, err
	}
	now := b.clock.Now()
	// The 14-day and 2-hour bounds guard against skewed clocks, which the
	// time scale does not compress; retention does.
	tooOld := now.Add(-14 * 24 * time.Hour).UnixMilli()
	var expired int64 = -1 << 62
	if g.Retention != nil {
		expired = now.Add(-b.clock.Scale(time.Duration(*g.Retention) * 24 * time.Hour)).UnixMilli()
	}
	tooNew := now.Add(2 * time.Hour).UnixMilli()
	var info rejectedInfo
	var accepted []Event
	for i, e := range in.LogEvents {
		ts := *e.Timestamp
		switch {
		case ts < tooOld:
			info.TooOldLogEventEndIndex = &i
		case ts < expired:
			info.ExpiredLogEventEndIndex = &i
		case ts > tooNew:
			if info.TooNewLogEventStartIndex == nil {
				info.TooNewLogEventStartIndex = &i
			}
		default:
			accepted = append(accepted, Event{Timestamp: ts, Message: *e.Message, IngestionTime: now.UnixMilli()})
		}
	}
	b.appendLocked(g, s, accepted)
	out := struct {
		NextSequenceToken     string        `json:"nextSequenceToken"`
		RejectedLogEventsInfo *rejectedInfo `json:"rejectedLogEventsInfo,omitempty"`
	}{NextSequenceToken: strconv.Itoa(len(s.Events))}
	if info != (rejectedInfo{}) {
		out.RejectedLogEventsInfo = &info
	}
	return out, nil
}

type outputEvent struct {
	LogStreamName string `json:"logStreamName,omitempty"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventId       string `json:"eventId,omitempty"`
}

type getEventsInput struct {
	LogGroupName       string `json:"logGroupName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
	LogStreamName      string `json:"logStreamName"`
	StartTime          *int64 `json:"startTime"`
	EndTime            *int64 `json:"endTime"`
	NextToken          string `json:"nextToken"`
	Limit              *int32 `json:"limit"`
	StartFromHead      *bool  `json:"startFromHead"`
}

// getLogEvents pages through a stream with AWS's f/ and b/ tokens; at either
// end the same token comes back, which is how clients know to stop.
func (b *Backend) getLogEvents(_ context.Context, in *getEventsInput) (any, error) {
	name := groupID(in.LogGroupName, in.LogGroupIdentifier)
	if name == "" {
		return nil, required("logGroupName")
	}
	if in.LogStreamName == "" {
		return nil, required("logStreamName")
	}
	limit := 10000
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 10000 {
			return nil, awsproto.Validation(CodeInvalidParameter, awsproto.Violation{Field: "limit", Value: *in.Limit, Constraint: "Member must have value between 1 and 10000"})
		}
		limit = int(*in.Limit)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	_, s, err := b.streamLocked(name, in.LogStreamName)
	if err != nil {
		return nil, err
	}
	var evs []Event
	for _, e := range s.Events {
		if (in.StartTime == nil || e.Timestamp >= *in.StartTime) && (in.EndTime == nil || e.Timestamp < *in.EndTime) {
			evs = append(evs, e)
		}
	}
	var from, to int
	switch {
	case strings.HasPrefix(in.NextToken, "f/"):
		n, err := strconv.Atoi(in.NextToken[2:])
		if err != nil || n < 0 || n > len(evs) {
			return nil, invalid("The specified nextToken is invalid.")
		}
		from, to = n, min(n+limit, len(evs))
	case strings.HasPrefix(in.NextToken, "b/"):
		n, err := strconv.Atoi(in.NextToken[2:])
		if err != nil || n < 0 || n > len(evs) {
			return nil, invalid("The specified nextToken is invalid.")
		}
		from, to = max(n-limit, 0), n
	case in.NextToken != "":
		return nil, invalid("The specified nextToken is invalid.")
	case in.StartFromHead != nil && *in.StartFromHead:
		from, to = 0, min(limit, len(evs))
	default:
		from, to = max(len(evs)-limit, 0), len(evs)
	}
	out := struct {
		Events            []outputEvent `json:"events"`
		NextForwardToken  string        `json:"nextForwardToken"`
		NextBackwardToken string        `json:"nextBackwardToken"`
	}{Events: []outputEvent{}, NextForwardToken: fmt.Sprintf("f/%d", to), NextBackwardToken: fmt.Sprintf("b/%d", from)}
	for _, e := range evs[from:to] {
		out.Events = append(out.Events, outputEvent{Timestamp: e.Timestamp, Message: e.Message, IngestionTime: e.IngestionTime})
	}
	return out, nil
}

type filterInput struct {
	LogGroupName        string   `json:"logGroupName"`
	LogGroupIdentifier  string   `json:"logGroupIdentifier"`
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	FilterPattern       string   `json:"filterPattern"`
	NextToken           string   `json:"nextToken"`
	Limit               *int32   `json:"limit"`
	Interleaved         bool     `json:"interleaved"`
}

func (b *Backend) filterLogEvents(_ context.Context, in *filterInput) (any, error) {
	name := groupID(in.LogGroupName, in.LogGroupIdentifier)
	if name == "" {
		return nil, required("logGroupName")
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
		return nil, invalid("logStreamNames and logStreamNamePrefix are mutually exclusive")
	}
	match, err := compilePattern(in.FilterPattern)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	g, ok := b.groups[name]
	if !ok {
		return nil, errNoGroup
	}
	type searched struct {
		LogStreamName      string `json:"logStreamName"`
		SearchedCompletely bool   `json:"searchedCompletely"`
	}
	out := struct {
		Events             []outputEvent `json:"events"`
		SearchedLogStreams []searched    `json:"searchedLogStreams"`
		NextToken          string        `json:"nextToken,omitempty"`
	}{Events: []outputEvent{}, SearchedLogStreams: []searched{}}
	var all []outputEvent
	for _, s := range g.Streams {
		if len(in.LogStreamNames) > 0 && !slices.Contains(in.LogStreamNames, s.Name) {
			continue
		}
		if !strings.HasPrefix(s.Name, in.LogStreamNamePrefix) {
			continue
		}
		out.SearchedLogStreams = append(out.SearchedLogStreams, searched{s.Name, true})
		for i, e := range s.Events {
			if (in.StartTime != nil && e.Timestamp < *in.StartTime) || (in.EndTime != nil && e.Timestamp > *in.EndTime) || !match(e.Message) {
				continue
			}
			all = append(all, outputEvent{LogStreamName: s.Name, Timestamp: e.Timestamp, Message: e.Message, IngestionTime: e.IngestionTime,
				EventId: fmt.Sprintf("%d-%s-%d", e.Timestamp, s.Name, i)})
		}
	}
	sort.Slice(out.SearchedLogStreams, func(i, j int) bool {
		return out.SearchedLogStreams[i].LogStreamName < out.SearchedLogStreams[j].LogStreamName
	})
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Timestamp != all[j].Timestamp {
			return all[i].Timestamp < all[j].Timestamp
		}
		return all[i].EventId < all[j].EventId
	})
	start, end, next, err := page(len(all), in.Limit, 10000, 10000, in.NextToken)
	if err != nil {
		return nil, err
	}
	out.Events = append(out.Events, all[start:end]...)
	out.NextToken = next
	return out, nil
}

// compilePattern turns a filter pattern into a matcher: terms must all
// appear, ?terms are alternatives, -terms must not appear.
func compilePattern(p string) (func(string) bool, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return func(string) bool { return true }, nil
	}
	if strings.HasPrefix(p, "{") || strings.HasPrefix(p, "[") {
		return nil, invalid("Invalid filter pattern %q: JSON and space-delimited filter patterns are not supported by localcloud; use terms, \"phrases\", ?alternatives and -exclusions.", p)
	}
	var all, anyOf, none []string
	for len(p) > 0 {
		p = strings.TrimLeft(p, " ")
		if p == "" {
			break
		}
		prefix := ""
		if p[0] == '?' || p[0] == '-' {
			prefix, p = p[:1], p[1:]
		}
		var term string
		if strings.HasPrefix(p, `"`) {
			end := strings.Index(p[1:], `"`)
			if end < 0 {
				return nil, invalid("Invalid filter pattern: unterminated quote")
			}
			term, p = p[1:end+1], p[end+2:]
		} else {
			end := strings.IndexByte(p, ' ')
			if end < 0 {
				end = len(p)
			}
			term, p = p[:end], p[end:]
		}
		switch prefix {
		case "?":
			anyOf = append(anyOf, term)
		case "-":
			none = append(none, term)
		default:
			all = append(all, term)
		}
	}
	return func(msg string) bool {
		for _, t := range all {
			if !strings.Contains(msg, t) {
				return false
			}
		}
		for _, t := range none {
			if strings.Contains(msg, t) {
				return false
			}
		}
		if len(anyOf) > 0 {
			for _, t := range anyOf {
				if strings.Contains(msg, t) {
					return true
				}
			}
			return false
		}
		return true
	}, nil
}
