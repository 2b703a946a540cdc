package cloudformation_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfnapi "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwlogs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/cloudformation"
)

// TestIntrinsics creates a stack whose outputs exercise every intrinsic
// function and pseudo parameter, and reads them back through DescribeStacks.
func TestIntrinsics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	body := tmpl(t, map[string]any{
		"Parameters": map[string]any{
			"Env":    map[string]any{"Type": "String", "Default": "prod", "AllowedValues": []any{"dev", "prod"}},
			"Zones":  map[string]any{"Type": "CommaDelimitedList", "Default": "a, b,c"},
			"Secret": map[string]any{"Type": "String", "Default": "hunter2", "NoEcho": true},
		},
		"Mappings": map[string]any{"Sizes": map[string]any{"prod": map[string]any{"Retention": 7}, "dev": map[string]any{"Retention": 1}}},
		"Conditions": map[string]any{
			"IsProd": map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "Env"}, "prod"}},
			"IsDev":  map[string]any{"Fn::Not": []any{map[string]any{"Condition": "IsProd"}}},
			"Both":   map[string]any{"Fn::And": []any{map[string]any{"Condition": "IsProd"}, map[string]any{"Fn::Equals": []any{"x", "x"}}}},
			"Either": map[string]any{"Fn::Or": []any{map[string]any{"Condition": "IsDev"}, map[string]any{"Condition": "IsProd"}}},
			"Never":  map[string]any{"Fn::Equals": []any{"a", "b"}},
		},
		"Resources": map[string]any{
			"VPC": map[string]any{"Type": "AWS::EC2::VPC", "Properties": map[string]any{"CidrBlock": "10.1.0.0/16"}},
			"Logs": map[string]any{"Type": "AWS::Logs::LogGroup", "Properties": map[string]any{
				"LogGroupName":    map[string]any{"Fn::Sub": "/test/${AWS::StackName}"},
				"RetentionInDays": map[string]any{"Fn::FindInMap": []any{"Sizes", map[string]any{"Ref": "Env"}, "Retention"}},
				"KmsKeyId":        map[string]any{"Fn::If": []any{"Never", "kms", map[string]any{"Ref": "AWS::NoValue"}}},
			}},
			"Skipped": map[string]any{"Type": "AWS::EC2::VPC", "Condition": "Never", "Properties": map[string]any{"CidrBlock": "10.2.0.0/16"}},
		},
		"Outputs": map[string]any{
			"SubLong":   map[string]any{"Value": map[string]any{"Fn::Sub": []any{"${Name}-${VPC}-${Logs.Arn}", map[string]any{"Name": "n"}}}},
			"SubEscape": map[string]any{"Value": map[string]any{"Fn::Sub": "${!Literal}-${AWS::Region}-${AWS::AccountId}-${AWS::Partition}-${AWS::URLSuffix}"}},
			"Join":      map[string]any{"Value": map[string]any{"Fn::Join": []any{"|", map[string]any{"Ref": "Zones"}}}},
			"Select":    map[string]any{"Value": map[string]any{"Fn::Select": []any{"1", map[string]any{"Fn::Split": []any{",", "x,y,z"}}}}},
			"AZ":        map[string]any{"Value": map[string]any{"Fn::Select": []any{0, map[string]any{"Fn::GetAZs": ""}}}},
			"If":        map[string]any{"Value": map[string]any{"Fn::If": []any{"Both", "both", "not"}}},
			"Either":    map[string]any{"Value": map[string]any{"Fn::If": []any{"Either", "yes", "no"}}},
			"StackId":   map[string]any{"Value": map[string]any{"Ref": "AWS::StackId"}},
			"Retention": map[string]any{"Value": map[string]any{"Fn::FindInMap": []any{"Sizes", "dev", "Retention"}}},
			"Exported":  map[string]any{"Value": map[string]any{"Ref": "VPC"}, "Export": map[string]any{"Name": map[string]any{"Fn::Sub": "${AWS::StackName}-vpc"}}},
			"Hidden":    map[string]any{"Condition": "Never", "Value": "x"},
		},
	})
	st := e.createStack("intrinsics", body, nil)
	out := outputs(st)
	vpc := out["Exported"]
	tests := []struct{ key, want string }{
		{"SubLong", "n-" + vpc + "-arn:aws:logs:us-east-1:000000000000:log-group:/test/intrinsics:*"},
		{"SubEscape", "${Literal}-us-east-1-000000000000-aws-amazonaws.com"},
		{"Join", "a|b|c"},
		{"Select", "y"},
		{"AZ", "us-east-1a"},
		{"If", "both"},
		{"Either", "yes"},
		{"StackId", aws.ToString(st.StackId)},
		{"Retention", "1"},
	}
	for _, tt := range tests {
		if got := out[tt.key]; got != tt.want {
			t.Errorf("output %s = %q, want %q", tt.key, got, tt.want)
		}
	}
	if _, ok := out["Hidden"]; ok {
		t.Errorf("output Hidden (condition false) is listed")
	}
	if !regexp.MustCompile(`^vpc-[0-9a-f]{17}$`).MatchString(vpc) {
		t.Errorf("Ref VPC = %q, want vpc- and 17 hex digits", vpc)
	}
	if !regexp.MustCompile(`^arn:aws:cloudformation:us-east-1:000000000000:stack/intrinsics/[0-9a-f-]{36}$`).MatchString(aws.ToString(st.StackId)) {
		t.Errorf("StackId = %s, want a stack ARN", aws.ToString(st.StackId))
	}
	for _, p := range st.Parameters {
		if aws.ToString(p.ParameterKey) == "Secret" && aws.ToString(p.ParameterValue) != "****" {
			t.Errorf("NoEcho parameter Secret = %q, want ****", aws.ToString(p.ParameterValue))
		}
	}
	// The creation event carries the evaluated properties.
	var props string
	for _, ev := range e.events("intrinsics") {
		if aws.ToString(ev.LogicalResourceId) == "Logs" && aws.ToString(ev.ResourceProperties) != "" {
			props = aws.ToString(ev.ResourceProperties)
		}
	}
	if props != `{"LogGroupName":"/test/intrinsics","RetentionInDays":7}` {
		t.Errorf("Logs ResourceProperties = %s, want the evaluated properties without the NoValue KmsKeyId", props)
	}
	// The log group exists with the mapped retention and no KMS key.
	lg, err := e.logs.DescribeLogGroups(ctx, &cwlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/test/intrinsics")})
	if err != nil || len(lg.LogGroups) != 1 {
		t.Fatalf("DescribeLogGroups = %v, %v, want the stack's group", lg, err)
	}
	if got := aws.ToInt32(lg.LogGroups[0].RetentionInDays); got != 7 {
		t.Errorf("RetentionInDays = %d, want 7 (FindInMap prod)", got)
	}
	res, err := e.cfn.ListStackResources(ctx, &cfnapi.ListStackResourcesInput{StackName: aws.String("intrinsics")})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.StackResourceSummaries); n != 2 {
		t.Errorf("ListStackResources = %d resources, want 2 (Skipped's condition is false)", n)
	}

	// A second stack imports the export; the first cannot go while it does.
	imp := tmpl(t, map[string]any{
		"Resources": map[string]any{"Sub": map[string]any{"Type": "AWS::EC2::Subnet", "Properties": map[string]any{
			"VpcId": map[string]any{"Fn::ImportValue": "intrinsics-vpc"}, "CidrBlock": "10.1.1.0/24"}}},
		"Outputs": map[string]any{"Vpc": map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"Sub", "VpcId"}}}},
	})
	st2 := e.createStack("importer", imp, nil)
	if got := outputs(st2)["Vpc"]; got != vpc {
		t.Errorf("imported VpcId = %q, want %q", got, vpc)
	}
	if _, err := e.cfn.DeleteStack(ctx, &cfnapi.DeleteStackInput{StackName: aws.String("intrinsics")}); err != nil {
		t.Fatal(err)
	}
	if got := e.waitStatus("intrinsics"); got.StackStatus != cfntypes.StackStatusDeleteFailed || !strings.Contains(aws.ToString(got.StackStatusReason), "in use by importer") {
		t.Errorf("delete exporting stack = %s %q, want DELETE_FAILED, in use by importer", got.StackStatus, aws.ToString(got.StackStatusReason))
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return ""
}

// TestAPIErrors checks the errors CloudFormation answers with.
func TestAPIErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	vpc := tmpl(t, map[string]any{"Resources": map[string]any{"V": map[string]any{"Type": "AWS::EC2::VPC", "Properties": map[string]any{"CidrBlock": "10.0.0.0/16"}}}})
	e.createStack("exists", vpc, nil)
	role := tmpl(t, map[string]any{"Resources": map[string]any{"R": map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{"AssumeRolePolicyDocument": map[string]any{}}}}})
	named := tmpl(t, map[string]any{"Resources": map[string]any{"R": map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{"RoleName": "r", "AssumeRolePolicyDocument": map[string]any{}}}}})
	pattern := tmpl(t, map[string]any{
		"Parameters": map[string]any{"Key": map[string]any{"Type": "String", "AllowedPattern": "^deploy/[0-9a-f]{4}$"}},
		"Resources":  map[string]any{"V": map[string]any{"Type": "AWS::EC2::VPC", "Properties": map[string]any{"CidrBlock": "10.0.0.0/16"}}},
	})
	tests := []struct {
		name string
		call func() error
		want string
		as   any
	}{
		{"describe missing", func() error {
			_, err := e.cfn.DescribeStacks(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String("nope")})
			return err
		}, "ValidationError: Stack with id nope does not exist", nil},
		{"create twice", func() error {
			_, err := e.cfn.CreateStack(ctx, &cfnapi.CreateStackInput{StackName: aws.String("exists"), TemplateBody: aws.String(vpc)})
			return err
		}, "AlreadyExistsException: Stack [exists] already exists", new(*cfntypes.AlreadyExistsException)},
		{"iam without capability", func() error {
			_, err := e.cfn.CreateStack(ctx, &cfnapi.CreateStackInput{StackName: aws.String("iam"), TemplateBody: aws.String(role)})
			return err
		}, "InsufficientCapabilitiesException: Requires capabilities : [CAPABILITY_IAM]", new(*cfntypes.InsufficientCapabilitiesException)},
		{"named iam with CAPABILITY_IAM", func() error {
			_, err := e.cfn.CreateStack(ctx, &cfnapi.CreateStackInput{StackName: aws.String("iam"), TemplateBody: aws.String(named), Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam}})
			return err
		}, "InsufficientCapabilitiesException: Requires capabilities : [CAPABILITY_NAMED_IAM]", nil},
		{"bad stack name", func() error {
			_, err := e.cfn.CreateStack(ctx, &cfnapi.CreateStackInput{StackName: aws.String("1bad_name"), TemplateBody: aws.String(vpc)})
			return err
		}, "ValidationError: 1 validation error detected: Value '1bad_name' at 'stackName' failed to satisfy constraint", nil},
		{"parameter pattern", func() error {
			_, err := e.cfn.CreateStack(ctx, &cfnapi.CreateStackInput{StackName: aws.String("p"), TemplateBody: aws.String(pattern),
				Parameters: []cfntypes.Parameter{{ParameterKey: aws.String("Key"), ParameterValue: aws.String("deploy/xyz")}}})
			return err
		}, "ValidationError: Parameter 'Key' failed to satisfy constraint", nil},
		{"parameter missing", func() error {
			_, err := e.cfn.CreateStack(ctx, &cfnapi.CreateStackInput{StackName: aws.String("p"), TemplateBody: aws.String(pattern)})
			return err
		}, "ValidationError: Parameters: [Key] must have values", nil},
		{"malformed template", func() error {
			_, err := e.cfn.ValidateTemplate(ctx, &cfnapi.ValidateTemplateInput{TemplateBody: aws.String(`{"Resources": {`)})
			return err
		}, "ValidationError: Template format error: JSON not well-formed.", nil},
		{"undefined reference", func() error {
			_, err := e.cfn.ValidateTemplate(ctx, &cfnapi.ValidateTemplateInput{TemplateBody: aws.String(`{"Resources":{"A":{"Type":"AWS::EC2::VPC","Properties":{"CidrBlock":{"Ref":"Nope"}}}}}`)})
			return err
		}, "ValidationError: Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template", nil},
		{"cycle", func() error {
			_, err := e.cfn.ValidateTemplate(ctx, &cfnapi.ValidateTemplateInput{TemplateBody: aws.String(`{"Resources":{"A":{"Type":"AWS::EC2::VPC","DependsOn":"B"},"B":{"Type":"AWS::EC2::VPC","DependsOn":"A"}}}`)})
			return err
		}, "ValidationError: Template format error: Circular dependency between resources", nil},
		{"update unchanged", func() error {
			_, err := e.cfn.UpdateStack(ctx, &cfnapi.UpdateStackInput{StackName: aws.String("exists"), TemplateBody: aws.String(vpc)})
			return err
		}, "ValidationError: No updates are to be performed.", nil},
		{"update missing", func() error {
			_, err := e.cfn.UpdateStack(ctx, &cfnapi.UpdateStackInput{StackName: aws.String("gone"), UsePreviousTemplate: aws.Bool(true)})
			return err
		}, "ValidationError: Stack with id gone does not exist", nil},
		{"describe missing change set", func() error {
			_, err := e.cfn.DescribeChangeSet(ctx, &cfnapi.DescribeChangeSetInput{StackName: aws.String("exists"), ChangeSetName: aws.String("nope")})
			return err
		}, "ChangeSetNotFound: ChangeSet [nope] does not exist", new(*cfntypes.ChangeSetNotFoundException)},
	}
	for _, tt := range tests {
		err := tt.call()
		if got := apiCode(err); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: error = %q, want prefix %q", tt.name, got, tt.want)
		}
		if tt.as != nil && !errors.As(err, tt.as) {
			t.Errorf("%s: errors.As(%T) = false, want the SDK's typed error", tt.name, tt.as)
		}
	}
	// Deleting a stack that does not exist succeeds, as on AWS.
	if _, err := e.cfn.DeleteStack(ctx, &cfnapi.DeleteStackInput{StackName: aws.String("never")}); err != nil {
		t.Errorf("DeleteStack(never) = %v, want success", err)
	}
	// GetTemplateSummary (what aws cloudformation deploy reads) reports
	// parameter types and the resource types.
	sum, err := e.cfn.GetTemplateSummary(ctx, &cfnapi.GetTemplateSummaryInput{TemplateBody: aws.String(pattern)})
	if err != nil || len(sum.Parameters) != 1 || aws.ToString(sum.Parameters[0].ParameterType) != "String" || len(sum.ResourceTypes) != 1 || sum.ResourceTypes[0] != "AWS::EC2::VPC" {
		t.Errorf("GetTemplateSummary = %+v, %v, want one String parameter and AWS::EC2::VPC", sum, err)
	}
	if sum, err := e.cfn.GetTemplateSummary(ctx, &cfnapi.GetTemplateSummaryInput{StackName: aws.String("exists")}); err != nil || len(sum.ResourceTypes) != 1 {
		t.Errorf("GetTemplateSummary(stack) = %+v, %v, want the stack's template", sum, err)
	}
	// ValidateTemplate reports parameters and capabilities.
	v, err := e.cfn.ValidateTemplate(ctx, &cfnapi.ValidateTemplateInput{TemplateBody: aws.String(role)})
	if err != nil || len(v.Capabilities) != 1 || v.Capabilities[0] != cfntypes.CapabilityCapabilityIam {
		t.Errorf("ValidateTemplate(role) = %+v, %v, want CAPABILITY_IAM", v, err)
	}
}

// TestFailuresRollBack: a bad property, a missing required one, an unknown
// type and a provisioning failure each fail the stack with the reason in its
// events, and nothing is left behind.
func TestFailuresRollBack(t *testing.T) {
	t.Parallel()
	schemas, err := cloudformation.LoadSchemas("testdata/schemas")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{schemas: schemas})
	group := func(extra map[string]any) map[string]any {
		p := map[string]any{"LogGroupName": "/rollback/" + extra["name"].(string), "RetentionInDays": 1}
		for k, v := range extra {
			if k != "name" {
				p[k] = v
			}
		}
		return map[string]any{"Type": "AWS::Logs::LogGroup", "Properties": p}
	}
	tests := []struct {
		name       string
		resources  map[string]any
		failing    string
		wantReason string
	}{
		{"unknown property", map[string]any{"G": group(map[string]any{"name": "a", "Bogus": true})}, "G",
			"Properties validation failed for resource G with message: #: extraneous key [Bogus] is not permitted"},
		{"wrong type", map[string]any{"G": group(map[string]any{"name": "b", "RetentionInDays": "often"})}, "G",
			"#/RetentionInDays: expected type: Integer, found: String"},
		{"missing required", map[string]any{"S": map[string]any{"Type": "AWS::EC2::Subnet", "Properties": map[string]any{"CidrBlock": "10.0.0.0/24"}}}, "S",
			"#: required key [VpcId] not found"},
		{"unknown type", map[string]any{"X": map[string]any{"Type": "AWS::Foo::Bar"}}, "X",
			"Resource type AWS::Foo::Bar is not supported by localcloud"},
		// The group is created first, then the alarm fails in CloudWatch
		// (no metric, no math): the rollback deletes the group again.
		{"provisioning failure", map[string]any{
			"G": group(map[string]any{"name": "c"}),
			"A": map[string]any{"Type": "AWS::CloudWatch::Alarm", "DependsOn": "G", "Properties": map[string]any{
				"AlarmName": "broken", "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold", "Threshold": 1}},
		}, "A", "Resource handler returned message:"},
	}
	for i, tt := range tests {
		name := "fail" + string(rune('a'+i))
		body := tmpl(t, map[string]any{"Resources": tt.resources})
		if _, err := e.cfn.CreateStack(ctx, &cfnapi.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(body)}); err != nil {
			t.Fatalf("%s: CreateStack: %v", tt.name, err)
		}
		st := e.waitStatus(name)
		if st.StackStatus != cfntypes.StackStatusRollbackComplete {
			t.Errorf("%s: status = %s, want ROLLBACK_COMPLETE", tt.name, st.StackStatus)
		}
		if !strings.Contains(aws.ToString(st.StackStatusReason), "The following resource(s) failed to create: ["+tt.failing+"]") {
			t.Errorf("%s: StackStatusReason = %q, want it to name %s", tt.name, aws.ToString(st.StackStatusReason), tt.failing)
		}
		found := false
		for _, ev := range e.events(name) {
			if aws.ToString(ev.LogicalResourceId) == tt.failing && ev.ResourceStatus == cfntypes.ResourceStatusCreateFailed {
				found = true
				if !strings.Contains(aws.ToString(ev.ResourceStatusReason), tt.wantReason) {
					t.Errorf("%s: CREATE_FAILED reason = %q, want it to contain %q", tt.name, aws.ToString(ev.ResourceStatusReason), tt.wantReason)
				}
			}
		}
		if !found {
			t.Errorf("%s: no CREATE_FAILED event for %s", tt.name, tt.failing)
		}
		res, err := e.cfn.ListStackResources(ctx, &cfnapi.ListStackResourcesInput{StackName: aws.String(name)})
		if err != nil || len(res.StackResourceSummaries) != 0 {
			t.Errorf("%s: resources after rollback = %+v, %v, want none", tt.name, res, err)
		}
	}
	lg, err := e.logs.DescribeLogGroups(ctx, &cwlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/rollback/")})
	if err != nil || len(lg.LogGroups) != 0 {
		t.Errorf("log groups after the rollbacks = %d, %v, want 0 (created, then rolled back)", len(lg.LogGroups), err)
	}
}

// TestUpdateRollsBack: an update that modifies an alarm in place and then
// fails on another resource restores the alarm and ends
// UPDATE_ROLLBACK_COMPLETE.
func TestUpdateRollsBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	alarm := func(threshold int) map[string]any {
		return map[string]any{"Type": "AWS::CloudWatch::Alarm", "Properties": map[string]any{
			"AlarmName": "guarded", "Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_Target_5XX_Count",
			"Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": threshold, "ComparisonOperator": "GreaterThanOrEqualToThreshold"}}
	}
	e.createStack("upd", tmpl(t, map[string]any{"Resources": map[string]any{"Alarm": alarm(3)}}), nil)
	bad := tmpl(t, map[string]any{"Resources": map[string]any{
		"Alarm": alarm(9),
		"Broken": map[string]any{"Type": "AWS::CloudWatch::Alarm", "DependsOn": "Alarm", "Properties": map[string]any{
			"AlarmName": "broken", "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold", "Threshold": 1}},
	}})
	if _, err := e.cfn.UpdateStack(ctx, &cfnapi.UpdateStackInput{StackName: aws.String("upd"), TemplateBody: aws.String(bad)}); err != nil {
		t.Fatal(err)
	}
	st := e.waitStatus("upd")
	if st.StackStatus != cfntypes.StackStatusUpdateRollbackComplete {
		t.Fatalf("status = %s, want UPDATE_ROLLBACK_COMPLETE; events:\n%s", st.StackStatus, e.failures("upd"))
	}
	var sawModify bool
	for _, ev := range e.events("upd") {
		if aws.ToString(ev.LogicalResourceId) == "Alarm" && ev.ResourceStatus == cfntypes.ResourceStatusUpdateComplete {
			sawModify = true
		}
	}
	if !sawModify {
		t.Errorf("no UPDATE_COMPLETE event for Alarm: the failing resource ran before the in-place change")
	}
	out, err := e.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"guarded", "broken"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricAlarms) != 1 || aws.ToFloat64(out.MetricAlarms[0].Threshold) != 3 {
		t.Errorf("alarms after rollback = %d, threshold %v, want only guarded at 3", len(out.MetricAlarms), out.MetricAlarms)
	}
	// The stack takes updates again, and a real one completes.
	if _, err := e.cfn.UpdateStack(ctx, &cfnapi.UpdateStackInput{StackName: aws.String("upd"), TemplateBody: aws.String(tmpl(t, map[string]any{"Resources": map[string]any{"Alarm": alarm(5)}}))}); err != nil {
		t.Fatal(err)
	}
	_, update, _ := e.waiterOpts()
	if err := cfnapi.NewStackUpdateCompleteWaiter(e.cfn, update).Wait(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String("upd")}, 30*time.Second); err != nil {
		t.Fatalf("wait for update: %v\n%s", err, e.failures("upd"))
	}
	out, _ = e.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"guarded"}})
	if len(out.MetricAlarms) != 1 || aws.ToFloat64(out.MetricAlarms[0].Threshold) != 5 {
		t.Errorf("threshold after update = %v, want 5", out.MetricAlarms)
	}
}
