package stack

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/cfn"
)

// Logical ids of the environment stack that more than one function uses.
const (
	logicalVPC             = "VPC"
	logicalIGW             = "InternetGateway"
	logicalIGWAttachment   = "InternetGatewayAttachment"
	logicalALBSG           = "LoadBalancerSecurityGroup"
	logicalTaskSG          = "TaskSecurityGroup"
	logicalDeploywatchSG   = "DeploywatchSecurityGroup"
	logicalALB             = "LoadBalancer"
	logicalListener        = "ProductionListener"
	logicalTestListener    = "TestListener"
	logicalCluster         = "Cluster"
	logicalAppLogs         = "AppLogGroup"
	logicalDeploywatchLogs = "DeploywatchLogGroup"
	logicalExecutionRole   = "TaskExecutionRole"
	logicalTaskRole        = "TaskRole"
	logicalInfraRole       = "InfrastructureRole"
	logicalHookRole        = "HookInvokeRole"
	logicalDeploywatchRole = "DeploywatchRole"
	logicalFunction        = "DeploywatchFunction"
	logicalLedger          = "DeploymentLedger"
	logicalDLQ             = "DeploywatchDeadLetterQueue"
	logicalDLQPolicy       = "DeploywatchDeadLetterQueuePolicy"
	logicalTarget5xx       = "Target5xxAlarm"
	logicalELB5xx          = "LoadBalancer5xxAlarm"
	logicalLatency         = "LatencyAlarm"
	logicalDLQAlarm        = "DeploywatchDeadLetterAlarm"
	logicalDeployRule      = "DeploymentEventsRule"
	logicalServiceRule     = "ServiceActionEventsRule"
	logicalAlarmRule       = "AlarmEventsRule"
	logicalHookRule        = "HookEventsRule"
)

// azSuffix names the two AZs' resources.
var azSuffix = [2]string{"A", "B"}

// Inputs is what the environment stack needs besides the spec.
type Inputs struct {
	// Live is the forward configuration of an existing stack's rules; the
	// zero value is right for a stack that does not exist yet.
	Live Live
	// ArtifactBucket and DeploywatchKey fill the stack's parameters when
	// known (from the bootstrap stack and the uploaded package); left empty,
	// the parameters are left for the deployer to fill.
	ArtifactBucket string
	DeploywatchKey string
}

// env renders one environment stack; it keeps the spec and template at hand.
type env struct {
	spec platform.Spec
	t    *cfn.Template
}

// Environment renders the environment stack.
func Environment(spec platform.Spec, in Inputs) (*Stack, error) {
	if ps := spec.Validate(); ps != nil {
		return nil, fmt.Errorf("render environment %s: %w", spec.Env, ps)
	}
	if in.Live.Test != nil && !spec.LoadBalancer.TestListener {
		// Removing the test listener deletes its rule; nothing to keep.
		in.Live.Test = nil
	}
	e := env{spec: spec, t: cfn.New("Shipyard " + spec.Env + " environment: network, load balancer, cluster, roles, alarms, ledger and deploywatch (rendered by ship; edit ship.yaml, not this)")}
	e.t.Parameters[ParamArtifactBucket] = cfn.Parameter{
		Type: "String", Description: "the bootstrap stack's artifact bucket, holding the deploywatch package",
		AllowedPattern: `^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`,
	}
	e.t.Parameters[ParamDeploywatchKey] = cfn.Parameter{
		Type: "String", Description: "the deploywatch package's content-addressed key: deploywatch/<sha256>.zip",
		AllowedPattern: `^deploywatch/[0-9a-f]{64}\.zip$`,
	}
	e.network()
	e.securityGroups()
	e.loadBalancer(in.Live)
	e.cluster()
	e.roles()
	e.alarms()
	e.deploywatch()
	bound(e.t, spec)
	params := map[string]string{}
	if in.ArtifactBucket != "" {
		params[ParamArtifactBucket] = in.ArtifactBucket
	}
	if in.DeploywatchKey != "" {
		params[ParamDeploywatchKey] = in.DeploywatchKey
	}
	return &Stack{Name: EnvironmentName(spec), Template: e.t, Parameters: params, Tags: tags(spec)}, nil
}

func (e env) name(suffix string) string { return e.spec.Prefix() + "-" + suffix }

func (e env) nameTag(suffix string) []cfn.Tag {
	return []cfn.Tag{{Key: "Name", Value: cfn.String(e.name(suffix))}}
}

// arn builds an ARN of this account and region.
func arn(service, resource string) cfn.Value {
	return cfn.Sub("arn:${AWS::Partition}:" + service + ":${AWS::Region}:${AWS::AccountId}:" + resource)
}

func (e env) network() {
	s := e.spec
	public, private := s.SubnetCIDRs()
	e.t.Add(logicalVPC, cfn.Of(cfn.VPC{CidrBlock: s.Network.VPCCIDR, EnableDnsHostnames: true, EnableDnsSupport: true, Tags: e.nameTag("vpc")}))
	e.t.Add(logicalIGW, cfn.Of(cfn.InternetGateway{Tags: e.nameTag("igw")}))
	e.t.Add(logicalIGWAttachment, cfn.Of(cfn.VPCGatewayAttachment{VpcId: cfn.Ref(logicalVPC), InternetGatewayId: cfn.Ref(logicalIGW)}))

	e.t.Add("PublicRouteTable", cfn.Of(cfn.RouteTable{VpcId: cfn.Ref(logicalVPC), Tags: e.nameTag("public")}))
	// The route needs the gateway attached first, or creation fails.
	e.t.Add("PublicDefaultRoute", cfn.Of(cfn.Route{
		RouteTableId: cfn.Ref("PublicRouteTable"), DestinationCidrBlock: "0.0.0.0/0", GatewayId: cfn.Ref(logicalIGW),
	}, logicalIGWAttachment))

	nats := 2
	if s.Network.NAT == platform.NATSingle {
		nats = 1
	}
	for i, az := range s.Network.AvailabilityZones {
		x := azSuffix[i]
		lower := strings.ToLower(x)
		e.t.Add("PublicSubnet"+x, cfn.Of(cfn.Subnet{
			VpcId: cfn.Ref(logicalVPC), CidrBlock: public[i], AvailabilityZone: az, Tags: e.nameTag("public-" + lower),
		}))
		e.t.Add("PrivateSubnet"+x, cfn.Of(cfn.Subnet{
			VpcId: cfn.Ref(logicalVPC), CidrBlock: private[i], AvailabilityZone: az, Tags: e.nameTag("private-" + lower),
		}))
		e.t.Add("PublicSubnet"+x+"RouteTableAssociation", cfn.Of(cfn.SubnetRouteTableAssociation{
			SubnetId: cfn.Ref("PublicSubnet" + x), RouteTableId: cfn.Ref("PublicRouteTable"),
		}))
		if i < nats {
			e.t.Add("NatEip"+x, cfn.Of(cfn.EIP{Domain: "vpc", Tags: e.nameTag("nat-" + lower)}, logicalIGWAttachment))
			e.t.Add("NatGateway"+x, cfn.Of(cfn.NatGateway{
				AllocationId: cfn.GetAtt("NatEip"+x, "AllocationId"), SubnetId: cfn.Ref("PublicSubnet" + x), Tags: e.nameTag("nat-" + lower),
			}))
		}
		nat := "NatGateway" + azSuffix[min(i, nats-1)]
		e.t.Add("PrivateRouteTable"+x, cfn.Of(cfn.RouteTable{VpcId: cfn.Ref(logicalVPC), Tags: e.nameTag("private-" + lower)}))
		e.t.Add("PrivateDefaultRoute"+x, cfn.Of(cfn.Route{
			RouteTableId: cfn.Ref("PrivateRouteTable" + x), DestinationCidrBlock: "0.0.0.0/0", NatGatewayId: cfn.Ref(nat),
		}))
		e.t.Add("PrivateSubnet"+x+"RouteTableAssociation", cfn.Of(cfn.SubnetRouteTableAssociation{
			SubnetId: cfn.Ref("PrivateSubnet" + x), RouteTableId: cfn.Ref("PrivateRouteTable" + x),
		}))
	}
	e.t.Output(OutputVPC, "the VPC", cfn.Ref(logicalVPC))
	e.t.Output(OutputPrivateSubnets, "the private subnets the tasks run in, comma-separated", cfn.Join(",", cfn.Ref("PrivateSubnetA"), cfn.Ref("PrivateSubnetB")))
}

func ptr[T any](v T) *T { return &v }

// securityGroups renders the rule of docs/decisions/0002-container-port.md:
// the internet reaches the ALB on the listener port; only the ALB reaches
// the tasks, and only on the container port.
func (e env) securityGroups() {
	s := e.spec
	port := s.Task.ContainerPort
	albIngress := []cfn.SGIngress{{
		Description: "HTTP from the internet", IpProtocol: "tcp",
		FromPort: s.LoadBalancer.ListenerPort, ToPort: s.LoadBalancer.ListenerPort, CidrIp: "0.0.0.0/0",
	}}
	if s.LoadBalancer.TestListener {
		albIngress = append(albIngress, cfn.SGIngress{
			Description: "test listener, from inside the VPC only (the deploywatch smoke test)", IpProtocol: "tcp",
			FromPort: s.LoadBalancer.TestListenerPort, ToPort: s.LoadBalancer.TestListenerPort, CidrIp: s.Network.VPCCIDR,
		})
	}
	e.t.Add(logicalALBSG, cfn.Of(cfn.SecurityGroup{
		GroupDescription:     "load balancer: listener from the internet, container port to the VPC",
		VpcId:                cfn.Ref(logicalVPC),
		SecurityGroupIngress: albIngress,
		// Explicit egress replaces the default allow-all: the ALB only needs
		// to reach targets and their health checks on the container port.
		SecurityGroupEgress: []cfn.SGEgress{{
			Description: "to the tasks and their health checks", IpProtocol: "tcp",
			FromPort: ptr(port), ToPort: ptr(port), CidrIp: s.Network.VPCCIDR,
		}},
		Tags: e.nameTag("alb"),
	}))
	e.t.Add(logicalTaskSG, cfn.Of(cfn.SecurityGroup{
		GroupDescription: "tasks: the container port from the load balancer only",
		VpcId:            cfn.Ref(logicalVPC),
		SecurityGroupIngress: []cfn.SGIngress{{
			Description: "the container port, from the load balancer's security group only", IpProtocol: "tcp",
			FromPort: port, ToPort: port, SourceSecurityGroupId: cfn.GetAtt(logicalALBSG, "GroupId"),
		}},
		SecurityGroupEgress: []cfn.SGEgress{{
			Description: "all: ECR pulls, CloudWatch Logs, the app's own calls", IpProtocol: "-1", CidrIp: "0.0.0.0/0",
		}},
		Tags: e.nameTag("task"),
	}))
	e.t.Add(logicalDeploywatchSG, cfn.Of(cfn.SecurityGroup{
		GroupDescription: "deploywatch Lambda: no ingress; egress to AWS APIs and the test listener",
		VpcId:            cfn.Ref(logicalVPC),
		SecurityGroupEgress: []cfn.SGEgress{{
			Description: "all: AWS APIs through the NAT, the test listener inside the VPC", IpProtocol: "-1", CidrIp: "0.0.0.0/0",
		}},
		Tags: e.nameTag("deploywatch"),
	}))
	e.t.Output(OutputTaskSecurityGroup, "the tasks' security group", cfn.GetAtt(logicalTaskSG, "GroupId"))
}

// forward is a rule's weighted forward to blue and green.
func forward(w Weights) []cfn.Action {
	return []cfn.Action{{
		Type: "forward",
		ForwardConfig: &cfn.ForwardConfig{
			TargetGroups: []cfn.TargetGroupTuple{
				{TargetGroupArn: cfn.Ref(LogicalBlueTargetGroup), Weight: w.Blue},
				{TargetGroupArn: cfn.Ref(LogicalGreenTargetGroup), Weight: w.Green},
			},
			TargetGroupStickinessConfig: &cfn.TargetGroupStickinessConfig{Enabled: false},
		},
	}}
}

// notFound is the listeners' default action: every request matches the
// rule, so this only answers what the rule is made not to match.
var notFound = []cfn.Action{{
	Type:                "fixed-response",
	FixedResponseConfig: &cfn.FixedResponseConfig{StatusCode: "404", ContentType: "text/plain", MessageBody: "no route"},
}}

// allPaths is the rules' condition: every request.
var allPaths = []cfn.Condition{{Field: "path-pattern", PathPatternConfig: &cfn.PathPatternConfig{Values: []string{"/*"}}}}

func (e env) loadBalancer(live Live) {
	s := e.spec
	e.t.Add(logicalALB, cfn.Of(cfn.LoadBalancer{
		Name: e.spec.Prefix(), Type: "application", Scheme: "internet-facing", IpAddressType: "ipv4",
		Subnets:        []cfn.Value{cfn.Ref("PublicSubnetA"), cfn.Ref("PublicSubnetB")},
		SecurityGroups: []cfn.Value{cfn.GetAtt(logicalALBSG, "GroupId")},
		LoadBalancerAttributes: []cfn.KeyValue{
			{Key: "routing.http.drop_invalid_header_fields.enabled", Value: "true"},
			{Key: "deletion_protection.enabled", Value: strconv.FormatBool(s.LoadBalancer.DeletionProtection)},
			{Key: "idle_timeout.timeout_seconds", Value: strconv.Itoa(s.LoadBalancer.IdleTimeoutSeconds)},
		},
	}, logicalIGWAttachment))
	for _, tg := range []struct{ id, color string }{{LogicalBlueTargetGroup, "blue"}, {LogicalGreenTargetGroup, "green"}} {
		hc := s.HealthCheck
		e.t.Add(tg.id, cfn.Of(cfn.TargetGroup{
			Name: e.name(tg.color), Protocol: "HTTP", Port: s.Task.ContainerPort, TargetType: "ip", VpcId: cfn.Ref(logicalVPC),
			HealthCheckEnabled: true, HealthCheckProtocol: "HTTP", HealthCheckPath: hc.Path,
			HealthCheckIntervalSeconds: hc.IntervalSeconds, HealthCheckTimeoutSeconds: hc.TimeoutSeconds,
			HealthyThresholdCount: hc.HealthyThreshold, UnhealthyThresholdCount: hc.UnhealthyThreshold,
			Matcher: cfn.Matcher{HttpCode: hc.Matcher},
			TargetGroupAttributes: []cfn.KeyValue{
				{Key: "deregistration_delay.timeout_seconds", Value: strconv.Itoa(hc.DeregistrationDelaySeconds)},
			},
		}))
	}
	e.t.Add(logicalListener, cfn.Of(cfn.Listener{
		LoadBalancerArn: cfn.Ref(logicalALB), Port: s.LoadBalancer.ListenerPort, Protocol: "HTTP", DefaultActions: notFound,
	}))
	prod := Initial
	if live.Production != nil {
		prod = *live.Production
	}
	e.t.Add(LogicalProductionRule, cfn.Of(cfn.ListenerRule{
		ListenerArn: cfn.Ref(logicalListener), Priority: 1, Conditions: allPaths, Actions: forward(prod),
	}))
	e.t.Output(OutputProductionListener, "the production listener", cfn.Ref(logicalListener))
	e.t.Output(OutputProductionRule, "the production listener rule ECS shifts (advancedConfiguration.productionListenerRule)", cfn.Ref(LogicalProductionRule))
	e.t.Output(OutputBlueTargetGroup, "the service's primary target group", cfn.Ref(LogicalBlueTargetGroup))
	e.t.Output(OutputGreenTargetGroup, "the alternate target group (advancedConfiguration.alternateTargetGroupArn)", cfn.Ref(LogicalGreenTargetGroup))
	e.t.Output(OutputLoadBalancerDNS, "the load balancer's DNS name", cfn.GetAtt(logicalALB, "DNSName"))
	e.t.Output(OutputServiceURL, "the service's URL", cfn.Sub(fmt.Sprintf("http://${%s.DNSName}:%d", logicalALB, s.LoadBalancer.ListenerPort)))
	if s.LoadBalancer.TestListener {
		test := Initial
		if live.Test != nil {
			test = *live.Test
		}
		e.t.Add(logicalTestListener, cfn.Of(cfn.Listener{
			LoadBalancerArn: cfn.Ref(logicalALB), Port: s.LoadBalancer.TestListenerPort, Protocol: "HTTP", DefaultActions: notFound,
		}))
		e.t.Add(LogicalTestRule, cfn.Of(cfn.ListenerRule{
			ListenerArn: cfn.Ref(logicalTestListener), Priority: 1, Conditions: allPaths, Actions: forward(test),
		}))
		e.t.Output(OutputTestListener, "the test listener", cfn.Ref(logicalTestListener))
		e.t.Output(OutputTestRule, "the test listener rule (advancedConfiguration.testListenerRule)", cfn.Ref(LogicalTestRule))
		e.t.Output(OutputTestURL, "the test listener's URL, reachable inside the VPC", e.testURL())
	}
}

func (e env) testURL() cfn.Value {
	return cfn.Sub(fmt.Sprintf("http://${%s.DNSName}:%d", logicalALB, e.spec.LoadBalancer.TestListenerPort))
}

func (e env) cluster() {
	e.t.Add(logicalCluster, cfn.Of(cfn.Cluster{
		ClusterName:     ClusterName(e.spec),
		ClusterSettings: []cfn.NameValue{{Name: "containerInsights", Value: "enabled"}},
	}))
	e.t.Add(logicalAppLogs, cfn.Of(cfn.LogGroup{LogGroupName: "/ecs/" + e.spec.Prefix(), RetentionInDays: e.spec.Logs.RetentionDays}))
	e.t.Add(logicalDeploywatchLogs, cfn.Of(cfn.LogGroup{LogGroupName: "/aws/lambda/" + e.name("deploywatch"), RetentionInDays: e.spec.Logs.RetentionDays}))
	e.t.Output(OutputCluster, "the ECS cluster", cfn.Ref(logicalCluster))
	e.t.Output(OutputClusterArn, "the ECS cluster's ARN", cfn.GetAtt(logicalCluster, "Arn"))
	e.t.Output(OutputAppLogGroup, "the app's log group (awslogs)", cfn.Ref(logicalAppLogs))
}
