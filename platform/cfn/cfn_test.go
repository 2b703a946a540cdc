package cfn_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shipyard-ecs/shipyard/platform/cfn"
	"github.com/shipyard-ecs/shipyard/platform/cfn/cfntest"
)

func TestIntrinsicsJSON(t *testing.T) {
	tests := []struct {
		name string
		v    cfn.Value
		want string
	}{
		{"ref", cfn.Ref("VPC"), `{"Ref":"VPC"}`},
		{"getatt", cfn.GetAtt("Role", "Arn"), `{"Fn::GetAtt":["Role","Arn"]}`},
		{"sub", cfn.Sub("${AWS::Region}-x"), `{"Fn::Sub":"${AWS::Region}-x"}`},
		{"sub with", cfn.SubWith("${A}", map[string]cfn.Value{"A": cfn.Ref("B")}), `{"Fn::Sub":["${A}",{"A":{"Ref":"B"}}]}`},
		{"join", cfn.Join(",", cfn.String("a"), cfn.Ref("B")), `{"Fn::Join":[",",["a",{"Ref":"B"}]]}`},
		{"select azs", cfn.Select(1, cfn.GetAZs()), `{"Fn::Select":[1,{"Fn::GetAZs":""}]}`},
		{"if", cfn.If("C", cfn.Int(1), cfn.NoValue()), `{"Fn::If":["C",1,{"Ref":"AWS::NoValue"}]}`},
		{"list", cfn.Strings("a", "b"), `["a","b"]`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.v)
		if err != nil {
			t.Fatalf("%s: Marshal = %v", tt.name, err)
		}
		if string(b) != tt.want {
			t.Errorf("%s: Marshal = %s, want %s", tt.name, b, tt.want)
		}
	}
}

// tmpl renders a template of the given resources (as raw JSON) for checks.
func tmpl(resources string) []byte {
	return []byte(`{"AWSTemplateFormatVersion":"2010-09-09","Parameters":{"P":{"Type":"String"}},"Resources":` + resources + `}`)
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		resources string
		want      string // "" means no error
	}{
		{"fine", `{"A":{"Type":"AWS::SQS::Queue"},"B":{"Type":"AWS::SQS::Queue","DependsOn":["A"],"Properties":{"QueueName":{"Fn::Sub":"${A.Arn}-${P}-${AWS::Region}-${!Literal}"}}}}`, ""},
		{"missing ref", `{"A":{"Type":"AWS::SQS::Queue","Properties":{"QueueName":{"Ref":"Nope"}}}}`, "A: refers to Nope, which is neither a resource nor a parameter"},
		{"missing getatt", `{"A":{"Type":"AWS::SQS::Queue","Properties":{"QueueName":{"Fn::GetAtt":["Nope","Arn"]}}}}`, "A: gets attribute Arn of Nope, which is not a resource"},
		{"missing sub var", `{"A":{"Type":"AWS::SQS::Queue","Properties":{"QueueName":{"Fn::Sub":"${Nope}"}}}}`, "refers to Nope"},
		{"sub local var", `{"A":{"Type":"AWS::SQS::Queue","Properties":{"QueueName":{"Fn::Sub":["${X}",{"X":"y"}]}}}}`, ""},
		{"missing depends", `{"A":{"Type":"AWS::SQS::Queue","DependsOn":"Nope"}}`, "A: DependsOn Nope, which is not a resource"},
		{"missing condition", `{"A":{"Type":"AWS::SQS::Queue","Condition":"C"}}`, "condition C is not defined"},
		{"cycle", `{"A":{"Type":"AWS::SQS::Queue","DependsOn":["B"]},"B":{"Type":"AWS::SQS::Queue","Properties":{"QueueName":{"Ref":"A"}}}}`, "cycle: A → B → A"},
	}
	for _, tt := range tests {
		err := cfn.Check(tmpl(tt.resources))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Check = %v, want nil", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Check = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestSchemasValidate(t *testing.T) {
	schemas := cfntest.Schemas(t)
	tests := []struct {
		name      string
		resources string
		want      string
	}{
		{"fine", `{"TG":{"Type":"AWS::ElasticLoadBalancingV2::TargetGroup","Properties":{"Port":5000,"Protocol":"HTTP","TargetType":"ip","VpcId":{"Ref":"P"}}},
			"Q":{"Type":"AWS::SQS::Queue","Properties":{"QueueName":{"Fn::GetAtt":["TG","TargetGroupName"]}}}}`, ""},
		{"unknown type", `{"A":{"Type":"AWS::Nope::Thing"}}`, "no schema for type AWS::Nope::Thing"},
		{"unknown property", `{"A":{"Type":"AWS::SQS::Queue","Properties":{"Hue":"blue"}}}`, "Hue"},
		{"wrong type", `{"A":{"Type":"AWS::ElasticLoadBalancingV2::TargetGroup","Properties":{"Port":"five"}}}`, "Port"},
		{"out of range", `{"A":{"Type":"AWS::Lambda::Function","Properties":{"Role":"arn:aws:iam::123456789012:role/x","Code":{},"Timeout":0}}}`, "Timeout"},
		{"missing required", `{"A":{"Type":"AWS::Logs::MetricFilter","Properties":{"FilterPattern":"x"}}}`, "LogGroupName"},
		{"bad enum", `{"A":{"Type":"AWS::Logs::LogGroup","Properties":{"RetentionInDays":2}}}`, "RetentionInDays"},
		{"bad pattern", `{"A":{"Type":"AWS::Lambda::Function","Properties":{"Role":"not-an-arn","Code":{}}}}`, "Role"},
		{"read-only property set", `{"A":{"Type":"AWS::SQS::Queue","Properties":{"Arn":"x"}}}`, "sets Arn, which is read-only"},
		{"bad attribute", `{"A":{"Type":"AWS::SQS::Queue"},"B":{"Type":"AWS::SQS::Queue","Properties":{"QueueName":{"Fn::GetAtt":["A","Hue"]}}}}`, "gets attribute Hue of A (AWS::SQS::Queue), which has only"},
		{"intrinsic where object wanted", `{"A":{"Type":"AWS::SQS::Queue","Properties":{"RedrivePolicy":{"Fn::If":["C",{"deadLetterTargetArn":"x"},{"Ref":"AWS::NoValue"}]}}}}`, ""},
		{"not an intrinsic", `{"A":{"Type":"AWS::SQS::Queue","Properties":{"DelaySeconds":{"Reff":"P"}}}}`, "DelaySeconds"},
	}
	for _, tt := range tests {
		err := schemas.Validate(tmpl(tt.resources))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate = %v, want nil", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Validate = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}
