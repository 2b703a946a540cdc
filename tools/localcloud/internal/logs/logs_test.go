package logs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/logs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

var ctx = context.Background()

func newEnv(t *testing.T, store state.Store) (*logs.Backend, *cwl.Client) {
	t.Helper()
	b, err := logs.New(logs.Config{Clock: clock.New(1), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, cwl.NewFromConfig(awsprototest.Config(awsprototest.Serve(t, b.Register)))
}

func TestLogs(t *testing.T) {
	t.Parallel()
	store := state.Store{Dir: t.TempDir()}
	b, c := newEnv(t, store)
	group := "/ecs/web"
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatalf("CreateLogGroup: %v", err)
	}
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String(group), RetentionInDays: aws.Int32(7)}); err != nil {
		t.Fatalf("PutRetentionPolicy: %v", err)
	}
	if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("api/web/1")}); err != nil {
		t.Fatalf("CreateLogStream: %v", err)
	}
	now := time.Now()
	// One 30-day-old event first (chronological order), then five current ones.
	events := []types.InputLogEvent{{Timestamp: aws.Int64(now.Add(-30 * 24 * time.Hour).UnixMilli()), Message: aws.String("too old")}}
	for i := range 5 {
		status := 200
		if i%2 == 1 {
			status = 500
		}
		events = append(events, types.InputLogEvent{Timestamp: aws.Int64(now.Add(time.Duration(i) * time.Millisecond).UnixMilli()), Message: aws.String(fmt.Sprintf("request %d status=%d", i, status))})
	}
	put, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("api/web/1"), LogEvents: events})
	if err != nil {
		t.Fatalf("PutLogEvents: %v", err)
	}
	if put.RejectedLogEventsInfo == nil || aws.ToInt32(put.RejectedLogEventsInfo.TooOldLogEventEndIndex) != 0 {
		t.Errorf("RejectedLogEventsInfo = %+v, want the 30-day-old event rejected as too old", put.RejectedLogEventsInfo)
	}
	// In-process writers (task output) create the stream on demand.
	if err := b.Append(ctx, group, "api/web/2", now, "task 2 started"); err != nil {
		t.Fatalf("Append: %v", err)
	}

	got, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("api/web/1"), StartFromHead: aws.Bool(true), Limit: aws.Int32(3)})
	if err != nil {
		t.Fatalf("GetLogEvents: %v", err)
	}
	if len(got.Events) != 3 || aws.ToString(got.Events[0].Message) != "request 0 status=200" {
		t.Fatalf("GetLogEvents(head, 3) = %d events starting %q, want 3 starting request 0", len(got.Events), aws.ToString(got.Events[0].Message))
	}
	more, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("api/web/1"), NextToken: got.NextForwardToken})
	if err != nil || len(more.Events) != 2 {
		t.Fatalf("GetLogEvents(next) = %d events, %v, want the remaining 2", len(more.Events), err)
	}
	end, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("api/web/1"), NextToken: more.NextForwardToken})
	if err != nil || len(end.Events) != 0 || aws.ToString(end.NextForwardToken) != aws.ToString(more.NextForwardToken) {
		t.Errorf("GetLogEvents(at end) = %d events token %s, want none and the same token", len(end.Events), aws.ToString(end.NextForwardToken))
	}

	tests := []struct {
		pattern string
		want    int
	}{
		{"", 6},
		{"status=500", 2},
		{"request -status=500", 3},
		{"?started ?status=500", 3},
		{`"task 2"`, 1},
	}
	for _, tt := range tests {
		out, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(tt.pattern)})
		if err != nil {
			t.Fatalf("FilterLogEvents(%q): %v", tt.pattern, err)
		}
		if len(out.Events) != tt.want {
			t.Errorf("FilterLogEvents(%q) = %d events, want %d", tt.pattern, len(out.Events), tt.want)
		}
	}

	groups, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/ecs/")})
	if err != nil || len(groups.LogGroups) != 1 || aws.ToInt32(groups.LogGroups[0].RetentionInDays) != 7 || aws.ToString(groups.LogGroups[0].LogGroupArn) != "arn:aws:logs:us-east-1:000000000000:log-group:/ecs/web" {
		t.Errorf("DescribeLogGroups = %+v, %v, want /ecs/web with 7-day retention", groups, err)
	}
	streams, err := c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String(group), OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true)})
	if err != nil || len(streams.LogStreams) != 2 || streams.LogStreams[0].LastEventTimestamp == nil {
		t.Errorf("DescribeLogStreams = %+v, %v, want 2 streams with event times", streams, err)
	}

	// State survives a restart.
	b.Close()
	b2, err := logs.New(logs.Config{Clock: clock.New(1), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	evs, err := b2.Events(ctx, group, "api/web/2")
	if err != nil || len(evs) != 1 || evs[0].Message != "task 2 started" {
		t.Errorf("Events after restart = %+v, %v, want the appended event", evs, err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	_, c := newEnv(t, state.Store{})
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	now := aws.Int64(time.Now().UnixMilli())
	tests := []struct {
		name     string
		call     func() error
		wantCode string
		wantType any
	}{
		{"duplicate group", func() error {
			_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("g")})
			return err
		}, "ResourceAlreadyExistsException", new(*types.ResourceAlreadyExistsException)},
		{"bad group name", func() error {
			_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("bad name!")})
			return err
		}, "InvalidParameterException", new(*types.InvalidParameterException)},
		{"bad retention", func() error {
			_, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(2)})
			return err
		}, "InvalidParameterException", new(*types.InvalidParameterException)},
		{"stream in unknown group", func() error {
			_, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("nope"), LogStreamName: aws.String("s")})
			return err
		}, "ResourceNotFoundException", new(*types.ResourceNotFoundException)},
		{"events to unknown stream", func() error {
			_, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: []types.InputLogEvent{{Timestamp: now, Message: aws.String("x")}}})
			return err
		}, "ResourceNotFoundException", new(*types.ResourceNotFoundException)},
		{"events out of order", func() error {
			_, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: []types.InputLogEvent{
				{Timestamp: aws.Int64(*now + 1), Message: aws.String("x")}, {Timestamp: now, Message: aws.String("y")}}})
			return err
		}, "InvalidParameterException", new(*types.InvalidParameterException)},
		{"JSON filter pattern", func() error {
			_, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String(`{ $.status = 500 }`)})
			return err
		}, "InvalidParameterException", new(*types.InvalidParameterException)},
		{"bad token", func() error {
			_, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{NextToken: aws.String("zz")})
			return err
		}, "InvalidParameterException", new(*types.InvalidParameterException)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.wantCode {
				t.Fatalf("error = %v, want %s", err, tt.wantCode)
			}
			if !errors.As(err, tt.wantType) {
				t.Errorf("error %T is not %T", err, tt.wantType)
			}
		})
	}
	groups, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if err != nil || len(groups.LogGroups) != 1 {
		t.Errorf("groups after bad requests = %d, %v, want 1", len(groups.LogGroups), err)
	}
}

// TestRetention runs on a manual clock at scale 0.001: a one-day retention
// keeps 86.4 s of events.
func TestRetention(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := clock.NewManual(start, 0.001)
	b, err := logs.New(logs.Config{Clock: m})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := range 4 {
		if err := b.Append(ctx, "g", "s", start.Add(time.Duration(i)*time.Second), fmt.Sprintf("old %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	m.Advance(2 * time.Minute)
	if err := b.Append(ctx, "g", "s", m.Now(), "new"); err != nil {
		t.Fatal(err)
	}
	c := cwl.NewFromConfig(awsprototest.Config(awsprototest.Serve(t, b.Register)))
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	evs, err := b.Events(ctx, "g", "s")
	if err != nil || len(evs) != 1 || evs[0].Message != "new" {
		t.Errorf("events after a one-day (86.4 s scaled) retention = %+v, %v, want only the new one", evs, err)
	}
}
