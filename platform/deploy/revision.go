package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Running is the task definition the service runs: its ARN and the input
// that would register it again, tags included.
func (e *Engine) Running(ctx context.Context) (string, *ecs.RegisterTaskDefinitionInput, error) {
	svc, err := e.describeService(ctx)
	if err != nil {
		return "", nil, err
	}
	arn := aws.ToString(svc.TaskDefinition)
	out, err := e.Tasks.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if err != nil {
		return arn, nil, fmt.Errorf("describe the running task definition %s: %w", arn, err)
	}
	return arn, RegisterInput(out.TaskDefinition, out.Tags), nil
}

// RegisterInput is the input that registers task definition td again, with
// tags: everything a revision is, nothing ECS adds (ARN, revision, status,
// registration time, attributes).
func RegisterInput(td *types.TaskDefinition, tags []types.Tag) *ecs.RegisterTaskDefinitionInput {
	if td == nil {
		return &ecs.RegisterTaskDefinitionInput{Tags: tags}
	}
	return &ecs.RegisterTaskDefinitionInput{
		Family:                        td.Family,
		ContainerDefinitions:          td.ContainerDefinitions,
		Cpu:                           td.Cpu,
		Memory:                        td.Memory,
		NetworkMode:                   td.NetworkMode,
		RequiresCompatibilities:       td.RequiresCompatibilities,
		ExecutionRoleArn:              td.ExecutionRoleArn,
		TaskRoleArn:                   td.TaskRoleArn,
		RuntimePlatform:               td.RuntimePlatform,
		Volumes:                       td.Volumes,
		PlacementConstraints:          td.PlacementConstraints,
		EphemeralStorage:              td.EphemeralStorage,
		PidMode:                       td.PidMode,
		IpcMode:                       td.IpcMode,
		ProxyConfiguration:            td.ProxyConfiguration,
		EnableFaultInjection:          td.EnableFaultInjection,
		TrustedExecutionConfiguration: td.TrustedExecutionConfiguration,
		Tags:                          tags,
	}
}

// SameTaskDefinition reports whether a and b register the same task
// definition — image digests, environment, roles, sizes, health check,
// tags, everything — as ECS keeps it: a field left out and its zero value
// are alike, environment variables and tags are a set, ECS's own aws:
// tags do not count, and under awsvpc a host port is the container port.
func SameTaskDefinition(a, b *ecs.RegisterTaskDefinitionInput) bool {
	na, errA := normalized(a)
	nb, errB := normalized(b)
	return errA == nil && errB == nil && reflect.DeepEqual(na, nb)
}

// normalized is a register input as generic JSON with the differences
// that mean nothing taken out.
func normalized(in *ecs.RegisterTaskDefinitionInput) (any, error) {
	if in == nil {
		return nil, nil
	}
	c := *in
	c.Tags = slices.DeleteFunc(slices.Clone(c.Tags), func(t types.Tag) bool { return strings.HasPrefix(aws.ToString(t.Key), "aws:") })
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return prune(v), nil
}

// prune drops zero values (null, false, 0, "", empty lists and objects),
// sorts the lists whose order carries no meaning (environment, secrets,
// tags) and drops a host port equal to its container port.
func prune(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if x = prune(x); x != nil {
				out[k] = x
			}
		}
		if hp, ok := out["HostPort"]; ok && hp == out["ContainerPort"] {
			delete(out, "HostPort")
		}
		for _, k := range []string{"Environment", "Secrets", "Tags"} {
			if l, ok := out[k].([]any); ok {
				slices.SortFunc(l, func(x, y any) int { return strings.Compare(sortKey(x), sortKey(y)) })
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		var out []any
		for _, x := range v {
			if x = prune(x); x != nil {
				out = append(out, x)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case bool:
		if !v {
			return nil
		}
	case float64:
		if v == 0 {
			return nil
		}
	case string:
		if v == "" {
			return nil
		}
	}
	return v
}

// sortKey orders a name/value pair or a tag by its name or key.
func sortKey(v any) string {
	m, _ := v.(map[string]any)
	if k, ok := m["Name"].(string); ok {
		return k
	}
	k, _ := m["Key"].(string)
	return k
}
