// Package provision creates and updates CloudFormation stacks through
// change sets, as ship up does: Plan makes a change set and reports its
// changes (or ErrNoChanges), Execute runs it and streams the stack's events
// until the stack is done, and Discard drops a change set nobody wants.
//
// The stack's template and parameters come from platform/stack; this layer
// knows nothing of what is in them.
package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

// api is the part of the CloudFormation client provision uses.
type api interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	CreateChangeSet(ctx context.Context, in *cloudformation.CreateChangeSetInput, optFns ...func(*cloudformation.Options)) (*cloudformation.CreateChangeSetOutput, error)
	DescribeChangeSet(ctx context.Context, in *cloudformation.DescribeChangeSetInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeChangeSetOutput, error)
	ExecuteChangeSet(ctx context.Context, in *cloudformation.ExecuteChangeSetInput, optFns ...func(*cloudformation.Options)) (*cloudformation.ExecuteChangeSetOutput, error)
	DeleteChangeSet(ctx context.Context, in *cloudformation.DeleteChangeSetInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DeleteChangeSetOutput, error)
}

// events is the part of the client that reads stack events.
type events interface {
	DescribeStackEvents(ctx context.Context, in *cloudformation.DescribeStackEventsInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStackEventsOutput, error)
}

// ErrNoChanges means the stack already is what the template says.
var ErrNoChanges = errors.New("no changes")

// StoppedError is a wait for a stack that its context ended (a timeout,
// Ctrl-C) before the stack did. Stopping the wait stops nothing in
// CloudFormation: the stack's operation goes on. It unwraps to the
// context's error.
type StoppedError struct {
	Stack string
	// Status is the stack's last status seen, "" before the first look.
	Status types.StackStatus
	Err    error
}

func (e *StoppedError) Error() string {
	status := string(e.Status)
	if status == "" {
		status = "status not seen yet"
	}
	return fmt.Sprintf("stop waiting for stack %s (%s): %v", e.Stack, status, e.Err)
}

func (e *StoppedError) Unwrap() error { return e.Err }

// Stack is what to provision: the renderer's output.
type Stack struct {
	Name       string
	Template   string
	Parameters map[string]string
	Tags       map[string]string
}

// Change is one resource change of a change set.
type Change struct {
	Action      string `json:"action"`
	LogicalID   string `json:"logicalId"`
	Type        string `json:"type"`
	Replacement string `json:"replacement,omitempty"`
}

func (c Change) String() string {
	s := fmt.Sprintf("%-6s %s (%s)", c.Action, c.LogicalID, c.Type)
	if c.Replacement == "True" || c.Replacement == "Conditional" {
		s += " replacement: " + c.Replacement
	}
	return s
}

// ChangeSet is a change set made and ready to run.
type ChangeSet struct {
	ID, Stack string
	// Create is set when the change set creates the stack.
	Create  bool
	Changes []Change
}

// Event is one stack event.
type Event struct {
	At        time.Time
	LogicalID string
	Type      string
	Status    string
	Reason    string
}

func (e Event) String() string {
	s := fmt.Sprintf("%s %s (%s)", e.Status, e.LogicalID, e.Type)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Provisioner runs change sets.
type Provisioner struct {
	CF     api
	Events events
	Logger *slog.Logger
	// Poll is the time between two looks; 0 means 2 s.
	Poll time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (p *Provisioner) poll() time.Duration {
	if p.Poll <= 0 {
		return 2 * time.Second
	}
	return p.Poll
}

func (p *Provisioner) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Provisioner) sleep(ctx context.Context) error {
	t := time.NewTimer(p.poll())
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// status returns the stack's status, or "" when it does not exist.
func (p *Provisioner) status(ctx context.Context, name string) (types.Stack, error) {
	out, err := p.CF.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && strings.Contains(ae.ErrorMessage(), "does not exist") {
			return types.Stack{}, nil
		}
		return types.Stack{}, fmt.Errorf("describe stack %s: %w", name, err)
	}
	if len(out.Stacks) == 0 {
		return types.Stack{}, nil
	}
	return out.Stacks[0], nil
}

// Plan makes a change set for s and waits until it is ready. A stack that
// needs no change gives ErrNoChanges, and the empty change set is deleted.
func (p *Provisioner) Plan(ctx context.Context, s Stack) (*ChangeSet, error) {
	st, err := p.status(ctx, s.Name)
	if err != nil {
		return nil, err
	}
	kind := types.ChangeSetTypeUpdate
	switch st.StackStatus {
	case "", types.StackStatusReviewInProgress:
		kind = types.ChangeSetTypeCreate
	case types.StackStatusRollbackComplete:
		return nil, fmt.Errorf("plan stack %s: its creation failed and rolled back (ROLLBACK_COMPLETE); delete it (ship destroy or the console), then run ship up again", s.Name)
	}
	if strings.HasSuffix(string(st.StackStatus), "_IN_PROGRESS") && kind == types.ChangeSetTypeUpdate {
		return nil, fmt.Errorf("plan stack %s: it is %s; wait for that to finish, then run ship up again", s.Name, st.StackStatus)
	}
	in := &cloudformation.CreateChangeSetInput{
		StackName:     aws.String(s.Name),
		ChangeSetName: aws.String(fmt.Sprintf("ship-%d", p.now().UnixNano())),
		ChangeSetType: kind,
		TemplateBody:  aws.String(s.Template),
		Capabilities:  []types.Capability{types.CapabilityCapabilityIam, types.CapabilityCapabilityNamedIam},
	}
	keys := make([]string, 0, len(s.Parameters))
	for k := range s.Parameters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		in.Parameters = append(in.Parameters, types.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(s.Parameters[k])})
	}
	for k, v := range s.Tags {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := p.CF.CreateChangeSet(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("create a change set for stack %s: %w", s.Name, err)
	}
	cs := &ChangeSet{ID: aws.ToString(out.Id), Stack: s.Name, Create: kind == types.ChangeSetTypeCreate}
	for {
		d, err := p.CF.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: out.Id, StackName: aws.String(s.Name)})
		if err != nil {
			return nil, fmt.Errorf("describe change set of stack %s: %w", s.Name, err)
		}
		switch d.Status {
		case types.ChangeSetStatusCreateComplete:
			for _, c := range d.Changes {
				if rc := c.ResourceChange; rc != nil {
					cs.Changes = append(cs.Changes, Change{Action: string(rc.Action), LogicalID: aws.ToString(rc.LogicalResourceId),
						Type: aws.ToString(rc.ResourceType), Replacement: string(rc.Replacement)})
				}
			}
			return cs, nil
		case types.ChangeSetStatusFailed:
			reason := aws.ToString(d.StatusReason)
			_ = p.Discard(ctx, cs)
			if strings.Contains(reason, "didn't contain changes") || strings.Contains(reason, "No updates") {
				return nil, ErrNoChanges
			}
			return nil, fmt.Errorf("create a change set for stack %s: %s", s.Name, reason)
		}
		if err := p.sleep(ctx); err != nil {
			return nil, err
		}
	}
}

// Discard deletes a change set that will not run.
func (p *Provisioner) Discard(ctx context.Context, cs *ChangeSet) error {
	_, err := p.CF.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{ChangeSetName: aws.String(cs.ID), StackName: aws.String(cs.Stack)})
	if err != nil {
		return fmt.Errorf("delete change set of stack %s: %w", cs.Stack, err)
	}
	return nil
}

// Execute runs the change set and waits for the stack, handing each new
// stack event to progress. A stack that ends anywhere but *_COMPLETE (or
// rolled back) is an error naming the resources that failed and why.
func (p *Provisioner) Execute(ctx context.Context, cs *ChangeSet, progress func(Event)) error {
	since := p.now().Add(-time.Second)
	if _, err := p.CF.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: aws.String(cs.ID), StackName: aws.String(cs.Stack)}); err != nil {
		return fmt.Errorf("execute the change set of stack %s: %w", cs.Stack, err)
	}
	return p.wait(ctx, cs.Stack, cs.Stack, since, progress, "ship up", func(s types.StackStatus) end {
		switch {
		case strings.HasSuffix(string(s), "_IN_PROGRESS"), s == "":
			return waiting
		case s == types.StackStatusCreateComplete || s == types.StackStatusUpdateComplete:
			return succeeded
		}
		return failed
	})
}

// end is what a stack's status means to one waiting for the stack.
type end int

const (
	waiting end = iota
	succeeded
	failed
)

// wait hands the new events of the stack id (named name) since since to
// progress, looking every poll, until endOf says the stack has ended, or
// ctx does (a *StoppedError: the stack goes on). A stack that failed is an
// error naming the resources that failed and why (or else the stack's own
// reason) and telling the user to fix the cause and run the command rerun
// again.
func (p *Provisioner) wait(ctx context.Context, name, id string, since time.Time, progress func(Event), rerun string, endOf func(types.StackStatus) end) error {
	seen := map[string]bool{}
	var failures []string
	// emit hands new events to progress and reports whether it could read
	// them. Events are progress: one read that fails is read on the next
	// look (seen keeps each once); the stack's status decides.
	emit := func() bool {
		evs, err := p.newEvents(ctx, id, since, seen)
		if err != nil && p.Logger != nil {
			p.Logger.Warn("read stack events", "stack", name, "err", err)
		}
		for _, e := range evs {
			if strings.HasSuffix(e.Status, "_FAILED") && e.Reason != "" {
				failures = append(failures, e.LogicalID+": "+e.Reason)
			}
			if progress != nil {
				progress(e)
			}
		}
		return err == nil
	}
	// lastChance reads what happened between the last look and the end.
	// There is no next look to make up for a failed read, so it tries a few
	// times: the last events are the ones a user waits for, and they hold
	// the reasons of a failure.
	lastChance := func() {
		for range 3 {
			if emit() || p.sleep(ctx) != nil {
				return
			}
		}
	}
	var last types.StackStatus
	for {
		emit()
		st, err := p.status(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return &StoppedError{Stack: name, Status: last, Err: ctx.Err()}
			}
			return err
		}
		last = st.StackStatus
		switch endOf(st.StackStatus) {
		case succeeded:
			lastChance()
			return nil
		case failed:
			lastChance()
			if len(failures) == 0 && aws.ToString(st.StackStatusReason) != "" {
				failures = append(failures, aws.ToString(st.StackStatusReason))
			}
			return fmt.Errorf("stack %s ended %s: %s; fix the cause and run %s again", name, st.StackStatus, strings.Join(failures, "; "), rerun)
		}
		if err := p.sleep(ctx); err != nil {
			return &StoppedError{Stack: name, Status: last, Err: err}
		}
	}
}

// newEvents returns the stack's events since a time not seen before,
// oldest first.
func (p *Provisioner) newEvents(ctx context.Context, stack string, since time.Time, seen map[string]bool) ([]Event, error) {
	if p.Events == nil {
		return nil, nil
	}
	out, err := p.Events.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(stack)})
	if err != nil {
		return nil, fmt.Errorf("describe events of stack %s: %w", stack, err)
	}
	var evs []Event
	for _, e := range out.StackEvents {
		id := aws.ToString(e.EventId)
		at := aws.ToTime(e.Timestamp)
		if seen[id] || at.Before(since) {
			continue
		}
		seen[id] = true
		evs = append(evs, Event{At: at, LogicalID: aws.ToString(e.LogicalResourceId), Type: aws.ToString(e.ResourceType),
			Status: string(e.ResourceStatus), Reason: aws.ToString(e.ResourceStatusReason)})
	}
	slices.Reverse(evs) // newest first from the API
	return evs, nil
}
