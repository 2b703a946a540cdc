package cloudformation_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfnapi "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	cwlogs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// network is a small template: a VPC, a subnet in it, a security group and
// a log group.
func network(cidr string, retention int, extra map[string]any, drop ...string) map[string]any {
	res := map[string]any{
		"VPC":    map[string]any{"Type": "AWS::EC2::VPC", "Properties": map[string]any{"CidrBlock": cidr}},
		"Subnet": map[string]any{"Type": "AWS::EC2::Subnet", "Properties": map[string]any{"VpcId": map[string]any{"Ref": "VPC"}, "CidrBlock": "10.0.1.0/24"}},
		"SG": map[string]any{"Type": "AWS::EC2::SecurityGroup", "Properties": map[string]any{
			"GroupDescription": "test", "VpcId": map[string]any{"Ref": "VPC"}}},
		"Logs": map[string]any{"Type": "AWS::Logs::LogGroup", "Properties": map[string]any{"LogGroupName": "/cs/app", "RetentionInDays": retention}},
	}
	for k, v := range extra {
		res[k] = v
	}
	for _, k := range drop {
		delete(res, k)
	}
	return map[string]any{"Resources": res}
}

// describeChanges renders a change set's changes as sorted lines:
// "Action Logical Replacement [Name:Recreation:Evaluation:Source:Entity ...]".
func describeChanges(out *cfnapi.DescribeChangeSetOutput) []string {
	var lines []string
	for _, c := range out.Changes {
		rc := c.ResourceChange
		var details []string
		for _, d := range rc.Details {
			details = append(details, fmt.Sprintf("%s:%s:%s:%s:%s", aws.ToString(d.Target.Name), d.Target.RequiresRecreation, d.Evaluation, d.ChangeSource, aws.ToString(d.CausingEntity)))
		}
		sort.Strings(details)
		line := fmt.Sprintf("%s %s %s", rc.Action, aws.ToString(rc.LogicalResourceId), rc.Replacement)
		if len(details) > 0 {
			line += " [" + strings.Join(details, " ") + "]"
		}
		lines = append(lines, strings.TrimSpace(line))
	}
	sort.Strings(lines)
	return lines
}

// TestChangeSets describes change sets for an in-place modify, a
// replacement (and the dependents it makes conditional), additions and
// removals, then executes one and checks the result.
func TestChangeSets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	start := time.Now()
	e.createStack("cs", tmpl(t, network("10.0.0.0/16", 1, nil)), nil)
	sg2 := map[string]any{"Type": "AWS::EC2::SecurityGroup", "Properties": map[string]any{"GroupDescription": "two", "VpcId": map[string]any{"Ref": "VPC"}}}
	tests := []struct {
		name string
		doc  map[string]any
		want []string
	}{
		{"in-place modify", network("10.0.0.0/16", 7, nil), []string{
			"Modify Logs False [RetentionInDays:Never:Static:DirectModification:]",
		}},
		{"replacement", network("10.9.0.0/16", 1, nil), []string{
			"Modify SG Conditional [VpcId:Always:Dynamic:ResourceReference:VPC]",
			"Modify Subnet Conditional [VpcId:Always:Dynamic:ResourceReference:VPC]",
			"Modify VPC True [CidrBlock:Always:Static:DirectModification:]",
		}},
		{"add and remove", network("10.0.0.0/16", 1, map[string]any{"SG2": sg2}, "Logs"), []string{
			"Add SG2",
			"Remove Logs",
		}},
	}
	for i, tt := range tests {
		name := fmt.Sprintf("c%d", i)
		created, err := e.cfn.CreateChangeSet(ctx, &cfnapi.CreateChangeSetInput{
			StackName: aws.String("cs"), ChangeSetName: aws.String(name), TemplateBody: aws.String(tmpl(t, tt.doc)), ChangeSetType: cfntypes.ChangeSetTypeUpdate,
		})
		if err != nil {
			t.Fatalf("%s: CreateChangeSet: %v", tt.name, err)
		}
		waiter := cfnapi.NewChangeSetCreateCompleteWaiter(e.cfn, func(o *cfnapi.ChangeSetCreateCompleteWaiterOptions) {
			o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
		})
		out, err := waiter.WaitForOutput(ctx, &cfnapi.DescribeChangeSetInput{StackName: aws.String("cs"), ChangeSetName: created.Id}, 10*time.Second)
		if err != nil {
			t.Fatalf("%s: wait for change set: %v", tt.name, err)
		}
		if out.ExecutionStatus != cfntypes.ExecutionStatusAvailable {
			t.Errorf("%s: ExecutionStatus = %s, want AVAILABLE", tt.name, out.ExecutionStatus)
		}
		if got := describeChanges(out); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s: changes =\n  %s\nwant\n  %s", tt.name, strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
		}
		for _, c := range out.Changes {
			if c.ResourceChange.Action != cfntypes.ChangeActionAdd && aws.ToString(c.ResourceChange.PhysicalResourceId) == "" {
				t.Errorf("%s: %s has no PhysicalResourceId", tt.name, aws.ToString(c.ResourceChange.LogicalResourceId))
			}
		}
	}
	// With IncludePropertyValues the details carry the values; removals and
	// replacements say what happens to the old resource.
	c0, err := e.cfn.DescribeChangeSet(ctx, &cfnapi.DescribeChangeSetInput{StackName: aws.String("cs"), ChangeSetName: aws.String("c0"), IncludePropertyValues: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	target := c0.Changes[0].ResourceChange.Details[0].Target
	if got := fmt.Sprintf("%s %s→%s", aws.ToString(target.Path), aws.ToString(target.BeforeValue), aws.ToString(target.AfterValue)); got != "/Properties/RetentionInDays 1→7" {
		t.Errorf("c0 detail = %s, want /Properties/RetentionInDays 1→7", got)
	}
	policies := map[string]string{}
	for _, name := range []string{"c1", "c2"} {
		d, err := e.cfn.DescribeChangeSet(ctx, &cfnapi.DescribeChangeSetInput{StackName: aws.String("cs"), ChangeSetName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range d.Changes {
			policies[name+" "+aws.ToString(c.ResourceChange.LogicalResourceId)] = string(c.ResourceChange.PolicyAction)
		}
	}
	for k, want := range map[string]string{"c1 VPC": "ReplaceAndDelete", "c1 Subnet": "", "c2 Logs": "Delete", "c2 SG2": ""} {
		if policies[k] != want {
			t.Errorf("PolicyAction of %s = %q, want %q", k, policies[k], want)
		}
	}
	list, err := e.cfn.ListChangeSets(ctx, &cfnapi.ListChangeSetsInput{StackName: aws.String("cs")})
	if err != nil || len(list.Summaries) != len(tests) {
		t.Fatalf("ListChangeSets = %v, %v, want %d", list, err, len(tests))
	}

	// No changes: the change set fails with AWS's reason.
	same, err := e.cfn.CreateChangeSet(ctx, &cfnapi.CreateChangeSetInput{StackName: aws.String("cs"), ChangeSetName: aws.String("same"), UsePreviousTemplate: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.cfn.DescribeChangeSet(ctx, &cfnapi.DescribeChangeSetInput{ChangeSetName: same.Id})
	if err != nil || d.Status != cfntypes.ChangeSetStatusFailed || !strings.Contains(aws.ToString(d.StatusReason), "didn't contain changes") {
		t.Errorf("empty change set = %v %q, %v, want FAILED, didn't contain changes", d.Status, aws.ToString(d.StatusReason), err)
	}

	// Execute the replacement: the VPC and its dependents get new ids, the
	// old ones are cleaned up, and the other change sets become obsolete.
	before := e.resources("cs")
	if _, err := e.cfn.ExecuteChangeSet(ctx, &cfnapi.ExecuteChangeSetInput{StackName: aws.String("cs"), ChangeSetName: aws.String("c1")}); err != nil {
		t.Fatal(err)
	}
	_, update, _ := e.waiterOpts()
	if err := cfnapi.NewStackUpdateCompleteWaiter(e.cfn, update).Wait(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String("cs")}, 30*time.Second); err != nil {
		t.Fatalf("wait for update: %v\n%s", err, e.failures("cs"))
	}
	after := e.resources("cs")
	for _, id := range []string{"VPC", "Subnet", "SG"} {
		if before[id] == after[id] {
			t.Errorf("%s physical id = %s after replacement, want a new one", id, after[id])
		}
	}
	if before["Logs"] != after["Logs"] {
		t.Errorf("Logs physical id changed %s → %s, want it left alone", before["Logs"], after["Logs"])
	}
	var deletedOld bool
	for _, ev := range e.events("cs") {
		if aws.ToString(ev.LogicalResourceId) == "VPC" && ev.ResourceStatus == cfntypes.ResourceStatusDeleteComplete && aws.ToString(ev.PhysicalResourceId) == before["VPC"] {
			deletedOld = true
		}
	}
	if !deletedOld {
		t.Errorf("no DELETE_COMPLETE event for the replaced VPC %s", before["VPC"])
	}
	// Executing c1 deleted the stack's other change sets, as on AWS.
	if _, err := e.cfn.DescribeChangeSet(ctx, &cfnapi.DescribeChangeSetInput{StackName: aws.String("cs"), ChangeSetName: aws.String("c0")}); !errors.As(err, new(*cfntypes.ChangeSetNotFoundException)) {
		t.Errorf("DescribeChangeSet(c0) after executing c1 = %v, want ChangeSetNotFound", err)
	}
	cs1, _ := e.cfn.DescribeChangeSet(ctx, &cfnapi.DescribeChangeSetInput{StackName: aws.String("cs"), ChangeSetName: aws.String("c1")})
	if cs1 == nil || cs1.ExecutionStatus != cfntypes.ExecutionStatusExecuteComplete {
		t.Errorf("c1 after executing = %v, want EXECUTE_COMPLETE", cs1)
	}
	if _, err := e.cfn.ExecuteChangeSet(ctx, &cfnapi.ExecuteChangeSetInput{StackName: aws.String("cs"), ChangeSetName: aws.String("c1")}); !strings.HasPrefix(apiCode(err), "InvalidChangeSetStatus") {
		t.Errorf("ExecuteChangeSet(executed) = %v, want InvalidChangeSetStatus", err)
	}
	if _, err := e.cfn.DeleteChangeSet(ctx, &cfnapi.DeleteChangeSetInput{StackName: aws.String("cs"), ChangeSetName: aws.String("c1")}); err != nil {
		t.Errorf("DeleteChangeSet(c1) = %v", err)
	}

	// A CREATE change set makes a REVIEW_IN_PROGRESS stack; executing it
	// creates the stack.
	created, err := e.cfn.CreateChangeSet(ctx, &cfnapi.CreateChangeSetInput{
		StackName: aws.String("fresh"), ChangeSetName: aws.String("first"), ChangeSetType: cfntypes.ChangeSetTypeCreate,
		TemplateBody: aws.String(tmpl(t, network("10.5.0.0/16", 3, nil, "Logs"))),
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err = e.cfn.DescribeChangeSet(ctx, &cfnapi.DescribeChangeSetInput{ChangeSetName: created.Id})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(describeChanges(d), ","); got != "Add SG,Add Subnet,Add VPC" {
		t.Errorf("CREATE change set changes = %s, want Add SG,Add Subnet,Add VPC", got)
	}
	if st := e.waitStatus("fresh"); st.StackStatus != cfntypes.StackStatusReviewInProgress {
		t.Errorf("stack of a CREATE change set = %s, want REVIEW_IN_PROGRESS", st.StackStatus)
	}
	if _, err := e.cfn.ExecuteChangeSet(ctx, &cfnapi.ExecuteChangeSetInput{ChangeSetName: created.Id}); err != nil {
		t.Fatal(err)
	}
	create, _, _ := e.waiterOpts()
	if err := cfnapi.NewStackCreateCompleteWaiter(e.cfn, create).Wait(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String("fresh")}, 30*time.Second); err != nil {
		t.Fatalf("wait for create: %v\n%s", err, e.failures("fresh"))
	}
	// The log group kept its name and was left alone by the replacement.
	lg, err := e.logs.DescribeLogGroups(ctx, &cwlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/cs/app")})
	if err != nil || len(lg.LogGroups) != 1 {
		t.Errorf("log groups = %v, %v, want /cs/app", lg, err)
	}
	t.Logf("change sets: %v", time.Since(start).Round(time.Millisecond))
}

// resources maps logical ids to physical ids.
func (e *env) resources(name string) map[string]string {
	e.t.Helper()
	out, err := e.cfn.DescribeStackResources(ctx, &cfnapi.DescribeStackResourcesInput{StackName: aws.String(name)})
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string]string{}
	for _, r := range out.StackResources {
		m[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
	}
	return m
}
