package cloudformation_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	cfnapi "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// ecsService creates a cluster and a service with no tasks.
func (e *env) ecsService(cluster, service string) {
	e.t.Helper()
	c := ecsapi.NewFromConfig(e.sdkConfig())
	if _, err := c.CreateCluster(ctx, &ecsapi.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		e.t.Fatal(err)
	}
	td, err := c.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{
		Family: aws.String(service), NetworkMode: ecstypes.NetworkModeAwsvpc, RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(e.addr + "/app@sha256:" + strings.Repeat("0", 64)), Essential: aws.Bool(true)}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := c.CreateService(ctx, &ecsapi.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String(service), TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(0),
		LaunchType:           ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
	}); err != nil {
		e.t.Fatal(err)
	}
}

// TestOtherTypes covers the types the platform templates do not use yet:
// an SNS topic (updated in place) with a queue subscription and a topic
// policy, a scalable target with a target-tracking
// policy, and the recorded IAM policies and VPC endpoint, with the
// identifiers AWS gives them.
func TestOtherTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	doc := func(display string) string {
		return tmpl(t, map[string]any{
			"Resources": map[string]any{
				"VPC":   map[string]any{"Type": "AWS::EC2::VPC", "Properties": map[string]any{"CidrBlock": "10.6.0.0/16"}},
				"Topic": map[string]any{"Type": "AWS::SNS::Topic", "Properties": map[string]any{"DisplayName": display}},
				"Queue": map[string]any{"Type": "AWS::SQS::Queue", "Properties": map[string]any{}},
				"Sub": map[string]any{"Type": "AWS::SNS::Subscription", "Properties": map[string]any{
					"TopicArn": map[string]any{"Ref": "Topic"}, "Protocol": "sqs", "Endpoint": map[string]any{"Fn::GetAtt": []any{"Queue", "Arn"}}, "RawMessageDelivery": true}},
				"TopicPolicy": map[string]any{"Type": "AWS::SNS::TopicPolicy", "Properties": map[string]any{
					"Topics": []any{map[string]any{"Ref": "Topic"}}, "PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
						"Sid": "FromEvents", "Effect": "Allow", "Principal": map[string]any{"Service": "events.amazonaws.com"}, "Action": "sns:Publish", "Resource": map[string]any{"Ref": "Topic"}}}}}},
				"Oidc":   map[string]any{"Type": "AWS::IAM::OIDCProvider", "Properties": map[string]any{"Url": "https://token.actions.githubusercontent.com", "ClientIdList": []any{"sts.amazonaws.com"}}},
				"Handle": map[string]any{"Type": "AWS::CloudFormation::WaitConditionHandle"},
				"Role":   map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17"}}},
				"Inline": map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{
					"PolicyName": "p", "PolicyDocument": map[string]any{"Version": "2012-10-17"}, "Roles": []any{map[string]any{"Ref": "Role"}}}},
				"Managed": map[string]any{"Type": "AWS::IAM::ManagedPolicy", "Properties": map[string]any{"PolicyDocument": map[string]any{"Version": "2012-10-17"}}},
				"Endpoint": map[string]any{"Type": "AWS::EC2::VPCEndpoint", "Properties": map[string]any{
					"VpcId": map[string]any{"Ref": "VPC"}, "ServiceName": "com.amazonaws.us-east-1.s3"}},
				"Ip": map[string]any{"Type": "AWS::EC2::EIP", "Properties": map[string]any{"Domain": "vpc"}},
				"Target": map[string]any{"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": map[string]any{
					"ServiceNamespace": "ecs", "ResourceId": "service/c1/web", "ScalableDimension": "ecs:service:DesiredCount", "MinCapacity": 2, "MaxCapacity": 6}},
				"Policy": map[string]any{"Type": "AWS::ApplicationAutoScaling::ScalingPolicy", "Properties": map[string]any{
					"PolicyName": "cpu70", "PolicyType": "TargetTrackingScaling", "ScalingTargetId": map[string]any{"Ref": "Target"},
					"TargetTrackingScalingPolicyConfiguration": map[string]any{"TargetValue": 70,
						"PredefinedMetricSpecification": map[string]any{"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}}},
			},
			"Outputs": map[string]any{
				"Topic":     map[string]any{"Value": map[string]any{"Ref": "Topic"}},
				"TopicName": map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"Topic", "TopicName"}}},
				"RoleArn":   map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"Role", "Arn"}}},
				"RoleId":    map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"Role", "RoleId"}}},
				"Managed":   map[string]any{"Value": map[string]any{"Ref": "Managed"}},
				"Endpoint":  map[string]any{"Value": map[string]any{"Ref": "Endpoint"}},
				"Alloc":     map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"Ip", "AllocationId"}}},
				"PublicIp":  map[string]any{"Value": map[string]any{"Ref": "Ip"}},
				"Target":    map[string]any{"Value": map[string]any{"Ref": "Target"}},
				"Sub":       map[string]any{"Value": map[string]any{"Ref": "Sub"}},
				"Oidc":      map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"Oidc", "Arn"}}},
				"Policy":    map[string]any{"Value": map[string]any{"Ref": "Policy"}},
			},
		})
	}
	// The scalable target needs its ECS service, which ship (not a stack)
	// creates: make it through the ECS API.
	e.ecsService("c1", "web")
	st := e.createStack("types", doc("one"), nil)
	out := outputs(st)
	patterns := map[string]string{
		"Topic":     `^arn:aws:sns:us-east-1:000000000000:types-Topic-[A-Z0-9]{12}$`,
		"TopicName": `^types-Topic-[A-Z0-9]{12}$`,
		"RoleArn":   `^arn:aws:iam::000000000000:role/types-Role-[A-Z0-9]{12}$`,
		"RoleId":    `^AROA[A-Z0-9]{17}$`,
		"Managed":   `^arn:aws:iam::000000000000:policy/types-Managed-[A-Z0-9]{12}$`,
		"Endpoint":  `^vpce-[0-9a-f]{17}$`,
		"Alloc":     `^eipalloc-[0-9a-f]{17}$`,
		"PublicIp":  `^3\.\d+\.\d+\.\d+$`,
		"Target":    `^service/c1/web\|ecs:service:DesiredCount\|ecs$`,
		"Sub":       `^arn:aws:sns:us-east-1:000000000000:types-Topic-[A-Z0-9]{12}:[0-9a-f-]+$`,
		"Oidc":      `^arn:aws:iam::000000000000:oidc-provider/token\.actions\.githubusercontent\.com$`,
		"Policy":    `^arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:.*:resource/ecs/service/c1/web:policyName/cpu70$`,
	}
	for k, p := range patterns {
		if !regexp.MustCompile(p).MatchString(out[k]) {
			t.Errorf("output %s = %q, want it to match %s", k, out[k], p)
		}
	}
	pol, err := applicationautoscaling.NewFromConfig(e.sdkConfig()).DescribeScalingPolicies(ctx, &applicationautoscaling.DescribeScalingPoliciesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})
	if err != nil || len(pol.ScalingPolicies) != 1 || aws.ToFloat64(pol.ScalingPolicies[0].TargetTrackingScalingPolicyConfiguration.TargetValue) != 70 {
		t.Errorf("DescribeScalingPolicies = %+v, %v, want cpu70 at 70", pol, err)
	}
	topics := sns.NewFromConfig(e.sdkConfig())
	attrs, err := topics.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(out["Topic"])})
	if err != nil || attrs.Attributes["DisplayName"] != "one" || !strings.Contains(attrs.Attributes["Policy"], "FromEvents") {
		t.Fatalf("GetTopicAttributes = %v, %v, want DisplayName one and the stack's policy", attrs, err)
	}
	subs, err := topics.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(out["Topic"])})
	if err != nil || len(subs.Subscriptions) != 1 || aws.ToString(subs.Subscriptions[0].Protocol) != "sqs" {
		t.Errorf("ListSubscriptionsByTopic = %+v, %v, want the queue's subscription", subs, err)
	}
	if _, err := e.cfn.UpdateStack(ctx, &cfnapi.UpdateStackInput{StackName: aws.String("types"), TemplateBody: aws.String(doc("two")), Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam}}); err != nil {
		t.Fatal(err)
	}
	_, update, del := e.waiterOpts()
	if err := cfnapi.NewStackUpdateCompleteWaiter(e.cfn, update).Wait(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String("types")}, 15*time.Second); err != nil {
		t.Fatalf("update: %v\n%s", err, e.failures("types"))
	}
	attrs, err = topics.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(out["Topic"])})
	if err != nil || attrs.Attributes["DisplayName"] != "two" {
		t.Errorf("DisplayName after update = %v, %v, want two (same topic)", attrs, err)
	}
	if _, err := e.cfn.DeleteStack(ctx, &cfnapi.DeleteStackInput{StackName: aws.String("types")}); err != nil {
		t.Fatal(err)
	}
	if err := cfnapi.NewStackDeleteCompleteWaiter(e.cfn, del).Wait(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String("types")}, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := topics.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(out["Topic"])}); err == nil {
		t.Errorf("topic %s still exists after the stack's delete", out["Topic"])
	}
	targets, err := applicationautoscaling.NewFromConfig(e.sdkConfig()).DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})
	if err != nil || len(targets.ScalableTargets) != 0 {
		t.Errorf("scalable targets after delete = %+v, %v, want none", targets, err)
	}
}
