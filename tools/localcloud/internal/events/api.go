package events

import (
	"context"
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// EventBridge error codes (JSON __type).
const (
	CodeResourceNotFound     = "ResourceNotFoundException"
	CodeValidation           = "ValidationException"
	CodeInvalidEventPattern  = "InvalidEventPatternException"
	CodeLimitExceeded        = "LimitExceededException"
	CodeConcurrentModify     = "ConcurrentModificationException"
	CodeResourceAlreadyExist = "ResourceAlreadyExistsException"
)

// Limits AWS enforces.
const (
	maxTargetsPerRule = 5
	maxPutEntries     = 10
	maxEventSize      = 256 * 1024
)

// Target is a rule target as PutTargets takes it and ListTargetsByRule
// returns it.
type Target struct {
	Id               string            `json:"Id"`
	Arn              string            `json:"Arn"`
	RoleArn          string            `json:"RoleArn,omitempty"`
	Input            string            `json:"Input,omitempty"`
	InputPath        string            `json:"InputPath,omitempty"`
	InputTransformer *InputTransformer `json:"InputTransformer,omitempty"`
	RetryPolicy      *RetryPolicy      `json:"RetryPolicy,omitempty"`
	DeadLetterConfig *DeadLetterConfig `json:"DeadLetterConfig,omitempty"`
}

// InputTransformer fills InputTemplate with values picked from the event.
type InputTransformer struct {
	InputPathsMap map[string]string `json:"InputPathsMap,omitempty"`
	InputTemplate string            `json:"InputTemplate"`
}

// RetryPolicy bounds a target's delivery retries.
type RetryPolicy struct {
	MaximumRetryAttempts     *int32 `json:"MaximumRetryAttempts,omitempty"`
	MaximumEventAgeInSeconds *int32 `json:"MaximumEventAgeInSeconds,omitempty"`
}

// DeadLetterConfig names the SQS queue that receives undeliverable events.
type DeadLetterConfig struct {
	Arn string `json:"Arn,omitempty"`
}

func validation(vs ...awsproto.Violation) *awsproto.Error {
	return awsproto.Validation(CodeValidation, vs...)
}

var errInvalidSchedule = awsproto.Errorf(CodeValidation, "Parameter ScheduleExpression is not valid.")

func ruleNotFound(name string) *awsproto.Error {
	return awsproto.Errorf(CodeResourceNotFound, "Rule %s does not exist on EventBus %s.", name, DefaultBus)
}

// Register adds EventBridge (JSON 1.1) to the mux.
func (b *Backend) Register(m *awsproto.Mux) {
	m.HandleJSON(awsproto.JSONService{
		TargetPrefix: "AWSEvents",
		Version:      "1.1",
		Ops: map[string]awsproto.JSONOp{
			"PutRule":                  awsproto.Op[putRuleInput](b.putRule).JSON(),
			"DescribeRule":             awsproto.Op[ruleRef](b.describeRule).JSON(),
			"ListRules":                awsproto.Op[listRulesInput](b.listRules).JSON(),
			"DeleteRule":               awsproto.Op[ruleRef](b.deleteRule).JSON(),
			"EnableRule":               awsproto.Op[ruleRef](b.enableRule).JSON(),
			"DisableRule":              awsproto.Op[ruleRef](b.disableRule).JSON(),
			"PutTargets":               awsproto.Op[putTargetsInput](b.putTargets).JSON(),
			"ListTargetsByRule":        awsproto.Op[listTargetsInput](b.listTargetsByRule).JSON(),
			"RemoveTargets":            awsproto.Op[removeTargetsInput](b.removeTargets).JSON(),
			"ListRuleNamesByTarget":    awsproto.Op[namesByTargetInput](b.listRuleNamesByTarget).JSON(),
			"PutEvents":                awsproto.Op[putEventsInput](b.putEvents).JSON(),
			"TestEventPattern":         awsproto.Op[testPatternInput](b.testEventPattern).JSON(),
			"DescribeEventBus":         awsproto.Op[describeBusInput](b.describeEventBus).JSON(),
			"ListTagsForResource":      awsproto.Op[tagsInput](b.listTagsForResource).JSON(),
			"TagResource":              awsproto.Op[tagsInput](b.tagResource).JSON(),
			"UntagResource":            awsproto.Op[tagsInput](b.untagResource).JSON(),
			"ListEventBuses":           awsproto.Op[struct{}](b.listEventBuses).JSON(),
			"PutPermission":            notSupported("PutPermission").JSON(),
			"CreateEventBus":           notSupported("CreateEventBus").JSON(),
			"CreateArchive":            notSupported("CreateArchive").JSON(),
			"CreateApiDestination":     notSupported("CreateApiDestination").JSON(),
			"CreateConnection":         notSupported("CreateConnection").JSON(),
			"StartReplay":              notSupported("StartReplay").JSON(),
			"CreatePartnerEventSource": notSupported("CreatePartnerEventSource").JSON(),
		},
	})
}

// notSupported answers operations localcloud knows but does not emulate,
// loudly rather than with a silent success.
func notSupported(op string) awsproto.Op[struct{}] {
	return func(context.Context, *struct{}) (any, error) {
		return nil, awsproto.Errorf(CodeValidation, "localcloud does not support %s; only the default event bus, rules and targets are emulated.", op)
	}
}

// checkBus accepts the default bus by name or ARN.
func checkBus(name string) error {
	if name == "" || name == DefaultBus || name == busARN() {
		return nil
	}
	return awsproto.Errorf(CodeResourceNotFound, "Event bus %s does not exist.", name)
}

var (
	ruleNameRE = regexp.MustCompile(`^[\.\-_A-Za-z0-9]{1,64}$`)
	targetIDRE = regexp.MustCompile(`^[\.\-_A-Za-z0-9]{1,64}$`)
)

type putRuleInput struct {
	Name               string
	EventPattern       string
	ScheduleExpression string
	State              string
	Description        string
	RoleArn            string
	EventBusName       string
	Tags               []tag
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func (b *Backend) putRule(_ context.Context, in *putRuleInput) (any, error) {
	if in.Name == "" {
		return nil, validation(awsproto.Required("name"))
	}
	if !ruleNameRE.MatchString(in.Name) {
		return nil, validation(awsproto.Violation{Field: "name", Value: in.Name, Constraint: "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"})
	}
	if err := checkBus(in.EventBusName); err != nil {
		return nil, err
	}
	if in.EventPattern == "" && in.ScheduleExpression == "" {
		return nil, awsproto.Errorf(CodeValidation, "Parameter(s) EventPattern or ScheduleExpression must be specified.")
	}
	state := in.State
	switch state {
	case "":
		state = "ENABLED"
	case "ENABLED", "DISABLED":
	default:
		return nil, validation(awsproto.Violation{Field: "state", Value: in.State, Constraint: "Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]"})
	}
	var p *Pattern
	if in.EventPattern != "" {
		var err error
		if p, err = CompilePattern(in.EventPattern); err != nil {
			return nil, awsproto.Errorf(CodeInvalidEventPattern, "%s", err.Error())
		}
	}
	if in.ScheduleExpression != "" {
		if _, _, err := parseRate(in.ScheduleExpression); err != nil || !strings.HasPrefix(in.ScheduleExpression, "rate(") && !strings.HasPrefix(in.ScheduleExpression, "cron(") {
			return nil, errInvalidSchedule
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.rules[in.Name]
	if !ok {
		r = &rule{Name: in.Name, Arn: ruleARN(in.Name)}
		b.rules[in.Name] = r
		if len(in.Tags) > 0 {
			r.Tags = map[string]string{}
			for _, t := range in.Tags {
				r.Tags[t.Key] = t.Value
			}
		}
	}
	r.EventPattern, r.ScheduleExpression, r.State = in.EventPattern, in.ScheduleExpression, state
	r.Description, r.RoleArn, r.pattern = in.Description, in.RoleArn, p
	b.scheduleLocked(r)
	b.saveLocked()
	b.log.Info("rule put", "rule", r.Name, "state", r.State)
	return map[string]string{"RuleArn": r.Arn}, nil
}

type ruleRef struct {
	Name         string
	EventBusName string
}

func (b *Backend) ruleLocked(in *ruleRef) (*rule, error) {
	if in.Name == "" {
		return nil, validation(awsproto.Required("name"))
	}
	if err := checkBus(in.EventBusName); err != nil {
		return nil, err
	}
	r, ok := b.rules[in.Name]
	if !ok {
		return nil, ruleNotFound(in.Name)
	}
	return r, nil
}

type ruleOutput struct {
	Name               string
	Arn                string
	EventPattern       string `json:",omitempty"`
	ScheduleExpression string `json:",omitempty"`
	State              string
	Description        string `json:",omitempty"`
	RoleArn            string `json:",omitempty"`
	EventBusName       string
	CreatedBy          string `json:",omitempty"`
}

func (r *rule) output(describe bool) ruleOutput {
	o := ruleOutput{Name: r.Name, Arn: r.Arn, EventPattern: r.EventPattern, ScheduleExpression: r.ScheduleExpression,
		State: r.State, Description: r.Description, RoleArn: r.RoleArn, EventBusName: DefaultBus}
	if describe {
		o.CreatedBy = Account
	}
	return o
}

func (b *Backend) describeRule(_ context.Context, in *ruleRef) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.ruleLocked(in)
	if err != nil {
		return nil, err
	}
	return r.output(true), nil
}

func (b *Backend) setState(in *ruleRef, state string) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.ruleLocked(in)
	if err != nil {
		return nil, err
	}
	r.State = state
	b.saveLocked()
	return nil, nil
}

func (b *Backend) enableRule(_ context.Context, in *ruleRef) (any, error) {
	return b.setState(in, "ENABLED")
}

func (b *Backend) disableRule(_ context.Context, in *ruleRef) (any, error) {
	return b.setState(in, "DISABLED")
}

func (b *Backend) deleteRule(_ context.Context, in *ruleRef) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if in.Name == "" {
		return nil, validation(awsproto.Required("name"))
	}
	if err := checkBus(in.EventBusName); err != nil {
		return nil, err
	}
	r, ok := b.rules[in.Name]
	if !ok {
		return nil, nil // DeleteRule of a missing rule succeeds on AWS.
	}
	if len(r.Targets) > 0 {
		return nil, awsproto.Errorf(CodeValidation, "Rule can't be deleted since it has targets.")
	}
	if r.cancel != nil {
		r.cancel()
	}
	delete(b.rules, in.Name)
	b.saveLocked()
	b.log.Info("rule deleted", "rule", in.Name)
	return nil, nil
}

// page cuts a sorted list by NextToken (an index) and Limit.
func page(n int, limit *int32, token string) (start, end int, next string, err error) {
	if token != "" {
		start, err = strconv.Atoi(token)
		if err != nil || start < 0 || start > n {
			return 0, 0, "", awsproto.Errorf(CodeValidation, "The NextToken provided is invalid.")
		}
	}
	end = n
	if limit != nil {
		if *limit < 1 || *limit > 100 {
			return 0, 0, "", validation(awsproto.Violation{Field: "limit", Value: *limit, Constraint: "Member must have value between 1 and 100"})
		}
		end = min(n, start+int(*limit))
	}
	if end < n {
		next = strconv.Itoa(end)
	}
	return start, end, next, nil
}

type listRulesInput struct {
	NamePrefix   string
	EventBusName string
	NextToken    string
	Limit        *int32
}

func (b *Backend) listRules(_ context.Context, in *listRulesInput) (any, error) {
	if err := checkBus(in.EventBusName); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var names []string
	for n := range b.rules {
		if strings.HasPrefix(n, in.NamePrefix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	start, end, next, err := page(len(names), in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		Rules     []ruleOutput
		NextToken string `json:",omitempty"`
	}{Rules: []ruleOutput{}, NextToken: next}
	for _, n := range names[start:end] {
		out.Rules = append(out.Rules, b.rules[n].output(false))
	}
	return out, nil
}

type putTargetsInput struct {
	Rule         string
	EventBusName string
	Targets      []Target
}

type failedEntry struct {
	TargetId     string
	ErrorCode    string
	ErrorMessage string
}

func validateTarget(t Target) error {
	if t.Id == "" {
		return validation(awsproto.Required("targets.member.id"))
	}
	if !targetIDRE.MatchString(t.Id) {
		return validation(awsproto.Violation{Field: "targets.member.id", Value: t.Id, Constraint: "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"})
	}
	if t.Arn == "" {
		return validation(awsproto.Required("targets.member.arn"))
	}
	if !strings.HasPrefix(t.Arn, "arn:") || service(t.Arn) == "" {
		return awsproto.Errorf(CodeValidation, "Parameter %s is not valid. Reason: Provided Arn is not in correct format.", t.Arn)
	}
	n := 0
	for _, set := range []bool{t.Input != "", t.InputPath != "", t.InputTransformer != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return awsproto.Errorf(CodeValidation, "Only one of Input, InputPath, or InputTransformer must be provided.")
	}
	if t.Input != "" && !json.Valid([]byte(t.Input)) {
		return awsproto.Errorf(CodeValidation, "Input is not valid JSON.")
	}
	if t.InputPath != "" && t.InputPath != "$" && !strings.HasPrefix(t.InputPath, "$.") {
		return awsproto.Errorf(CodeValidation, "InputPath is not a valid JSONPath.")
	}
	if rp := t.RetryPolicy; rp != nil {
		if v := rp.MaximumRetryAttempts; v != nil && (*v < 0 || *v > 185) {
			return validation(awsproto.Violation{Field: "targets.member.retryPolicy.maximumRetryAttempts", Value: *v, Constraint: "Member must have value between 0 and 185"})
		}
		if v := rp.MaximumEventAgeInSeconds; v != nil && (*v < 60 || *v > 86400) {
			return validation(awsproto.Violation{Field: "targets.member.retryPolicy.maximumEventAgeInSeconds", Value: *v, Constraint: "Member must have value between 60 and 86400"})
		}
	}
	if dl := t.DeadLetterConfig; dl != nil && dl.Arn != "" && service(dl.Arn) != "sqs" {
		return awsproto.Errorf(CodeValidation, "Parameter DeadLetterConfig.Arn is not valid. Reason: Only SQS queues are supported as dead-letter queues.")
	}
	return nil
}

func (b *Backend) putTargets(_ context.Context, in *putTargetsInput) (any, error) {
	if in.Rule == "" {
		return nil, validation(awsproto.Required("rule"))
	}
	if len(in.Targets) == 0 {
		return nil, validation(awsproto.Violation{Field: "targets", Value: "[]", Constraint: "Member must have length greater than or equal to 1"})
	}
	if len(in.Targets) > 10 {
		return nil, validation(awsproto.Violation{Field: "targets", Constraint: "Member must have length less than or equal to 10"})
	}
	for _, t := range in.Targets {
		if err := validateTarget(t); err != nil {
			return nil, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.ruleLocked(&ruleRef{Name: in.Rule, EventBusName: in.EventBusName})
	if err != nil {
		return nil, err
	}
	merged := append([]Target(nil), r.Targets...)
	for _, t := range in.Targets {
		replaced := false
		for i := range merged {
			if merged[i].Id == t.Id {
				merged[i], replaced = t, true
			}
		}
		if !replaced {
			merged = append(merged, t)
		}
	}
	if len(merged) > maxTargetsPerRule {
		return nil, awsproto.Errorf(CodeLimitExceeded, "The requested resource exceeds the maximum number allowed.")
	}
	r.Targets = merged
	b.saveLocked()
	b.log.Info("targets put", "rule", r.Name, "targets", len(merged))
	return struct {
		FailedEntryCount int
		FailedEntries    []failedEntry
	}{FailedEntries: []failedEntry{}}, nil
}

type listTargetsInput struct {
	Rule         string
	EventBusName string
	NextToken    string
	Limit        *int32
}

func (b *Backend) listTargetsByRule(_ context.Context, in *listTargetsInput) (any, error) {
	if in.Rule == "" {
		return nil, validation(awsproto.Required("rule"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.ruleLocked(&ruleRef{Name: in.Rule, EventBusName: in.EventBusName})
	if err != nil {
		return nil, err
	}
	start, end, next, err := page(len(r.Targets), in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	return struct {
		Targets   []Target
		NextToken string `json:",omitempty"`
	}{Targets: append([]Target{}, r.Targets[start:end]...), NextToken: next}, nil
}

type removeTargetsInput struct {
	Rule         string
	EventBusName string
	Ids          []string
	Force        bool
}

func (b *Backend) removeTargets(_ context.Context, in *removeTargetsInput) (any, error) {
	if in.Rule == "" {
		return nil, validation(awsproto.Required("rule"))
	}
	if len(in.Ids) == 0 {
		return nil, validation(awsproto.Violation{Field: "ids", Value: "[]", Constraint: "Member must have length greater than or equal to 1"})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.ruleLocked(&ruleRef{Name: in.Rule, EventBusName: in.EventBusName})
	if err != nil {
		return nil, err
	}
	out := struct {
		FailedEntryCount int
		FailedEntries    []failedEntry
	}{FailedEntries: []failedEntry{}}
	for _, id := range in.Ids {
		i := -1
		for j, t := range r.Targets {
			if t.Id == id {
				i = j
			}
		}
		if i < 0 {
			out.FailedEntries = append(out.FailedEntries, failedEntry{TargetId: id, ErrorCode: CodeResourceNotFound, ErrorMessage: "Target " + id + " does not exist."})
			continue
		}
		r.Targets = append(r.Targets[:i:i], r.Targets[i+1:]...)
	}
	out.FailedEntryCount = len(out.FailedEntries)
	b.saveLocked()
	return out, nil
}

type namesByTargetInput struct {
	TargetArn    string
	EventBusName string
	NextToken    string
	Limit        *int32
}

func (b *Backend) listRuleNamesByTarget(_ context.Context, in *namesByTargetInput) (any, error) {
	if in.TargetArn == "" {
		return nil, validation(awsproto.Required("targetArn"))
	}
	if err := checkBus(in.EventBusName); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var names []string
	for n, r := range b.rules {
		for _, t := range r.Targets {
			if t.Arn == in.TargetArn {
				names = append(names, n)
				break
			}
		}
	}
	sort.Strings(names)
	start, end, next, err := page(len(names), in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	return struct {
		RuleNames []string
		NextToken string `json:",omitempty"`
	}{RuleNames: append([]string{}, names[start:end]...), NextToken: next}, nil
}

type putEventsEntry struct {
	Source       string
	DetailType   string
	Detail       string
	Resources    []string
	Time         *awsproto.Timestamp
	EventBusName string
	TraceHeader  string
}

type putEventsInput struct {
	Entries []putEventsEntry
}

type putEventsResult struct {
	EventId      string `json:",omitempty"`
	ErrorCode    string `json:",omitempty"`
	ErrorMessage string `json:",omitempty"`
}

// entryError checks one PutEvents entry as AWS does; failures are reported
// per entry, not as an API error.
func entryError(e putEventsEntry) (code, msg string) {
	switch {
	case e.Source == "":
		return "InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."
	case e.DetailType == "":
		return "InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."
	case e.Detail == "":
		return "InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."
	case strings.HasPrefix(e.Source, "aws."):
		return "NotAuthorizedForSourceException", "Not authorized for the source."
	case checkBus(e.EventBusName) != nil:
		return "InvalidArgument", "Parameter EventBusName is not valid. Reason: Event bus " + e.EventBusName + " does not exist."
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(e.Detail), &obj); err != nil || obj == nil {
		return "MalformedDetail", "Detail is malformed."
	}
	return "", ""
}

func (b *Backend) putEvents(ctx context.Context, in *putEventsInput) (any, error) {
	if len(in.Entries) == 0 {
		return nil, validation(awsproto.Violation{Field: "entries", Value: "[]", Constraint: "Member must have length greater than or equal to 1"})
	}
	if len(in.Entries) > maxPutEntries {
		return nil, validation(awsproto.Violation{Field: "entries", Constraint: "Member must have length less than or equal to 10"})
	}
	size := 0
	for _, e := range in.Entries {
		size += len(e.Source) + len(e.DetailType) + len(e.Detail)
		for _, r := range e.Resources {
			size += len(r)
		}
	}
	if size > maxEventSize {
		return nil, awsproto.Errorf(CodeValidation, "Total size of the entries in the request is over the limit.")
	}
	out := struct {
		FailedEntryCount int
		Entries          []putEventsResult
	}{}
	for _, e := range in.Entries {
		if code, msg := entryError(e); code != "" {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, putEventsResult{ErrorCode: code, ErrorMessage: msg})
			continue
		}
		at := b.clock.Now()
		if e.Time != nil {
			at = e.Time.Time
		}
		ev := Event{
			Version: "0", ID: newUUID(), DetailType: e.DetailType, Source: e.Source, Account: Account,
			Time: at.UTC().Format(time.RFC3339), Region: Region, Resources: e.Resources, Detail: json.RawMessage(e.Detail),
		}
		if ev.Resources == nil {
			ev.Resources = []string{}
		}
		if err := b.publish(ctx, ev); err != nil {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, putEventsResult{ErrorCode: "InternalFailure", ErrorMessage: err.Error()})
			continue
		}
		out.Entries = append(out.Entries, putEventsResult{EventId: ev.ID})
	}
	return out, nil
}

type testPatternInput struct {
	Event        string
	EventPattern string
}

func (b *Backend) testEventPattern(_ context.Context, in *testPatternInput) (any, error) {
	if in.EventPattern == "" {
		return nil, validation(awsproto.Required("eventPattern"))
	}
	if in.Event == "" {
		return nil, validation(awsproto.Required("event"))
	}
	p, err := CompilePattern(in.EventPattern)
	if err != nil {
		return nil, awsproto.Errorf(CodeInvalidEventPattern, "%s", err.Error())
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(in.Event), &env); err != nil || env == nil {
		return nil, awsproto.Errorf(CodeValidation, "Parameter Event is not valid.")
	}
	for _, k := range []string{"id", "account", "source", "time", "region", "detail-type"} {
		if _, ok := env[k].(string); !ok {
			return nil, awsproto.Errorf(CodeValidation, "Parameter Event is not valid. Reason: Provided Event is missing required field %s.", k)
		}
	}
	ok, err := p.Match([]byte(in.Event))
	if err != nil {
		return nil, awsproto.Errorf(CodeValidation, "Parameter Event is not valid.")
	}
	return map[string]bool{"Result": ok}, nil
}

type describeBusInput struct {
	Name string
}

func (b *Backend) describeEventBus(_ context.Context, in *describeBusInput) (any, error) {
	if err := checkBus(in.Name); err != nil {
		return nil, err
	}
	return map[string]string{"Name": DefaultBus, "Arn": busARN()}, nil
}

func (b *Backend) listEventBuses(context.Context, *struct{}) (any, error) {
	return map[string]any{"EventBuses": []map[string]string{{"Name": DefaultBus, "Arn": busARN()}}}, nil
}

type tagsInput struct {
	ResourceARN string
	Tags        []tag
	TagKeys     []string
}

func (b *Backend) ruleByARNLocked(arn string) (*rule, error) {
	if arn == "" {
		return nil, validation(awsproto.Required("resourceARN"))
	}
	name, ok := strings.CutPrefix(arn, "arn:aws:events:"+Region+":"+Account+":rule/")
	if !ok {
		return nil, awsproto.Errorf(CodeResourceNotFound, "Resource %s does not exist.", arn)
	}
	r, ok := b.rules[name]
	if !ok {
		return nil, ruleNotFound(name)
	}
	return r, nil
}

func (b *Backend) listTagsForResource(_ context.Context, in *tagsInput) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.ruleByARNLocked(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	tags := []tag{}
	for k, v := range r.Tags {
		tags = append(tags, tag{k, v})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return map[string]any{"Tags": tags}, nil
}

func (b *Backend) tagResource(_ context.Context, in *tagsInput) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.ruleByARNLocked(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if r.Tags == nil {
		r.Tags = map[string]string{}
	}
	for _, t := range in.Tags {
		r.Tags[t.Key] = t.Value
	}
	b.saveLocked()
	return nil, nil
}

func (b *Backend) untagResource(_ context.Context, in *tagsInput) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.ruleByARNLocked(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(r.Tags, k)
	}
	b.saveLocked()
	return nil, nil
}
