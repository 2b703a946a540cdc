package stack

import (
	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/cfn"
)

// sourceAccountGuarded are the service principals whose trust policies
// carry the confused-deputy guard: ECS documents aws:SourceAccount for the
// task roles. The others (ecs.amazonaws.com for the infrastructure and hook
// roles, lambda.amazonaws.com) get the plain trust their docs show, since a
// condition the service does not send would stop it assuming the role;
// roles cannot be passed across accounts, so the guard adds little there.
var sourceAccountGuarded = map[string]bool{"ecs-tasks.amazonaws.com": true}

func trust(service string) cfn.PolicyDocument {
	st := cfn.Statement{
		Effect:    "Allow",
		Principal: &cfn.Principal{Service: []string{service}},
		Action:    []string{"sts:AssumeRole"},
	}
	if sourceAccountGuarded[service] {
		st.Condition = map[string]map[string]any{"StringEquals": {"aws:SourceAccount": cfn.Ref("AWS::AccountId")}}
	}
	return cfn.PolicyDocument{Version: cfn.PolicyVersion, Statement: []cfn.Statement{st}}
}

func allow(sid string, actions []string, resources ...cfn.Value) cfn.Statement {
	return cfn.Statement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources}
}

func policy(name string, statements ...cfn.Statement) []cfn.Policy {
	return []cfn.Policy{{PolicyName: name, PolicyDocument: cfn.PolicyDocument{Version: cfn.PolicyVersion, Statement: statements}}}
}

// anyResource is "*", used only for actions AWS scopes to nothing else; the
// stack tests list each such action with the reason.
var anyResource = cfn.String("*")

func (e env) serviceArn() cfn.Value {
	return arn("ecs", "service/"+ClusterName(e.spec)+"/"+ServiceName(e.spec))
}

func (e env) functionName() string { return e.name("deploywatch") }

// permissionsBoundary is the ARN of the spec's permissions boundary, a name
// resolved in the stack's own account and partition; nil without one.
func permissionsBoundary(spec platform.Spec) cfn.Value {
	b := spec.IAM.PermissionsBoundary
	switch {
	case b == "":
		return nil
	case spec.IAM.BoundaryIsName():
		return iamArn("policy/" + b)
	}
	return cfn.String(b)
}

// bound gives every role of t the spec's permissions boundary, so that no
// role a stack creates goes without it, whoever adds the next one.
func bound(t *cfn.Template, spec platform.Spec) {
	b := permissionsBoundary(spec)
	if b == nil {
		return
	}
	for id, r := range t.Resources {
		if role, ok := r.Properties.(cfn.Role); ok {
			role.PermissionsBoundary = b
			r.Properties = role
			t.Resources[id] = r
		}
	}
}

func (e env) roles() {
	cluster, service := ClusterName(e.spec), ServiceName(e.spec)
	e.t.Add(logicalExecutionRole, cfn.Of(cfn.Role{
		Description:              "ECS task execution: pull the app image, write its logs",
		AssumeRolePolicyDocument: trust("ecs-tasks.amazonaws.com"),
		Policies: policy("pull-and-log",
			allow("EcrAuth", []string{"ecr:GetAuthorizationToken"}, anyResource),
			allow("EcrPull", []string{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"},
				arn("ecr", "repository/"+RepositoryName(e.spec))),
			allow("Logs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, cfn.GetAtt(logicalAppLogs, "Arn")),
		),
	}))
	e.t.Add(logicalTaskRole, cfn.Of(cfn.Role{
		Description:              "the app's own role: it calls no AWS API, so it has no permissions",
		AssumeRolePolicyDocument: trust("ecs-tasks.amazonaws.com"),
	}))
	e.t.Add(logicalInfraRole, cfn.Of(cfn.Role{
		Description:              "ECS infrastructure role for load balancers: blue/green target registration and listener rule weights",
		AssumeRolePolicyDocument: trust("ecs.amazonaws.com"),
		ManagedPolicyArns:        []cfn.Value{cfn.Sub("arn:${AWS::Partition}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers")},
	}))
	// The hook role names the function by ARN rather than GetAtt: the
	// function's role may pass this role, and GetAtt would make a cycle.
	e.t.Add(logicalHookRole, cfn.Of(cfn.Role{
		Description:              "lets ECS invoke the deploywatch lifecycle hook",
		AssumeRolePolicyDocument: trust("ecs.amazonaws.com"),
		Policies: policy("invoke-hook",
			allow("InvokeHook", []string{"lambda:InvokeFunction"}, arn("lambda", "function:"+e.functionName())),
		),
	}))
	e.t.Add(logicalDeploywatchRole, cfn.Of(cfn.Role{
		Description:              "deploywatch: record deployments in the ledger, roll back on alarms",
		AssumeRolePolicyDocument: trust("lambda.amazonaws.com"),
		Policies: policy("deploywatch",
			allow("Logs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, cfn.GetAtt(logicalDeploywatchLogs, "Arn")),
			allow("Ledger", []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"},
				cfn.GetAtt(logicalLedger, "Arn")),
			allow("Service", []string{"ecs:DescribeServices", "ecs:ListServiceDeployments", "ecs:UpdateService"}, e.serviceArn()),
			allow("ServiceDeployments", []string{"ecs:DescribeServiceDeployments", "ecs:StopServiceDeployment"},
				arn("ecs", "service-deployment/"+cluster+"/"+service+"/*")),
			allow("ServiceRevisions", []string{"ecs:DescribeServiceRevisions"},
				arn("ecs", "service-revision/"+cluster+"/"+service+"/*")),
			allow("Alarms", []string{"cloudwatch:DescribeAlarms"}, alarmArns()...),
			// Redeploying a revision updates a service whose load balancer
			// configuration names these roles.
			cfn.Statement{Sid: "PassServiceRoles", Effect: "Allow", Action: []string{"iam:PassRole"},
				Resource:  []cfn.Value{cfn.GetAtt(logicalInfraRole, "Arn"), cfn.GetAtt(logicalHookRole, "Arn")},
				Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}}}, //nolint:gosec // G101: an IAM condition key, not a credential
			// The function runs in the VPC to reach the test listener. The
			// Lambda guide asks for every EC2 resource of the account and
			// region here (an interface, its subnet and security groups), or
			// the function may lose its network interfaces.
			allow("VpcNetworkInterfaces", []string{"ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"},
				arn("ec2", "*/*")),
			allow("VpcDescribe", []string{"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}, anyResource),
		),
	}))
	e.t.Output(OutputTaskExecutionRole, "the task execution role", cfn.GetAtt(logicalExecutionRole, "Arn"))
	e.t.Output(OutputTaskRole, "the task role", cfn.GetAtt(logicalTaskRole, "Arn"))
	e.t.Output(OutputInfrastructureRole, "the ECS infrastructure role for load balancers (advancedConfiguration.roleArn)", cfn.GetAtt(logicalInfraRole, "Arn"))
	e.t.Output(OutputHookRole, "the role ECS assumes to invoke the lifecycle hook", cfn.GetAtt(logicalHookRole, "Arn"))
}
