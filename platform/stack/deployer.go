package stack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/cfn"
)

// Names of the deployer's policies.
const (
	// DeployerPolicyShip is what ship itself calls: the stacks' change sets,
	// the service and its task definitions, the image push, the Lambda
	// package upload, the ledger, logs, alarms and auto scaling.
	DeployerPolicyShip = "ship"
	// DeployerPolicyNetwork, DeployerPolicyIdentity and
	// DeployerPolicyServices are what CloudFormation does with the deployer's credentials while it creates,
	// updates and deletes the stacks' resources; they hold only through
	// CloudFormation (aws:CalledVia), never when called directly.
	DeployerPolicyNetwork  = "provision-network"
	DeployerPolicyIdentity = "provision-identity"
	DeployerPolicyServices = "provision-services"
)

// viaCloudFormation is the condition of the provisioning statements: the
// call is CloudFormation's, made with the deployer's credentials.
var viaCloudFormation = map[string]map[string]any{"ForAnyValue:StringEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"}}

// DeployerPolicies are the IAM policies a deployer of the environment needs
// for ship up, plan, deploy, rollback, status, history, logs, drill and
// destroy: least privilege, scoped by name to the environment's resources
// wherever AWS allows it. Each fits the 6,144 characters of a managed
// policy. Resources are written with ${AWS::Partition}, ${AWS::Region} and
// ${AWS::AccountId} only, so the same text serves the CI deployer role in
// the bootstrap stack and, resolved (DeployerPolicyJSON), a human deployer.
//
// The stack roles are beside them (roles.go); the trade-off of a deployer
// that can change the stacks is in docs/deployer-iam.md.
func DeployerPolicies(spec platform.Spec) []cfn.Policy {
	d := deployer{spec: spec, prefix: spec.Prefix()}
	return []cfn.Policy{
		{PolicyName: DeployerPolicyShip, PolicyDocument: d.doc(d.ship())},
		{PolicyName: DeployerPolicyNetwork, PolicyDocument: d.doc(d.network())},
		{PolicyName: DeployerPolicyIdentity, PolicyDocument: d.doc(d.identity())},
		{PolicyName: DeployerPolicyServices, PolicyDocument: d.doc(d.services())},
	}
}

type deployer struct {
	spec   platform.Spec
	prefix string
}

func (d deployer) doc(sts []cfn.Statement) cfn.PolicyDocument {
	return cfn.PolicyDocument{Version: cfn.PolicyVersion, Statement: sts}
}

// iamArn is an ARN of IAM, which has no region.
func iamArn(resource string) cfn.Value {
	return cfn.Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:" + resource)
}

// s3Arn is an ARN of S3, which has neither region nor account.
func s3Arn(resource string) cfn.Value { return cfn.Sub("arn:${AWS::Partition}:s3:::" + resource) }

func (d deployer) stacks() []cfn.Value {
	return []cfn.Value{
		arn("cloudformation", "stack/"+BootstrapName(d.spec)+"/*"),
		arn("cloudformation", "stack/"+EnvironmentName(d.spec)+"/*"),
	}
}

// environmentRoles are the roles CloudFormation names after the
// environment stack (<stack>-<logical id>-<suffix>): the ones ship passes
// to ECS and CloudFormation to Lambda.
func (d deployer) environmentRoles() cfn.Value {
	return iamArn("role/" + EnvironmentName(d.spec) + "-*")
}

// roles are the roles CloudFormation manages for the deployer: the
// environment stack's, and with a ci section the bootstrap stack's deployer
// role (without one, the bootstrap stack has no role).
func (d deployer) roles() []cfn.Value {
	if !d.spec.CI.Enabled() {
		return []cfn.Value{d.environmentRoles()}
	}
	return []cfn.Value{d.environmentRoles(), iamArn("role/" + BootstrapName(d.spec) + "-*")}
}

// bucket is the artifact bucket, named by CloudFormation after the
// bootstrap stack, lowercase.
func (d deployer) bucket() string { return BootstrapName(d.spec) + "-*" }

func (d deployer) clusterArn() cfn.Value { return arn("ecs", "cluster/"+ClusterName(d.spec)) }

func (d deployer) ship() []cfn.Statement {
	cluster, service := ClusterName(d.spec), ServiceName(d.spec)
	appLogs := "/ecs/" + d.prefix
	// Only the environment stack's roles: the deployer role (bootstrap
	// stack) is never passed.
	passRole := allow("PassRoles", []string{"iam:PassRole"}, d.environmentRoles())
	passRole.Condition = map[string]map[string]any{"StringEquals": {"iam:PassedToService": []string{"ecs-tasks.amazonaws.com", "ecs.amazonaws.com", "lambda.amazonaws.com"}}}
	tagOnCreate := allow("TagOnCreate", []string{"ecs:TagResource"}, arn("ecs", "service/"+cluster+"/"+service), arn("ecs", "task-definition/"+d.prefix+":*"))
	tagOnCreate.Condition = map[string]map[string]any{"StringEquals": {"ecs:CreateAction": []string{"CreateService", "RegisterTaskDefinition"}}}
	inCluster := allow("Tasks", []string{"ecs:ListTasks"}, anyResource)
	inCluster.Condition = map[string]map[string]any{"ArnEquals": {"ecs:cluster": d.clusterArn()}}
	// The service-linked roles by their fixed names, and by service.
	linked := allow("ServiceLinkedRoles", []string{"iam:CreateServiceLinkedRole"},
		iamArn("role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"),
		iamArn("role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"),
		iamArn("role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"))
	linked.Condition = map[string]map[string]any{"StringEquals": {"iam:AWSServiceName": []string{"ecs.amazonaws.com", "ecs.application-autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com"}}}
	return []cfn.Statement{
		allow("Stacks", []string{
			"cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet", "cloudformation:ExecuteChangeSet", "cloudformation:DeleteChangeSet",
			"cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents", "cloudformation:DescribeStackResources", "cloudformation:ListStackResources",
			"cloudformation:DeleteStack",
		}, d.stacks()...),
		allow("Service", []string{"ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService", "ecs:DescribeServices", "ecs:ListServiceDeployments"},
			arn("ecs", "service/"+cluster+"/"+service)),
		allow("Deployments", []string{"ecs:DescribeServiceDeployments", "ecs:StopServiceDeployment"},
			arn("ecs", "service-deployment/"+cluster+"/"+service+"/*")),
		allow("Revisions", []string{"ecs:DescribeServiceRevisions"}, arn("ecs", "service-revision/"+cluster+"/"+service+"/*")),
		allow("TaskState", []string{"ecs:DescribeTasks"}, arn("ecs", "task/"+cluster+"/*")),
		inCluster,
		allow("TaskDefinitions", []string{
			"ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:DeregisterTaskDefinition", "ecs:DeleteTaskDefinitions",
		}, anyResource),
		tagOnCreate,
		passRole,
		// ELB's Describe actions take no resource-level permissions.
		allow("LoadBalancerRead", []string{"elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetHealth"}, anyResource),
		allow("RegistryAuth", []string{"ecr:GetAuthorizationToken"}, anyResource),
		// The image push speaks the registry protocol, not the SDK; each
		// request is authorized as one of these.
		allow("ImagePush", []string{
			"ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
			"ecr:PutImage", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
			// ship destroy empties and deletes a retained repository.
			"ecr:ListImages", "ecr:BatchDeleteImage", "ecr:DescribeRepositories", "ecr:DeleteRepository",
		}, arn("ecr", "repository/"+RepositoryName(d.spec))),
		// The deploywatch package: uploaded by content address, checked
		// before; ship destroy empties the versioned bucket.
		allow("Artifacts", []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion"}, s3Arn(d.bucket()+"/*")),
		allow("ArtifactBucket", []string{"s3:ListBucket", "s3:ListBucketVersions", "s3:DeleteBucket"}, s3Arn(d.bucket())),
		allow("Ledger", []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:DescribeTable", "dynamodb:DeleteTable"},
			arn("dynamodb", "table/"+d.prefix+"-deployments")),
		allow("AppLogs", []string{"logs:GetLogEvents", "logs:FilterLogEvents", "logs:DescribeLogStreams"}, arn("logs", "log-group:"+appLogs+":*")),
		// ship destroy deletes the retained log groups.
		allow("LogGroups", []string{"logs:DeleteLogGroup"}, arn("logs", "log-group:"+appLogs+":*"), arn("logs", "log-group:/aws/lambda/"+d.prefix+"-*")),
		allow("LogGroupsRead", []string{"logs:DescribeLogGroups"}, anyResource),
		allow("Alarms", []string{"cloudwatch:DescribeAlarms"}, arn("cloudwatch", "alarm:"+d.prefix+"-*")),
		// Scalable targets are named by AWS, not by us.
		allow("Scaling", []string{
			"application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
			"application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy",
		}, arn("application-autoscaling", "scalable-target/*")),
		allow("ScalingRead", []string{"application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies"}, anyResource),
		linked,
	}
}

func via(st cfn.Statement) cfn.Statement {
	st.Condition = viaCloudFormation
	return st
}

// The provisioning statements follow the handler permissions AWS's
// resource schemas list for each resource type the templates use (create,
// read, update, delete), less the writes of features the templates do not
// use and the services they do not touch; TestProvisioningCoversHandlers
// holds them to that.

func (d deployer) network() []cfn.Statement {
	lb := func(kind string) cfn.Value { return arn("elasticloadbalancing", kind) }
	return []cfn.Statement{
		// EC2 names new resources by id, so the account and region are the
		// scope; the condition keeps them to CloudFormation's calls.
		via(allow("Network", []string{
			"ec2:CreateVpc", "ec2:DeleteVpc", "ec2:ModifyVpcAttribute",
			"ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute",
			"ec2:CreateInternetGateway", "ec2:DeleteInternetGateway", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
			"ec2:AllocateAddress", "ec2:ReleaseAddress", "ec2:AssociateAddress", "ec2:DisassociateAddress",
			"ec2:CreateNatGateway", "ec2:DeleteNatGateway",
			"ec2:CreateRouteTable", "ec2:DeleteRouteTable", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable", "ec2:ReplaceRouteTableAssociation",
			"ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute",
			"ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup",
			"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress",
			"ec2:UpdateSecurityGroupRuleDescriptionsIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
			"ec2:CreateTags", "ec2:DeleteTags",
		}, arn("ec2", "*"))),
		via(allow("NetworkRead", []string{
			"ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeVpcEncryptionControls", "ec2:DescribeSubnets", "ec2:DescribeNetworkAcls",
			"ec2:DescribeInternetGateways", "ec2:DescribeVpnGateways", "ec2:DescribeAddresses", "ec2:DescribeNatGateways", "ec2:DescribeRouteTables",
			"ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules", "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces",
			"ec2:DescribeAvailabilityZones", "ec2:DescribeAccountAttributes", "ec2:DescribeIpamPools",
			"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeCapacityReservation",
			"elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes",
			"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeTags",
		}, anyResource)),
		via(allow("LoadBalancer", []string{
			"elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyLoadBalancerAttributes",
			"elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets", "elasticloadbalancing:SetIpAddressType",
			"elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes",
			"elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyListenerAttributes",
			"elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule", "elasticloadbalancing:ModifyRule", "elasticloadbalancing:SetRulePriorities",
			"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
		}, lb("loadbalancer/app/"+d.prefix+"/*"), lb("listener/app/"+d.prefix+"/*"), lb("listener-rule/app/"+d.prefix+"/*"), lb("targetgroup/"+d.prefix+"-*/*"))),
	}
}

// identity is the roles, the cluster and the image repository, and with a
// ci section the deployer's own managed policies and GitHub's OIDC provider.
//
// With a permissions boundary, the writes that give a role permissions hold
// only for roles that carry it (iam:PermissionsBoundary is the boundary the
// call sets, or the role already has), and the deployer may neither remove it
// nor change the boundary policy: so a role CloudFormation creates or changes
// for the deployer never holds more than the boundary allows.
func (d deployer) identity() []cfn.Statement {
	policyArns := []any{cfn.Sub("arn:${AWS::Partition}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers")}
	ci := d.spec.CI.Enabled()
	if ci {
		policyArns = append(policyArns, iamArn("policy/"+BootstrapName(d.spec)+"-*"))
	}
	boundary := permissionsBoundary(d.spec)
	attach := allow("RolePolicies", []string{"iam:AttachRolePolicy", "iam:DetachRolePolicy"}, d.roles()...)
	attach.Condition = map[string]map[string]any{
		"ForAnyValue:StringEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"},
		"ArnLike":                  {"iam:PolicyARN": policyArns},
	}
	roleActions := []string{
		"iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
		"iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
		"iam:TagRole", "iam:UntagRole",
	}
	var bounded []cfn.Statement
	if boundary != nil {
		withBoundary := []string{"iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy"}
		roleActions = slices.DeleteFunc(roleActions, func(a string) bool { return slices.Contains(withBoundary, a) })
		attach.Condition["StringEquals"] = map[string]any{"iam:PermissionsBoundary": boundary}
		inBoundary := allow("RolesInBoundary", append(withBoundary, "iam:PutRolePermissionsBoundary"), d.roles()...)
		inBoundary.Condition = map[string]map[string]any{
			"ForAnyValue:StringEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"},
			"StringEquals":             {"iam:PermissionsBoundary": boundary},
		}
		// The denies hold for direct calls too, whatever else the
		// deployer's principal is allowed.
		bounded = []cfn.Statement{
			inBoundary,
			{Sid: "DenyBoundaryRemoval", Effect: "Deny", Action: []string{"iam:DeleteRolePermissionsBoundary"}, Resource: d.roles()},
			{Sid: "DenyBoundaryChange", Effect: "Deny", Action: []string{
				"iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion",
			}, Resource: []cfn.Value{boundary}},
		}
	}
	sts := append([]cfn.Statement{
		via(allow("Roles", roleActions, d.roles()...)),
		attach,
	}, bounded...)
	sts = append(sts,
		via(allow("Cluster", []string{
			"ecs:CreateCluster", "ecs:DeleteCluster", "ecs:DescribeClusters", "ecs:UpdateCluster", "ecs:UpdateClusterSettings",
			"ecs:TagResource", "ecs:UntagResource", "ecs:ListTagsForResource",
		}, d.clusterArn())),
		via(allow("Repository", []string{
			"ecr:CreateRepository", "ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy", "ecr:GetRepositoryPolicy",
			"ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability", "ecr:TagResource", "ecr:UntagResource", "ecr:ListTagsForResource",
		}, arn("ecr", "repository/"+RepositoryName(d.spec)))),
	)
	if ci {
		sts = append(sts, via(allow("DeployerPolicies", []string{
			"iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion",
			"iam:ListPolicyVersions", "iam:ListEntitiesForPolicy",
		}, iamArn("policy/"+BootstrapName(d.spec)+"-*"))))
	}
	if ci && d.spec.CI.OIDCProviderARN == "" {
		sts = append(sts, via(allow("GitHubOIDCProvider", []string{
			"iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:GetOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
			"iam:AddClientIDToOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider",
			"iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider", "iam:ListOpenIDConnectProviderTags",
		}, iamArn("oidc-provider/"+platform.GitHubOIDCHost))))
	}
	return sts
}

func (d deployer) services() []cfn.Statement {
	return []cfn.Statement{
		via(allow("Bucket", []string{
			"s3:CreateBucket", "s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy",
			"s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration", "s3:PutBucketVersioning", "s3:GetBucketVersioning",
			"s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock", "s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls",
			"s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration", "s3:PutBucketTagging", "s3:GetBucketTagging",
			// The bucket's read handler reads every configuration it has.
			"s3:GetAccelerateConfiguration", "s3:GetAnalyticsConfiguration", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketLogging",
			"s3:GetBucketNotification", "s3:GetBucketObjectLockConfiguration", "s3:GetIntelligentTieringConfiguration", "s3:GetInventoryConfiguration",
			"s3:GetMetricsConfiguration", "s3:GetReplicationConfiguration", "s3:GetBucketWebsite", "s3:GetBucketMetadataTableConfiguration",
		}, s3Arn(d.bucket()))),
		// Lambda reads the package with the caller's credentials.
		via(allow("FunctionCode", []string{"s3:GetObjectVersion"}, s3Arn(d.bucket()+"/*"))),
		via(allow("LogGroupsWrite", []string{
			"logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:GetDataProtectionPolicy",
			"logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource",
		}, arn("logs", "log-group:/ecs/"+d.prefix+":*"), arn("logs", "log-group:/aws/lambda/"+d.prefix+"-*"))),
		via(allow("LogsRead", []string{"logs:DescribeResourcePolicies"}, anyResource)),
		via(allow("AlarmsWrite", []string{"cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource"},
			arn("cloudwatch", "alarm:"+d.prefix+"-*"))),
		via(allow("LedgerTable", []string{
			"dynamodb:CreateTable", "dynamodb:UpdateTable", "dynamodb:UpdateContinuousBackups", "dynamodb:DescribeContinuousBackups",
			"dynamodb:DescribeContributorInsights", "dynamodb:DescribeKinesisStreamingDestination", "dynamodb:DescribeTimeToLive", "dynamodb:GetResourcePolicy",
			"dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:ListTagsOfResource",
		}, arn("dynamodb", "table/"+d.prefix+"-deployments"))),
		via(allow("DeadLetters", []string{
			"sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:GetQueueUrl",
			"sqs:TagQueue", "sqs:UntagQueue", "sqs:ListQueueTags",
		}, arn("sqs", d.prefix+"-*"))),
		via(allow("Function", []string{
			"lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
			"lambda:GetFunctionCodeSigningConfig", "lambda:GetRuntimeManagementConfig", "lambda:GetFunctionRecursionConfig", "lambda:GetFunctionScalingConfig",
			"lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy", "lambda:TagResource", "lambda:UntagResource",
		}, arn("lambda", "function:"+d.prefix+"-deploywatch"))),
		via(allow("EventRules", []string{
			"events:PutRule", "events:DeleteRule", "events:DescribeRule", "events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule",
			"events:TagResource", "events:UntagResource", "events:ListTagsForResource",
		}, arn("events", "rule/"+d.prefix+"-*"))),
	}
}

// pseudo matches the pseudo parameters a deployer policy may use.
var pseudo = regexp.MustCompile(`\$\{([^}]*)\}`)

// DeployerPolicyJSON renders the deployer policies for an account outside
// CloudFormation: the pseudo parameters resolved from the spec, as
// {"Policies": [{"PolicyName", "PolicyDocument"}]}, indented.
func DeployerPolicyJSON(spec platform.Spec) ([]byte, error) {
	vars := map[string]string{"AWS::Partition": platform.Partition(spec.Region), "AWS::Region": spec.Region, "AWS::AccountId": spec.Account}
	raw, err := json.Marshal(map[string]any{"Policies": DeployerPolicies(spec)})
	if err != nil {
		return nil, fmt.Errorf("marshal deployer policies: %w", err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("read deployer policies back: %w", err)
	}
	resolved, err := resolve(doc, vars)
	if err != nil {
		return nil, err
	}
	// Back through typed fields, so each statement reads Sid, Effect,
	// Action, Resource, Condition, as people write them.
	raw, err = json.Marshal(resolved)
	if err != nil {
		return nil, fmt.Errorf("marshal deployer policies: %w", err)
	}
	var ordered struct {
		Policies []struct {
			PolicyName     string
			PolicyDocument struct {
				Version   string
				Statement []struct {
					Sid       string
					Effect    string
					Action    []string
					Resource  []string
					Condition map[string]map[string]any `json:",omitempty"`
				}
			}
		}
	}
	if err := json.Unmarshal(raw, &ordered); err != nil {
		return nil, fmt.Errorf("read deployer policies back: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ordered); err != nil {
		return nil, fmt.Errorf("marshal deployer policies: %w", err)
	}
	return buf.Bytes(), nil
}

// resolve replaces every {"Fn::Sub": s} with s, its pseudo parameters
// substituted; any other intrinsic is an error, since a policy outside a
// stack has nothing to refer to.
func resolve(v any, vars map[string]string) (any, error) {
	switch c := v.(type) {
	case map[string]any:
		if s, ok := c["Fn::Sub"].(string); ok && len(c) == 1 {
			var missing []string
			out := pseudo.ReplaceAllStringFunc(s, func(m string) string {
				name := m[2 : len(m)-1]
				if val, ok := vars[name]; ok {
					return val
				}
				missing = append(missing, name)
				return m
			})
			if missing != nil {
				return nil, fmt.Errorf("resolve deployer policy: %s refers to %s, which a policy outside the stack cannot", s, strings.Join(missing, ", "))
			}
			return out, nil
		}
		out := make(map[string]any, len(c))
		for k, e := range c {
			if strings.HasPrefix(k, "Fn::") || k == "Ref" {
				return nil, fmt.Errorf("resolve deployer policy: %s is not allowed in a deployer policy; name resources with Fn::Sub and pseudo parameters", k)
			}
			r, err := resolve(e, vars)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(c))
		for i, e := range c {
			r, err := resolve(e, vars)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}
