package cloudformation_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfnapi "github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// TestYAMLTemplate creates a stack from a YAML template written with the
// short-form intrinsics, and GetTemplate gives the YAML back.
func TestYAMLTemplate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{minimal: true})
	body := `AWSTemplateFormatVersion: 2010-09-09
Description: short forms
Parameters:
  Env:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Mappings:
  Retention:
    dev: {Days: 1}
    prod: {Days: 7}
Resources:
  VPC:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.4.0.0/16
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /yaml/${AWS::StackName}
      RetentionInDays: !FindInMap [Retention, !Ref Env, Days]
Outputs:
  Vpc:
    Value: !GetAtt VPC.VpcId
  Joined:
    Value: !Join
      - ","
      - - !Select [0, !Split ["-", "a-b"]]
        - !If [IsProd, p, d]
        - !Sub
          - "${X}!"
          - X: !Ref Env
  Arn:
    Value: !GetAtt [Logs, Arn]
  Multi:
    Value: |
      two
      lines
`
	st := e.createStack("yaml", body, nil)
	out := outputs(st)
	tests := []struct{ key, want string }{
		{"Vpc", e.resources("yaml")["VPC"]},
		{"Joined", "a,d,dev!"},
		{"Arn", "arn:aws:logs:us-east-1:000000000000:log-group:/yaml/yaml:*"},
		{"Multi", "two\nlines\n"},
	}
	for _, tt := range tests {
		if got := out[tt.key]; got != tt.want || got == "" {
			t.Errorf("output %s = %q, want %q", tt.key, got, tt.want)
		}
	}
	got, err := e.cfn.GetTemplate(ctx, &cfnapi.GetTemplateInput{StackName: aws.String("yaml")})
	if err != nil || aws.ToString(got.TemplateBody) != body {
		t.Errorf("GetTemplate = %v, want the YAML as given", err)
	}
	if _, err := e.cfn.ValidateTemplate(ctx, &cfnapi.ValidateTemplateInput{TemplateBody: aws.String("Resources:\n  A: !Bogus x\n")}); apiCode(err) != "ValidationError: Template format error: unknown YAML tag !Bogus at line 2" {
		t.Errorf("ValidateTemplate(unknown tag) = %q, want the tag named", apiCode(err))
	}
}
