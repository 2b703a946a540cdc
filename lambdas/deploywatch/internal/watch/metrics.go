package watch

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of deploywatch's metrics.
const Namespace = "Shipyard/Deployments"

// metrics writes CloudWatch Embedded Metric Format lines: CloudWatch Logs
// turns them into metrics with no API call. Together they give the DORA
// measures per service: deployment frequency (DeploymentStarted), change
// failure rate (DeploymentRolledBack / DeploymentStarted) and time to
// restore (TimeToRestore), plus RollbackReactionTime, from an alarm to
// deploywatch's rollback.
type metrics struct {
	mu               sync.Mutex
	w                io.Writer
	cluster, service string
	now              func() time.Time
}

func (m *metrics) count(name string, props map[string]any) { m.emit(name, 1, "Count", props) }

func (m *metrics) millis(name string, d time.Duration, props map[string]any) {
	m.emit(name, float64(d.Milliseconds()), "Milliseconds", props)
}

func (m *metrics) emit(name string, value float64, unit string, props map[string]any) {
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": m.now().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  Namespace,
				"Dimensions": [][]string{{"Cluster", "Service"}},
				"Metrics":    []any{map[string]string{"Name": name, "Unit": unit}},
			}},
		},
		"Cluster": m.cluster, "Service": m.service, name: value,
	}
	for k, v := range props {
		if _, taken := line[k]; !taken {
			line[k] = v
		}
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// A metric that cannot be written is lost, not worth failing an event.
	_, _ = m.w.Write(append(b, '\n'))
}
