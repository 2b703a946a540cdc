package ecs

import "time"

// world is everything ECS persists.
type world struct {
	Clusters    map[string]*clusterRec    // by name
	TaskDefs    map[string][]*taskDefRec  // by family; index = revision-1
	Services    map[string]*serviceRec    // by cluster/name
	Tasks       map[string]*taskRec       // by task ID
	Deployments map[string]*deploymentRec // by ARN
	Revisions   map[string]*revisionRec   // by ARN
	Tags        map[string][]Tag          // by resource ARN
}

func newWorld() *world {
	w := &world{}
	w.init()
	return w
}

func (w *world) init() {
	if w.Clusters == nil {
		w.Clusters = map[string]*clusterRec{}
	}
	if w.TaskDefs == nil {
		w.TaskDefs = map[string][]*taskDefRec{}
	}
	if w.Services == nil {
		w.Services = map[string]*serviceRec{}
	}
	if w.Tasks == nil {
		w.Tasks = map[string]*taskRec{}
	}
	if w.Deployments == nil {
		w.Deployments = map[string]*deploymentRec{}
	}
	if w.Revisions == nil {
		w.Revisions = map[string]*revisionRec{}
	}
	if w.Tags == nil {
		w.Tags = map[string][]Tag{}
	}
}

type clusterRec struct {
	Cluster
}

type taskDefRec struct {
	TaskDefinition
}

// serviceRec is a service and the scheduler's view of it.
type serviceRec struct {
	Service
	Cluster string // cluster name
	// LiveTG is the target group production traffic goes to (blue).
	LiveTG string
	// Revision is the ARN of the service revision serving production.
	Revision string
	// Deployment is the ARN of the newest service deployment.
	Deployment string
	// Steady is set once the service runs its desired count, all healthy.
	Steady bool
	// util is the latest utilization sample (not persisted).
	util Utilization
}

func (s *serviceRec) key() string { return s.Cluster + "/" + s.ServiceName }

func (s *serviceRec) blueGreen() bool {
	return s.DeploymentConfiguration != nil && s.DeploymentConfiguration.Strategy == "BLUE_GREEN"
}

// revisionRec is a service revision.
type revisionRec struct {
	ServiceRevision
	// LegacyID is the ecs-svc/ deployment ID tasks of this revision carry
	// in startedBy.
	LegacyID  string
	ServiceID string // cluster/name
	// Pinned are the containers' images by digest, resolved when the
	// revision was made.
	Pinned []pinnedImage
}

type pinnedImage struct {
	Container, Image string
}

// taskRec is a task and where it is registered.
type taskRec struct {
	Task
	ID        string
	Cluster   string
	ServiceID string // cluster/name, empty for standalone tasks
	Revision  string // service revision ARN
	Family    string
	TDRev     int32
	Host      string
	Port      int32
	// TargetGroups the task is registered in.
	TargetGroups []string
	// StopReason and StopCode to report once the process has exited.
	PendingReason, PendingCode string
	StartedAtT                 time.Time
	// Failed marks a task that counted as a deployment failure.
	Failed bool
	// HealthChecked is set when the essential container has a health
	// check; the task's healthStatus then comes from it.
	HealthChecked bool
}

func (t *taskRec) running() bool { return t.LastStatus != "STOPPED" }

// deploymentRec is a service deployment and its state machine.
type deploymentRec struct {
	ServiceDeployment
	ServiceID      string
	LegacyID       string
	Strategy       string
	SourceRevision string // empty for a service's first deployment
	TargetRevision string
	SourceTG       string // blue: where production traffic is
	TargetTG       string // green
	ProdRule       string
	TestRule       string
	DesiredCount   int32
	// IgnoredAlarms were in ALARM when the deployment started.
	IgnoredAlarms []string
	StageEntered  time.Time
	Failures      int32
	// RollingBack is set once the rollback has begun.
	RollingBack bool
	// SourceWant and TargetWant are a rolling deployment's task counts for
	// now, within maximumPercent and minimumHealthyPercent.
	SourceWant, TargetWant int32
	// Hooks of the current stage: started and finished counts.
	HooksStarted bool
	HooksPending int
	HookFailed   string
	// RollbackHooks is set while a rollback re-invokes the traffic-shift
	// hooks (at TEST_TRAFFIC_SHIFT, then PRODUCTION_TRAFFIC_SHIFT).
	RollbackHooks bool
	// StageSeq counts stage entries, so a hook finishing late is not
	// taken for one of a later stage; HookSeq maps each unfinished hook
	// to the stage entry it belongs to.
	StageSeq     int
	HookSeq      map[string]int
	WeightsMoved bool
	TestShifted  bool
}

func (d *deploymentRec) done() bool {
	switch d.Status {
	case "SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED":
		return true
	}
	return false
}
