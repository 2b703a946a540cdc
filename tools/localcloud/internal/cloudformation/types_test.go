package cloudformation_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfnapi "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// TestOtherTypes covers the types the platform templates do not use yet:
// an SNS topic (updated in place) and the recorded IAM policies and VPC
// endpoint, with the identifiers AWS gives them.
func TestOtherTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	doc := func(display string) string {
		return tmpl(t, map[string]any{
			"Resources": map[string]any{
				"VPC":   map[string]any{"Type": "AWS::EC2::VPC", "Properties": map[string]any{"CidrBlock": "10.6.0.0/16"}},
				"Topic": map[string]any{"Type": "AWS::SNS::Topic", "Properties": map[string]any{"DisplayName": display}},
				"Role":  map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17"}}},
				"Inline": map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{
					"PolicyName": "p", "PolicyDocument": map[string]any{"Version": "2012-10-17"}, "Roles": []any{map[string]any{"Ref": "Role"}}}},
				"Managed": map[string]any{"Type": "AWS::IAM::ManagedPolicy", "Properties": map[string]any{"PolicyDocument": map[string]any{"Version": "2012-10-17"}}},
				"Endpoint": map[string]any{"Type": "AWS::EC2::VPCEndpoint", "Properties": map[string]any{
					"VpcId": map[string]any{"Ref": "VPC"}, "ServiceName": "com.amazonaws.us-east-1.s3"}},
				"Ip": map[string]any{"Type": "AWS::EC2::EIP", "Properties": map[string]any{"Domain": "vpc"}},
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
			},
		})
	}
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
	}
	for k, p := range patterns {
		if !regexp.MustCompile(p).MatchString(out[k]) {
			t.Errorf("output %s = %q, want it to match %s", k, out[k], p)
		}
	}
	topics := sns.NewFromConfig(e.sdkConfig())
	attrs, err := topics.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(out["Topic"])})
	if err != nil || attrs.Attributes["DisplayName"] != "one" {
		t.Fatalf("GetTopicAttributes = %v, %v, want DisplayName one", attrs, err)
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
}
