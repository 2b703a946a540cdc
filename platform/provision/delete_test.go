package provision_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"

	"github.com/shipyard-ecs/shipyard/platform/ledger/ledgertest"
	"github.com/shipyard-ecs/shipyard/platform/provision"
)

// TestDelete deletes a stack with its events as progress, then finds
// nothing to delete the second time, against localcloud's CloudFormation.
// The last events (the stack's DELETE_COMPLETE) arrive even when a read of
// them fails once.
func TestDelete(t *testing.T) {
	cloud := ledgertest.Localcloud(t)
	cfg := ledgertest.Config(cloud.Endpoint)
	cf := cloudformation.NewFromConfig(cfg)
	// Every other read of the events fails, as a throttled or dropped
	// request would: the one right after the stack is gone among them.
	p := &provision.Provisioner{CF: cf, Events: &flakyEvents{cf: cf}, Poll: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	ctx := context.Background()
	s := provision.Stack{Name: "provision-delete-" + strconv.FormatInt(time.Now().UnixNano(), 36), Template: template(30)}
	cs, err := p.Plan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Execute(ctx, cs, nil); err != nil {
		t.Fatal(err)
	}
	var events []string
	existed, err := p.Delete(ctx, s.Name, func(e provision.Event) { events = append(events, e.LogicalID+" "+e.Status) })
	if err != nil || !existed {
		t.Fatalf("Delete(%s) = %v, %v; want true, nil", s.Name, existed, err)
	}
	if got := strings.Join(events, ","); !strings.Contains(got, "Queue DELETE_COMPLETE") || !strings.Contains(got, s.Name+" DELETE_COMPLETE") {
		t.Errorf("Delete events = %v, want Queue and the stack DELETE_COMPLETE", events)
	}
	if _, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(s.Name)}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("DescribeStacks(%s) after Delete: %v, want it not to exist", s.Name, err)
	}
	if existed, err := p.Delete(ctx, s.Name, nil); err != nil || existed {
		t.Errorf("Delete(deleted stack) = %v, %v; want false, nil", existed, err)
	}
}

// flakyEvents fails every other DescribeStackEvents with a throttling
// error and passes the others to cf.
type flakyEvents struct {
	cf    *cloudformation.Client
	calls int
}

func (f *flakyEvents) DescribeStackEvents(ctx context.Context, in *cloudformation.DescribeStackEventsInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStackEventsOutput, error) {
	f.calls++
	if f.calls%2 == 0 {
		return nil, &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
	}
	return f.cf.DescribeStackEvents(ctx, in, optFns...)
}

// TestDeleteReviewInProgress deletes a stack whose first change set never
// ran (ship plan on a new environment): REVIEW_IN_PROGRESS waits for
// nothing, so Delete must not ask the user to wait for it.
func TestDeleteReviewInProgress(t *testing.T) {
	cloud := ledgertest.Localcloud(t)
	cfg := ledgertest.Config(cloud.Endpoint)
	cf := cloudformation.NewFromConfig(cfg)
	p := &provision.Provisioner{CF: cf, Events: cf, Poll: 50 * time.Millisecond}
	ctx := context.Background()
	s := provision.Stack{Name: "provision-review-" + strconv.FormatInt(time.Now().UnixNano(), 36), Template: template(30)}
	if _, err := p.Plan(ctx, s); err != nil {
		t.Fatal(err)
	}
	existed, err := p.Delete(ctx, s.Name, nil)
	if err != nil || !existed {
		t.Fatalf("Delete(%s in REVIEW_IN_PROGRESS) = %v, %v; want true, nil", s.Name, existed, err)
	}
	if _, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(s.Name)}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("DescribeStacks(%s) after Delete: %v, want it not to exist", s.Name, err)
	}
}

// TestDeleteStopped ends the wait of a Delete as Ctrl-C would, once the
// deletion has begun: Delete returns a *StoppedError that unwraps to the
// context's error, and the deletion goes on without the one who waited.
func TestDeleteStopped(t *testing.T) {
	cloud := ledgertest.Localcloud(t)
	cfg := ledgertest.Config(cloud.Endpoint)
	cf := cloudformation.NewFromConfig(cfg)
	p := &provision.Provisioner{CF: cf, Events: cf, Poll: 50 * time.Millisecond}
	s := provision.Stack{Name: "provision-stopped-" + strconv.FormatInt(time.Now().UnixNano(), 36), Template: template(30)}
	cs, err := p.Plan(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Execute(context.Background(), cs, nil); err != nil {
		t.Fatal(err)
	}
	// The first event of the deletion (DELETE_IN_PROGRESS) stops the wait.
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	_, err = p.Delete(ctx, s.Name, func(provision.Event) { interrupt() })
	var stopped *provision.StoppedError
	if !errors.As(err, &stopped) || stopped.Stack != s.Name || !errors.Is(err, context.Canceled) {
		t.Fatalf("Delete(%s) interrupted = %v, want a *StoppedError for the stack unwrapping to context.Canceled", s.Name, err)
	}
	// The deletion went on, with nobody waiting.
	for deadline := time.Now().Add(30 * time.Second); ; {
		if time.Now().After(deadline) {
			t.Fatalf("stack %s still exists 30s after the interrupted Delete", s.Name)
		}
		_, err := cf.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(s.Name)})
		if err != nil && strings.Contains(err.Error(), "does not exist") {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // a poll of the stack's status, as Delete's own
	}
}
