// Package event decodes what deploywatch is invoked with: the EventBridge
// events of ECS and CloudWatch, and the ECS lifecycle-hook invocation. It is
// lenient with fields it does not know (AWS adds fields and event types over
// time) and strict with the fields deploywatch acts on: a missing deployment
// id, a service ARN that is not one, or a timestamp in another format is a
// *Error, never a zero value that would be written to the ledger.
package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Detail types deploywatch understands.
const (
	TypeDeploymentState = "ECS Deployment State Change"
	TypeServiceAction   = "ECS Service Action"
	TypeTaskState       = "ECS Task State Change"
	TypeHookState       = "ECS Hook State Change"
	TypeAlarmState      = "CloudWatch Alarm State Change"
)

// Deployment state change event names (the three documented ones).
const (
	DeploymentInProgress = "SERVICE_DEPLOYMENT_IN_PROGRESS"
	DeploymentCompleted  = "SERVICE_DEPLOYMENT_COMPLETED"
	DeploymentFailed     = "SERVICE_DEPLOYMENT_FAILED"
)

// Alarm state values.
const (
	AlarmOK               = "OK"
	AlarmAlarm            = "ALARM"
	AlarmInsufficientData = "INSUFFICIENT_DATA"
)

// AlarmTimeLayout is CloudWatch's timestamp in alarm events: no colon in
// the offset, so time.RFC3339 rejects it. Parsing accepts any number of
// fractional digits, as Go does after a seconds field.
const AlarmTimeLayout = "2006-01-02T15:04:05.000-0700"

// ErrUnsupported marks input that is well formed but not something
// deploywatch acts on (an unknown detail type or event name): ignore it.
var ErrUnsupported = errors.New("unsupported event")

// ErrMalformed marks input that is not what AWS documents: retrying cannot
// fix it, so record it and acknowledge it.
var ErrMalformed = errors.New("malformed event")

// Error says what is wrong with an input and where. It wraps ErrMalformed
// or ErrUnsupported.
type Error struct {
	// ID is the EventBridge event id or the hook execution id, when the
	// input got that far.
	ID    string
	Field string
	Msg   string
	// Hook is set when the input was a lifecycle hook invocation, which
	// needs an answer rather than an acknowledgement.
	Hook bool
	kind error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.kind.Error())
	if e.ID != "" {
		b.WriteString(" " + e.ID)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.kind }

func malformed(id, field, format string, a ...any) *Error {
	return &Error{ID: id, Field: field, Msg: fmt.Sprintf(format, a...), kind: ErrMalformed}
}

func unsupported(id, field, format string, a ...any) *Error {
	return &Error{ID: id, Field: field, Msg: fmt.Sprintf(format, a...), kind: ErrUnsupported}
}

// Input is one decoded invocation: exactly one of the pointers is set.
type Input struct {
	// Envelope is set for every EventBridge event.
	Envelope *Envelope

	Deployment    *DeploymentState
	ServiceAction *ServiceAction
	Task          *TaskState
	HookState     *HookState
	Alarm         *AlarmState

	// Hook is a lifecycle hook invocation (not an EventBridge event).
	Hook *HookInvocation
}

// ID is the event id or hook execution id.
func (in Input) ID() string {
	if in.Hook != nil {
		return in.Hook.ExecutionID
	}
	if in.Envelope != nil {
		return in.Envelope.ID
	}
	return ""
}

// Kind names the input for logs and metrics.
func (in Input) Kind() string {
	switch {
	case in.Hook != nil:
		return "lifecycle-hook"
	case in.Envelope != nil:
		return in.Envelope.DetailType
	}
	return "unknown"
}

// Envelope is the EventBridge envelope common to every event.
type Envelope struct {
	Version    string
	ID         string
	DetailType string
	Source     string
	Account    string
	Time       time.Time
	Region     string
	Resources  []string
}

type rawEnvelope struct {
	Version    *string         `json:"version"`
	ID         *string         `json:"id"`
	DetailType *string         `json:"detail-type"`
	Source     *string         `json:"source"`
	Account    *string         `json:"account"`
	Time       *string         `json:"time"`
	Region     *string         `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

type rawHook struct {
	ExecutionID      *string         `json:"executionId"`
	LifecycleStage   *string         `json:"lifecycleStage"`
	ResourceArn      *string         `json:"resourceArn"`
	ExecutionDetails *rawExecution   `json:"executionDetails"`
	HookDetails      json.RawMessage `json:"hookDetails"`
}

type rawExecution struct {
	ServiceArn               *string            `json:"serviceArn"`
	TargetServiceRevisionArn *string            `json:"targetServiceRevisionArn"`
	TestTrafficWeights       map[string]float64 `json:"testTrafficWeights"`
	ProductionTrafficWeights map[string]float64 `json:"productionTrafficWeights"`
}

// probe tells the input shapes apart by content.
type probe struct {
	DetailType  json.RawMessage `json:"detail-type"`
	ExecutionID json.RawMessage `json:"executionId"`
}

// Decode decodes one invocation payload. Errors wrap ErrMalformed or
// ErrUnsupported; Decode never panics on any input.
func Decode(data []byte) (Input, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return Input{}, malformed("", "", "want a JSON object")
	}
	var p probe
	if err := json.Unmarshal(data, &p); err != nil {
		return Input{}, malformed("", "", "decode JSON: %v", err)
	}
	switch {
	case p.DetailType != nil:
		return decodeEvent(data)
	case p.ExecutionID != nil:
		h, err := decodeHook(data)
		var e *Error
		if errors.As(err, &e) {
			e.Hook = true
		}
		return Input{Hook: h}, err
	}
	return Input{}, malformed("", "", `neither an EventBridge event ("detail-type") nor a lifecycle hook invocation ("executionId")`)
}

func decodeEvent(data []byte) (Input, error) {
	var r rawEnvelope
	if err := json.Unmarshal(data, &r); err != nil {
		return Input{}, malformed(idOf(data), "", "decode EventBridge envelope: %v", err)
	}
	id := deref(r.ID)
	if id == "" {
		return Input{}, malformed("", "id", "missing event id")
	}
	env := &Envelope{ID: id, Version: deref(r.Version), DetailType: deref(r.DetailType), Source: deref(r.Source),
		Account: deref(r.Account), Region: deref(r.Region), Resources: r.Resources}
	if env.DetailType == "" {
		return Input{}, malformed(id, "detail-type", "missing")
	}
	if env.Source == "" {
		return Input{}, malformed(id, "source", "missing")
	}
	if r.Time == nil {
		return Input{}, malformed(id, "time", "missing")
	}
	t, err := time.Parse(time.RFC3339, *r.Time)
	if err != nil {
		return Input{}, malformed(id, "time", "%q is not an RFC 3339 time", *r.Time)
	}
	env.Time = t
	in := Input{Envelope: env}
	want := map[string]string{TypeDeploymentState: "aws.ecs", TypeServiceAction: "aws.ecs", TypeTaskState: "aws.ecs", TypeHookState: "aws.ecs", TypeAlarmState: "aws.cloudwatch"}
	src, known := want[env.DetailType]
	if !known {
		return in, unsupported(id, "detail-type", "%q is not an event deploywatch handles", env.DetailType)
	}
	if env.Source != src {
		return in, malformed(id, "source", "%q with detail-type %q, want %q", env.Source, env.DetailType, src)
	}
	if len(r.Detail) == 0 || bytes.Equal(r.Detail, []byte("null")) {
		return in, malformed(id, "detail", "missing")
	}
	if r.Detail[0] != '{' {
		return in, malformed(id, "detail", "want a JSON object")
	}
	switch env.DetailType {
	case TypeDeploymentState:
		in.Deployment, err = decodeDeployment(env, r.Detail)
	case TypeServiceAction:
		in.ServiceAction, err = decodeServiceAction(env, r.Detail)
	case TypeTaskState:
		in.Task, err = decodeTask(env, r.Detail)
	case TypeHookState:
		in.HookState, err = decodeHookState(env, r.Detail)
	case TypeAlarmState:
		in.Alarm, err = decodeAlarm(env, r.Detail)
	}
	return in, err
}

// idOf digs the event id out of input that did not decode as a whole, so
// the error can name it.
func idOf(data []byte) string {
	var v struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(data, &v) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(v.ID, &s) != nil {
		return ""
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// detailError turns a json decoding error of a detail object into a
// malformed error naming the field.
func detailError(id string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return malformed(id, "detail."+te.Field, "want %s, got JSON %s", te.Type, te.Value)
	}
	return malformed(id, "detail", "decode: %v", err)
}

// isoTime parses the ISO 8601 times ECS puts in details (with or without
// fractional seconds, which may go to nanoseconds).
func isoTime(id, field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, malformed(id, field, "missing")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, malformed(id, field, "%q is not an ISO 8601 time such as 2026-09-01T10:15:01.118Z", s)
	}
	return t, nil
}
