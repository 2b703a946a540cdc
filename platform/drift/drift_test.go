package drift

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/shipyard-ecs/shipyard/platform/stack"
)

const (
	blue     = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/shipyard-local-blue/1"
	green    = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/shipyard-local-green/2"
	prodRule = "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener-rule/app/shipyard-local/a/b/1"
	testRule = "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener-rule/app/shipyard-local/a/c/2"
)

// fakeAWS answers DescribeStackResources and DescribeRules in the query/XML
// protocol, so the real SDK clients are what the tests drive.
type fakeAWS struct {
	resources map[string]string // logical → physical; nil: no stack
	forward   map[string]string // rule ARN → <Actions> XML
}

func (f fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	switch r.Form.Get("Action") {
	case "DescribeStackResources":
		if f.resources == nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id %s does not exist</Message></Error><RequestId>r1</RequestId></ErrorResponse>`, r.Form.Get("StackName"))
			return
		}
		var members strings.Builder
		for logical, physical := range f.resources {
			fmt.Fprintf(&members, `<member><LogicalResourceId>%s</LogicalResourceId><PhysicalResourceId>%s</PhysicalResourceId><ResourceType>AWS::X::Y</ResourceType><ResourceStatus>UPDATE_COMPLETE</ResourceStatus><Timestamp>2026-11-25T10:00:00Z</Timestamp></member>`, logical, physical)
		}
		fmt.Fprintf(w, `<DescribeStackResourcesResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStackResourcesResult><StackResources>%s</StackResources></DescribeStackResourcesResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></DescribeStackResourcesResponse>`, members.String())
	case "DescribeRules":
		arn := r.Form.Get("RuleArns.member.1")
		actions, ok := f.forward[arn]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>RuleNotFound</Code><Message>One or more rules not found</Message></Error><RequestId>r3</RequestId></ErrorResponse>`)
			return
		}
		fmt.Fprintf(w, `<DescribeRulesResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeRulesResult><Rules><member><RuleArn>%s</RuleArn><Priority>1</Priority><IsDefault>false</IsDefault><Actions>%s</Actions></member></Rules></DescribeRulesResult><ResponseMetadata><RequestId>r4</RequestId></ResponseMetadata></DescribeRulesResponse>`, arn, actions)
	default:
		http.Error(w, "unexpected action "+r.Form.Get("Action"), http.StatusBadRequest)
	}
}

func weighted(b, g int) string {
	return fmt.Sprintf(`<member><Type>forward</Type><Order>1</Order><ForwardConfig><TargetGroups><member><TargetGroupArn>%s</TargetGroupArn><Weight>%d</Weight></member><member><TargetGroupArn>%s</TargetGroupArn><Weight>%d</Weight></member></TargetGroups></ForwardConfig></member>`, blue, b, green, g)
}

func reader(t *testing.T, f fakeAWS) *Reader {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cf := cloudformation.New(cloudformation.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
	elb := elasticloadbalancingv2.New(elasticloadbalancingv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
	return NewReader(cf, elb, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func ptr(w stack.Weights) *stack.Weights { return &w }

func TestRead(t *testing.T) {
	stackRes := map[string]string{
		stack.LogicalBlueTargetGroup: blue, stack.LogicalGreenTargetGroup: green,
		stack.LogicalProductionRule: prodRule, stack.LogicalTestRule: testRule,
	}
	tests := []struct {
		name    string
		aws     fakeAWS
		want    stack.Live
		wantErr string
	}{
		{"no stack", fakeAWS{}, stack.Live{}, ""},
		{"after a flip", fakeAWS{resources: stackRes, forward: map[string]string{prodRule: weighted(0, 100), testRule: weighted(0, 100)}},
			stack.Live{Production: ptr(stack.Weights{Blue: 0, Green: 100}), Test: ptr(stack.Weights{Blue: 0, Green: 100})}, ""},
		{"no test listener", fakeAWS{
			resources: map[string]string{stack.LogicalBlueTargetGroup: blue, stack.LogicalGreenTargetGroup: green, stack.LogicalProductionRule: prodRule},
			forward:   map[string]string{prodRule: weighted(100, 0)},
		}, stack.Live{Production: ptr(stack.Weights{Blue: 100, Green: 0})}, ""},
		{"single target group forward", fakeAWS{
			resources: map[string]string{stack.LogicalBlueTargetGroup: blue, stack.LogicalGreenTargetGroup: green, stack.LogicalProductionRule: prodRule},
			forward:   map[string]string{prodRule: `<member><Type>forward</Type><TargetGroupArn>` + green + `</TargetGroupArn></member>`},
		}, stack.Live{Production: ptr(stack.Weights{Blue: 0, Green: 100})}, ""},
		{"rule changed by hand", fakeAWS{
			resources: map[string]string{stack.LogicalBlueTargetGroup: blue, stack.LogicalGreenTargetGroup: green, stack.LogicalProductionRule: prodRule},
			forward:   map[string]string{prodRule: `<member><Type>fixed-response</Type><FixedResponseConfig><StatusCode>503</StatusCode></FixedResponseConfig></member>`},
		}, stack.Live{}, "no forward action"},
		{"rule gone", fakeAWS{
			resources: map[string]string{stack.LogicalBlueTargetGroup: blue, stack.LogicalGreenTargetGroup: green, stack.LogicalProductionRule: prodRule},
			forward:   map[string]string{},
		}, stack.Live{}, "RuleNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reader(t, tt.aws).Read(context.Background(), "shipyard-local-environment")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Read = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read = %v", err)
			}
			if fmt.Sprint(deref(got.Production), deref(got.Test)) != fmt.Sprint(deref(tt.want.Production), deref(tt.want.Test)) {
				t.Errorf("Read = production %v test %v, want %v %v", deref(got.Production), deref(got.Test), deref(tt.want.Production), deref(tt.want.Test))
			}
		})
	}
}

func deref(w *stack.Weights) string {
	if w == nil {
		return "none"
	}
	return fmt.Sprintf("%d/%d", w.Blue, w.Green)
}
