package ecs

import (
	"context"
	"slices"
	"sort"
	"strings"
)

func taskID(s string) string {
	if strings.HasPrefix(s, "arn:") {
		return s[strings.LastIndex(s, "/")+1:]
	}
	return s
}

type listTasksIn struct {
	Cluster       string `json:"cluster"`
	ServiceName   string `json:"serviceName"`
	Family        string `json:"family"`
	StartedBy     string `json:"startedBy"`
	DesiredStatus string `json:"desiredStatus"`
	LaunchType    string `json:"launchType"`
	MaxResults    *int32 `json:"maxResults"`
	NextToken     string `json:"nextToken"`
}

func (b *Backend) apiListTasks(_ context.Context, in *listTasksIn) (any, error) {
	c, err := b.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	desired := in.DesiredStatus
	switch desired {
	case "":
		desired = "RUNNING"
	case "RUNNING", "PENDING", "STOPPED":
	default:
		return nil, invalidParam("desiredStatus must be RUNNING, PENDING or STOPPED.")
	}
	svc := ""
	if in.ServiceName != "" {
		s, ok := b.st.Services[serviceKey(c.ClusterName, in.ServiceName)]
		if !ok {
			return nil, serviceNotFound()
		}
		svc = s.key()
	}
	type entry struct {
		arn string
		at  int64
	}
	var all []entry
	for _, t := range b.st.Tasks {
		if t.Cluster != c.ClusterName || (svc != "" && t.ServiceID != svc) || (in.Family != "" && t.Family != in.Family) ||
			(in.StartedBy != "" && t.StartedBy != in.StartedBy) || (in.LaunchType != "" && t.LaunchType != in.LaunchType) {
			continue
		}
		switch desired {
		case "RUNNING":
			if t.DesiredStatus != "RUNNING" {
				continue
			}
		case "PENDING":
			if t.DesiredStatus != "RUNNING" || t.LastStatus == "RUNNING" {
				continue
			}
		case "STOPPED":
			if t.DesiredStatus != "STOPPED" {
				continue
			}
		}
		all = append(all, entry{t.TaskArn, t.CreatedAt.UnixNano()})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].at != all[j].at {
			return all[i].at < all[j].at
		}
		return all[i].arn < all[j].arn
	})
	arns := make([]string, len(all))
	for i, e := range all {
		arns[i] = e.arn
	}
	page, next, err := paginate(arns, in.MaxResults, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	return map[string]any{"taskArns": page, "nextToken": next}, nil
}

type describeTasksIn struct {
	Cluster string   `json:"cluster"`
	Tasks   []string `json:"tasks"`
	Include []string `json:"include"`
}

func (b *Backend) taskView(t *taskRec, tags bool) Task {
	out := t.Task
	out.Tags = nil
	if tags {
		out.Tags = b.st.Tags[t.TaskArn]
	}
	return out
}

func (b *Backend) apiDescribeTasks(_ context.Context, in *describeTasksIn) (any, error) {
	if in.Tasks == nil {
		return nil, required("tasks")
	}
	if len(in.Tasks) == 0 || len(in.Tasks) > 100 {
		return nil, invalidParam("Tasks cannot be empty and can have at most 100 items.")
	}
	c, err := b.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	out := []Task{}
	fails := []failure{}
	for _, ref := range in.Tasks {
		t, ok := b.st.Tasks[taskID(ref)]
		if !ok || t.Cluster != c.ClusterName {
			arn := ref
			if !strings.HasPrefix(ref, "arn:") {
				arn = b.arn("task/" + c.ClusterName + "/" + ref)
			}
			fails = append(fails, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out = append(out, b.taskView(t, slices.Contains(in.Include, "TAGS")))
	}
	return map[string]any{"tasks": out, "failures": fails}, nil
}

type stopTaskIn struct {
	Cluster string  `json:"cluster"`
	Task    *string `json:"task"`
	Reason  string  `json:"reason"`
}

func (b *Backend) apiStopTask(ctx context.Context, in *stopTaskIn) (any, error) {
	if in.Task == nil {
		return nil, required("task")
	}
	c, err := b.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Reason) > 1024 {
		return nil, invalidParam("reason can be at most 1024 characters.")
	}
	t, ok := b.st.Tasks[taskID(*in.Task)]
	if !ok || t.Cluster != c.ClusterName {
		return nil, invalidParam("The referenced task was not found.")
	}
	reason := in.Reason
	if reason == "" {
		reason = "Task stopped by user"
	}
	if t.LastStatus != "STOPPED" && t.DesiredStatus != "STOPPED" {
		b.beginStop(ctx, t, reason, "UserInitiated")
		b.poke()
	}
	return map[string]any{"task": b.taskView(t, false)}, nil
}
