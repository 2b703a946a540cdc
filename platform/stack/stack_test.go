package stack

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/cfn"
	"github.com/shipyard-ecs/shipyard/platform/cfn/cfntest"
	"github.com/shipyard-ecs/shipyard/platform/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// specs are the repository's own environments, read from ship.yaml.
func specs(t *testing.T) map[string]platform.Spec {
	t.Helper()
	m, err := manifest.Load(filepath.Join("..", "..", manifest.DefaultPath))
	if err != nil {
		t.Fatalf("load ship.yaml: %v", err)
	}
	out := map[string]platform.Spec{}
	for _, env := range m.Environments() {
		s, err := m.Spec(env)
		if err != nil {
			t.Fatalf("Spec(%s): %v", env, err)
		}
		out[env] = s
	}
	return out
}

// variant is the local spec changed by f, to cover the switches.
func variant(t *testing.T, f func(*platform.Spec)) platform.Spec {
	s := specs(t)["local"]
	f(&s)
	return s
}

func render(t *testing.T, s platform.Spec, in Inputs) (boot, env []byte) {
	t.Helper()
	b, err := Bootstrap(s)
	if err != nil {
		t.Fatalf("Bootstrap(%s) = %v", s.Env, err)
	}
	e, err := Environment(s, in)
	if err != nil {
		t.Fatalf("Environment(%s) = %v", s.Env, err)
	}
	boot, err = b.JSON()
	if err != nil {
		t.Fatal(err)
	}
	env, err = e.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return boot, env
}

// TestTemplatesAreValid checks every rendered template's wiring and, where
// the schemas are present, every resource against AWS's registry schemas.
func TestTemplatesAreValid(t *testing.T) {
	cases := map[string]platform.Spec{}
	for env, s := range specs(t) {
		cases[env] = s
	}
	cases["no test listener"] = variant(t, func(s *platform.Spec) { s.LoadBalancer.TestListener = false; s.Deploywatch.SmokeChecks = nil })
	cases["nat per az, x86"] = variant(t, func(s *platform.Spec) {
		s.Network.NAT = platform.NATPerAZ
		s.Deploywatch.Architecture = "x86_64"
	})
	for name, s := range cases {
		boot, env := render(t, s, Inputs{})
		docs := []struct {
			name string
			doc  []byte
		}{{"bootstrap", boot}, {"environment", env}}
		// The wiring checks need nothing from outside; they never skip.
		t.Run(name+"/wiring", func(t *testing.T) {
			for _, d := range docs {
				if err := cfn.Check(d.doc); err != nil {
					t.Errorf("Check(%s) = %v", d.name, err)
				}
			}
		})
		t.Run(name+"/schemas", func(t *testing.T) {
			schemas := cfntest.Schemas(t)
			for _, d := range docs {
				if err := schemas.Validate(d.doc); err != nil {
					t.Errorf("Schemas.Validate(%s) = %v", d.name, err)
				}
			}
		})
	}
}

func TestEnvironmentRefusesAnInvalidSpec(t *testing.T) {
	s := variant(t, func(s *platform.Spec) { s.HealthCheck.HealthyThreshold = 1 })
	if _, err := Environment(s, Inputs{}); err == nil || !strings.Contains(err.Error(), "healthCheck.healthyThreshold") {
		t.Errorf("Environment(healthy threshold 1) = %v, want an error naming healthCheck.healthyThreshold", err)
	}
}

func TestGolden(t *testing.T) {
	for env, s := range specs(t) {
		boot, envDoc := render(t, s, Inputs{})
		golden(t, filepath.Join("testdata", env+"-bootstrap.json"), boot)
		golden(t, filepath.Join("testdata", env+"-environment.json"), envDoc)
	}
}

// golden compares got with the file as parsed JSON, or rewrites it.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run go test -update to create it)", err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("rendered template differs from %s (run go test -update and review the diff):\n%s", path, firstDiff("", g, w))
	}
}

// firstDiff names the first path where got and want differ.
func firstDiff(path string, got, want any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %v, want an object", path, got)
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			seen := map[string]bool{}
			for k := range g {
				seen[k] = true
				if !yield(k) {
					return
				}
			}
			for k := range w {
				if !seen[k] && !yield(k) {
					return
				}
			}
		})
		for _, k := range keys {
			if !reflect.DeepEqual(g[k], w[k]) {
				return firstDiff(path+"."+k, g[k], w[k])
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %v", path, got, want)
		}
		for i := range w {
			if !reflect.DeepEqual(g[i], w[i]) {
				return firstDiff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i])
			}
		}
	}
	return fmt.Sprintf("%s: got %v, want %v", path, got, want)
}

// parsed is a rendered template read back as data, with a path getter.
type parsed map[string]any

func parse(t *testing.T, doc []byte) parsed {
	t.Helper()
	var p parsed
	if err := json.Unmarshal(doc, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// get walks a dotted path (Resources.VPC.Properties.CidrBlock, list
// elements by index) and returns what is there, or nil.
func (p parsed) get(path string) any {
	var v any = map[string]any(p)
	for _, part := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			v = c[part]
		case []any:
			var i int
			if _, err := fmt.Sscan(part, &i); err != nil || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// ofType lists the logical ids of the resources of a type.
func (p parsed) ofType(typ string) []string {
	var ids []string
	for id, r := range p["Resources"].(map[string]any) {
		if r.(map[string]any)["Type"] == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// canon rewrites a JSON text the way js renders parsed data (keys sorted),
// so a want can be written in the template's own order.
func canon(s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic("bad want " + s + ": " + err.Error())
	}
	return js(v)
}

// TestSeedValues asserts every seed value of DESIGN §2 that lives in the
// stacks, in the rendered templates.
func TestSeedValues(t *testing.T) {
	all := specs(t)
	_, envDoc := render(t, all["production"], Inputs{})
	p := parse(t, envDoc)
	bootDoc, _ := render(t, all["production"], Inputs{})
	b := parse(t, bootDoc)
	tests := []struct {
		path string
		want string // JSON
	}{
		// target groups: HTTP, 5000, ip, /health, 2/3/30, deregistration 60
		{"Resources.BlueTargetGroup.Properties.Protocol", `"HTTP"`},
		{"Resources.BlueTargetGroup.Properties.Port", `5000`},
		{"Resources.BlueTargetGroup.Properties.TargetType", `"ip"`},
		{"Resources.BlueTargetGroup.Properties.HealthCheckPath", `"/health"`},
		{"Resources.BlueTargetGroup.Properties.HealthyThresholdCount", `2`},
		{"Resources.BlueTargetGroup.Properties.UnhealthyThresholdCount", `3`},
		{"Resources.BlueTargetGroup.Properties.HealthCheckIntervalSeconds", `30`},
		{"Resources.BlueTargetGroup.Properties.TargetGroupAttributes", `[{"Key":"deregistration_delay.timeout_seconds","Value":"60"}]`},
		{"Resources.GreenTargetGroup.Properties.Port", `5000`},
		{"Resources.GreenTargetGroup.Properties.TargetType", `"ip"`},
		{"Resources.GreenTargetGroup.Properties.HealthCheckPath", `"/health"`},
		{"Resources.GreenTargetGroup.Properties.TargetGroupAttributes", `[{"Key":"deregistration_delay.timeout_seconds","Value":"60"}]`},
		// listener on 80 and an explicit rule forwarding blue 100, green 0
		{"Resources.ProductionListener.Properties.Port", `80`},
		{"Resources.ProductionListenerRule.Properties.Actions.0.Type", `"forward"`},
		{"Resources.ProductionListenerRule.Properties.Actions.0.ForwardConfig.TargetGroups", `[{"TargetGroupArn":{"Ref":"BlueTargetGroup"},"Weight":100},{"TargetGroupArn":{"Ref":"GreenTargetGroup"},"Weight":0}]`},
		{"Resources.TestListener.Properties.Port", `8080`},
		{"Resources.TestListenerRule.Properties.Actions.0.ForwardConfig.TargetGroups", `[{"TargetGroupArn":{"Ref":"BlueTargetGroup"},"Weight":100},{"TargetGroupArn":{"Ref":"GreenTargetGroup"},"Weight":0}]`},
		// internet-facing ALB dropping invalid headers, protected in production
		{"Resources.LoadBalancer.Properties.Scheme", `"internet-facing"`},
		{"Resources.LoadBalancer.Properties.LoadBalancerAttributes.0", `{"Key":"routing.http.drop_invalid_header_fields.enabled","Value":"true"}`},
		{"Resources.LoadBalancer.Properties.LoadBalancerAttributes.1", `{"Key":"deletion_protection.enabled","Value":"true"}`},
		// private subnets in us-east-1a and us-east-1b, NAT per AZ in production
		{"Resources.PrivateSubnetA.Properties.AvailabilityZone", `"us-east-1a"`},
		{"Resources.PrivateSubnetB.Properties.AvailabilityZone", `"us-east-1b"`},
		{"Resources.PrivateDefaultRouteA.Properties.NatGatewayId", `{"Ref":"NatGatewayA"}`},
		{"Resources.PrivateDefaultRouteB.Properties.NatGatewayId", `{"Ref":"NatGatewayB"}`},
		// task egress all, for ECR pulls and CloudWatch Logs
		{"Resources.TaskSecurityGroup.Properties.SecurityGroupEgress", `[{"Description":"all: ECR pulls, CloudWatch Logs, the app's own calls","IpProtocol":"-1","CidrIp":"0.0.0.0/0"}]`},
		// cluster with Container Insights
		{"Resources.Cluster.Properties.ClusterSettings", `[{"Name":"containerInsights","Value":"enabled"}]`},
		// the 5XX alarm covers both target groups: measured on the load balancer
		{"Resources.Target5xxAlarm.Properties.MetricName", `"HTTPCode_Target_5XX_Count"`},
		{"Resources.Target5xxAlarm.Properties.Dimensions", `[{"Name":"LoadBalancer","Value":{"Fn::GetAtt":["LoadBalancer","LoadBalancerFullName"]}}]`},
		{"Resources.Target5xxAlarm.Properties.TreatMissingData", `"notBreaching"`},
		{"Resources.LoadBalancer5xxAlarm.Properties.TreatMissingData", `"notBreaching"`},
		// the latency alarm too, on the targets' average response time in seconds
		{"Resources.LatencyAlarm.Properties.MetricName", `"TargetResponseTime"`},
		{"Resources.LatencyAlarm.Properties.Statistic", `"Average"`},
		{"Resources.LatencyAlarm.Properties.Threshold", `1`},
		{"Resources.LatencyAlarm.Properties.Dimensions", `[{"Name":"LoadBalancer","Value":{"Fn::GetAtt":["LoadBalancer","LoadBalancerFullName"]}}]`},
		// ledger: on demand, point-in-time recovery, encrypted
		{"Resources.DeploymentLedger.Properties.BillingMode", `"PAY_PER_REQUEST"`},
		{"Resources.DeploymentLedger.Properties.PointInTimeRecoverySpecification", `{"PointInTimeRecoveryEnabled":true}`},
		{"Resources.DeploymentLedger.Properties.SSESpecification", `{"SSEEnabled":true}`},
		// deploywatch: provided.al2023 on arm64, code at a content-addressed key
		{"Resources.DeploywatchFunction.Properties.Runtime", `"provided.al2023"`},
		{"Resources.DeploywatchFunction.Properties.Architectures", `["arm64"]`},
		{"Resources.DeploywatchFunction.Properties.Code", `{"S3Bucket":{"Ref":"ArtifactBucket"},"S3Key":{"Ref":"DeploywatchCodeKey"}}`},
		{"Resources.DeploywatchFunction.Properties.Environment.Variables.ENFORCEMENT", `"enforce"`},
		{"Resources.DeploywatchFunction.Properties.Environment.Variables.WATCHED_ALARMS", `"shipyard-production-target-5xx,shipyard-production-elb-5xx,shipyard-production-latency"`},
		{"Resources.DeploywatchFunction.Properties.Environment.Variables.GUARD_WINDOW_MINUTES", `"10"`},
		{"Resources.DeploywatchFunction.Properties.Environment.Variables.SERVICE_NAME", `"shipyard"`},
		{"Resources.DeploywatchFunction.Properties.Environment.Variables.CLUSTER_NAME", `{"Ref":"Cluster"}`},
		{"Resources.DeploywatchFunction.Properties.Environment.Variables.LEDGER_TABLE", `{"Ref":"DeploymentLedger"}`},
		{"Parameters.DeploywatchCodeKey.AllowedPattern", `"^deploywatch/[0-9a-f]{64}\\.zip$"`},
		// event rules with retries and a dead-letter queue
		{"Resources.DeploymentEventsRule.Properties.EventPattern.detail-type", `["ECS Deployment State Change"]`},
		{"Resources.ServiceActionEventsRule.Properties.EventPattern.detail-type", `["ECS Service Action"]`},
		{"Resources.AlarmEventsRule.Properties.EventPattern.detail-type", `["CloudWatch Alarm State Change"]`},
		{"Resources.AlarmEventsRule.Properties.EventPattern.source", `["aws.cloudwatch"]`},
		{"Resources.DeploymentEventsRule.Properties.Targets.0.RetryPolicy", `{"MaximumRetryAttempts":8,"MaximumEventAgeInSeconds":3600}`},
		{"Resources.DeploymentEventsRule.Properties.Targets.0.DeadLetterConfig", `{"Arn":{"Fn::GetAtt":["DeploywatchDeadLetterQueue","Arn"]}}`},
		{"Resources.AlarmEventsRulePermission.Properties.Principal", `"events.amazonaws.com"`},
		{"Resources.AlarmEventsRulePermission.Properties.SourceArn", `{"Fn::GetAtt":["AlarmEventsRule","Arn"]}`},
		// log groups with retention
		{"Resources.AppLogGroup.Properties.RetentionInDays", `90`},
		{"Resources.DeploywatchLogGroup.Properties.RetentionInDays", `90`},
		// infrastructure role for load balancers
		{"Resources.InfrastructureRole.Properties.ManagedPolicyArns", `[{"Fn::Sub":"arn:${AWS::Partition}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"}]`},
		{"Resources.InfrastructureRole.Properties.AssumeRolePolicyDocument.Statement.0.Principal.Service", `["ecs.amazonaws.com"]`},
		{"Resources.HookInvokeRole.Properties.Policies.0.PolicyDocument.Statement.0.Action", `["lambda:InvokeFunction"]`},
	}
	for _, tt := range tests {
		if got := js(p.get(tt.path)); got != canon(tt.want) {
			t.Errorf("environment %s = %s, want %s", tt.path, got, tt.want)
		}
	}
	bootTests := []struct{ path, want string }{
		{"Resources.Repository.Properties.ImageScanningConfiguration", `{"ScanOnPush":true}`},
		{"Resources.Repository.Properties.ImageTagMutability", `"IMMUTABLE"`},
		{"Resources.ArtifactBucket.Properties.VersioningConfiguration", `{"Status":"Enabled"}`},
		{"Resources.ArtifactBucket.Properties.PublicAccessBlockConfiguration", `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}`},
		{"Resources.ArtifactBucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration.0.ServerSideEncryptionByDefault.SSEAlgorithm", `"AES256"`},
		{"Resources.ArtifactBucketPolicy.Properties.PolicyDocument.Statement.0.Effect", `"Deny"`},
		{"Resources.ArtifactBucketPolicy.Properties.PolicyDocument.Statement.0.Condition", `{"Bool":{"aws:SecureTransport":"false"}}`},
		{"Resources.ArtifactBucket.DeletionPolicy", `"Retain"`},
	}
	for _, tt := range bootTests {
		if got := js(b.get(tt.path)); got != canon(tt.want) {
			t.Errorf("bootstrap %s = %s, want %s", tt.path, got, tt.want)
		}
	}
	var lifecycle map[string]any
	if err := json.Unmarshal([]byte(b.get("Resources.Repository.Properties.LifecyclePolicy.LifecyclePolicyText").(string)), &lifecycle); err != nil || len(lifecycle["rules"].([]any)) == 0 {
		t.Errorf("bootstrap repository lifecycle policy = %v (%v), want rules", lifecycle, err)
	}
}

func TestSwitches(t *testing.T) {
	tests := []struct {
		name  string
		spec  func(*platform.Spec)
		check func(p parsed) string // "" when right
	}{
		{"single NAT routes both AZs through A", func(s *platform.Spec) { s.Network.NAT = platform.NATSingle }, func(p parsed) string {
			if n := len(p.ofType("AWS::EC2::NatGateway")); n != 1 {
				return fmt.Sprintf("NAT gateways = %d, want 1", n)
			}
			if got := js(p.get("Resources.PrivateDefaultRouteB.Properties.NatGatewayId")); got != `{"Ref":"NatGatewayA"}` {
				return "PrivateDefaultRouteB NAT = " + got + `, want {"Ref":"NatGatewayA"}`
			}
			return ""
		}},
		{"NAT per AZ", func(s *platform.Spec) { s.Network.NAT = platform.NATPerAZ }, func(p parsed) string {
			if n := len(p.ofType("AWS::EC2::NatGateway")); n != 2 {
				return fmt.Sprintf("NAT gateways = %d, want 2", n)
			}
			return ""
		}},
		{"no test listener", func(s *platform.Spec) { s.LoadBalancer.TestListener = false; s.Deploywatch.SmokeChecks = nil }, func(p parsed) string {
			if rules := p.ofType("AWS::ElasticLoadBalancingV2::ListenerRule"); !slices.Equal(rules, []string{"ProductionListenerRule"}) {
				return fmt.Sprintf("listener rules = %v, want only the production rule", rules)
			}
			if p.get("Outputs."+OutputTestRule) != nil {
				return "test rule output present, want none"
			}
			if len(p.get("Resources.LoadBalancerSecurityGroup.Properties.SecurityGroupIngress").([]any)) != 1 {
				return "ALB ingress has a test-port rule, want only the listener port"
			}
			if got := js(p.get("Resources.DeploywatchFunction.Properties.Environment.Variables.TEST_LISTENER_URL")); got != `""` {
				return "TEST_LISTENER_URL = " + got + `, want ""`
			}
			return ""
		}},
		{"deletion protection off", func(s *platform.Spec) { s.LoadBalancer.DeletionProtection = false }, func(p parsed) string {
			if got := js(p.get("Resources.LoadBalancer.Properties.LoadBalancerAttributes.1.Value")); got != `"false"` {
				return "deletion_protection.enabled = " + got + `, want "false"`
			}
			return ""
		}},
		{"tracing to the function's log", func(s *platform.Spec) { s.Deploywatch.Tracing = platform.TracingConsole }, func(p parsed) string {
			if got := js(p.get("Resources.DeploywatchFunction.Properties.Environment.Variables.OTEL_TRACES_EXPORTER")); got != `"console"` {
				return "OTEL_TRACES_EXPORTER = " + got + `, want "console"`
			}
			return ""
		}},
		{"tracing off", func(s *platform.Spec) { s.Deploywatch.Tracing = platform.TracingNone }, func(p parsed) string {
			if got := p.get("Resources.DeploywatchFunction.Properties.Environment.Variables.OTEL_TRACES_EXPORTER"); got != nil {
				return fmt.Sprintf("OTEL_TRACES_EXPORTER = %v, want none", got)
			}
			return ""
		}},
		{"dry run", func(s *platform.Spec) { s.Deploywatch.Enforcement = platform.EnforceDryRun }, func(p parsed) string {
			if got := js(p.get("Resources.DeploywatchFunction.Properties.Environment.Variables.ENFORCEMENT")); got != `"dry-run"` {
				return "ENFORCEMENT = " + got + `, want "dry-run"`
			}
			return ""
		}},
		{"vpc cidr", func(s *platform.Spec) { s.Network.VPCCIDR = "10.42.0.0/20" }, func(p parsed) string {
			if got := js(p.get("Resources.PrivateSubnetB.Properties.CidrBlock")); got != `"10.42.12.0/22"` {
				return "PrivateSubnetB CIDR = " + got + `, want "10.42.12.0/22"`
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, env := render(t, variant(t, tt.spec), Inputs{})
			if msg := tt.check(parse(t, env)); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// TestSecurity asserts the security baseline of DESIGN §7 in every
// environment's template.
func TestSecurity(t *testing.T) {
	for env, s := range specs(t) {
		t.Run(env, func(t *testing.T) {
			_, doc := render(t, s, Inputs{})
			p := parse(t, doc)

			// The task SG admits only the container port, only from the ALB SG.
			ingress := p.get("Resources.TaskSecurityGroup.Properties.SecurityGroupIngress").([]any)
			want := `[{"Description":"the container port, from the load balancer's security group only","IpProtocol":"tcp","FromPort":5000,"ToPort":5000,"SourceSecurityGroupId":{"Fn::GetAtt":["LoadBalancerSecurityGroup","GroupId"]}}]`
			if got := js(ingress); got != canon(want) {
				t.Errorf("task SG ingress = %s, want %s", got, want)
			}
			if ids := p.ofType("AWS::EC2::SecurityGroupIngress"); len(ids) != 0 {
				t.Errorf("standalone ingress rules %v, want none (they could open the task SG)", ids)
			}
			// The internet reaches the ALB on 80; the test port only from the VPC.
			for _, r := range p.get("Resources.LoadBalancerSecurityGroup.Properties.SecurityGroupIngress").([]any) {
				rule := r.(map[string]any)
				if rule["CidrIp"] == "0.0.0.0/0" && rule["FromPort"] != float64(80) {
					t.Errorf("ALB SG opens port %v to the internet, want only 80", rule["FromPort"])
				}
				if rule["FromPort"] == float64(8080) && rule["CidrIp"] != s.Network.VPCCIDR {
					t.Errorf("test port open to %v, want only the VPC %s", rule["CidrIp"], s.Network.VPCCIDR)
				}
			}
			// No subnet hands out public IPs.
			for _, id := range p.ofType("AWS::EC2::Subnet") {
				if p.get("Resources."+id+".Properties.MapPublicIpOnLaunch") != false {
					t.Errorf("%s MapPublicIpOnLaunch = %v, want false", id, p.get("Resources."+id+".Properties.MapPublicIpOnLaunch"))
				}
			}
			checkIAM(t, p)
		})
	}
}

// wildcardResourceActions are the only actions allowed on Resource "*",
// each because AWS offers no narrower resource for it.
var wildcardResourceActions = map[string]string{
	"ecr:GetAuthorizationToken":     "returns a registry-wide token; ECR supports no resource-level permission for it",
	"ec2:DescribeNetworkInterfaces": "only works when allowed on all resources (Lambda developer guide, VPC access); Lambda in a VPC needs it",
	"ec2:DescribeSubnets":           "EC2 Describe* actions support no resource-level permissions (Lambda in a VPC needs it)",
}

// checkIAM asserts: no Allow statement has a wildcard action; "*" resources
// only for wildcardResourceActions; every role's trust is one AWS service,
// and the task roles' carry the source-account guard.
func checkIAM(t *testing.T, p parsed) {
	t.Helper()
	for _, id := range p.ofType("AWS::IAM::Role") {
		trust := p.get("Resources." + id + ".Properties.AssumeRolePolicyDocument.Statement").([]any)
		principal := js(p.get("Resources." + id + ".Properties.AssumeRolePolicyDocument.Statement.0.Principal"))
		if len(trust) != 1 || !strings.HasPrefix(principal, `{"Service":["`) || strings.Contains(principal, `","`) {
			t.Errorf("%s trust = %s, want one statement for one AWS service", id, js(trust))
		}
		condition := js(p.get("Resources." + id + ".Properties.AssumeRolePolicyDocument.Statement.0.Condition"))
		if strings.Contains(principal, "ecs-tasks.amazonaws.com") && condition != `{"StringEquals":{"aws:SourceAccount":{"Ref":"AWS::AccountId"}}}` {
			t.Errorf("%s trust condition = %s, want the aws:SourceAccount guard on a task role", id, condition)
		}
		policies, _ := p.get("Resources." + id + ".Properties.Policies").([]any)
		for _, pol := range policies {
			for _, st := range pol.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				stmt := st.(map[string]any)
				var actions []string
				for _, a := range stmt["Action"].([]any) {
					actions = append(actions, a.(string))
					if strings.Contains(a.(string), "*") {
						t.Errorf("%s: action %s has a wildcard, want named actions", id, a)
					}
				}
				for _, r := range stmt["Resource"].([]any) {
					if r != "*" {
						continue
					}
					for _, a := range actions {
						if _, ok := wildcardResourceActions[a]; !ok {
							t.Errorf("%s: %s on Resource \"*\", want a scoped resource (or a reason in wildcardResourceActions)", id, a)
						}
					}
				}
			}
		}
	}
}

// TestDriftSafety proves the rule of DESIGN §3: after ECS flipped the
// weights, re-rendering the stack with the live forward configuration sends
// ECS's weights back, and changes nothing else.
func TestDriftSafety(t *testing.T) {
	s := specs(t)["production"]
	_, first := render(t, s, Inputs{})

	// ECS deployed once: green took all traffic, the test rule too.
	flipped := Weights{Blue: 0, Green: 100}
	live := Live{Production: &flipped, Test: &flipped}
	_, second := render(t, s, Inputs{Live: live})

	a, b := parse(t, first), parse(t, second)
	const weights = "Properties.Actions.0.ForwardConfig.TargetGroups"
	for _, rule := range []string{LogicalProductionRule, LogicalTestRule} {
		got := js(b.get("Resources." + rule + "." + weights))
		want := `[{"TargetGroupArn":{"Ref":"BlueTargetGroup"},"Weight":0},{"TargetGroupArn":{"Ref":"GreenTargetGroup"},"Weight":100}]`
		if got != canon(want) {
			t.Errorf("second render %s weights = %s, want ECS's %s", rule, got, want)
		}
		// Everything else is the same as the first render.
		for _, doc := range []parsed{a, b} {
			doc.get("Resources." + rule + ".Properties.Actions.0.ForwardConfig").(map[string]any)["TargetGroups"] = nil
		}
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("second render changed more than the rules' weights: %s", firstDiff("", map[string]any(b), map[string]any(a)))
	}

	// A third render without live state would reset the weights: the bug
	// the live input exists to prevent.
	_, third := render(t, s, Inputs{})
	if bytes.Equal(third, second) {
		t.Errorf("render without live weights = render with them; the live input has no effect")
	}
}

func TestWeightsOf(t *testing.T) {
	const blue, green = "arn:tg/blue", "arn:tg/green"
	tests := []struct {
		name    string
		forward map[string]int
		want    Weights
		wantErr string
	}{
		{"initial", map[string]int{blue: 100, green: 0}, Weights{100, 0}, ""},
		{"flipped", map[string]int{blue: 0, green: 100}, Weights{0, 100}, ""},
		{"green only listed", map[string]int{green: 1}, Weights{0, 1}, ""},
		{"foreign target group", map[string]int{blue: 100, "arn:tg/other": 0}, Weights{}, "neither blue"},
		{"no weight", map[string]int{blue: 0, green: 0}, Weights{}, "neither target group"},
	}
	for _, tt := range tests {
		got, err := WeightsOf(tt.forward, blue, green)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: WeightsOf = %v, want an error containing %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: WeightsOf = %v, %v, want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestOutputsGet(t *testing.T) {
	o := Outputs{OutputCluster: "c"}
	if v, err := o.Get(OutputCluster); v != "c" || err != nil {
		t.Errorf("Get(cluster) = %q, %v, want c", v, err)
	}
	if _, err := o.Get(OutputProductionRule); err == nil || !strings.Contains(err.Error(), "ship up") {
		t.Errorf("Get(missing) = %v, want an error saying to run ship up", err)
	}
}

// TestOnlyLocalIntrinsics keeps the templates to the intrinsic functions the
// local cloud evaluates, so the local environment deploys the same template
// AWS would get.
func TestOnlyLocalIntrinsics(t *testing.T) {
	allowed := map[string]bool{"Ref": true, "Fn::GetAtt": true, "Fn::Sub": true, "Fn::Join": true, "Fn::Select": true, "Fn::GetAZs": true, "Fn::If": true}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch c := v.(type) {
		case map[string]any:
			for k, e := range c {
				if (strings.HasPrefix(k, "Fn::") || k == "Ref") && !allowed[k] {
					t.Errorf("%s uses %s, which the local cloud does not evaluate", path, k)
				}
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range c {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	for env, s := range specs(t) {
		boot, envDoc := render(t, s, Inputs{})
		walk(env+"-bootstrap", map[string]any(parse(t, boot)))
		walk(env+"-environment", map[string]any(parse(t, envDoc)))
	}
}
