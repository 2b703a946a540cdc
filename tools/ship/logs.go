package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"

	"github.com/shipyard-ecs/shipyard/platform/stack"
)

type logsFlags struct {
	env, output, revision string
	follow                bool
	since                 time.Duration
}

func (a *app) logsCommand() *cobra.Command {
	var f logsFlags
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Show the app's logs from CloudWatch Logs, merged across its tasks in time order",
		Long: `logs reads the app's log group (/ecs/<app>-<env>, the awslogs driver's
destination) and prints every task's lines merged in time order, each prefixed
by its time, revision (task definition revision) and short task id:

  20:31:02.123 r3/1a2b3c4d {"level":"INFO","msg":"request",...}

--revision keeps the lines of one revision's tasks, running or stopped: ship
asks ECS which task definition each task ran; for tasks ECS no longer knows
(stopped over an hour ago) it reads the revision the app logs when it starts.

-f follows: it polls for new lines until Ctrl-C, which ends it with exit 0.`,
		Example: `  ship logs                        # the last 10 minutes, local environment
  ship logs -f                     # follow
  ship logs --env production --since 1h --revision 42
  ship logs --output json | jq -r 'select(.message | contains("ERROR")) | .message'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.logs(cmd.Context(), f)
		},
	}
	a.envFlag(cmd, &f.env, localEnv)
	cmd.Flags().BoolVarP(&f.follow, "follow", "f", false, "keep printing new lines until Ctrl-C")
	cmd.Flags().StringVar(&f.revision, "revision", "", "only the tasks of this task definition `revision` (N, family:N or an ARN)")
	cmd.Flags().DurationVar(&f.since, "since", 10*time.Minute, "start this long ago")
	cmd.Flags().StringVarP(&f.output, "output", "o", outputText, "format: text or json (one object a line)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{outputText, outputJSON}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// logLine is one line of ship logs.
type logLine struct {
	Time           time.Time `json:"time"`
	Task           string    `json:"task"`
	Revision       string    `json:"revision"`
	TaskDefinition string    `json:"taskDefinition,omitempty"`
	Stream         string    `json:"stream"`
	Message        string    `json:"message"`
	id             string
}

// logsAPI is the part of the CloudWatch Logs client ship logs uses.
type logsAPI interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
	GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

// taskAPI is the part of the ECS client that says which task definition a
// task ran.
type taskAPI interface {
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
}

// logReader reads the app's log group and knows each stream's revision.
type logReader struct {
	logs    logsAPI
	tasks   taskAPI
	cluster string
	group   string
	// prefix is the streams' prefix, <awslogs-stream-prefix>/<container>/;
	// the task id follows it.
	prefix string
	// revisions maps a task id to its task definition (family:revision),
	// "" when neither ECS nor the stream says.
	revisions map[string]string
	logger    interface{ Debug(string, ...any) }
}

// fetch returns the group's events from start on, oldest first.
func (r *logReader) fetch(ctx context.Context, start time.Time) ([]logLine, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(r.group), StartTime: aws.Int64(start.UnixMilli())}
	if r.prefix != "" {
		in.LogStreamNamePrefix = aws.String(r.prefix)
	}
	var lines []logLine
	for {
		out, err := r.logs.FilterLogEvents(ctx, in)
		if err != nil {
			var nf *cwltypes.ResourceNotFoundException
			if errors.As(err, &nf) {
				return nil, usagef("log group %s does not exist; run ship up to create the environment", r.group)
			}
			return nil, fmt.Errorf("read log group %s: %w", r.group, err)
		}
		for _, e := range out.Events {
			stream := aws.ToString(e.LogStreamName)
			lines = append(lines, logLine{
				Time: time.UnixMilli(aws.ToInt64(e.Timestamp)), Task: stream[strings.LastIndex(stream, "/")+1:], Stream: stream,
				Message: strings.TrimRight(aws.ToString(e.Message), "\n"), id: aws.ToString(e.EventId),
			})
		}
		if out.NextToken == nil || aws.ToString(out.NextToken) == aws.ToString(in.NextToken) {
			break
		}
		in.NextToken = out.NextToken
	}
	// Merged in time order; within one millisecond, each stream's own order.
	slices.SortStableFunc(lines, func(a, b logLine) int { return a.Time.Compare(b.Time) })
	if err := r.resolve(ctx, lines); err != nil {
		return nil, err
	}
	for i := range lines {
		lines[i].TaskDefinition = r.revisions[lines[i].Task]
		lines[i].Revision = logRevision(lines[i].TaskDefinition)
	}
	return lines, nil
}

// resolve learns the task definition of every task in lines not known yet:
// from ECS, which describes running tasks and those stopped within about an
// hour, else from the stream's first lines, where the app logs its family
// and revision when it starts.
func (r *logReader) resolve(ctx context.Context, lines []logLine) error {
	var unknown []string
	streams := map[string]string{}
	for _, l := range lines {
		if _, ok := r.revisions[l.Task]; !ok && streams[l.Task] == "" {
			unknown = append(unknown, l.Task)
			streams[l.Task] = l.Stream
		}
	}
	for batch := range slices.Chunk(unknown, 100) {
		out, err := r.tasks.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(r.cluster), Tasks: batch})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			// The lines matter more than their revisions: read the
			// streams' heads instead.
			r.logger.Debug("describe the tasks of a log group", "group", r.group, "err", err)
			continue
		}
		for _, t := range out.Tasks {
			arn := aws.ToString(t.TaskArn)
			r.revisions[arn[strings.LastIndex(arn, "/")+1:]] = family(aws.ToString(t.TaskDefinitionArn))
		}
	}
	for _, id := range unknown {
		if _, ok := r.revisions[id]; ok {
			continue
		}
		r.revisions[id] = r.startedAs(ctx, streams[id])
	}
	return nil
}

// startedAs finds family:revision in a stream's first lines: a JSON line
// with "family" and "revision", as the app logs when it starts on ECS.
func (r *logReader) startedAs(ctx context.Context, stream string) string {
	out, err := r.logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String(r.group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true), Limit: aws.Int32(20),
	})
	if err != nil {
		r.logger.Debug("read the head of a log stream", "stream", stream, "err", err)
		return ""
	}
	for _, e := range out.Events {
		var m struct {
			Family   string `json:"family"`
			Revision string `json:"revision"`
		}
		if json.Unmarshal([]byte(aws.ToString(e.Message)), &m) == nil && m.Family != "" && m.Revision != "" {
			return m.Family + ":" + m.Revision
		}
	}
	return ""
}

// logRevision is the revision number of family:revision, "?" when unknown.
func logRevision(td string) string {
	if i := strings.LastIndexByte(td, ':'); i >= 0 {
		return td[i+1:]
	}
	return "?"
}

// parseRevision turns --revision (N, family:N or a task definition ARN)
// into family:N, N being of the app's family. The patterns are ship
// rollback's --to.
func parseRevision(s, appFamily string) (string, error) {
	switch {
	case s == "":
		return "", nil
	case revisionNumber.MatchString(s):
		return appFamily + ":" + strings.TrimLeft(s, "0"), nil
	case strings.HasPrefix(s, "arn:") && strings.Contains(s, ":task-definition/") && familyRevision.MatchString(family(s)):
		return family(s), nil
	case familyRevision.MatchString(s):
		return s, nil
	}
	return "", usagef("--revision %q: want a task definition revision: N, family:N or a task definition ARN (ship status shows the running one)", s)
}

// logFormat prints lines as text or JSON.
type logFormat struct {
	w    io.Writer
	json bool
	// layout of the time: with the date when the lines span days.
	layout string
}

func (p logFormat) print(l logLine) {
	if p.json {
		b, err := json.Marshal(l)
		if err == nil {
			fmt.Fprintf(p.w, "%s\n", b)
		}
		return
	}
	task := l.Task
	if len(task) > 8 {
		task = task[:8]
	}
	fmt.Fprintf(p.w, "%s r%s/%s %s\n", l.Time.Local().Format(p.layout), l.Revision, task, l.Message)
}

// followOverlap is how far back each look of -f reaches before the newest
// line seen: CloudWatch may take in a line some seconds after its
// timestamp, and event ids keep the overlap from printing anything twice.
const followOverlap = 15 * time.Second

func (a *app) logs(ctx context.Context, f logsFlags) error {
	if f.output != outputText && f.output != outputJSON {
		return usagef("--output %q: want text or json", f.output)
	}
	if f.since <= 0 {
		return usagef("--since %s: want a positive duration such as 10m or 2h", f.since)
	}
	t, err := a.target(ctx, f.env)
	if err != nil {
		return err
	}
	only, err := parseRevision(f.revision, t.spec.Prefix())
	if err != nil {
		return err
	}
	group, err := t.outputs.Get(stack.OutputAppLogGroup)
	if err != nil {
		return usageError{err}
	}
	ecsc := ecs.NewFromConfig(t.cfg)
	r := &logReader{logs: cloudwatchlogs.NewFromConfig(t.cfg), tasks: ecsc, cluster: t.engine.Service.Cluster, group: group,
		revisions: map[string]string{}, logger: a.logger}
	// The streams are <awslogs-stream-prefix>/<container>/<task id>, as the
	// running task definition says; without a service, every stream.
	if g, prefix, ok := a.awslogs(ctx, t); ok {
		r.group, r.prefix = g, prefix
	}
	out := logFormat{w: a.stdout, json: f.output == outputJSON, layout: "15:04:05.000"}
	if f.since >= 24*time.Hour {
		out.layout = "2006-01-02 15:04:05.000"
	}
	unknown := map[string]bool{}
	shown := 0
	show := func(l logLine) {
		if only != "" && l.TaskDefinition != only {
			if l.TaskDefinition == "" && !unknown[l.Task] {
				unknown[l.Task] = true
				a.logger.Warn("left out the lines of a task whose revision neither ECS nor its log says", "task", l.Task)
			}
			return
		}
		out.print(l)
		shown++
	}
	start := time.Now().Add(-f.since)
	lines, err := r.fetch(ctx, start)
	if err != nil {
		return err
	}
	for _, l := range lines {
		show(l)
	}
	if shown == 0 && !f.follow {
		what := "the app's tasks"
		if only != "" {
			what = "tasks of " + only
		}
		fmt.Fprintf(a.stderr, "no log lines of %s in the last %s; --since reaches further back, ship status shows the running revision\n", what, f.since)
	}
	if !f.follow {
		return nil
	}
	poll := a.poll
	if poll <= 0 {
		poll = time.Second
		if t.local != nil {
			poll = 250 * time.Millisecond
		}
	}
	// seen holds the ids of the lines printed within the overlap.
	seen := map[string]time.Time{}
	last := start
	remember := func(ls []logLine) {
		for _, l := range ls {
			seen[l.id] = l.Time
			if l.Time.After(last) {
				last = l.Time
			}
		}
		for id, at := range seen {
			if at.Before(last.Add(-followOverlap)) {
				delete(seen, id)
			}
		}
	}
	remember(lines)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil // Ctrl-C ends following; that is how -f is meant to end
		case <-tick.C:
		}
		from := last.Add(-followOverlap)
		if from.Before(start) {
			from = start
		}
		lines, err := r.fetch(ctx, from)
		if ctx.Err() != nil {
			return nil
		}
		var usage usageError
		if errors.As(err, &usage) {
			return err
		}
		if err != nil {
			// Throttling or a network blip: the next look reads from the
			// same point, so nothing is lost.
			a.logger.Warn("read the logs; trying again", "err", err)
			continue
		}
		lines = slices.DeleteFunc(lines, func(l logLine) bool { _, ok := seen[l.id]; return ok })
		for _, l := range lines {
			show(l)
		}
		remember(lines)
	}
}

// awslogs reads the running task definition's awslogs group and the
// streams' prefix.
func (a *app) awslogs(ctx context.Context, t *target) (string, string, bool) {
	e := t.engine
	svcs, err := e.Reader.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(e.Service.Cluster), Services: []string{e.Service.Name}})
	if err != nil || len(svcs.Services) == 0 {
		a.logger.Debug("no service to read the log configuration of; reading every stream", "err", err)
		return "", "", false
	}
	td, err := e.Tasks.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: svcs.Services[0].TaskDefinition})
	if err != nil || td.TaskDefinition == nil || len(td.TaskDefinition.ContainerDefinitions) == 0 {
		a.logger.Debug("no task definition to read the log configuration of; reading every stream", "err", err)
		return "", "", false
	}
	c := td.TaskDefinition.ContainerDefinitions[0]
	lc := c.LogConfiguration
	if lc == nil || lc.LogDriver != ecstypes.LogDriverAwslogs || lc.Options["awslogs-group"] == "" {
		return "", "", false
	}
	prefix := ""
	if p := lc.Options["awslogs-stream-prefix"]; p != "" {
		prefix = p + "/" + aws.ToString(c.Name) + "/"
	}
	return lc.Options["awslogs-group"], prefix, true
}
