// Package service builds what ship sends to ECS and Application Auto
// Scaling, as the SDK's own input types: the task definition, the service
// (created once), the update that deploys a new task definition, and the
// service's scalable target and CPU target-tracking policy.
//
// None of these are in the CloudFormation stack (DESIGN §3): ECS rewrites a
// blue/green service's load balancer state on every deployment, so the stack
// owns the long-lived infrastructure and ship owns the service. The values
// are built from the spec and the environment stack's outputs only, so they
// can be checked without AWS.
package service

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// HealthCheckCommand is the container health check: the app binary checks
// its own /health (distroless has no shell or curl).
var HealthCheckCommand = []string{"CMD", "/app", "healthcheck"}

// pinned is an image reference pinned by digest.
var pinned = regexp.MustCompile(`^[^@\s]+@sha256:[0-9a-f]{64}$`)

// Builder builds the values of one environment from its spec and its
// environment stack's outputs.
type Builder struct {
	spec    platform.Spec
	outputs stack.Outputs
}

// New checks that the outputs hold everything the values need and returns a
// Builder.
func New(spec platform.Spec, outputs stack.Outputs) (*Builder, error) {
	need := []string{
		stack.OutputCluster, stack.OutputPrivateSubnets, stack.OutputTaskSecurityGroup,
		stack.OutputBlueTargetGroup, stack.OutputGreenTargetGroup, stack.OutputProductionRule,
		stack.OutputInfrastructureRole, stack.OutputTaskExecutionRole, stack.OutputTaskRole,
		stack.OutputAppLogGroup, stack.OutputDeploymentAlarms,
	}
	if spec.LoadBalancer.TestListener {
		need = append(need, stack.OutputTestRule, stack.OutputHookRole, stack.OutputDeploywatchFunction)
	}
	var missing []string
	for _, n := range need {
		if _, err := outputs.Get(n); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("build service values: stack %s lacks outputs %s; run ship up to create or update it", stack.EnvironmentName(spec), strings.Join(missing, ", "))
	}
	return &Builder{spec: spec, outputs: outputs}, nil
}

func (b *Builder) out(name string) string { return b.outputs[name] }

func (b *Builder) tags() []types.Tag {
	return []types.Tag{
		{Key: aws.String("shipyard:app"), Value: aws.String(b.spec.Name)},
		{Key: aws.String("shipyard:env"), Value: aws.String(b.spec.Env)},
	}
}

// TaskDefinition is the app's task definition running image, which must be
// pinned by digest so a revision always means the same bits.
func (b *Builder) TaskDefinition(image string) (*ecs.RegisterTaskDefinitionInput, error) {
	if !pinned.MatchString(image) {
		return nil, fmt.Errorf("build task definition: image %q is not pinned by digest; push it and use the repository@sha256:... reference", image)
	}
	s := b.spec
	t := s.Task
	env := []types.KeyValuePair{
		{Name: aws.String("PORT"), Value: aws.String(strconv.Itoa(t.ContainerPort))},
		{Name: aws.String("HOST"), Value: aws.String("0.0.0.0")},
	}
	keys := make([]string, 0, len(t.Environment))
	for k := range t.Environment {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		env = append(env, types.KeyValuePair{Name: aws.String(k), Value: aws.String(t.Environment[k])})
	}
	return &ecs.RegisterTaskDefinitionInput{
		Family:                  aws.String(s.Prefix()),
		Cpu:                     aws.String(strconv.Itoa(t.CPU)),
		Memory:                  aws.String(strconv.Itoa(t.Memory)),
		NetworkMode:             types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		RuntimePlatform: &types.RuntimePlatform{
			CpuArchitecture:       types.CPUArchitecture(t.Architecture),
			OperatingSystemFamily: types.OSFamilyLinux,
		},
		ExecutionRoleArn: aws.String(b.out(stack.OutputTaskExecutionRole)),
		TaskRoleArn:      aws.String(b.out(stack.OutputTaskRole)),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name:      aws.String(stack.ContainerName),
			Image:     aws.String(image),
			Essential: aws.Bool(true),
			PortMappings: []types.PortMapping{{
				Name:          aws.String("http"),
				ContainerPort: aws.Int32(int32(t.ContainerPort)),
				Protocol:      types.TransportProtocolTcp,
				AppProtocol:   types.ApplicationProtocolHttp,
			}},
			Environment: env,
			LogConfiguration: &types.LogConfiguration{
				LogDriver: types.LogDriverAwslogs,
				Options: map[string]string{
					"awslogs-group":         b.out(stack.OutputAppLogGroup),
					"awslogs-region":        s.Region,
					"awslogs-stream-prefix": stack.ContainerName,
				},
			},
			ReadonlyRootFilesystem: aws.Bool(true),
			User:                   aws.String(t.User),
			Privileged:             aws.Bool(false),
			LinuxParameters: &types.LinuxParameters{
				Capabilities: &types.KernelCapabilities{Drop: []string{"ALL"}},
			},
			// The app drains within 25 s of SIGTERM; ECS kills at StopTimeout.
			StopTimeout: aws.Int32(int32(t.StopTimeoutSeconds)),
			HealthCheck: &types.HealthCheck{
				Command:     slices.Clone(HealthCheckCommand),
				Interval:    aws.Int32(int32(t.HealthCheck.IntervalSeconds)),
				Timeout:     aws.Int32(int32(t.HealthCheck.TimeoutSeconds)),
				Retries:     aws.Int32(int32(t.HealthCheck.Retries)),
				StartPeriod: aws.Int32(int32(t.HealthCheck.StartPeriodSeconds)),
			},
		}},
		Tags: b.tags(),
	}, nil
}

// CreateService is the service, created once with its first task
// definition: native ECS blue/green behind the stack's listener rule.
func (b *Builder) CreateService(taskDefinitionArn string) *ecs.CreateServiceInput {
	s := b.spec
	advanced := &types.AdvancedConfiguration{
		AlternateTargetGroupArn: aws.String(b.out(stack.OutputGreenTargetGroup)),
		ProductionListenerRule:  aws.String(b.out(stack.OutputProductionRule)),
		RoleArn:                 aws.String(b.out(stack.OutputInfrastructureRole)),
	}
	var hooks []types.DeploymentLifecycleHook
	if s.LoadBalancer.TestListener {
		advanced.TestListenerRule = aws.String(b.out(stack.OutputTestRule))
		// Green has test traffic and no production traffic yet: the
		// moment to smoke-test it.
		hooks = append(hooks, types.DeploymentLifecycleHook{
			HookTargetArn:   aws.String(b.out(stack.OutputDeploywatchFunction)),
			RoleArn:         aws.String(b.out(stack.OutputHookRole)),
			TargetType:      types.DeploymentLifecycleHookTargetTypeAwsLambda,
			LifecycleStages: []types.DeploymentLifecycleHookStage{types.DeploymentLifecycleHookStagePostTestTrafficShift},
			TimeoutConfiguration: &types.DeploymentLifecycleHookTimeoutConfiguration{
				Action:           types.DeploymentLifecycleHookActionRollback,
				TimeoutInMinutes: aws.Int32(int32(s.Deployment.HookTimeoutMinutes)),
			},
		})
	}
	return &ecs.CreateServiceInput{
		Cluster:            aws.String(b.out(stack.OutputCluster)),
		ServiceName:        aws.String(stack.ServiceName(s)),
		TaskDefinition:     aws.String(taskDefinitionArn),
		LaunchType:         types.LaunchType(s.Service.LaunchType),
		PlatformVersion:    aws.String(s.Service.PlatformVersion),
		DesiredCount:       aws.Int32(int32(s.Service.DesiredCount)),
		SchedulingStrategy: types.SchedulingStrategyReplica,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets:        strings.Split(b.out(stack.OutputPrivateSubnets), ","),
			SecurityGroups: []string{b.out(stack.OutputTaskSecurityGroup)},
			AssignPublicIp: types.AssignPublicIpDisabled,
		}},
		LoadBalancers: []types.LoadBalancer{{
			TargetGroupArn:        aws.String(b.out(stack.OutputBlueTargetGroup)),
			ContainerName:         aws.String(stack.ContainerName),
			ContainerPort:         aws.Int32(int32(s.Task.ContainerPort)),
			AdvancedConfiguration: advanced,
		}},
		DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeEcs},
		DeploymentConfiguration: &types.DeploymentConfiguration{
			Strategy:          types.DeploymentStrategyBlueGreen,
			BakeTimeInMinutes: aws.Int32(int32(s.Deployment.BakeTimeInMinutes)),
			Alarms: &types.DeploymentAlarms{
				AlarmNames: strings.Split(b.out(stack.OutputDeploymentAlarms), ","),
				Enable:     true,
				Rollback:   s.Deployment.AlarmRollback,
			},
			LifecycleHooks: hooks,
			// Green comes up at full size beside blue.
			MaximumPercent:        aws.Int32(200),
			MinimumHealthyPercent: aws.Int32(100),
		},
		AvailabilityZoneRebalancing:   availabilityZoneRebalancing(s.Service.AZRebalancing),
		HealthCheckGracePeriodSeconds: aws.Int32(int32(s.Service.HealthCheckGracePeriodSeconds)),
		EnableECSManagedTags:          true,
		PropagateTags:                 types.PropagateTagsService,
		Tags:                          b.tags(),
	}
}

func availabilityZoneRebalancing(on bool) types.AvailabilityZoneRebalancing {
	if on {
		return types.AvailabilityZoneRebalancingEnabled
	}
	return types.AvailabilityZoneRebalancingDisabled
}

// UpdateService deploys a new task definition, and changes nothing else:
// ECS owns the load balancer state of a running blue/green service.
func (b *Builder) UpdateService(taskDefinitionArn string) *ecs.UpdateServiceInput {
	return &ecs.UpdateServiceInput{
		Cluster:        aws.String(b.out(stack.OutputCluster)),
		Service:        aws.String(stack.ServiceName(b.spec)),
		TaskDefinition: aws.String(taskDefinitionArn),
	}
}

// scalingResourceID is Application Auto Scaling's name for the service.
func (b *Builder) scalingResourceID() string {
	return "service/" + b.out(stack.OutputCluster) + "/" + stack.ServiceName(b.spec)
}

// ScalableTarget registers the service's desired count with Application
// Auto Scaling between the spec's min and max.
func (b *Builder) ScalableTarget() *aas.RegisterScalableTargetInput {
	return &aas.RegisterScalableTargetInput{
		ServiceNamespace:  aastypes.ServiceNamespaceEcs,
		ResourceId:        aws.String(b.scalingResourceID()),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		MinCapacity:       aws.Int32(int32(b.spec.Scaling.Min)),
		MaxCapacity:       aws.Int32(int32(b.spec.Scaling.Max)),
	}
}

// ScalingPolicy keeps the service's average CPU at the spec's target.
func (b *Builder) ScalingPolicy() *aas.PutScalingPolicyInput {
	sc := b.spec.Scaling
	return &aas.PutScalingPolicyInput{
		PolicyName:        aws.String(b.spec.Prefix() + "-cpu-target"),
		PolicyType:        aastypes.PolicyTypeTargetTrackingScaling,
		ServiceNamespace:  aastypes.ServiceNamespaceEcs,
		ResourceId:        aws.String(b.scalingResourceID()),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{
			TargetValue: aws.Float64(sc.TargetCPUPercent),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{
				PredefinedMetricType: aastypes.MetricTypeECSServiceAverageCPUUtilization,
			},
			ScaleInCooldown:  aws.Int32(int32(sc.ScaleInCooldownSeconds)),
			ScaleOutCooldown: aws.Int32(int32(sc.ScaleOutCooldownSeconds)),
		},
	}
}
