package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// tasks is the part of the ECS client that finds a revision's tasks.
type tasks interface {
	ListTasks(ctx context.Context, in *ecs.ListTasksInput, optFns ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	DescribeServiceRevisions(ctx context.Context, in *ecs.DescribeServiceRevisionsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceRevisionsOutput, error)
}

// logs is the part of the CloudWatch Logs client that reads a task's log.
type logs interface {
	GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

// TaskLog is the last lines one task wrote.
type TaskLog struct {
	Task   string   `json:"task"`
	Status string   `json:"status"`
	Reason string   `json:"stoppedReason,omitempty"`
	Lines  []string `json:"lines"`
}

// maxTaskLogs bounds how many tasks' logs a failure shows.
const maxTaskLogs = 2

// TargetLogs returns the last n log lines of up to two tasks of service
// revision rev, running or stopped, read from the awslogs stream of the
// task definition's first container.
func (e *Engine) TargetLogs(ctx context.Context, rev string, n int) ([]TaskLog, error) {
	revs, err := e.Tasks.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{rev}})
	if err != nil {
		return nil, fmt.Errorf("describe service revision %s: %w", rev, err)
	}
	if len(revs.ServiceRevisions) == 0 {
		return nil, fmt.Errorf("describe service revision %s: not found", rev)
	}
	td := aws.ToString(revs.ServiceRevisions[0].TaskDefinition)
	def, err := e.Tasks.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(td)})
	if err != nil {
		return nil, fmt.Errorf("describe task definition %s: %w", td, err)
	}
	if def.TaskDefinition == nil || len(def.TaskDefinition.ContainerDefinitions) == 0 {
		return nil, fmt.Errorf("describe task definition %s: it has no container", td)
	}
	c := def.TaskDefinition.ContainerDefinitions[0]
	if c.LogConfiguration == nil || c.LogConfiguration.LogDriver != types.LogDriverAwslogs {
		return nil, nil
	}
	group, prefix := c.LogConfiguration.Options["awslogs-group"], c.LogConfiguration.Options["awslogs-stream-prefix"]
	var arns []string
	for _, status := range []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped} {
		out, err := e.Tasks.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(e.Service.Cluster), ServiceName: aws.String(e.Service.Name), DesiredStatus: status})
		if err != nil {
			return nil, fmt.Errorf("list tasks of %s: %w", e.Service.Name, err)
		}
		arns = append(arns, out.TaskArns...)
	}
	if len(arns) == 0 {
		return nil, nil
	}
	if len(arns) > 100 {
		arns = arns[:100]
	}
	desc, err := e.Tasks.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(e.Service.Cluster), Tasks: arns})
	if err != nil {
		return nil, fmt.Errorf("describe tasks of %s: %w", e.Service.Name, err)
	}
	var out []TaskLog
	for _, t := range desc.Tasks {
		if aws.ToString(t.TaskDefinitionArn) != td || len(out) == maxTaskLogs {
			continue
		}
		arn := aws.ToString(t.TaskArn)
		id := arn[strings.LastIndex(arn, "/")+1:]
		tl := TaskLog{Task: id, Status: aws.ToString(t.LastStatus), Reason: aws.ToString(t.StoppedReason)}
		ev, err := e.Logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
			LogGroupName: aws.String(group), LogStreamName: aws.String(prefix + "/" + aws.ToString(c.Name) + "/" + id),
			Limit: aws.Int32(int32(n)), StartFromHead: aws.Bool(false),
		})
		if err != nil {
			e.log().Debug("read task log", "task", id, "err", err)
		} else {
			for _, l := range ev.Events {
				tl.Lines = append(tl.Lines, strings.TrimRight(aws.ToString(l.Message), "\n"))
			}
		}
		out = append(out, tl)
	}
	return out, nil
}
