package ecs

import (
	"encoding/json"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// The types below are ECS's JSON shapes (member names as on the wire). They
// serve as operation inputs, outputs and persisted state at once; members
// localcloud does not interpret are kept as raw JSON and echoed back.

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// KeyValuePair is an environment variable or setting.
type KeyValuePair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PortMapping is a container port mapping.
type PortMapping struct {
	ContainerPort *int32 `json:"containerPort,omitempty"`
	HostPort      *int32 `json:"hostPort,omitempty"`
	Protocol      string `json:"protocol,omitempty"`
	Name          string `json:"name,omitempty"`
	AppProtocol   string `json:"appProtocol,omitempty"`
}

// LogConfiguration is a container's log driver.
type LogConfiguration struct {
	LogDriver string            `json:"logDriver"`
	Options   map[string]string `json:"options,omitempty"`
	// SecretOptions are recorded.
	SecretOptions json.RawMessage `json:"secretOptions,omitempty"`
}

// ContainerDefinition is one container of a task definition. Members not
// listed are kept in Extra and echoed back.
type ContainerDefinition struct {
	Name             string            `json:"name"`
	Image            string            `json:"image"`
	Essential        *bool             `json:"essential,omitempty"`
	CPU              int32             `json:"cpu"`
	Memory           *int32            `json:"memory,omitempty"`
	PortMappings     []PortMapping     `json:"portMappings"`
	Environment      []KeyValuePair    `json:"environment"`
	Command          []string          `json:"command,omitempty"`
	EntryPoint       []string          `json:"entryPoint,omitempty"`
	LogConfiguration *LogConfiguration `json:"logConfiguration,omitempty"`
	StopTimeout      *int32            `json:"stopTimeout,omitempty"`
	HealthCheck      json.RawMessage   `json:"healthCheck,omitempty"`
	ReadonlyRoot     *bool             `json:"readonlyRootFilesystem,omitempty"`
	User             string            `json:"user,omitempty"`
	Secrets          json.RawMessage   `json:"secrets,omitempty"`
	MountPoints      json.RawMessage   `json:"mountPoints"`
	VolumesFrom      json.RawMessage   `json:"volumesFrom"`
	Ulimits          json.RawMessage   `json:"ulimits,omitempty"`
	LinuxParameters  json.RawMessage   `json:"linuxParameters,omitempty"`
	WorkingDirectory string            `json:"workingDirectory,omitempty"`
	DependsOn        json.RawMessage   `json:"dependsOn,omitempty"`
	DockerLabels     map[string]string `json:"dockerLabels,omitempty"`
}

// TaskDefinition is a registered task definition revision.
type TaskDefinition struct {
	TaskDefinitionArn       string                `json:"taskDefinitionArn"`
	Family                  string                `json:"family"`
	Revision                int32                 `json:"revision"`
	Status                  string                `json:"status"`
	ContainerDefinitions    []ContainerDefinition `json:"containerDefinitions"`
	CPU                     string                `json:"cpu,omitempty"`
	Memory                  string                `json:"memory,omitempty"`
	NetworkMode             string                `json:"networkMode,omitempty"`
	RequiresCompatibilities []string              `json:"requiresCompatibilities,omitempty"`
	Compatibilities         []string              `json:"compatibilities"`
	ExecutionRoleArn        string                `json:"executionRoleArn,omitempty"`
	TaskRoleArn             string                `json:"taskRoleArn,omitempty"`
	RuntimePlatform         json.RawMessage       `json:"runtimePlatform,omitempty"`
	Volumes                 json.RawMessage       `json:"volumes"`
	PlacementConstraints    json.RawMessage       `json:"placementConstraints"`
	EphemeralStorage        json.RawMessage       `json:"ephemeralStorage,omitempty"`
	RequiresAttributes      []map[string]string   `json:"requiresAttributes,omitempty"`
	RegisteredAt            awsproto.Timestamp    `json:"registeredAt"`
	RegisteredBy            string                `json:"registeredBy,omitempty"`
	DeregisteredAt          *awsproto.Timestamp   `json:"deregisteredAt,omitempty"`
	// Tags are returned by DescribeTaskDefinition with include=TAGS only.
	Tags []Tag `json:"-"`
}

// AdvancedConfiguration is a load balancer's blue/green wiring.
type AdvancedConfiguration struct {
	AlternateTargetGroupArn string `json:"alternateTargetGroupArn,omitempty"`
	ProductionListenerRule  string `json:"productionListenerRule,omitempty"`
	TestListenerRule        string `json:"testListenerRule,omitempty"`
	RoleArn                 string `json:"roleArn,omitempty"`
}

// LoadBalancer attaches a container port to a target group.
type LoadBalancer struct {
	TargetGroupArn        string                 `json:"targetGroupArn,omitempty"`
	LoadBalancerName      string                 `json:"loadBalancerName,omitempty"`
	ContainerName         string                 `json:"containerName,omitempty"`
	ContainerPort         *int32                 `json:"containerPort,omitempty"`
	AdvancedConfiguration *AdvancedConfiguration `json:"advancedConfiguration,omitempty"`
}

// DeploymentAlarms are the alarms a deployment watches.
type DeploymentAlarms struct {
	AlarmNames []string `json:"alarmNames"`
	Enable     bool     `json:"enable"`
	Rollback   bool     `json:"rollback"`
}

// DeploymentCircuitBreaker fails a deployment whose tasks keep failing.
type DeploymentCircuitBreaker struct {
	Enable   bool `json:"enable"`
	Rollback bool `json:"rollback"`
}

// LifecycleHook is a deployment lifecycle hook.
type LifecycleHook struct {
	HookTargetArn        string          `json:"hookTargetArn,omitempty"`
	RoleArn              string          `json:"roleArn,omitempty"`
	LifecycleStages      []string        `json:"lifecycleStages"`
	HookDetails          json.RawMessage `json:"hookDetails,omitempty"`
	TargetType           string          `json:"targetType,omitempty"`
	TimeoutConfiguration *struct {
		Action           string `json:"action,omitempty"`
		TimeoutInMinutes *int32 `json:"timeoutInMinutes,omitempty"`
	} `json:"timeoutConfiguration,omitempty"`
}

// DeploymentConfiguration is how a service deploys.
type DeploymentConfiguration struct {
	Strategy                 string                    `json:"strategy,omitempty"`
	MaximumPercent           *int32                    `json:"maximumPercent,omitempty"`
	MinimumHealthyPercent    *int32                    `json:"minimumHealthyPercent,omitempty"`
	BakeTimeInMinutes        *int32                    `json:"bakeTimeInMinutes,omitempty"`
	Alarms                   *DeploymentAlarms         `json:"alarms,omitempty"`
	DeploymentCircuitBreaker *DeploymentCircuitBreaker `json:"deploymentCircuitBreaker,omitempty"`
	LifecycleHooks           []LifecycleHook           `json:"lifecycleHooks,omitempty"`
	LinearConfiguration      json.RawMessage           `json:"linearConfiguration,omitempty"`
	CanaryConfiguration      json.RawMessage           `json:"canaryConfiguration,omitempty"`
}

// DeploymentController is ECS, CODE_DEPLOY or EXTERNAL.
type DeploymentController struct {
	Type string `json:"type"`
}

// ServiceEvent is a line of a service's event log.
type ServiceEvent struct {
	ID        string             `json:"id"`
	CreatedAt awsproto.Timestamp `json:"createdAt"`
	Message   string             `json:"message"`
}

// LegacyDeployment is an entry of DescribeServices' deployments list.
type LegacyDeployment struct {
	ID                 string             `json:"id"`
	Status             string             `json:"status"` // PRIMARY, ACTIVE, INACTIVE
	TaskDefinition     string             `json:"taskDefinition"`
	DesiredCount       int32              `json:"desiredCount"`
	PendingCount       int32              `json:"pendingCount"`
	RunningCount       int32              `json:"runningCount"`
	FailedTasks        int32              `json:"failedTasks"`
	CreatedAt          awsproto.Timestamp `json:"createdAt"`
	UpdatedAt          awsproto.Timestamp `json:"updatedAt"`
	LaunchType         string             `json:"launchType,omitempty"`
	PlatformVersion    string             `json:"platformVersion,omitempty"`
	RolloutState       string             `json:"rolloutState,omitempty"`
	RolloutStateReason string             `json:"rolloutStateReason,omitempty"`
	NetworkConfig      json.RawMessage    `json:"networkConfiguration,omitempty"`
}

// RevisionSummary is a service revision's share of a deployment.
type RevisionSummary struct {
	Arn                              string   `json:"arn"`
	RequestedTaskCount               int32    `json:"requestedTaskCount"`
	RunningTaskCount                 int32    `json:"runningTaskCount"`
	PendingTaskCount                 int32    `json:"pendingTaskCount"`
	RequestedProductionTrafficWeight *float64 `json:"requestedProductionTrafficWeight,omitempty"`
	RequestedTestTrafficWeight       *float64 `json:"requestedTestTrafficWeight,omitempty"`
}

// Service is an ECS service as DescribeServices answers it.
type Service struct {
	ServiceArn                    string                   `json:"serviceArn"`
	ServiceName                   string                   `json:"serviceName"`
	ClusterArn                    string                   `json:"clusterArn"`
	Status                        string                   `json:"status"`
	TaskDefinition                string                   `json:"taskDefinition"`
	DesiredCount                  int32                    `json:"desiredCount"`
	RunningCount                  int32                    `json:"runningCount"`
	PendingCount                  int32                    `json:"pendingCount"`
	LaunchType                    string                   `json:"launchType,omitempty"`
	PlatformVersion               string                   `json:"platformVersion,omitempty"`
	PlatformFamily                string                   `json:"platformFamily,omitempty"`
	LoadBalancers                 []LoadBalancer           `json:"loadBalancers"`
	ServiceRegistries             json.RawMessage          `json:"serviceRegistries,omitempty"`
	NetworkConfiguration          json.RawMessage          `json:"networkConfiguration,omitempty"`
	DeploymentConfiguration       *DeploymentConfiguration `json:"deploymentConfiguration,omitempty"`
	DeploymentController          *DeploymentController    `json:"deploymentController,omitempty"`
	Deployments                   []LegacyDeployment       `json:"deployments"`
	Events                        []ServiceEvent           `json:"events"`
	CreatedAt                     awsproto.Timestamp       `json:"createdAt"`
	CreatedBy                     string                   `json:"createdBy,omitempty"`
	RoleArn                       string                   `json:"roleArn,omitempty"`
	HealthCheckGracePeriodSeconds *int32                   `json:"healthCheckGracePeriodSeconds,omitempty"`
	SchedulingStrategy            string                   `json:"schedulingStrategy"`
	EnableECSManagedTags          bool                     `json:"enableECSManagedTags"`
	PropagateTags                 string                   `json:"propagateTags,omitempty"`
	EnableExecuteCommand          bool                     `json:"enableExecuteCommand"`
	AvailabilityZoneRebalancing   string                   `json:"availabilityZoneRebalancing,omitempty"`
	PlacementConstraints          json.RawMessage          `json:"placementConstraints,omitempty"`
	PlacementStrategy             json.RawMessage          `json:"placementStrategy,omitempty"`
	CapacityProviderStrategy      json.RawMessage          `json:"capacityProviderStrategy,omitempty"`
	Tags                          []Tag                    `json:"tags,omitempty"`
	CurrentServiceDeployment      string                   `json:"currentServiceDeployment,omitempty"`
	CurrentServiceRevisions       []RevisionSummary        `json:"currentServiceRevisions,omitempty"`
}

// ContainerImage is a container's image as a revision pinned it.
type ContainerImage struct {
	ContainerName string `json:"containerName"`
	Image         string `json:"image"`
	ImageDigest   string `json:"imageDigest,omitempty"`
}

// RevisionLoadBalancer says which target group and rule a revision serves.
type RevisionLoadBalancer struct {
	TargetGroupArn         string `json:"targetGroupArn"`
	ProductionListenerRule string `json:"productionListenerRule,omitempty"`
}

// ServiceRevision is an immutable snapshot of a service's configuration.
type ServiceRevision struct {
	ServiceRevisionArn    string           `json:"serviceRevisionArn"`
	ServiceArn            string           `json:"serviceArn"`
	ClusterArn            string           `json:"clusterArn"`
	TaskDefinition        string           `json:"taskDefinition"`
	LaunchType            string           `json:"launchType,omitempty"`
	PlatformVersion       string           `json:"platformVersion,omitempty"`
	PlatformFamily        string           `json:"platformFamily,omitempty"`
	LoadBalancers         []LoadBalancer   `json:"loadBalancers,omitempty"`
	NetworkConfiguration  json.RawMessage  `json:"networkConfiguration,omitempty"`
	ContainerImages       []ContainerImage `json:"containerImages,omitempty"`
	GuardDutyEnabled      bool             `json:"guardDutyEnabled"`
	ResolvedConfiguration *struct {
		LoadBalancers []RevisionLoadBalancer `json:"loadBalancers,omitempty"`
	} `json:"resolvedConfiguration,omitempty"`
	CreatedAt awsproto.Timestamp `json:"createdAt"`
}

// Rollback describes a deployment's rollback.
type Rollback struct {
	Reason             string             `json:"reason"`
	ServiceRevisionArn string             `json:"serviceRevisionArn,omitempty"`
	StartedAt          awsproto.Timestamp `json:"startedAt"`
}

// DeploymentAlarmsStatus is a deployment's alarm monitoring.
type DeploymentAlarmsStatus struct {
	AlarmNames          []string `json:"alarmNames,omitempty"`
	Status              string   `json:"status"`
	TriggeredAlarmNames []string `json:"triggeredAlarmNames,omitempty"`
}

// CircuitBreakerStatus is a deployment's circuit breaker.
type CircuitBreakerStatus struct {
	FailureCount int32  `json:"failureCount"`
	Status       string `json:"status"`
	Threshold    int32  `json:"threshold"`
}

// HookDetail is one lifecycle hook execution of a deployment.
type HookDetail struct {
	HookID        string              `json:"hookId"`
	TargetType    string              `json:"targetType"`
	TargetArn     string              `json:"targetArn,omitempty"`
	Status        string              `json:"status"`
	ExpiresAt     *awsproto.Timestamp `json:"expiresAt,omitempty"`
	TimeoutAction string              `json:"timeoutAction,omitempty"`
}

// ServiceDeployment is a deployment as DescribeServiceDeployments answers it.
type ServiceDeployment struct {
	ServiceDeploymentArn     string                   `json:"serviceDeploymentArn"`
	ServiceArn               string                   `json:"serviceArn"`
	ClusterArn               string                   `json:"clusterArn"`
	Status                   string                   `json:"status"`
	StatusReason             string                   `json:"statusReason,omitempty"`
	LifecycleStage           string                   `json:"lifecycleStage,omitempty"`
	SourceServiceRevisions   []RevisionSummary        `json:"sourceServiceRevisions,omitempty"`
	TargetServiceRevision    *RevisionSummary         `json:"targetServiceRevision,omitempty"`
	DeploymentConfiguration  *DeploymentConfiguration `json:"deploymentConfiguration,omitempty"`
	Rollback                 *Rollback                `json:"rollback,omitempty"`
	Alarms                   *DeploymentAlarmsStatus  `json:"alarms,omitempty"`
	DeploymentCircuitBreaker *CircuitBreakerStatus    `json:"deploymentCircuitBreaker,omitempty"`
	LifecycleHookDetails     []HookDetail             `json:"lifecycleHookDetails,omitempty"`
	CreatedAt                awsproto.Timestamp       `json:"createdAt"`
	StartedAt                *awsproto.Timestamp      `json:"startedAt,omitempty"`
	UpdatedAt                *awsproto.Timestamp      `json:"updatedAt,omitempty"`
	FinishedAt               *awsproto.Timestamp      `json:"finishedAt,omitempty"`
	StoppedAt                *awsproto.Timestamp      `json:"stoppedAt,omitempty"`
}

// Container is a task's container as DescribeTasks answers it.
type Container struct {
	ContainerArn      string          `json:"containerArn"`
	TaskArn           string          `json:"taskArn"`
	Name              string          `json:"name"`
	Image             string          `json:"image"`
	ImageDigest       string          `json:"imageDigest,omitempty"`
	RuntimeID         string          `json:"runtimeId,omitempty"`
	LastStatus        string          `json:"lastStatus"`
	ExitCode          *int32          `json:"exitCode,omitempty"`
	Reason            string          `json:"reason,omitempty"`
	HealthStatus      string          `json:"healthStatus"`
	CPU               string          `json:"cpu,omitempty"`
	Memory            string          `json:"memory,omitempty"`
	NetworkInterfaces []NetInterface  `json:"networkInterfaces"`
	NetworkBindings   json.RawMessage `json:"networkBindings,omitempty"`
}

// NetInterface is a task's elastic network interface.
type NetInterface struct {
	AttachmentID       string `json:"attachmentId"`
	PrivateIpv4Address string `json:"privateIpv4Address"`
}

// Attachment is a task's ENI attachment.
type Attachment struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Status  string         `json:"status"`
	Details []KeyValuePair `json:"details"`
}

// Task is an ECS task.
type Task struct {
	TaskArn              string              `json:"taskArn"`
	ClusterArn           string              `json:"clusterArn"`
	TaskDefinitionArn    string              `json:"taskDefinitionArn"`
	Group                string              `json:"group,omitempty"`
	StartedBy            string              `json:"startedBy,omitempty"`
	LastStatus           string              `json:"lastStatus"`
	DesiredStatus        string              `json:"desiredStatus"`
	HealthStatus         string              `json:"healthStatus"`
	LaunchType           string              `json:"launchType,omitempty"`
	PlatformVersion      string              `json:"platformVersion,omitempty"`
	PlatformFamily       string              `json:"platformFamily,omitempty"`
	AvailabilityZone     string              `json:"availabilityZone"`
	CPU                  string              `json:"cpu,omitempty"`
	Memory               string              `json:"memory,omitempty"`
	Containers           []Container         `json:"containers"`
	Attachments          []Attachment        `json:"attachments"`
	StopCode             string              `json:"stopCode,omitempty"`
	StoppedReason        string              `json:"stoppedReason,omitempty"`
	Version              int64               `json:"version"`
	Connectivity         string              `json:"connectivity,omitempty"`
	CreatedAt            awsproto.Timestamp  `json:"createdAt"`
	PullStartedAt        *awsproto.Timestamp `json:"pullStartedAt,omitempty"`
	PullStoppedAt        *awsproto.Timestamp `json:"pullStoppedAt,omitempty"`
	StartedAt            *awsproto.Timestamp `json:"startedAt,omitempty"`
	StoppingAt           *awsproto.Timestamp `json:"stoppingAt,omitempty"`
	StoppedAt            *awsproto.Timestamp `json:"stoppedAt,omitempty"`
	ExecutionStoppedAt   *awsproto.Timestamp `json:"executionStoppedAt,omitempty"`
	ConnectivityAt       *awsproto.Timestamp `json:"connectivityAt,omitempty"`
	EnableExecuteCommand bool                `json:"enableExecuteCommand"`
	Tags                 []Tag               `json:"tags,omitempty"`
}

// Cluster is an ECS cluster.
type Cluster struct {
	ClusterArn                        string          `json:"clusterArn"`
	ClusterName                       string          `json:"clusterName"`
	Status                            string          `json:"status"`
	RegisteredContainerInstancesCount int32           `json:"registeredContainerInstancesCount"`
	RunningTasksCount                 int32           `json:"runningTasksCount"`
	PendingTasksCount                 int32           `json:"pendingTasksCount"`
	ActiveServicesCount               int32           `json:"activeServicesCount"`
	Settings                          json.RawMessage `json:"settings,omitempty"`
	Configuration                     json.RawMessage `json:"configuration,omitempty"`
	CapacityProviders                 []string        `json:"capacityProviders"`
	DefaultCapacityProviderStrategy   json.RawMessage `json:"defaultCapacityProviderStrategy,omitempty"`
	Tags                              []Tag           `json:"tags,omitempty"`
}
