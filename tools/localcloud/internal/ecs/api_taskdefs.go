package ecs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// taskDef resolves family, family:revision or an ARN. A bare family means
// its latest ACTIVE revision.
func (b *Backend) taskDef(ref string) (*taskDefRec, bool) {
	if i := strings.Index(ref, ":task-definition/"); strings.HasPrefix(ref, "arn:") && i >= 0 {
		ref = ref[i+len(":task-definition/"):]
	}
	family, rev, hasRev := strings.Cut(ref, ":")
	revs := b.st.TaskDefs[family]
	if !hasRev {
		for i := len(revs) - 1; i >= 0; i-- {
			if revs[i].Status == "ACTIVE" {
				return revs[i], true
			}
		}
		return nil, false
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 || n > len(revs) {
		return nil, false
	}
	return revs[n-1], true
}

// cpuUnits reads a task-level cpu value: "256" or "0.25 vCPU".
func cpuUnits(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if v, ok := strings.CutSuffix(strings.ToLower(s), "vcpu"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return int(math.Round(f * 1024)), err == nil
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// memoryMiB reads a task-level memory value: "512" or "0.5GB".
func memoryMiB(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if v, ok := strings.CutSuffix(strings.ToLower(s), "gb"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return int(math.Round(f * 1024)), err == nil
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// fargateFits reports whether cpu/memory is a Fargate size.
func fargateFits(cpu, mem int) bool {
	gb := func(lo, hi, step int) bool { return mem >= lo*1024 && mem <= hi*1024 && mem%(step*1024) == 0 }
	switch cpu {
	case 256:
		return mem == 512 || mem == 1024 || mem == 2048
	case 512:
		return gb(1, 4, 1)
	case 1024:
		return gb(2, 8, 1)
	case 2048:
		return gb(4, 16, 1)
	case 4096:
		return gb(8, 30, 1)
	case 8192:
		return gb(16, 60, 4)
	case 16384:
		return gb(32, 120, 8)
	}
	return false
}

type registerTaskDefinitionIn struct {
	Family                  *string               `json:"family"`
	ContainerDefinitions    []ContainerDefinition `json:"containerDefinitions"`
	CPU                     string                `json:"cpu"`
	Memory                  string                `json:"memory"`
	NetworkMode             string                `json:"networkMode"`
	RequiresCompatibilities []string              `json:"requiresCompatibilities"`
	ExecutionRoleArn        string                `json:"executionRoleArn"`
	TaskRoleArn             string                `json:"taskRoleArn"`
	RuntimePlatform         json.RawMessage       `json:"runtimePlatform"`
	Volumes                 json.RawMessage       `json:"volumes"`
	PlacementConstraints    json.RawMessage       `json:"placementConstraints"`
	EphemeralStorage        json.RawMessage       `json:"ephemeralStorage"`
	Tags                    []Tag                 `json:"tags"`
}

func clientErr(format string, args ...any) error { return apiErr(CodeClient, format, args...) }

func (b *Backend) apiRegisterTaskDefinition(_ context.Context, in *registerTaskDefinitionIn) (any, error) {
	if in.Family == nil {
		return nil, required("family")
	}
	if in.ContainerDefinitions == nil {
		return nil, required("containerDefinitions")
	}
	family := *in.Family
	if !namePattern.MatchString(family) {
		return nil, clientErr("Family contains invalid characters.")
	}
	if len(in.ContainerDefinitions) == 0 {
		return nil, clientErr("Container list cannot be empty.")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	switch in.NetworkMode {
	case "", "bridge", "host", "awsvpc", "none":
	default:
		return nil, invalidParam("networkMode must be one of bridge, host, awsvpc, none.")
	}
	fargate := slices.Contains(in.RequiresCompatibilities, "FARGATE")
	for _, c := range in.RequiresCompatibilities {
		if c != "EC2" && c != "FARGATE" && c != "EXTERNAL" && c != "MANAGED_INSTANCES" {
			return nil, invalidParam("requiresCompatibilities must be EC2, FARGATE, EXTERNAL or MANAGED_INSTANCES.")
		}
	}
	names := map[string]bool{}
	for i, c := range in.ContainerDefinitions {
		if c.Name == "" {
			return nil, clientErr("Container.name should not be null or empty.")
		}
		if names[c.Name] {
			return nil, clientErr("Duplicate container name: %s.", c.Name)
		}
		names[c.Name] = true
		if c.Image == "" {
			return nil, clientErr("Container.image should not be null or empty.")
		}
		for _, pm := range c.PortMappings {
			if pm.ContainerPort == nil || *pm.ContainerPort < 0 || *pm.ContainerPort > 65535 {
				return nil, clientErr("Invalid containerPort in port mappings of container %s.", c.Name)
			}
			if in.NetworkMode == "awsvpc" && pm.HostPort != nil && *pm.HostPort != *pm.ContainerPort {
				return nil, clientErr("When networkMode=awsvpc, the host ports and container ports in port mappings must match.")
			}
		}
		if lc := c.LogConfiguration; lc != nil && lc.LogDriver == "awslogs" {
			if fargate && in.ExecutionRoleArn == "" {
				return nil, clientErr("Fargate requires task definition to have execution role ARN to support log driver awslogs.")
			}
			if lc.Options["awslogs-group"] == "" || (fargate && lc.Options["awslogs-stream-prefix"] == "") {
				return nil, clientErr("Log driver awslogs requires options awslogs-group and, on Fargate, awslogs-stream-prefix.")
			}
		}
		if c.Essential == nil {
			t := true
			in.ContainerDefinitions[i].Essential = &t
		}
		if in.ContainerDefinitions[i].PortMappings == nil {
			in.ContainerDefinitions[i].PortMappings = []PortMapping{}
		}
		for j, pm := range in.ContainerDefinitions[i].PortMappings {
			if pm.Protocol == "" {
				in.ContainerDefinitions[i].PortMappings[j].Protocol = "tcp"
			}
			if in.NetworkMode == "awsvpc" && pm.HostPort == nil {
				in.ContainerDefinitions[i].PortMappings[j].HostPort = pm.ContainerPort
			}
		}
		if in.ContainerDefinitions[i].Environment == nil {
			in.ContainerDefinitions[i].Environment = []KeyValuePair{}
		}
	}
	if fargate {
		if in.NetworkMode != "awsvpc" {
			return nil, clientErr("Fargate only supports network mode 'awsvpc'.")
		}
		if in.CPU == "" {
			return nil, clientErr("Fargate requires that 'cpu' be defined at the task level.")
		}
		if in.Memory == "" {
			return nil, clientErr("Fargate requires that 'memory' be defined at the task level.")
		}
	}
	var cpu, mem int
	if in.CPU != "" {
		var ok bool
		if cpu, ok = cpuUnits(in.CPU); !ok || cpu <= 0 {
			return nil, clientErr("Invalid 'cpu' setting for task.")
		}
	}
	if in.Memory != "" {
		var ok bool
		if mem, ok = memoryMiB(in.Memory); !ok || mem <= 0 {
			return nil, clientErr("Invalid 'memory' setting for task.")
		}
	}
	if fargate && !fargateFits(cpu, mem) {
		return nil, clientErr("No Fargate configuration exists for given values: %d CPU, %d memory. See the Amazon ECS documentation for the valid combinations.", cpu, mem)
	}
	revs := b.st.TaskDefs[family]
	rev := int32(len(revs) + 1)
	td := &taskDefRec{TaskDefinition: TaskDefinition{
		TaskDefinitionArn: b.arn(fmt.Sprintf("task-definition/%s:%d", family, rev)), Family: family, Revision: rev,
		Status: "ACTIVE", ContainerDefinitions: in.ContainerDefinitions, NetworkMode: in.NetworkMode,
		RequiresCompatibilities: in.RequiresCompatibilities, Compatibilities: []string{"EC2"},
		ExecutionRoleArn: in.ExecutionRoleArn, TaskRoleArn: in.TaskRoleArn, RuntimePlatform: in.RuntimePlatform,
		Volumes: in.Volumes, PlacementConstraints: in.PlacementConstraints, EphemeralStorage: in.EphemeralStorage,
		RegisteredAt: b.now(), RegisteredBy: "arn:aws:iam::" + b.cfg.Account + ":root",
	}}
	if cpu > 0 {
		td.CPU = strconv.Itoa(cpu)
	}
	if mem > 0 {
		td.Memory = strconv.Itoa(mem)
	}
	if in.NetworkMode == "awsvpc" {
		td.Compatibilities = []string{"EC2", "FARGATE"}
		td.RequiresAttributes = []map[string]string{{"name": "ecs.capability.task-eni"}}
	}
	if td.Volumes == nil {
		td.Volumes = json.RawMessage("[]")
	}
	if td.PlacementConstraints == nil {
		td.PlacementConstraints = json.RawMessage("[]")
	}
	for i := range td.ContainerDefinitions {
		c := &td.ContainerDefinitions[i]
		if c.MountPoints == nil {
			c.MountPoints = json.RawMessage("[]")
		}
		if c.VolumesFrom == nil {
			c.VolumesFrom = json.RawMessage("[]")
		}
	}
	b.st.TaskDefs[family] = append(revs, td)
	if len(in.Tags) > 0 {
		b.st.Tags[td.TaskDefinitionArn] = in.Tags
	}
	b.dirty = true
	b.log.Info("task definition registered", "taskDefinition", fmt.Sprintf("%s:%d", family, rev))
	return map[string]any{"taskDefinition": td.TaskDefinition, "tags": nonNilTags(in.Tags)}, nil
}

func nonNilTags(t []Tag) []Tag {
	if t == nil {
		return []Tag{}
	}
	return t
}

type describeTaskDefinitionIn struct {
	TaskDefinition *string  `json:"taskDefinition"`
	Include        []string `json:"include"`
}

func (b *Backend) apiDescribeTaskDefinition(_ context.Context, in *describeTaskDefinitionIn) (any, error) {
	if in.TaskDefinition == nil {
		return nil, required("taskDefinition")
	}
	td, ok := b.taskDef(*in.TaskDefinition)
	if !ok {
		return nil, clientErr("Unable to describe task definition.")
	}
	out := map[string]any{"taskDefinition": td.TaskDefinition}
	if slices.Contains(in.Include, "TAGS") {
		out["tags"] = nonNilTags(b.st.Tags[td.TaskDefinitionArn])
	}
	return out, nil
}

type listTaskDefinitionsIn struct {
	FamilyPrefix string `json:"familyPrefix"`
	Status       string `json:"status"`
	Sort         string `json:"sort"`
	MaxResults   *int32 `json:"maxResults"`
	NextToken    string `json:"nextToken"`
}

func (b *Backend) apiListTaskDefinitions(_ context.Context, in *listTaskDefinitionsIn) (any, error) {
	status := in.Status
	if status == "" {
		status = "ACTIVE"
	}
	if status != "ACTIVE" && status != "INACTIVE" && status != "DELETE_IN_PROGRESS" {
		return nil, invalidParam("status must be ACTIVE, INACTIVE or DELETE_IN_PROGRESS.")
	}
	if in.Sort != "" && in.Sort != "ASC" && in.Sort != "DESC" {
		return nil, invalidParam("sort must be ASC or DESC.")
	}
	type entry struct {
		family string
		rev    int32
		arn    string
	}
	var all []entry
	for fam, revs := range b.st.TaskDefs {
		if in.FamilyPrefix != "" && !strings.HasPrefix(fam, in.FamilyPrefix) {
			continue
		}
		for _, td := range revs {
			if td.Status == status {
				all = append(all, entry{fam, td.Revision, td.TaskDefinitionArn})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].family != all[j].family {
			return all[i].family < all[j].family
		}
		return all[i].rev < all[j].rev
	})
	if in.Sort == "DESC" {
		slices.Reverse(all)
	}
	arns := make([]string, len(all))
	for i, e := range all {
		arns[i] = e.arn
	}
	page, next, err := paginate(arns, in.MaxResults, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	return map[string]any{"taskDefinitionArns": page, "nextToken": next}, nil
}

func (b *Backend) apiDeregisterTaskDefinition(_ context.Context, in *describeTaskDefinitionIn) (any, error) {
	if in.TaskDefinition == nil {
		return nil, required("taskDefinition")
	}
	if !strings.Contains(*in.TaskDefinition, ":") {
		return nil, clientErr("The specified task definition identifier is invalid. Specify a valid name or ARN and revision number.")
	}
	td, ok := b.taskDef(*in.TaskDefinition)
	if !ok {
		return nil, clientErr("The specified task definition does not exist.")
	}
	if td.Status == "ACTIVE" {
		td.Status = "INACTIVE"
		now := b.now()
		td.DeregisteredAt = &now
		b.dirty = true
	}
	return map[string]any{"taskDefinition": td.TaskDefinition}, nil
}
