package ecs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// serviceKey resolves a service name or ARN within a cluster.
func serviceKey(cluster, nameOrARN string) string {
	name := nameOrARN
	if strings.HasPrefix(name, "arn:") {
		if i := strings.Index(name, ":service/"); i >= 0 {
			rest := name[i+len(":service/"):]
			if c, n, ok := strings.Cut(rest, "/"); ok {
				return c + "/" + n
			}
			name = rest
		}
	}
	return cluster + "/" + name
}

// service finds a service that is not INACTIVE.
func (b *Backend) service(cluster, nameOrARN string) (*serviceRec, error) {
	c, err := b.cluster(cluster)
	if err != nil {
		return nil, err
	}
	s, ok := b.st.Services[serviceKey(c.ClusterName, nameOrARN)]
	if !ok || s.Status == "INACTIVE" {
		return nil, serviceNotFound()
	}
	return s, nil
}

type networkConfiguration struct {
	AwsvpcConfiguration *struct {
		Subnets        []string `json:"subnets"`
		SecurityGroups []string `json:"securityGroups"`
		AssignPublicIP string   `json:"assignPublicIp"`
	} `json:"awsvpcConfiguration"`
}

type serviceIn struct {
	Cluster                       string                   `json:"cluster"`
	ServiceName                   *string                  `json:"serviceName"`
	Service                       *string                  `json:"service"`
	TaskDefinition                *string                  `json:"taskDefinition"`
	DesiredCount                  *int32                   `json:"desiredCount"`
	LaunchType                    string                   `json:"launchType"`
	PlatformVersion               *string                  `json:"platformVersion"`
	LoadBalancers                 []LoadBalancer           `json:"loadBalancers"`
	NetworkConfiguration          json.RawMessage          `json:"networkConfiguration"`
	DeploymentConfiguration       *DeploymentConfiguration `json:"deploymentConfiguration"`
	DeploymentController          *DeploymentController    `json:"deploymentController"`
	HealthCheckGracePeriodSeconds *int32                   `json:"healthCheckGracePeriodSeconds"`
	SchedulingStrategy            string                   `json:"schedulingStrategy"`
	Role                          string                   `json:"role"`
	EnableECSManagedTags          *bool                    `json:"enableECSManagedTags"`
	PropagateTags                 string                   `json:"propagateTags"`
	EnableExecuteCommand          *bool                    `json:"enableExecuteCommand"`
	AvailabilityZoneRebalancing   string                   `json:"availabilityZoneRebalancing"`
	PlacementConstraints          json.RawMessage          `json:"placementConstraints"`
	PlacementStrategy             json.RawMessage          `json:"placementStrategy"`
	CapacityProviderStrategy      json.RawMessage          `json:"capacityProviderStrategy"`
	ServiceRegistries             json.RawMessage          `json:"serviceRegistries"`
	ForceNewDeployment            bool                     `json:"forceNewDeployment"`
	Tags                          []Tag                    `json:"tags"`
	ClientToken                   string                   `json:"clientToken"`
}

var hookStages = []string{"RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"}

// validateDeploymentConfiguration checks what ECS checks at the API.
func validateDeploymentConfiguration(dc *DeploymentConfiguration) error {
	if dc == nil {
		return nil
	}
	switch dc.Strategy {
	case "", "ROLLING", "BLUE_GREEN":
	case "LINEAR", "CANARY":
		return apiErr(CodeUnsupportedFeature, "The %s deployment strategy is not supported by localcloud.", dc.Strategy)
	default:
		return invalidParam("deploymentConfiguration.strategy must be one of ROLLING, BLUE_GREEN, LINEAR, CANARY.")
	}
	if dc.BakeTimeInMinutes != nil && (*dc.BakeTimeInMinutes < 0 || *dc.BakeTimeInMinutes > 1440) {
		return invalidParam("bakeTimeInMinutes must be between 0 and 1440.")
	}
	if dc.MaximumPercent != nil && *dc.MaximumPercent < 100 {
		return invalidParam("maximumPercent must be at least 100.")
	}
	if dc.MinimumHealthyPercent != nil && (*dc.MinimumHealthyPercent < 0 || *dc.MinimumHealthyPercent > 100) {
		return invalidParam("minimumHealthyPercent must be between 0 and 100.")
	}
	if dc.Alarms != nil && dc.Alarms.Enable && len(dc.Alarms.AlarmNames) == 0 {
		return invalidParam("deploymentConfiguration.alarms.alarmNames must name at least one alarm when alarms are enabled.")
	}
	for _, h := range dc.LifecycleHooks {
		if len(h.LifecycleStages) == 0 {
			return invalidParam("lifecycleHooks[].lifecycleStages must have at least one stage.")
		}
		tt := h.TargetType
		if tt == "" {
			tt = "AWS_LAMBDA"
		}
		if tt != "AWS_LAMBDA" && tt != "PAUSE" {
			return invalidParam("lifecycleHooks[].targetType must be AWS_LAMBDA or PAUSE.")
		}
		if tt == "AWS_LAMBDA" && (h.HookTargetArn == "" || h.RoleArn == "") {
			return invalidParam("A lifecycle hook of type AWS_LAMBDA requires hookTargetArn and roleArn.")
		}
		for _, st := range h.LifecycleStages {
			if !slices.Contains(hookStages, st) {
				return invalidParam("Invalid lifecycle stage %s for a lifecycle hook.", st)
			}
			if tt == "PAUSE" && (st == "TEST_TRAFFIC_SHIFT" || st == "PRODUCTION_TRAFFIC_SHIFT") {
				return invalidParam("A PAUSE lifecycle hook cannot be used at %s.", st)
			}
		}
	}
	return nil
}

// validateLoadBalancers checks the load balancer wiring against the task
// definition and, through ELBv2, the target groups.
func (b *Backend) validateLoadBalancers(ctx context.Context, lbs []LoadBalancer, td *taskDefRec, dc *DeploymentConfiguration) error {
	bg := dc != nil && dc.Strategy == "BLUE_GREEN"
	if bg && len(lbs) == 0 {
		return invalidParam("A service using the BLUE_GREEN deployment strategy requires a load balancer.")
	}
	for _, lb := range lbs {
		if lb.TargetGroupArn == "" {
			return invalidParam("targetGroupArn is required for an Application Load Balancer.")
		}
		if lb.ContainerName == "" {
			return invalidParam("Container Name can not be blank.")
		}
		if lb.ContainerPort == nil {
			return invalidParam("Container Port can not be blank.")
		}
		found := false
		for _, c := range td.ContainerDefinitions {
			if c.Name != lb.ContainerName {
				continue
			}
			for _, pm := range c.PortMappings {
				found = found || (pm.ContainerPort != nil && *pm.ContainerPort == *lb.ContainerPort)
			}
		}
		if !found {
			return invalidParam("The container %s did not have a container port %d defined.", lb.ContainerName, *lb.ContainerPort)
		}
		tgs := []string{lb.TargetGroupArn}
		if ac := lb.AdvancedConfiguration; ac != nil {
			if ac.AlternateTargetGroupArn != "" {
				tgs = append(tgs, ac.AlternateTargetGroupArn)
			}
		}
		if bg {
			ac := lb.AdvancedConfiguration
			if ac == nil || ac.AlternateTargetGroupArn == "" || ac.ProductionListenerRule == "" || ac.RoleArn == "" {
				return invalidParam("A service using the BLUE_GREEN deployment strategy requires loadBalancers[].advancedConfiguration with alternateTargetGroupArn, productionListenerRule and roleArn.")
			}
			if ac.AlternateTargetGroupArn == lb.TargetGroupArn {
				return invalidParam("alternateTargetGroupArn must differ from targetGroupArn.")
			}
		}
		if b.cfg.ELB == nil {
			return invalidParam("Load balancers are not available in this local cloud.")
		}
		for _, arn := range tgs {
			info, err := b.cfg.ELB.TargetGroup(ctx, arn)
			if err != nil {
				return invalidParam("Unable to describe target group %s: target group not found.", arn)
			}
			if td.NetworkMode == "awsvpc" && info.TargetType != "ip" {
				return invalidParam("The provided target group %s has target type %s, which is incompatible with the awsvpc network mode specified in the task definition.", arn, info.TargetType)
			}
			if len(info.LoadBalancerARNs) == 0 {
				return invalidParam("The target group with targetGroupArn %s does not have an associated load balancer.", arn)
			}
		}
	}
	return nil
}

func (b *Backend) checkNetwork(td *taskDefRec, raw json.RawMessage) error {
	if td.NetworkMode != "awsvpc" {
		return nil
	}
	var nc networkConfiguration
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &nc); err != nil {
			return invalidParam("networkConfiguration is malformed.")
		}
	}
	if nc.AwsvpcConfiguration == nil || len(nc.AwsvpcConfiguration.Subnets) == 0 {
		return invalidParam("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	return nil
}

func (b *Backend) apiCreateService(ctx context.Context, in *serviceIn) (any, error) {
	if in.ServiceName == nil {
		return nil, required("serviceName")
	}
	c, err := b.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	name := *in.ServiceName
	if !namePattern.MatchString(name) {
		return nil, invalidParam("Service name can contain only letters, numbers, underscores and hyphens, and be at most 255 characters long.")
	}
	if in.TaskDefinition == nil {
		return nil, invalidParam("TaskDefinition must be specified for a service with the ECS deployment controller.")
	}
	if in.SchedulingStrategy != "" && in.SchedulingStrategy != "REPLICA" {
		return nil, apiErr(CodeUnsupportedFeature, "Only the REPLICA scheduling strategy is supported by localcloud.")
	}
	if in.DesiredCount == nil {
		return nil, invalidParam("desiredCount is required when the scheduling strategy is REPLICA.")
	}
	if *in.DesiredCount < 0 {
		return nil, invalidParam("desiredCount must be at least 0.")
	}
	if in.DeploymentController != nil && in.DeploymentController.Type != "" && in.DeploymentController.Type != "ECS" {
		return nil, apiErr(CodeUnsupportedFeature, "The %s deployment controller is not supported by localcloud.", in.DeploymentController.Type)
	}
	launchType := in.LaunchType
	switch launchType {
	case "":
		launchType = "FARGATE"
	case "FARGATE", "EC2", "EXTERNAL":
	default:
		return nil, invalidParam("launchType must be one of EC2, FARGATE, EXTERNAL.")
	}
	td, ok := b.taskDef(*in.TaskDefinition)
	if !ok || td.Status != "ACTIVE" {
		return nil, invalidParam("TaskDefinition not found.")
	}
	if launchType == "FARGATE" && !slices.Contains(td.Compatibilities, "FARGATE") {
		return nil, invalidParam("Task definition does not support launch_type FARGATE.")
	}
	if err := b.checkNetwork(td, in.NetworkConfiguration); err != nil {
		return nil, err
	}
	if err := validateDeploymentConfiguration(in.DeploymentConfiguration); err != nil {
		return nil, err
	}
	if err := b.validateLoadBalancers(ctx, in.LoadBalancers, td, in.DeploymentConfiguration); err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	key := c.ClusterName + "/" + name
	if old, ok := b.st.Services[key]; ok && old.Status != "INACTIVE" {
		return nil, invalidParam("Creation of service was not idempotent.")
	}
	// A deleted service's deployments and revisions went with it.
	b.forgetService(key)
	dc := in.DeploymentConfiguration
	if dc == nil {
		dc = &DeploymentConfiguration{}
	}
	if dc.Strategy == "" {
		dc.Strategy = "ROLLING"
	}
	if dc.MaximumPercent == nil {
		v := int32(200)
		dc.MaximumPercent = &v
	}
	if dc.MinimumHealthyPercent == nil {
		v := int32(100)
		dc.MinimumHealthyPercent = &v
	}
	if dc.DeploymentCircuitBreaker == nil {
		dc.DeploymentCircuitBreaker = &DeploymentCircuitBreaker{}
	}
	pv := ""
	if launchType == "FARGATE" {
		pv = "LATEST"
	}
	if in.PlatformVersion != nil {
		pv = *in.PlatformVersion
	}
	now := b.now()
	s := &serviceRec{Cluster: c.ClusterName, Service: Service{
		ServiceArn: b.arn("service/" + c.ClusterName + "/" + name), ServiceName: name, ClusterArn: c.ClusterArn,
		Status: "ACTIVE", TaskDefinition: td.TaskDefinitionArn, DesiredCount: *in.DesiredCount,
		LaunchType: launchType, PlatformVersion: pv, LoadBalancers: in.LoadBalancers,
		NetworkConfiguration: in.NetworkConfiguration, DeploymentConfiguration: dc,
		DeploymentController: &DeploymentController{Type: "ECS"}, CreatedAt: now,
		CreatedBy: "arn:aws:iam::" + b.cfg.Account + ":root", RoleArn: in.Role,
		HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds, SchedulingStrategy: "REPLICA",
		PropagateTags: in.PropagateTags, AvailabilityZoneRebalancing: in.AvailabilityZoneRebalancing,
		PlacementConstraints: in.PlacementConstraints, PlacementStrategy: in.PlacementStrategy,
		CapacityProviderStrategy: in.CapacityProviderStrategy, ServiceRegistries: in.ServiceRegistries,
	}}
	if s.LoadBalancers == nil {
		s.LoadBalancers = []LoadBalancer{}
	}
	if in.EnableECSManagedTags != nil {
		s.EnableECSManagedTags = *in.EnableECSManagedTags
	}
	if in.EnableExecuteCommand != nil {
		s.EnableExecuteCommand = *in.EnableExecuteCommand
	}
	if s.AvailabilityZoneRebalancing == "" {
		s.AvailabilityZoneRebalancing = "ENABLED"
	}
	if len(s.LoadBalancers) > 0 {
		s.LiveTG = s.LoadBalancers[0].TargetGroupArn
	}
	b.st.Services[key] = s
	if len(in.Tags) > 0 {
		b.st.Tags[s.ServiceArn] = in.Tags
	}
	rev := b.newRevision(s, td)
	b.newDeployment(ctx, s, rev)
	b.log.Info("service created", "service", name, "cluster", c.ClusterName, "desiredCount", s.DesiredCount, "strategy", dc.Strategy)
	return map[string]any{"service": b.serviceView(s, false)}, nil
}

// newRevision snapshots the service's configuration as a service revision.
func (b *Backend) newRevision(s *serviceRec, td *taskDefRec) *revisionRec {
	r := &revisionRec{ServiceID: s.key(), LegacyID: "ecs-svc/" + randomDigits(19), ServiceRevision: ServiceRevision{
		ServiceRevisionArn: b.arn("service-revision/" + s.Cluster + "/" + s.ServiceName + "/" + randomDigits(19)),
		ServiceArn:         s.ServiceArn, ClusterArn: s.ClusterArn, TaskDefinition: td.TaskDefinitionArn,
		LaunchType: s.LaunchType, PlatformVersion: s.PlatformVersion, LoadBalancers: s.LoadBalancers,
		NetworkConfiguration: s.NetworkConfiguration, CreatedAt: b.now(),
	}}
	if s.LaunchType == "FARGATE" {
		r.PlatformFamily = "Linux"
	}
	for _, c := range td.ContainerDefinitions {
		ci := ContainerImage{ContainerName: c.Name, Image: c.Image}
		pinned := c.Image
		if b.cfg.Images != nil {
			if p, err := b.cfg.Images.Resolve(c.Image); err == nil {
				pinned = p
			} else {
				// Tasks will fail with CannotPullContainerError, as on AWS.
				b.log.Warn("resolve image", "image", c.Image, "error", err)
			}
		}
		if _, d, ok := strings.Cut(pinned, "@"); ok {
			ci.ImageDigest = d
			r.Pinned = append(r.Pinned, pinnedImage{Container: c.Name, Image: pinned})
		}
		r.ContainerImages = append(r.ContainerImages, ci)
	}
	if s.blueGreen() && len(s.LoadBalancers) > 0 {
		lb := s.LoadBalancers[0]
		rule := ""
		if lb.AdvancedConfiguration != nil {
			rule = lb.AdvancedConfiguration.ProductionListenerRule
		}
		r.ResolvedConfiguration = &struct {
			LoadBalancers []RevisionLoadBalancer `json:"loadBalancers,omitempty"`
		}{}
		// The revision will serve from the target group production does not use.
		tg := lb.TargetGroupArn
		if s.Revision != "" && lb.AdvancedConfiguration != nil {
			tg = other(s.LiveTG, lb.TargetGroupArn, lb.AdvancedConfiguration.AlternateTargetGroupArn)
		}
		r.ResolvedConfiguration.LoadBalancers = []RevisionLoadBalancer{{TargetGroupArn: tg, ProductionListenerRule: rule}}
	}
	b.st.Revisions[r.ServiceRevisionArn] = r
	b.dirty = true
	return r
}

func (b *Backend) apiUpdateService(ctx context.Context, in *serviceIn) (any, error) {
	if in.Service == nil {
		return nil, required("service")
	}
	s, err := b.service(in.Cluster, *in.Service)
	if err != nil {
		return nil, err
	}
	if s.Status != "ACTIVE" {
		return nil, apiErr(CodeServiceNotActive, "Service was not ACTIVE.")
	}
	td, _ := b.taskDef(s.TaskDefinition)
	redeploy := in.ForceNewDeployment
	if in.TaskDefinition != nil {
		ntd, ok := b.taskDef(*in.TaskDefinition)
		if !ok || ntd.Status != "ACTIVE" {
			return nil, invalidParam("TaskDefinition not found.")
		}
		if s.LaunchType == "FARGATE" && !slices.Contains(ntd.Compatibilities, "FARGATE") {
			return nil, invalidParam("Task definition does not support launch_type FARGATE.")
		}
		if ntd.TaskDefinitionArn != s.TaskDefinition {
			redeploy = true
		}
		td = ntd
	}
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		return nil, invalidParam("desiredCount must be at least 0.")
	}
	dc := s.DeploymentConfiguration
	if in.DeploymentConfiguration != nil {
		merged := *in.DeploymentConfiguration
		if merged.Strategy == "" {
			merged.Strategy = dc.Strategy
		}
		if merged.MaximumPercent == nil {
			merged.MaximumPercent = dc.MaximumPercent
		}
		if merged.MinimumHealthyPercent == nil {
			merged.MinimumHealthyPercent = dc.MinimumHealthyPercent
		}
		if merged.DeploymentCircuitBreaker == nil {
			merged.DeploymentCircuitBreaker = dc.DeploymentCircuitBreaker
		}
		if err := validateDeploymentConfiguration(&merged); err != nil {
			return nil, err
		}
		dc = &merged
	}
	lbs := s.LoadBalancers
	if in.LoadBalancers != nil {
		lbs = in.LoadBalancers
		redeploy = true
	}
	if err := b.validateLoadBalancers(ctx, lbs, td, dc); err != nil {
		return nil, err
	}
	nc := s.NetworkConfiguration
	if in.NetworkConfiguration != nil {
		nc = in.NetworkConfiguration
		redeploy = true
	}
	if err := b.checkNetwork(td, nc); err != nil {
		return nil, err
	}
	if in.PlatformVersion != nil && *in.PlatformVersion != s.PlatformVersion {
		s.PlatformVersion = *in.PlatformVersion
		redeploy = true
	}
	// Validated: apply.
	if in.DesiredCount != nil && *in.DesiredCount != s.DesiredCount {
		b.log.Info("desired count changed", "service", s.ServiceName, "from", s.DesiredCount, "to", *in.DesiredCount)
		s.DesiredCount = *in.DesiredCount
		s.Steady = false
	}
	s.DeploymentConfiguration = dc
	if in.LoadBalancers != nil && !slices.EqualFunc(lbs, s.LoadBalancers, func(a, c LoadBalancer) bool { return a.TargetGroupArn == c.TargetGroupArn }) {
		s.LiveTG = ""
		if len(lbs) > 0 {
			s.LiveTG = lbs[0].TargetGroupArn
		}
	}
	s.LoadBalancers, s.NetworkConfiguration = lbs, nc
	if in.HealthCheckGracePeriodSeconds != nil {
		s.HealthCheckGracePeriodSeconds = in.HealthCheckGracePeriodSeconds
	}
	if in.EnableECSManagedTags != nil {
		s.EnableECSManagedTags = *in.EnableECSManagedTags
	}
	if in.EnableExecuteCommand != nil {
		s.EnableExecuteCommand = *in.EnableExecuteCommand
	}
	if in.PropagateTags != "" {
		s.PropagateTags = in.PropagateTags
	}
	if in.AvailabilityZoneRebalancing != "" {
		s.AvailabilityZoneRebalancing = in.AvailabilityZoneRebalancing
	}
	s.TaskDefinition = td.TaskDefinitionArn
	if redeploy {
		rev := b.newRevision(s, td)
		b.newDeployment(ctx, s, rev)
	}
	b.dirty = true
	b.poke()
	return map[string]any{"service": b.serviceView(s, false)}, nil
}

// serviceView is the service as DescribeServices shows it, with live counts.
func (b *Backend) serviceView(s *serviceRec, tags bool) Service {
	out := s.Service
	out.RunningCount, out.PendingCount = 0, 0
	for _, t := range b.st.Tasks {
		if t.ServiceID != s.key() {
			continue
		}
		switch t.LastStatus {
		case "RUNNING":
			out.RunningCount++
		case "PROVISIONING", "PENDING", "ACTIVATING":
			out.PendingCount++
		}
	}
	if s.Events == nil {
		out.Events = []ServiceEvent{}
	}
	out.Deployments = []LegacyDeployment{}
	d := b.st.Deployments[s.Deployment]
	legacy := func(revArn, status string) {
		r := b.st.Revisions[revArn]
		if r == nil {
			return
		}
		running, pending := b.revisionCounts(revArn)
		ld := LegacyDeployment{
			ID: r.LegacyID, Status: status, TaskDefinition: r.TaskDefinition, DesiredCount: s.DesiredCount,
			RunningCount: running, PendingCount: pending, CreatedAt: r.CreatedAt, UpdatedAt: r.CreatedAt,
			LaunchType: r.LaunchType, PlatformVersion: r.PlatformVersion, RolloutState: "COMPLETED",
			NetworkConfig: r.NetworkConfiguration,
		}
		if d != nil && d.TargetRevision == revArn {
			if d.UpdatedAt != nil {
				ld.UpdatedAt = *d.UpdatedAt
			}
			switch {
			case !d.done():
				ld.RolloutState, ld.RolloutStateReason = "IN_PROGRESS", fmt.Sprintf("ECS deployment %s in progress.", r.LegacyID)
			case d.Status == "SUCCESSFUL":
				ld.RolloutStateReason = fmt.Sprintf("ECS deployment %s completed.", r.LegacyID)
			default:
				ld.RolloutState, ld.RolloutStateReason = "FAILED", d.StatusReason
			}
			for _, t := range b.st.Tasks {
				if t.Revision == revArn && t.Failed {
					ld.FailedTasks++
				}
			}
		}
		if status != "PRIMARY" {
			ld.DesiredCount = 0
			if d != nil && !d.done() {
				ld.DesiredCount = s.DesiredCount
			}
		}
		out.Deployments = append(out.Deployments, ld)
	}
	if d != nil && !d.done() && !d.RollingBack {
		legacy(d.TargetRevision, "PRIMARY")
		if d.SourceRevision != "" {
			legacy(d.SourceRevision, "ACTIVE")
		}
	} else if d != nil && d.RollingBack && !d.done() {
		legacy(d.SourceRevision, "PRIMARY")
		legacy(d.TargetRevision, "ACTIVE")
	} else if s.Revision != "" {
		legacy(s.Revision, "PRIMARY")
	}
	out.CurrentServiceDeployment = s.Deployment
	out.CurrentServiceRevisions = nil
	for _, rev := range b.activeRevisions(s, d) {
		running, pending := b.revisionCounts(rev)
		out.CurrentServiceRevisions = append(out.CurrentServiceRevisions, RevisionSummary{Arn: rev, RequestedTaskCount: s.DesiredCount, RunningTaskCount: running, PendingTaskCount: pending})
	}
	if tags {
		out.Tags = b.st.Tags[s.ServiceArn]
	} else {
		out.Tags = nil
	}
	return out
}

// activeRevisions are the revisions with tasks the service keeps.
func (b *Backend) activeRevisions(s *serviceRec, d *deploymentRec) []string {
	var out []string
	for _, w := range b.wants(s, d) {
		out = append(out, w.rev)
	}
	return out
}

type describeServicesIn struct {
	Cluster  string   `json:"cluster"`
	Services []string `json:"services"`
	Include  []string `json:"include"`
}

func (b *Backend) apiDescribeServices(_ context.Context, in *describeServicesIn) (any, error) {
	if in.Services == nil {
		return nil, required("services")
	}
	if len(in.Services) == 0 || len(in.Services) > 10 {
		return nil, invalidParam("services can have at most 10 items and at least 1.")
	}
	c, err := b.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	out := []Service{}
	fails := []failure{}
	for _, n := range in.Services {
		s, ok := b.st.Services[serviceKey(c.ClusterName, n)]
		if !ok {
			arn := n
			if !strings.HasPrefix(n, "arn:") {
				arn = b.arn("service/" + c.ClusterName + "/" + n)
			}
			fails = append(fails, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out = append(out, b.serviceView(s, slices.Contains(in.Include, "TAGS")))
	}
	return map[string]any{"services": out, "failures": fails}, nil
}

type deleteServiceIn struct {
	Cluster string  `json:"cluster"`
	Service *string `json:"service"`
	Force   bool    `json:"force"`
}

func (b *Backend) apiDeleteService(ctx context.Context, in *deleteServiceIn) (any, error) {
	if in.Service == nil {
		return nil, required("service")
	}
	s, err := b.service(in.Cluster, *in.Service)
	if err != nil {
		return nil, err
	}
	if s.Status == "DRAINING" {
		return map[string]any{"service": b.serviceView(s, false)}, nil
	}
	if s.DesiredCount > 0 && !in.Force {
		return nil, invalidParam("The service cannot be stopped while it is scaled above 0.")
	}
	if d := b.st.Deployments[s.Deployment]; d != nil && !d.done() {
		b.supersede(ctx, s, d)
	}
	s.Status, s.DesiredCount = "DRAINING", 0
	b.dirty = true
	b.poke()
	b.log.Info("service draining for deletion", "service", s.ServiceName)
	return map[string]any{"service": b.serviceView(s, false)}, nil
}

type listServicesIn struct {
	Cluster    string `json:"cluster"`
	LaunchType string `json:"launchType"`
	MaxResults *int32 `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

func (b *Backend) apiListServices(_ context.Context, in *listServicesIn) (any, error) {
	c, err := b.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	var arns []string
	for _, s := range b.st.Services {
		if s.Cluster == c.ClusterName && s.Status != "INACTIVE" && (in.LaunchType == "" || in.LaunchType == s.LaunchType) {
			arns = append(arns, s.ServiceArn)
		}
	}
	sort.Strings(arns)
	page, next, err := paginate(arns, in.MaxResults, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	return map[string]any{"serviceArns": page, "nextToken": next}, nil
}

// forgetService drops what a deleted service leaves: its deployments,
// revisions and stopped tasks, as deleting a service does on AWS.
func (b *Backend) forgetService(key string) {
	for arn, d := range b.st.Deployments {
		if d.ServiceID == key {
			delete(b.st.Deployments, arn)
		}
	}
	for arn, r := range b.st.Revisions {
		if r.ServiceID == key {
			delete(b.st.Revisions, arn)
		}
	}
	for id, t := range b.st.Tasks {
		if t.ServiceID == key && t.LastStatus == "STOPPED" {
			delete(b.st.Tasks, id)
			delete(b.st.Tags, t.TaskArn)
		}
	}
	b.dirty = true
}
