// Package stack renders the two CloudFormation stacks of an environment from
// its platform.Spec: bootstrap (what must exist first: the ECR repository and
// the artifact bucket for the Lambda package) and environment (network, load
// balancer, cluster, roles, alarms, ledger, the deploywatch Lambda and its
// event rules).
//
// The ECS service, its task definitions and its auto scaling are not in
// either stack: ship owns them (see package service). The environment stack
// owns the production listener rule, but after the first deployment ECS owns
// its forward weights; Environment therefore takes the live weights as input
// so that re-rendering an existing stack sends ECS's view back, never the
// template's 100/0 (DESIGN §3).
package stack

import (
	"encoding/json"
	"fmt"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/cfn"
)

// Stack is what the renderer hands the deployer: a stack's name, template and
// the parameter values known when rendering.
type Stack struct {
	Name       string
	Template   *cfn.Template
	Parameters map[string]string
	Tags       map[string]string
}

// JSON renders the template.
func (s *Stack) JSON() ([]byte, error) { return s.Template.JSON() }

// BootstrapName and EnvironmentName are the stacks' names.
func BootstrapName(spec platform.Spec) string   { return spec.Prefix() + "-bootstrap" }
func EnvironmentName(spec platform.Spec) string { return spec.Prefix() + "-environment" }

// Names of things that are not stack outputs because the spec fixes them.
func ClusterName(spec platform.Spec) string { return spec.Prefix() }

// ServiceName is the ECS service's name (ship creates it).
func ServiceName(spec platform.Spec) string { return spec.Name }

// RepositoryName is the ECR repository's name.
func RepositoryName(spec platform.Spec) string { return spec.Prefix() }

// ContainerName is the app container's name in the task definition.
const ContainerName = "app"

// Bootstrap stack outputs.
const (
	OutputRepositoryURI  = "RepositoryUri"
	OutputRepositoryName = "RepositoryName"
	OutputRepositoryArn  = "RepositoryArn"
	OutputArtifactBucket = "ArtifactBucketName"
)

// Environment stack outputs: everything ship needs to create and deploy the
// service.
const (
	OutputVPC                 = "VpcId"
	OutputPrivateSubnets      = "PrivateSubnetIds" // comma-separated
	OutputTaskSecurityGroup   = "TaskSecurityGroupId"
	OutputCluster             = "ClusterName"
	OutputClusterArn          = "ClusterArn"
	OutputBlueTargetGroup     = "BlueTargetGroupArn"
	OutputGreenTargetGroup    = "GreenTargetGroupArn"
	OutputProductionListener  = "ProductionListenerArn"
	OutputProductionRule      = "ProductionListenerRuleArn"
	OutputTestListener        = "TestListenerArn"     // only with a test listener
	OutputTestRule            = "TestListenerRuleArn" // only with a test listener
	OutputLoadBalancerDNS     = "LoadBalancerDnsName"
	OutputServiceURL          = "ServiceUrl"
	OutputTestURL             = "TestUrl" // only with a test listener
	OutputInfrastructureRole  = "InfrastructureRoleArn"
	OutputHookRole            = "HookInvokeRoleArn"
	OutputDeploywatchFunction = "DeploywatchFunctionArn"
	OutputTaskExecutionRole   = "TaskExecutionRoleArn"
	OutputTaskRole            = "TaskRoleArn"
	OutputAppLogGroup         = "AppLogGroupName"
	OutputDeploymentAlarms    = "DeploymentAlarmNames" // comma-separated
	OutputLedgerTable         = "LedgerTableName"
)

// Logical ids the deployer and the drift reader look up in a live stack.
const (
	LogicalBlueTargetGroup  = "BlueTargetGroup"
	LogicalGreenTargetGroup = "GreenTargetGroup"
	LogicalProductionRule   = "ProductionListenerRule"
	LogicalTestRule         = "TestListenerRule"
)

// Environment stack parameters, set by ship from the bootstrap stack and the
// uploaded Lambda package.
const (
	ParamArtifactBucket = "ArtifactBucket"
	ParamDeploywatchKey = "DeploywatchCodeKey"
)

// Weights is the forward configuration of a listener rule: the weight of the
// blue and the green target group.
type Weights struct {
	Blue  int `json:"blue"`
	Green int `json:"green"`
}

// Initial is the weights a new stack starts with: all traffic to blue.
var Initial = Weights{Blue: 100, Green: 0}

// Live is the forward configuration ECS left on the listener rules of an
// existing stack. A nil field means that rule does not exist yet, and gets
// Initial.
type Live struct {
	Production *Weights `json:"production,omitempty"`
	Test       *Weights `json:"test,omitempty"`
}

// WeightsOf maps a rule's forward configuration, target group ARN → weight,
// read from the load balancer, to blue and green by the stack's ARNs of the
// two target groups. Any other target group is an error: the rule was
// changed by hand, and re-rendering over it needs a person.
func WeightsOf(forward map[string]int, blueArn, greenArn string) (Weights, error) {
	var w Weights
	for arn, weight := range forward {
		switch arn {
		case blueArn:
			w.Blue = weight
		case greenArn:
			w.Green = weight
		default:
			return Weights{}, fmt.Errorf("read live weights: the rule forwards to %s, which is neither blue (%s) nor green (%s); fix the rule by hand or delete the stack", arn, blueArn, greenArn)
		}
	}
	if w.Blue+w.Green == 0 {
		return Weights{}, fmt.Errorf("read live weights: the rule forwards to neither target group with any weight; check the listener rule in the console")
	}
	return w, nil
}

// Outputs is a stack's outputs by name.
type Outputs map[string]string

// Get returns an output, or an error naming it and what to do.
func (o Outputs) Get(name string) (string, error) {
	v, ok := o[name]
	if !ok || v == "" {
		return "", fmt.Errorf("read stack output %s: missing; run ship up to create or update the environment stack", name)
	}
	return v, nil
}

func tags(spec platform.Spec) map[string]string {
	return map[string]string{"shipyard:app": spec.Name, "shipyard:env": spec.Env}
}

// mustJSON marshals a value known to marshal (a policy text).
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
