package stack

import (
	"strconv"
	"strings"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/cfn"
)

// Alarm names, fixed by the spec so the service and the Lambda can name them
// before the stack exists.
func Target5xxAlarmName(spec platform.Spec) string { return spec.Prefix() + "-target-5xx" }
func ELB5xxAlarmName(spec platform.Spec) string    { return spec.Prefix() + "-elb-5xx" }
func LatencyAlarmName(spec platform.Spec) string   { return spec.Prefix() + "-latency" }

// DeploymentAlarmNames are the alarms that roll a deployment back: 5XX from
// the targets of both target groups, 5XX the load balancer returns itself
// when targets fail or are missing, and the targets' average response time.
// All are measured on the load balancer, not a target group, because ECS
// swaps which group is live.
func DeploymentAlarmNames(spec platform.Spec) []string {
	return []string{Target5xxAlarmName(spec), ELB5xxAlarmName(spec), LatencyAlarmName(spec)}
}

// deploymentAlarms are the deployment alarms' logical IDs.
var deploymentAlarms = []string{logicalTarget5xx, logicalELB5xx, logicalLatency}

func (e env) alarms() {
	a := e.spec.Alarms
	lb := []cfn.Dimension{{Name: "LoadBalancer", Value: cfn.GetAtt(logicalALB, "LoadBalancerFullName")}}
	alarm := func(name, description, metric, statistic string, threshold float64) cfn.Resource {
		return cfn.Of(cfn.Alarm{
			AlarmName: name, AlarmDescription: description,
			Namespace: "AWS/ApplicationELB", MetricName: metric, Dimensions: lb, Statistic: statistic,
			Period: a.PeriodSeconds, EvaluationPeriods: a.EvaluationPeriods, DatapointsToAlarm: a.EvaluationPeriods,
			Threshold: threshold, ComparisonOperator: "GreaterThanOrEqualToThreshold",
			// No traffic is no evidence of failure.
			TreatMissingData: "notBreaching",
		})
	}
	e.t.Add(logicalTarget5xx, alarm(Target5xxAlarmName(e.spec),
		"5XX answered by the app's tasks, in both target groups (blue and green); rolls a deployment back",
		"HTTPCode_Target_5XX_Count", "Sum", float64(a.Target5XXThreshold)))
	e.t.Add(logicalELB5xx, alarm(ELB5xxAlarmName(e.spec),
		"5XX the load balancer returns itself (502/503/504: tasks failing or missing); rolls a deployment back",
		"HTTPCode_ELB_5XX_Count", "Sum", float64(a.ELB5XXThreshold)))
	// The average, not p99: what a whole revision slowed down moves, and
	// what the local cloud computes (its CloudWatch has no percentiles).
	e.t.Add(logicalLatency, alarm(LatencyAlarmName(e.spec),
		"average response time of the app's tasks, in both target groups (blue and green); rolls a deployment back",
		"TargetResponseTime", "Average", float64(a.LatencyThresholdMs)/1000))
	e.t.Add(logicalDLQAlarm, cfn.Of(cfn.Alarm{
		AlarmName:        e.name("deploywatch-dlq"),
		AlarmDescription: "events deploywatch could not take after retries: the ledger is missing them; read the queue",
		Namespace:        "AWS/SQS", MetricName: "ApproximateNumberOfMessagesVisible",
		Dimensions: []cfn.Dimension{{Name: "QueueName", Value: cfn.String(e.name("deploywatch-dlq"))}},
		Statistic:  "Maximum", Period: 300, EvaluationPeriods: 1, DatapointsToAlarm: 1, Threshold: 1,
		ComparisonOperator: "GreaterThanOrEqualToThreshold", TreatMissingData: "notBreaching",
	}))
	e.t.Output(OutputDeploymentAlarms, "the alarms that roll a deployment back, comma-separated", cfn.String(strings.Join(DeploymentAlarmNames(e.spec), ",")))
}

func (e env) deploywatch() {
	s := e.spec
	e.t.Add(logicalLedger, cfn.Of(cfn.Table{
		TableName:   e.name("deployments"),
		BillingMode: "PAY_PER_REQUEST",
		AttributeDefinitions: []cfn.AttributeDefinition{
			{AttributeName: platform.LedgerPartitionKey, AttributeType: "S"},
			{AttributeName: platform.LedgerSortKey, AttributeType: "S"},
		},
		KeySchema: []cfn.KeySchema{
			{AttributeName: platform.LedgerPartitionKey, KeyType: "HASH"},
			{AttributeName: platform.LedgerSortKey, KeyType: "RANGE"},
		},
		PointInTimeRecoverySpecification: cfn.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: true},
		SSESpecification:                 cfn.SSESpecification{SSEEnabled: true},
		DeletionProtectionEnabled:        s.LoadBalancer.DeletionProtection,
	}))
	e.t.Add(logicalDLQ, cfn.Of(cfn.Queue{
		QueueName:              e.name("deploywatch-dlq"),
		MessageRetentionPeriod: 14 * 24 * 3600, // the most SQS keeps: time to replay into the ledger
		SqsManagedSseEnabled:   true,
	}))
	rules := []struct{ id, suffix, description string }{
		{logicalDeployRule, "deployments", "ECS deployment state changes of the service, to deploywatch"},
		{logicalServiceRule, "service-actions", "ECS service actions of the service, to deploywatch"},
		{logicalAlarmRule, "alarms", "state changes of the deployment alarms, to deploywatch"},
		{logicalHookRule, "hooks", "ECS lifecycle hook state changes of the service's deployments, to deploywatch"},
	}
	var ruleArns []cfn.Value
	for _, r := range rules {
		ruleArns = append(ruleArns, cfn.GetAtt(r.id, "Arn"))
	}
	e.t.Add(logicalDLQPolicy, cfn.Of(cfn.QueuePolicy{
		Queues: []cfn.Value{cfn.Ref(logicalDLQ)},
		PolicyDocument: cfn.PolicyDocument{Version: cfn.PolicyVersion, Statement: []cfn.Statement{{
			Sid: "EventBridgeDeadLetters", Effect: "Allow",
			Principal: &cfn.Principal{Service: []string{"events.amazonaws.com"}},
			Action:    []string{"sqs:SendMessage"},
			Resource:  []cfn.Value{cfn.GetAtt(logicalDLQ, "Arn")},
			Condition: map[string]map[string]any{"ArnEquals": {"aws:SourceArn": ruleArns}},
		}}},
	}))

	testURL := cfn.Value(cfn.String(""))
	if s.LoadBalancer.TestListener {
		testURL = e.testURL()
	}
	vars := map[string]cfn.Value{
		platform.EnvLedgerTable:        cfn.Ref(logicalLedger),
		platform.EnvCluster:            cfn.Ref(logicalCluster),
		platform.EnvService:            cfn.String(ServiceName(s)),
		platform.EnvWatchedAlarms:      cfn.String(strings.Join(DeploymentAlarmNames(s), ",")),
		platform.EnvEnforcement:        cfn.String(s.Deploywatch.Enforcement),
		platform.EnvGuardWindowMinutes: cfn.String(strconv.Itoa(s.Deploywatch.GuardWindowMinutes)),
		platform.EnvTestListenerURL:    testURL,
		platform.EnvHealthCheckPath:    cfn.String(s.HealthCheck.Path),
	}
	if len(s.Deploywatch.SmokeChecks) > 0 {
		vars[platform.EnvSmokeChecks] = cfn.String(strings.Join(s.Deploywatch.SmokeChecks, ","))
	}
	if t := s.Deploywatch.Tracing; t != "" && t != platform.TracingNone {
		vars[platform.EnvTracesExporter] = cfn.String(t)
	}
	e.t.Add(logicalFunction, cfn.Of(cfn.Function{
		FunctionName:  e.functionName(),
		Description:   "records ECS deployments and alarms in the ledger, enforces rollbacks, smoke-tests green",
		Runtime:       "provided.al2023",
		Handler:       "bootstrap",
		Architectures: []string{s.Deploywatch.Architecture},
		Code:          cfn.FunctionCode{S3Bucket: cfn.Ref(ParamArtifactBucket), S3Key: cfn.Ref(ParamDeploywatchKey)},
		Role:          cfn.GetAtt(logicalDeploywatchRole, "Arn"),
		MemorySize:    s.Deploywatch.MemoryMB,
		Timeout:       s.Deploywatch.TimeoutSeconds,
		Environment:   cfn.FunctionEnvironment{Variables: vars},
		LoggingConfig: &cfn.LoggingConfig{LogGroup: cfn.Ref(logicalDeploywatchLogs), LogFormat: "JSON"},
		VpcConfig: &cfn.VpcConfig{
			SubnetIds:        []cfn.Value{cfn.Ref("PrivateSubnetA"), cfn.Ref("PrivateSubnetB")},
			SecurityGroupIds: []cfn.Value{cfn.GetAtt(logicalDeploywatchSG, "GroupId")},
		},
	}))

	target := []cfn.EventTarget{{
		Id: "deploywatch", Arn: cfn.GetAtt(logicalFunction, "Arn"),
		RetryPolicy:      &cfn.RetryPolicy{MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600},
		DeadLetterConfig: &cfn.DeadLetterConfig{Arn: cfn.GetAtt(logicalDLQ, "Arn")},
	}}
	patterns := map[string]map[string]any{
		logicalDeployRule: {
			"source": []string{"aws.ecs"}, "detail-type": []string{"ECS Deployment State Change"},
			"resources": []cfn.Value{e.serviceArn()},
		},
		logicalServiceRule: {
			"source": []string{"aws.ecs"}, "detail-type": []string{"ECS Service Action"},
			"resources": []cfn.Value{e.serviceArn()},
		},
		logicalAlarmRule: {
			"source": []string{"aws.cloudwatch"}, "detail-type": []string{"CloudWatch Alarm State Change"},
			"resources": alarmArns(),
		},
		// A hook event's resources[0] is the service deployment, unknown in
		// advance: match the service in detail instead (refs §a4).
		logicalHookRule: {
			"source": []string{"aws.ecs"}, "detail-type": []string{"ECS Hook State Change"},
			"detail": map[string]any{
				"clusterArn": []cfn.Value{cfn.GetAtt(logicalCluster, "Arn")},
				"serviceArn": []cfn.Value{e.serviceArn()},
			},
		},
	}
	for _, r := range rules {
		e.t.Add(r.id, cfn.Of(cfn.EventRule{
			Name: e.name(r.suffix), Description: r.description, State: "ENABLED",
			EventPattern: patterns[r.id], Targets: target,
		}))
		e.t.Add(r.id+"Permission", cfn.Of(cfn.Permission{
			FunctionName: cfn.GetAtt(logicalFunction, "Arn"), Action: "lambda:InvokeFunction",
			Principal: "events.amazonaws.com", SourceArn: cfn.GetAtt(r.id, "Arn"),
		}))
	}
	e.t.Output(OutputDeploywatchFunction, "the deploywatch function (the lifecycle hook's target)", cfn.GetAtt(logicalFunction, "Arn"))
	e.t.Output(OutputLedgerTable, "the deployment ledger", cfn.Ref(logicalLedger))
}

// alarmArns are the deployment alarms' ARNs.
func alarmArns() []cfn.Value {
	out := make([]cfn.Value, len(deploymentAlarms))
	for i, id := range deploymentAlarms {
		out[i] = cfn.GetAtt(id, "Arn")
	}
	return out
}
