package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// stacks is the part of the CloudFormation client that reads outputs.
type stacks interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// ErrStackNotFound means the stack does not exist (ship up creates it).
var ErrStackNotFound = errors.New("stack not found")

// Outputs reads a stack's outputs. A stack that does not exist is
// ErrStackNotFound.
func Outputs(ctx context.Context, api stacks, name string) (stack.Outputs, error) {
	out, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return nil, fmt.Errorf("%w: stack %s does not exist; run ship up first", ErrStackNotFound, name)
		}
		return nil, fmt.Errorf("describe stack %s: %w", name, err)
	}
	if len(out.Stacks) == 0 {
		return nil, fmt.Errorf("%w: stack %s does not exist; run ship up first", ErrStackNotFound, name)
	}
	o := stack.Outputs{}
	for _, kv := range out.Stacks[0].Outputs {
		o[aws.ToString(kv.OutputKey)] = aws.ToString(kv.OutputValue)
	}
	return o, nil
}

// ServiceOf names the service and the resources a watch reads from the
// environment stack's outputs.
func ServiceOf(name string, o stack.Outputs) Service {
	s := Service{
		Cluster: o[stack.OutputCluster], Name: name,
		ProductionRule: o[stack.OutputProductionRule], TestRule: o[stack.OutputTestRule],
		BlueTargetGroup: o[stack.OutputBlueTargetGroup], GreenTargetGroup: o[stack.OutputGreenTargetGroup],
	}
	if a := o[stack.OutputDeploymentAlarms]; a != "" {
		s.Alarms = strings.Split(a, ",")
	}
	return s
}
