package cloudformation_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cfnapi "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwlogs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamodbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	ecrapi "github.com/aws/aws-sdk-go-v2/service/ecr"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// The platform's rendered templates for the local environment (golden files
// of platform/stack, refreshed by its tests).
const (
	bootstrapGolden   = "../../../../platform/stack/testdata/local-bootstrap.json"
	environmentGolden = "../../../../platform/stack/testdata/local-environment.json"
)

// unserved lists the resource types of the platform templates whose service
// a localcloud does not answer, by asking each service for its cheapest
// list.
func unserved(t *testing.T, addr string) []string {
	t.Helper()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), BaseEndpoint: aws.String("http://" + addr),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} }, HTTPClient: &http.Client{Transport: muxAnswers{}}}
	probes := []struct {
		types []string
		call  func() error
	}{
		{[]string{"AWS::S3::Bucket", "AWS::S3::BucketPolicy"}, func() error {
			_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{})
			return err
		}},
		{[]string{"AWS::DynamoDB::Table"}, func() error {
			_, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		}},
		{[]string{"AWS::SQS::Queue", "AWS::SQS::QueuePolicy"}, func() error {
			_, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{})
			return err
		}},
		{[]string{"AWS::SNS::Topic"}, func() error {
			_, err := sns.NewFromConfig(cfg).ListTopics(ctx, &sns.ListTopicsInput{})
			return err
		}},
		{[]string{"AWS::Events::Rule"}, func() error {
			_, err := eventbridge.NewFromConfig(cfg).ListRules(ctx, &eventbridge.ListRulesInput{})
			return err
		}},
		{[]string{"AWS::Lambda::Function", "AWS::Lambda::Permission"}, func() error {
			_, err := lambda.NewFromConfig(cfg).ListFunctions(ctx, &lambda.ListFunctionsInput{})
			return err
		}},
	}
	var out []string
	for _, p := range probes {
		if err := p.call(); errors.Is(err, errNotServed) {
			out = append(out, p.types...)
		}
	}
	return out
}

var errNotServed = errors.New("the mux has no such service or operation")

// muxAnswers turns the mux's own "no such service or operation" answer, in
// whichever protocol the request fell through to, into errNotServed.
type muxAnswers struct{}

func (muxAnswers) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	s := string(b)
	if strings.Contains(s, "<Code>MissingAction</Code>") || strings.Contains(s, "<Code>InvalidAction</Code>") || strings.Contains(s, "UnknownOperationException") {
		return nil, errNotServed
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

func readGolden(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the platform's rendered template: %v", err)
	}
	return string(b)
}

// TestPlatformTemplates creates the platform's real local bootstrap and
// environment stacks, checks their outputs against what the backends hold,
// updates the environment through a change set and deletes both.
func TestPlatformTemplates(t *testing.T) {
	t.Parallel()
	start := time.Now()
	e := newEnv(t, envOptions{schemas: registrySchemas(t)})

	boot := e.createStack("shipyard-local-bootstrap", readGolden(t, bootstrapGolden), nil)
	bo := outputs(boot)
	if got, want := bo["RepositoryUri"], e.addr+"/shipyard-local"; got != want {
		t.Errorf("RepositoryUri = %q, want %q", got, want)
	}
	if got, want := bo["RepositoryArn"], "arn:aws:ecr:us-east-1:000000000000:repository/shipyard-local"; got != want {
		t.Errorf("RepositoryArn = %q, want %q", got, want)
	}
	if got := bo["RepositoryName"]; got != "shipyard-local" {
		t.Errorf("RepositoryName = %q, want shipyard-local", got)
	}
	if _, err := e.ecr.DescribeRepositories(ctx, &ecrapi.DescribeRepositoriesInput{RepositoryNames: []string{"shipyard-local"}}); err != nil {
		t.Errorf("DescribeRepositories(shipyard-local) = %v, want the stack's repository", err)
	}
	bucket := bo["ArtifactBucketName"]
	if !regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`).MatchString(bucket) {
		t.Errorf("ArtifactBucketName = %q, want a bucket name the environment's ArtifactBucket pattern accepts", bucket)
	}

	params := map[string]string{"ArtifactBucket": bucket, "DeploywatchCodeKey": "deploywatch/" + strings.Repeat("ab", 32) + ".zip"}
	// ship uploads the deploywatch package before it creates the
	// environment; so does this test.
	e.putObject(bucket, params["DeploywatchCodeKey"], functionZip(t))
	envStack := e.createStack("shipyard-local", readGolden(t, environmentGolden), params)
	out := outputs(envStack)
	var doc struct{ Outputs map[string]any }
	if err := json.Unmarshal([]byte(readGolden(t, environmentGolden)), &doc); err != nil {
		t.Fatal(err)
	}
	for key := range doc.Outputs {
		if out[key] == "" {
			t.Errorf("output %s is missing or empty", key)
		}
	}
	want := map[string]string{
		"ClusterName":          "shipyard-local",
		"ClusterArn":           "arn:aws:ecs:us-east-1:000000000000:cluster/shipyard-local",
		"AppLogGroupName":      "/ecs/shipyard-local",
		"DeploymentAlarmNames": "shipyard-local-target-5xx,shipyard-local-elb-5xx,shipyard-local-latency",
		"ServiceUrl":           "http://" + out["LoadBalancerDnsName"] + ":80",
	}
	// The local environment may leave the test listener out (ship.yaml).
	if _, ok := doc.Outputs["TestUrl"]; ok {
		want["TestUrl"] = "http://" + out["LoadBalancerDnsName"] + ":8080"
	}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("output %s = %q, want %q", k, out[k], v)
		}
	}
	patterns := map[string]string{
		"VpcId":                 `^vpc-[0-9a-f]{17}$`,
		"PrivateSubnetIds":      `^subnet-[0-9a-f]{17},subnet-[0-9a-f]{17}$`,
		"TaskSecurityGroupId":   `^sg-[0-9a-f]{17}$`,
		"TaskRoleArn":           `^arn:aws:iam::000000000000:role/shipyard-local-TaskRole-[A-Z0-9]{12}$`,
		"LoadBalancerDnsName":   `^shipyard-local-\d+\.us-east-1\.elb\.amazonaws\.com$`,
		"BlueTargetGroupArn":    `^arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/shipyard-local-blue/[0-9a-f]+$`,
		"ProductionListenerArn": `^arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/shipyard-local/`,
	}
	for k, p := range patterns {
		if !regexp.MustCompile(p).MatchString(out[k]) {
			t.Errorf("output %s = %q, want it to match %s", k, out[k], p)
		}
	}
	// The load balancer, its listeners, the weighted rule and the target
	// groups are real in ELBv2.
	rules, err := e.elb.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{out["ProductionListenerRuleArn"]}})
	if err != nil || len(rules.Rules) != 1 {
		t.Fatalf("DescribeRules(production) = %v, %v", rules, err)
	}
	fw := rules.Rules[0].Actions[0].ForwardConfig
	if fw == nil || len(fw.TargetGroups) != 2 || aws.ToString(fw.TargetGroups[0].TargetGroupArn) != out["BlueTargetGroupArn"] || aws.ToInt32(fw.TargetGroups[0].Weight) != 100 || aws.ToInt32(fw.TargetGroups[1].Weight) != 0 {
		t.Errorf("production rule forwards to %+v, want blue 100, green 0", fw)
	}
	tgs, err := e.elb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{out["BlueTargetGroupArn"]}})
	if err != nil || aws.ToString(tgs.TargetGroups[0].HealthCheckPath) != "/health" {
		t.Fatalf("DescribeTargetGroups(blue) = %v, %v, want health check /health", tgs, err)
	}
	lbs, err := e.elb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"shipyard-local"}})
	if err != nil {
		t.Fatal(err)
	}
	lbFull := aws.ToString(lbs.LoadBalancers[0].LoadBalancerArn)
	lbFull = lbFull[strings.Index(lbFull, ":loadbalancer/")+len(":loadbalancer/"):]
	alarms, err := e.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"shipyard-local-target-5xx", "shipyard-local-elb-5xx"}})
	if err != nil || len(alarms.MetricAlarms) != 2 {
		t.Fatalf("DescribeAlarms = %v, %v, want both deployment alarms", alarms, err)
	}
	for _, a := range alarms.MetricAlarms {
		if len(a.Dimensions) != 1 || aws.ToString(a.Dimensions[0].Value) != lbFull {
			t.Errorf("alarm %s dimensions = %+v, want LoadBalancer=%s", aws.ToString(a.AlarmName), a.Dimensions, lbFull)
		}
	}

	// The ledger, the dead-letter queue, the rules and the function are real
	// in their services, with references resolved.
	cfg := e.sdkConfig()
	if _, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(out["LedgerTableName"])}); err != nil {
		t.Errorf("DescribeTable(%s) = %v", out["LedgerTableName"], err)
	}
	fn, err := lambda.NewFromConfig(cfg).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("shipyard-local-deploywatch")})
	if err != nil {
		t.Fatalf("GetFunction(deploywatch) = %v", err)
	}
	if got := aws.ToString(fn.Configuration.FunctionArn); got != out["DeploywatchFunctionArn"] {
		t.Errorf("function ARN = %s, want the output %s", got, out["DeploywatchFunctionArn"])
	}
	vars := fn.Configuration.Environment.Variables
	if vars["LEDGER_TABLE"] != out["LedgerTableName"] || vars["CLUSTER_NAME"] != "shipyard-local" || vars["TEST_LISTENER_URL"] != out["TestUrl"] {
		t.Errorf("function environment = %v, want LEDGER_TABLE, CLUSTER_NAME and TEST_LISTENER_URL resolved", vars)
	}
	targets, err := eventbridge.NewFromConfig(cfg).ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("shipyard-local-deployments")})
	if err != nil || len(targets.Targets) != 1 || aws.ToString(targets.Targets[0].Arn) != out["DeploywatchFunctionArn"] || targets.Targets[0].DeadLetterConfig == nil {
		t.Errorf("ListTargetsByRule(deployments) = %v, %v, want deploywatch with a dead-letter queue", targets, err)
	}
	q, err := sqs.NewFromConfig(cfg).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("shipyard-local-deploywatch-dlq")})
	if err != nil {
		t.Errorf("GetQueueUrl(dlq) = %v", err)
	} else {
		qa, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil || !strings.Contains(qa.Attributes["Policy"], "events.amazonaws.com") {
			t.Errorf("dlq attributes = %v, %v, want the queue policy for EventBridge", qa, err)
		}
	}

	// Update through a change set: an alarm threshold, a health-check
	// interval, a log retention, the ledger's point-in-time recovery and the
	// queue's retention, all in place.
	var tdoc map[string]any
	if err := json.Unmarshal([]byte(readGolden(t, environmentGolden)), &tdoc); err != nil {
		t.Fatal(err)
	}
	res := tdoc["Resources"].(map[string]any)
	props := func(id string) map[string]any { return res[id].(map[string]any)["Properties"].(map[string]any) }
	props("Target5xxAlarm")["Threshold"] = 4
	props("BlueTargetGroup")["HealthCheckIntervalSeconds"] = 10
	props("AppLogGroup")["RetentionInDays"] = 7
	props("DeploymentLedger")["PointInTimeRecoverySpecification"] = map[string]any{"PointInTimeRecoveryEnabled": false}
	props("DeploywatchDeadLetterQueue")["MessageRetentionPeriod"] = 345600
	cs, err := e.cfn.CreateChangeSet(ctx, &cfnapi.CreateChangeSetInput{
		StackName: aws.String("shipyard-local"), ChangeSetName: aws.String("tune"), TemplateBody: aws.String(tmpl(t, tdoc)),
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam}, UsePreviousTemplate: aws.Bool(false),
		Parameters: []cfntypes.Parameter{{ParameterKey: aws.String("ArtifactBucket"), UsePreviousValue: aws.Bool(true)}, {ParameterKey: aws.String("DeploywatchCodeKey"), UsePreviousValue: aws.Bool(true)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	desc, err := cfnapi.NewChangeSetCreateCompleteWaiter(e.cfn, func(o *cfnapi.ChangeSetCreateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	}).
		WaitForOutput(ctx, &cfnapi.DescribeChangeSetInput{ChangeSetName: cs.Id}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(describeChanges(desc), "\n")
	wantChanges := strings.Join([]string{
		"Modify AppLogGroup False [RetentionInDays:Never:Static:DirectModification:]",
		"Modify BlueTargetGroup False [HealthCheckIntervalSeconds:Never:Static:DirectModification:]",
		"Modify DeploymentLedger False [PointInTimeRecoverySpecification:Never:Static:DirectModification:]",
		"Modify DeploywatchDeadLetterQueue False [MessageRetentionPeriod:Never:Static:DirectModification:]",
		"Modify Target5xxAlarm False [Threshold:Never:Static:DirectModification:]",
	}, "\n")
	if got != wantChanges {
		t.Errorf("change set =\n%s\nwant\n%s", got, wantChanges)
	}
	if _, err := e.cfn.ExecuteChangeSet(ctx, &cfnapi.ExecuteChangeSetInput{ChangeSetName: cs.Id}); err != nil {
		t.Fatal(err)
	}
	_, update, del := e.waiterOpts()
	if err := cfnapi.NewStackUpdateCompleteWaiter(e.cfn, update).Wait(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String("shipyard-local")}, 30*time.Second); err != nil {
		t.Fatalf("wait for the update: %v\n%s", err, e.failures("shipyard-local"))
	}
	alarms, _ = e.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"shipyard-local-target-5xx"}})
	if len(alarms.MetricAlarms) != 1 || aws.ToFloat64(alarms.MetricAlarms[0].Threshold) != 4 {
		t.Errorf("target-5xx threshold after update = %v, want 4", alarms.MetricAlarms)
	}
	tgs, _ = e.elb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{out["BlueTargetGroupArn"]}})
	if tgs == nil || aws.ToInt32(tgs.TargetGroups[0].HealthCheckIntervalSeconds) != 10 {
		t.Errorf("blue health-check interval after update = %v, want 10", tgs)
	}
	lg, _ := e.logs.DescribeLogGroups(ctx, &cwlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/ecs/shipyard-local")})
	if lg == nil || len(lg.LogGroups) != 1 || aws.ToInt32(lg.LogGroups[0].RetentionInDays) != 7 {
		t.Errorf("app log group after update = %v, want retention 7", lg)
	}
	pitr, err := dynamodb.NewFromConfig(cfg).DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(out["LedgerTableName"])})
	if err != nil || pitr.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != dynamodbtypes.PointInTimeRecoveryStatusDisabled {
		t.Errorf("ledger point-in-time recovery after update = %+v, %v, want DISABLED", pitr, err)
	}
	if q, err := sqs.NewFromConfig(cfg).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("shipyard-local-deploywatch-dlq")}); err == nil {
		qa, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameMessageRetentionPeriod}})
		if err != nil || qa.Attributes["MessageRetentionPeriod"] != "345600" {
			t.Errorf("dlq retention after update = %v, %v, want 345600", qa, err)
		}
	}
	if after := outputs(e.waitStatus("shipyard-local")); after["BlueTargetGroupArn"] != out["BlueTargetGroupArn"] {
		t.Errorf("blue target group replaced by an in-place change: %s → %s", out["BlueTargetGroupArn"], after["BlueTargetGroupArn"])
	}

	// Delete the environment, then the bootstrap (once its bucket is
	// empty, as S3 requires); nothing is left.
	for _, name := range []string{"shipyard-local", "shipyard-local-bootstrap"} {
		if name == "shipyard-local-bootstrap" {
			e.emptyBucket(bucket)
		}
		if _, err := e.cfn.DeleteStack(ctx, &cfnapi.DeleteStackInput{StackName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		if err := cfnapi.NewStackDeleteCompleteWaiter(e.cfn, del).Wait(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String(name)}, 30*time.Second); err != nil {
			t.Fatalf("wait for %s to delete: %v\n%s", name, err, e.failures(name))
		}
	}
	if lbs, err := e.elb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}); err != nil || len(lbs.LoadBalancers) != 0 {
		t.Errorf("load balancers after delete = %v, %v, want none", lbs, err)
	}
	if tgs, err := e.elb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{}); err != nil || len(tgs.TargetGroups) != 0 {
		t.Errorf("target groups after delete = %v, %v, want none", tgs, err)
	}
	if a, err := e.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}); err != nil || len(a.MetricAlarms) != 0 {
		t.Errorf("alarms after delete = %d, %v, want none", len(a.MetricAlarms), err)
	}
	if g, err := e.logs.DescribeLogGroups(ctx, &cwlogs.DescribeLogGroupsInput{}); err != nil || len(g.LogGroups) != 0 {
		t.Errorf("log groups after delete = %v, %v, want none", g, err)
	}
	if _, err := lambda.NewFromConfig(cfg).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("shipyard-local-deploywatch")}); err == nil {
		t.Errorf("function shipyard-local-deploywatch still exists after the environment's delete")
	}
	if _, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(out["LedgerTableName"])}); err == nil {
		t.Errorf("table %s still exists after the environment's delete", out["LedgerTableName"])
	}
	if rules, err := eventbridge.NewFromConfig(cfg).ListRules(ctx, &eventbridge.ListRulesInput{}); err != nil || len(rules.Rules) != 0 {
		t.Errorf("rules after delete = %v, %v, want none", rules, err)
	}
	if _, err := e.s3().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		t.Errorf("bucket %s still exists after the bootstrap's delete", bucket)
	}
	if _, err := e.ecr.DescribeRepositories(ctx, &ecrapi.DescribeRepositoriesInput{RepositoryNames: []string{"shipyard-local"}}); err == nil {
		t.Errorf("repository shipyard-local still exists after the bootstrap stack's delete")
	}
	if _, err := e.cfn.DescribeStacks(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String("shipyard-local")}); !strings.Contains(apiCode(err), "does not exist") {
		t.Errorf("DescribeStacks(deleted) = %v, want does not exist", err)
	}
	t.Logf("platform stacks created, updated and deleted in %v", time.Since(start).Round(time.Millisecond))
}

// functionZip is a deployment package with an executable bootstrap.
func functionZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "#!/bin/sh\nexit 0\n"); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e *env) s3() *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + e.addr), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")})
}

func (e *env) putObject(bucket, key string, body []byte) {
	e.t.Helper()
	if _, err := e.s3().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		e.t.Fatalf("PutObject(%s/%s): %v", bucket, key, err)
	}
}

// emptyBucket deletes every object in the bucket. (localcloud's S3 records
// the versioning setting but keeps one version per key.)
func (e *env) emptyBucket(bucket string) {
	e.t.Helper()
	c := e.s3()
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		e.t.Fatalf("ListObjectsV2(%s): %v", bucket, err)
	}
	for _, o := range list.Contents {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key}); err != nil {
			e.t.Fatalf("DeleteObject(%s): %v", aws.ToString(o.Key), err)
		}
	}
}

// TestUnservedServiceFails: a resource whose service localcloud does not
// serve fails the stack as not supported, never as a silent success.
func TestUnservedServiceFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{minimal: true})
	missing := unserved(t, e.addr)
	if len(missing) == 0 {
		t.Skip("every service the platform templates use is served")
	}
	typ := missing[0]
	body := tmpl(t, map[string]any{"Resources": map[string]any{"X": map[string]any{"Type": typ, "Properties": map[string]any{}}}})
	if _, err := e.cfn.CreateStack(ctx, &cfnapi.CreateStackInput{StackName: aws.String("unserved"), TemplateBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
	if st := e.waitStatus("unserved"); st.StackStatus != cfntypes.StackStatusRollbackComplete {
		t.Errorf("status = %s, want ROLLBACK_COMPLETE", st.StackStatus)
	}
	if f := e.failures("unserved"); !strings.Contains(f, "not supported yet by localcloud") {
		t.Errorf("failures = %q, want not supported yet by localcloud", f)
	}
}
