package ecs

import (
	"strconv"
	"strings"
)

// metadata answers a task's v4 metadata endpoint from the live task record.
type metadata struct {
	b         *Backend
	taskID    string
	container string
}

func (m *metadata) snapshot() (*taskRec, *taskDefRec, bool) {
	m.b.mu.Lock()
	defer m.b.mu.Unlock()
	t, ok := m.b.st.Tasks[m.taskID]
	if !ok {
		return nil, nil, false
	}
	c := *t
	c.Containers = append([]Container(nil), t.Containers...)
	td, _ := m.b.taskDef(t.TaskDefinitionArn)
	return &c, td, true
}

func parseUnits(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

func (m *metadata) containerDoc(t *taskRec, td *taskDefRec, c Container) map[string]any {
	labels := map[string]string{
		"com.amazonaws.ecs.cluster":                 t.ClusterArn,
		"com.amazonaws.ecs.container-name":          c.Name,
		"com.amazonaws.ecs.task-arn":                t.TaskArn,
		"com.amazonaws.ecs.task-definition-family":  t.Family,
		"com.amazonaws.ecs.task-definition-version": strconv.Itoa(int(t.TDRev)),
	}
	doc := map[string]any{
		"DockerId": c.RuntimeID, "Name": c.Name, "DockerName": c.Name, "Image": c.Image,
		"ImageID": c.ImageDigest, "Labels": labels, "DesiredStatus": t.DesiredStatus,
		"KnownStatus": c.LastStatus, "Limits": map[string]any{"CPU": parseUnits(c.CPU)},
		"Type": "NORMAL", "ContainerARN": c.ContainerArn,
		"Networks": []map[string]any{{
			"NetworkMode": "awsvpc", "IPv4Addresses": []string{t.Host}, "AttachmentIndex": 0,
			"IPv4SubnetCIDRBlock": t.Host + "/32", "PrivateDNSName": "ip-" + strings.ReplaceAll(t.Host, ".", "-") + ".ec2.internal",
		}},
	}
	if t.StartedAt != nil {
		doc["CreatedAt"] = t.CreatedAt.UTC().Format("2006-01-02T15:04:05.999999999Z")
		doc["StartedAt"] = t.StartedAt.UTC().Format("2006-01-02T15:04:05.999999999Z")
	}
	if td != nil {
		for _, cd := range td.ContainerDefinitions {
			if cd.Name == c.Name && cd.LogConfiguration != nil {
				doc["LogDriver"] = cd.LogConfiguration.LogDriver
				doc["LogOptions"] = cd.LogConfiguration.Options
			}
		}
	}
	return doc
}

// Task is the v4 /task document.
func (m *metadata) Task() any {
	t, td, ok := m.snapshot()
	if !ok {
		return map[string]any{}
	}
	var containers []map[string]any
	for _, c := range t.Containers {
		containers = append(containers, m.containerDoc(t, td, c))
	}
	doc := map[string]any{
		"Cluster": t.ClusterArn, "TaskARN": t.TaskArn, "Family": t.Family, "Revision": strconv.Itoa(int(t.TDRev)),
		"DesiredStatus": t.DesiredStatus, "KnownStatus": t.LastStatus,
		"Limits":           map[string]any{"CPU": parseUnits(t.CPU) / 1024, "Memory": parseUnits(t.Memory)},
		"AvailabilityZone": t.AvailabilityZone, "LaunchType": t.LaunchType, "Containers": containers,
		"ClockDrift":              map[string]any{"ClockErrorBound": 0.5, "ReferenceTimestamp": m.b.cfg.Clock.Now().UTC().Format("2006-01-02T15:04:05Z"), "ClockSynchronizationStatus": "SYNCHRONIZED"},
		"EphemeralStorageMetrics": map[string]any{"Utilized": 0, "Reserved": 20496},
	}
	if t.PullStartedAt != nil {
		doc["PullStartedAt"] = t.PullStartedAt.UTC().Format("2006-01-02T15:04:05.999999999Z")
	}
	if t.PullStoppedAt != nil {
		doc["PullStoppedAt"] = t.PullStoppedAt.UTC().Format("2006-01-02T15:04:05.999999999Z")
	}
	if i := strings.IndexByte(t.ServiceID, '/'); i >= 0 {
		doc["ServiceName"] = t.ServiceID[i+1:]
	}
	return doc
}

// Container is the v4 container document.
func (m *metadata) Container() any {
	t, td, ok := m.snapshot()
	if !ok {
		return map[string]any{}
	}
	for _, c := range t.Containers {
		if c.Name == m.container {
			return m.containerDoc(t, td, c)
		}
	}
	return map[string]any{}
}

// Stats is a minimal docker-stats document from the process's usage.
func (m *metadata) Stats() any {
	m.b.mu.Lock()
	p, ok := m.b.procs[m.taskID]
	m.b.mu.Unlock()
	if !ok {
		return map[string]any{}
	}
	u, err := p.Usage()
	if err != nil {
		return map[string]any{}
	}
	return map[string]any{
		"read":         m.b.cfg.Clock.Now().UTC().Format("2006-01-02T15:04:05.999999999Z"),
		"cpu_stats":    map[string]any{"cpu_usage": map[string]any{"total_usage": int64(u.CPUSeconds * 1e9)}},
		"memory_stats": map[string]any{"usage": u.RSSBytes},
	}
}
