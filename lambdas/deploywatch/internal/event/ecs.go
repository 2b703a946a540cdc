package event

import (
	"encoding/json"
	"strings"
	"time"
)

// DeploymentState is an "ECS Deployment State Change" event.
type DeploymentState struct {
	Service ServiceRef
	// EventType is INFO or ERROR.
	EventType string
	// EventName is one of the three documented names.
	EventName string
	// DeploymentID is the legacy ecs-svc/… id, not the service deployment
	// ARN; resolve that with ListServiceDeployments.
	DeploymentID string
	UpdatedAt    time.Time
	Reason       string
	// Rollback is set when the reason says ECS is rolling back; RollbackTo
	// is the ecs-svc/… id it rolls back to, when the reason names it.
	Rollback   bool
	RollbackTo string
}

type rawDeployment struct {
	EventType    string `json:"eventType"`
	EventName    string `json:"eventName"`
	ClusterArn   string `json:"clusterArn"`
	DeploymentID string `json:"deploymentId"`
	UpdatedAt    string `json:"updatedAt"`
	Reason       string `json:"reason"`
}

// serviceOf reads resources[0], the service ARN every ECS service event
// carries, and fills an old-format ARN's cluster from clusterArn.
func serviceOf(env *Envelope, clusterArn string) (ServiceRef, error) {
	if len(env.Resources) == 0 {
		return ServiceRef{}, malformed(env.ID, "resources", "missing the service ARN")
	}
	ref, err := ParseServiceArn(env.Resources[0])
	if err != nil {
		return ServiceRef{}, malformed(env.ID, "resources[0]", "%v", err)
	}
	if clusterArn != "" {
		name, err := ClusterName(clusterArn)
		if err != nil {
			return ServiceRef{}, malformed(env.ID, "detail.clusterArn", "%v", err)
		}
		if ref.Cluster == "" {
			ref.Cluster = name
		} else if ref.Cluster != name {
			return ServiceRef{}, malformed(env.ID, "detail.clusterArn", "cluster %q, but the service ARN names cluster %q", name, ref.Cluster)
		}
	}
	if ref.Cluster == "" {
		return ServiceRef{}, malformed(env.ID, "resources[0]", "old-format service ARN and no detail.clusterArn: cannot tell the cluster")
	}
	return ref, nil
}

func decodeDeployment(env *Envelope, detail json.RawMessage) (*DeploymentState, error) {
	var r rawDeployment
	if err := json.Unmarshal(detail, &r); err != nil {
		return nil, detailError(env.ID, err)
	}
	switch r.EventName {
	case DeploymentInProgress, DeploymentCompleted, DeploymentFailed:
	case "":
		return nil, malformed(env.ID, "detail.eventName", "missing")
	default:
		return nil, unsupported(env.ID, "detail.eventName", "%q is not a documented deployment event", r.EventName)
	}
	if r.EventType == "" {
		return nil, malformed(env.ID, "detail.eventType", "missing")
	}
	if !validDeploymentID(r.DeploymentID) {
		return nil, malformed(env.ID, "detail.deploymentId", "%q is not an ecs-svc/… deployment id", r.DeploymentID)
	}
	svc, err := serviceOf(env, r.ClusterArn)
	if err != nil {
		return nil, err
	}
	at, err := isoTime(env.ID, "detail.updatedAt", r.UpdatedAt)
	if err != nil {
		return nil, err
	}
	d := &DeploymentState{Service: svc, EventType: r.EventType, EventName: r.EventName, DeploymentID: r.DeploymentID, UpdatedAt: at, Reason: r.Reason}
	d.Rollback, d.RollbackTo = rollbackOf(r.Reason)
	return d, nil
}

func validDeploymentID(id string) bool {
	rest, ok := strings.CutPrefix(id, "ecs-svc/")
	if !ok || rest == "" || len(rest) > 64 {
		return false
	}
	for _, c := range rest {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// rollbackOf reads the documented rollback reason, "ECS deployment circuit
// breaker: rolling back to deploymentId ecs-svc/….".
func rollbackOf(reason string) (bool, string) {
	const marker = "rolling back to deploymentId "
	i := strings.Index(reason, marker)
	if i < 0 {
		return strings.Contains(strings.ToLower(reason), "rolling back"), ""
	}
	to := strings.TrimRight(strings.Fields(reason[i+len(marker):] + " ")[0], ".")
	if !validDeploymentID(to) {
		to = ""
	}
	return true, to
}

// ServiceAction is an "ECS Service Action" event.
type ServiceAction struct {
	Service   ServiceRef
	EventType string
	EventName string
	CreatedAt time.Time
	Reason    string
}

type rawServiceAction struct {
	EventType  string `json:"eventType"`
	EventName  string `json:"eventName"`
	ClusterArn string `json:"clusterArn"`
	CreatedAt  string `json:"createdAt"`
	Reason     string `json:"reason"`
}

func decodeServiceAction(env *Envelope, detail json.RawMessage) (*ServiceAction, error) {
	var r rawServiceAction
	if err := json.Unmarshal(detail, &r); err != nil {
		return nil, detailError(env.ID, err)
	}
	if r.EventName == "" {
		return nil, malformed(env.ID, "detail.eventName", "missing")
	}
	switch r.EventType {
	case "INFO", "WARN", "ERROR":
	default:
		return nil, malformed(env.ID, "detail.eventType", "%q, want INFO, WARN or ERROR", r.EventType)
	}
	svc, err := serviceOf(env, r.ClusterArn)
	if err != nil {
		return nil, err
	}
	at, err := isoTime(env.ID, "detail.createdAt", r.CreatedAt)
	if err != nil {
		return nil, err
	}
	return &ServiceAction{Service: svc, EventType: r.EventType, EventName: r.EventName, CreatedAt: at, Reason: r.Reason}, nil
}

// TaskState is an "ECS Task State Change" event, reduced to what links a
// task to a deployment.
type TaskState struct {
	Cluster           string
	TaskArn           string
	TaskDefinitionArn string
	// Service is the name from group "service:<name>"; empty for tasks
	// that are not a service's.
	Service string
	// StartedBy is the ecs-svc/… deployment id for a service's task.
	StartedBy     string
	LastStatus    string
	DesiredStatus string
	StopCode      string
	StoppedReason string
	UpdatedAt     time.Time
}

type rawTask struct {
	ClusterArn        string `json:"clusterArn"`
	TaskArn           string `json:"taskArn"`
	TaskDefinitionArn string `json:"taskDefinitionArn"`
	Group             string `json:"group"`
	StartedBy         string `json:"startedBy"`
	LastStatus        string `json:"lastStatus"`
	DesiredStatus     string `json:"desiredStatus"`
	StopCode          string `json:"stopCode"`
	StoppedReason     string `json:"stoppedReason"`
	UpdatedAt         string `json:"updatedAt"`
}

func decodeTask(env *Envelope, detail json.RawMessage) (*TaskState, error) {
	var r rawTask
	if err := json.Unmarshal(detail, &r); err != nil {
		return nil, detailError(env.ID, err)
	}
	cluster, err := ClusterName(r.ClusterArn)
	if err != nil {
		return nil, malformed(env.ID, "detail.clusterArn", "%v", err)
	}
	if r.TaskArn == "" {
		return nil, malformed(env.ID, "detail.taskArn", "missing")
	}
	if r.LastStatus == "" {
		return nil, malformed(env.ID, "detail.lastStatus", "missing")
	}
	at, err := isoTime(env.ID, "detail.updatedAt", r.UpdatedAt)
	if err != nil {
		return nil, err
	}
	svc, _ := strings.CutPrefix(r.Group, "service:")
	if svc == r.Group {
		svc = ""
	}
	return &TaskState{Cluster: cluster, TaskArn: r.TaskArn, TaskDefinitionArn: r.TaskDefinitionArn, Service: svc,
		StartedBy: r.StartedBy, LastStatus: r.LastStatus, DesiredStatus: r.DesiredStatus, StopCode: r.StopCode,
		StoppedReason: r.StoppedReason, UpdatedAt: at}, nil
}

// HookState is an "ECS Hook State Change" event.
type HookState struct {
	Service              ServiceRef
	EventType            string
	EventName            string
	HookID               string
	HookType             string
	LifecycleStage       string
	ServiceDeploymentArn string
	DeploymentID         string
	UpdatedAt            time.Time
}

type rawHookState struct {
	EventType            string `json:"eventType"`
	EventName            string `json:"eventName"`
	HookID               string `json:"hookId"`
	HookType             string `json:"hookType"`
	LifecycleStage       string `json:"lifecycleStage"`
	ServiceDeploymentArn string `json:"serviceDeploymentArn"`
	UpdatedAt            string `json:"updatedAt"`
}

func decodeHookState(env *Envelope, detail json.RawMessage) (*HookState, error) {
	var r rawHookState
	if err := json.Unmarshal(detail, &r); err != nil {
		return nil, detailError(env.ID, err)
	}
	switch r.EventName {
	case "HOOK_IN_PROGRESS", "HOOK_AWAITING_ACTION", "HOOK_SUCCEEDED", "HOOK_FAILED", "HOOK_TIMED_OUT":
	case "":
		return nil, malformed(env.ID, "detail.eventName", "missing")
	default:
		return nil, unsupported(env.ID, "detail.eventName", "%q is not a documented hook event", r.EventName)
	}
	svc, id, err := ParseServiceDeploymentArn(r.ServiceDeploymentArn)
	if err != nil {
		return nil, malformed(env.ID, "detail.serviceDeploymentArn", "%v", err)
	}
	if r.LifecycleStage == "" {
		return nil, malformed(env.ID, "detail.lifecycleStage", "missing")
	}
	at, err := isoTime(env.ID, "detail.updatedAt", r.UpdatedAt)
	if err != nil {
		return nil, err
	}
	return &HookState{Service: svc, EventType: r.EventType, EventName: r.EventName, HookID: r.HookID, HookType: r.HookType,
		LifecycleStage: r.LifecycleStage, ServiceDeploymentArn: r.ServiceDeploymentArn, DeploymentID: id, UpdatedAt: at}, nil
}
