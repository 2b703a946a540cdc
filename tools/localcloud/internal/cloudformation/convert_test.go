package cloudformation

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwlogs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestConvert: template properties fill SDK inputs with CloudFormation's
// lenient scalars, and a value of the wrong shape names its path.
func TestConvert(t *testing.T) {
	var tg elb.CreateTargetGroupInput
	props := map[string]any{
		"name": "blue", "Port": "5000", "HealthCheckEnabled": "true", "HealthCheckIntervalSeconds": json.Number("30"),
		"Matcher": map[string]any{"HttpCode": json.Number("200")}, "Tags": []any{map[string]any{"Key": "k", "Value": 7.0}},
		"TargetType": "ip", "Unknown": "ignored",
	}
	if err := convert(props, &tg); err != nil {
		t.Fatalf("convert(target group) = %v", err)
	}
	want := elb.CreateTargetGroupInput{
		Name: aws.String("blue"), Port: aws.Int32(5000), HealthCheckEnabled: aws.Bool(true), HealthCheckIntervalSeconds: aws.Int32(30),
		Matcher: &elbtypes.Matcher{HttpCode: aws.String("200")}, Tags: []elbtypes.Tag{{Key: aws.String("k"), Value: aws.String("7")}},
		TargetType: elbtypes.TargetTypeEnumIp,
	}
	if !reflect.DeepEqual(tg, want) {
		t.Errorf("convert(target group) = %+v, want %+v", tg, want)
	}
	tests := []struct {
		props map[string]any
		want  string
	}{
		{map[string]any{"RetentionInDays": "often"}, "#/RetentionInDays: expected type: Integer, found: String"},
		{map[string]any{"LogGroupName": map[string]any{"a": 1}}, "#/LogGroupName: expected type: String, found: JSONObject"},
	}
	for _, tt := range tests {
		var in cwlogs.PutRetentionPolicyInput
		var lg cwlogs.CreateLogGroupInput
		err := convert(tt.props, &in)
		if _, ok := tt.props["LogGroupName"]; ok {
			err = convert(tt.props, &lg)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("convert(%v) = %v, want %q", tt.props, err, tt.want)
		}
	}
}
