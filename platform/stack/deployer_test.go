package stack

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/cfn/cfntest"
)

// deployerCodeDirs is the code that runs with the deployer's credentials:
// ship and the platform packages it calls AWS through. The deploywatch
// Lambda runs with its own role (roles.go) and is not here.
var deployerCodeDirs = []string{"..", filepath.Join("..", "..", "tools", "ship")}

// iamPrefix is the IAM service prefix of an SDK service package.
var iamPrefix = map[string]string{
	"applicationautoscaling": "application-autoscaling",
	"cloudformation":         "cloudformation",
	"cloudwatch":             "cloudwatch",
	"cloudwatchlogs":         "logs",
	"dynamodb":               "dynamodb",
	"ecr":                    "ecr",
	"ecs":                    "ecs",
	"elasticloadbalancingv2": "elasticloadbalancing",
	"iam":                    "iam",
	"lambda":                 "lambda",
	"s3":                     "s3",
	"sqs":                    "sqs",
	"sts":                    "sts",
}

// operationActions are the operations whose IAM action is not
// <prefix>:<operation>; an empty list needs no permission.
var operationActions = map[string][]string{
	"s3.HeadObject":             {"s3:GetObject"},
	"s3.HeadBucket":             {"s3:ListBucket"},
	"s3.ListObjectsV2":          {"s3:ListBucket"},
	"s3.ListObjectVersions":     {"s3:ListBucketVersions"},
	"s3.DeleteObjects":          {"s3:DeleteObject", "s3:DeleteObjectVersion"},
	"sts.GetCallerIdentity":     {},
	"ecr.GetAuthorizationToken": {"ecr:GetAuthorizationToken"},
}

// notFromSDK are the deployer's direct permissions that no SDK call in the
// code asks for, each with the reason it is there anyway.
var notFromSDK = map[string]string{
	"ecr:BatchCheckLayerAvailability":                  "image push: the registry protocol (go-containerregistry), authorized as ECR actions",
	"ecr:InitiateLayerUpload":                          "image push: the registry protocol",
	"ecr:UploadLayerPart":                              "image push: the registry protocol",
	"ecr:CompleteLayerUpload":                          "image push: the registry protocol",
	"ecr:PutImage":                                     "image push: the registry protocol",
	"ecr:BatchGetImage":                                "image push and --image: reading a manifest by tag or digest",
	"ecr:GetDownloadUrlForLayer":                       "image push: mounting and checking existing layers",
	"ecs:TagResource":                                  "CreateService and RegisterTaskDefinition carry tags, which ECS authorizes as TagResource",
	"iam:PassRole":                                     "CreateService, UpdateService and RegisterTaskDefinition pass the stack's roles; CloudFormation passes the Lambda's",
	"iam:CreateServiceLinkedRole":                      "the first ECS cluster, load balancer and scalable target of an account create their service-linked roles",
	"cloudformation:DeleteStack":                       "ship destroy deletes both stacks",
	"ecs:DeleteService":                                "ship destroy deletes the service before the stacks",
	"s3:DeleteObject":                                  "ship destroy empties the artifact bucket so CloudFormation can delete it",
	"s3:DeleteObjectVersion":                           "ship destroy empties the versioned artifact bucket",
	"s3:ListBucket":                                    "ship destroy lists the artifact bucket; a missing object reads as 404, not 403, with it",
	"s3:ListBucketVersions":                            "ship destroy lists the versioned artifact bucket",
	"logs:FilterLogEvents":                             "ship logs merges the tasks' log streams",
	"cloudformation:ListStackResources":                "ship destroy finds the resources a stack retains",
	"logs:DeleteLogGroup":                              "ship destroy deletes the retained log groups",
	"logs:DescribeLogGroups":                           "ship destroy finds the retained log groups",
	"dynamodb:DescribeTable":                           "ship destroy finds the retained ledger table",
	"dynamodb:DeleteTable":                             "ship destroy deletes the retained ledger table",
	"ecr:ListImages":                                   "ship destroy empties the retained repository",
	"ecr:BatchDeleteImage":                             "ship destroy empties the retained repository",
	"ecr:DescribeRepositories":                         "ship destroy finds the retained repository",
	"ecr:DeleteRepository":                             "ship destroy deletes the retained repository",
	"ecs:ListTaskDefinitions":                          "ship destroy lists the task definitions of the family",
	"ecs:DeregisterTaskDefinition":                     "ship destroy deregisters the task definitions",
	"ecs:DeleteTaskDefinitions":                        "ship destroy deletes the deregistered task definitions",
	"s3:DeleteBucket":                                  "ship destroy deletes the retained artifact bucket",
	"logs:DescribeLogStreams":                          "ship logs and the failure report find the tasks' log streams",
	"application-autoscaling:DeregisterScalableTarget": "ship destroy removes the service's auto scaling",
	"application-autoscaling:DeleteScalingPolicy":      "ship destroy removes the service's auto scaling",
	"application-autoscaling:DescribeScalableTargets":  "RegisterScalableTarget and PutScalingPolicy read the target back",
	"application-autoscaling:DescribeScalingPolicies":  "ship up compares the scaling policy before putting it",
}

// deployerWildcardActions are the deployer actions allowed on Resource "*",
// each because AWS offers no narrower resource for it.
var deployerWildcardActions = map[string]string{
	"ecr:GetAuthorizationToken":                       "returns a registry-wide token; no resource-level permission",
	"ecs:RegisterTaskDefinition":                      "task definitions take no resource-level permission at registration",
	"ecs:DescribeTaskDefinition":                      "no resource-level permission",
	"ecs:ListTasks":                                   "scoped by the ecs:cluster condition instead",
	"elasticloadbalancing:DescribeRules":              "ELB Describe* take no resource-level permissions",
	"elasticloadbalancing:DescribeTargetHealth":       "ELB Describe* take no resource-level permissions",
	"application-autoscaling:DescribeScalableTargets": "Application Auto Scaling Describe* take no resource-level permissions",
	"application-autoscaling:DescribeScalingPolicies": "Application Auto Scaling Describe* take no resource-level permissions",
	"logs:DescribeLogGroups":                          "lists log groups; no resource-level permission",
	"ecs:ListTaskDefinitions":                         "a list action; no resource-level permission",
	"ecs:DeregisterTaskDefinition":                    "no resource-level permission for task definitions",
	"ecs:DeleteTaskDefinitions":                       "no resource-level permission for task definitions",
}

// sdkOperations scans the Go code in dirs (tests and test-helper packages
// left out) for the SDK operations it calls: every call passes a
// *<service>.<Operation>Input, and interfaces of the SDK's methods name it.
// It returns service.Operation → the files that use it.
func sdkOperations(t *testing.T, dirs []string) map[string][]string {
	t.Helper()
	sdk := regexp.MustCompile(`^github\.com/aws/aws-sdk-go-v2/service/([a-z0-9]+)$`)
	ops := map[string][]string{}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if name := d.Name(); path != dir && (name == "testdata" || strings.HasSuffix(name, "test") || strings.HasPrefix(name, ".")) {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			services := map[string]string{} // import name → service
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				m := sdk.FindStringSubmatch(p)
				if m == nil {
					continue
				}
				name := m[1]
				if imp.Name != nil {
					name = imp.Name.Name
				}
				services[name] = m[1]
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				x, ok := sel.X.(*ast.Ident)
				if !ok || services[x.Name] == "" || !strings.HasSuffix(sel.Sel.Name, "Input") {
					return true
				}
				op := services[x.Name] + "." + strings.TrimSuffix(sel.Sel.Name, "Input")
				if !slices.Contains(ops[op], path) {
					ops[op] = append(ops[op], path)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatalf("scan %s: %v", dir, err)
		}
	}
	return ops
}

// actionsOf maps an operation to its IAM actions.
func actionsOf(t *testing.T, op string) []string {
	t.Helper()
	if a, ok := operationActions[op]; ok {
		return a
	}
	svc, name, _ := strings.Cut(op, ".")
	prefix, ok := iamPrefix[svc]
	if !ok {
		t.Errorf("%s: the SDK package %s has no IAM prefix in iamPrefix; add it", op, svc)
		return nil
	}
	return []string{prefix + ":" + name}
}

// directActions are the actions of the deployer's statements that hold
// for direct calls (no aws:CalledVia condition).
func directActions(spec platform.Spec) map[string]bool {
	out := map[string]bool{}
	for _, p := range DeployerPolicies(spec) {
		for _, st := range p.PolicyDocument.Statement {
			if _, via := st.Condition["ForAnyValue:StringEquals"]["aws:CalledVia"]; via || st.Effect != "Allow" {
				continue
			}
			for _, a := range st.Action {
				out[a] = true
			}
		}
	}
	return out
}

// TestDeployerPolicyCoversTheCode fails when ship or the platform calls an
// AWS operation the deployer may not, and when the deployer may call
// something nothing calls and no reason explains.
func TestDeployerPolicyCoversTheCode(t *testing.T) {
	spec := specs(t)["production"]
	ops := sdkOperations(t, deployerCodeDirs)
	if len(ops) < 20 {
		t.Fatalf("found %d SDK operations in %v, want the code's many; is the scan broken?", len(ops), deployerCodeDirs)
	}
	allowed := directActions(spec)
	called := map[string]bool{}
	for _, op := range slices.Sorted(func(yield func(string) bool) {
		for op := range ops {
			if !yield(op) {
				return
			}
		}
	}) {
		for _, a := range actionsOf(t, op) {
			called[a] = true
			if !allowed[a] {
				t.Errorf("%s calls %s, which needs %s: add it to the deployer policy (platform/stack/deployer.go), then go test ./platform/stack -run TestDeployerPolicyDoc -update", strings.Join(ops[op], ", "), op, a)
			}
		}
	}
	for a := range allowed {
		if !called[a] && notFromSDK[a] == "" {
			t.Errorf("the deployer policy allows %s, which no SDK call in %v needs: remove it, or say why in notFromSDK", a, deployerCodeDirs)
		}
	}
	for a := range notFromSDK {
		if !allowed[a] {
			t.Errorf("notFromSDK explains %s, which the deployer policy does not allow; remove the entry", a)
		}
	}
}

// TestDeployerPolicyIsLeastPrivilege: named actions only; "*" resources only
// where AWS requires them; everything CloudFormation does for the deployer
// holds only through CloudFormation.
func TestDeployerPolicyIsLeastPrivilege(t *testing.T) {
	for _, spec := range []platform.Spec{specs(t)["production"], withCI(t, "")} {
		for _, p := range DeployerPolicies(spec) {
			for _, st := range p.PolicyDocument.Statement {
				where := p.PolicyName + "/" + st.Sid
				if st.Effect != "Allow" || st.Principal != nil || len(st.Resource) == 0 {
					t.Errorf("%s: want an Allow with resources and no principal, got %s", where, js(st))
				}
				for _, a := range st.Action {
					if strings.ContainsAny(a, "*?") {
						t.Errorf("%s: action %s has a wildcard, want named actions", where, a)
					}
				}
				for _, r := range st.Resource {
					if r != anyResource {
						continue
					}
					for _, a := range st.Action {
						if deployerWildcardActions[a] == "" && !strings.Contains(a, ":Describe") {
							t.Errorf("%s: %s on Resource \"*\", want a scoped resource (or a reason in deployerWildcardActions)", where, a)
						}
					}
				}
				_, via := st.Condition["ForAnyValue:StringEquals"]["aws:CalledVia"]
				if provisioning := p.PolicyName != DeployerPolicyShip; provisioning != via {
					t.Errorf("%s: aws:CalledVia condition = %v, want it on every provisioning statement and on no direct one", where, via)
				}
			}
		}
	}
}

// TestDeployerPassesOnlyEnvironmentRoles: iam:PassRole names the
// environment stack's roles and nothing else, so a deployer can never hand
// its own role (the bootstrap stack's) to a task or a function.
func TestDeployerPassesOnlyEnvironmentRoles(t *testing.T) {
	for _, spec := range []platform.Spec{specs(t)["production"], withCI(t, "")} {
		want := js([]any{iamArn("role/" + EnvironmentName(spec) + "-*")})
		for _, p := range DeployerPolicies(spec) {
			for _, st := range p.PolicyDocument.Statement {
				if !slices.Contains(st.Action, "iam:PassRole") {
					continue
				}
				if got := js(st.Resource); got != want {
					t.Errorf("%s/%s: iam:PassRole on %s, want %s", p.PolicyName, st.Sid, got, want)
				}
			}
		}
	}
}

// TestDeployerManagesBootstrapRolesOnlyWithCI: the bootstrap stack holds a
// role only with a ci section, so only then may the deployer manage roles
// named after it.
func TestDeployerManagesBootstrapRolesOnlyWithCI(t *testing.T) {
	for _, tt := range []struct {
		name string
		spec platform.Spec
		want bool
	}{
		{"without ci", specs(t)["production"], false},
		{"with ci", withCI(t, ""), true},
	} {
		bootstrapRoles := js(iamArn("role/" + BootstrapName(tt.spec) + "-*"))
		got := false
		for _, p := range DeployerPolicies(tt.spec) {
			for _, st := range p.PolicyDocument.Statement {
				if strings.Contains(js(st.Resource), bootstrapRoles) {
					got = true
				}
			}
		}
		if got != tt.want {
			t.Errorf("%s: a statement on %s = %v, want %v", tt.name, bootstrapRoles, got, tt.want)
		}
	}
}

// TestDeployerServiceLinkedRolesByName: iam:CreateServiceLinkedRole names
// each role AWS creates, no pattern.
func TestDeployerServiceLinkedRolesByName(t *testing.T) {
	for _, p := range DeployerPolicies(specs(t)["production"]) {
		for _, st := range p.PolicyDocument.Statement {
			if !slices.Contains(st.Action, "iam:CreateServiceLinkedRole") {
				continue
			}
			if got := js(st.Resource); strings.Contains(got, "*") || len(st.Resource) != 3 {
				t.Errorf("%s/%s: iam:CreateServiceLinkedRole on %s, want the three service-linked roles by name", p.PolicyName, st.Sid, got)
			}
		}
	}
}

// TestDeployerPolicySize keeps each policy within IAM's 6,144 characters of
// a managed policy (whitespace does not count), and their number within
// what a role may have attached.
func TestDeployerPolicySize(t *testing.T) {
	for _, spec := range []platform.Spec{specs(t)["production"], withCI(t, ""), withBoundary(t, "shipyard-boundary")} {
		doc, err := DeployerPolicyJSON(spec)
		if err != nil {
			t.Fatal(err)
		}
		var raw struct {
			Policies []struct {
				PolicyName     string
				PolicyDocument json.RawMessage
			}
		}
		if err := json.Unmarshal(doc, &raw); err != nil {
			t.Fatal(err)
		}
		for _, p := range raw.Policies {
			n := nonSpace(p.PolicyDocument)
			t.Logf("%s policy %s: %d characters", spec.Env, p.PolicyName, n)
			if n > 6144 {
				t.Errorf("%s policy %s: %d characters, want at most 6144 (a managed policy's limit); split it", spec.Env, p.PolicyName, n)
			}
		}
		if len(raw.Policies) > 10 {
			t.Errorf("%s: %d deployer policies, want at most 10 (the managed policies a role takes by default)", spec.Env, len(raw.Policies))
		}
	}
}

func nonSpace(b []byte) int {
	n := 0
	for _, c := range string(b) {
		if c != ' ' && c != '\n' && c != '\t' && c != '\r' {
			n++
		}
	}
	return n
}

// deployerDoc is the generated policy for this repository's production
// environment, for people to attach (docs/deployer-iam.md).
var deployerDoc = filepath.Join("..", "..", "docs", "deployer-policy.json")

// TestDeployerPolicyDoc fails when docs/deployer-policy.json is not what the
// code renders for ship.yaml's production environment.
func TestDeployerPolicyDoc(t *testing.T) {
	got, err := DeployerPolicyJSON(specs(t)["production"])
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(deployerDoc, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(deployerDoc)
	if err != nil {
		t.Fatalf("read %s: %v (regenerate it: go test ./platform/stack -run TestDeployerPolicyDoc -update)", deployerDoc, err)
	}
	if string(got) != string(want) {
		var g, w any
		_ = json.Unmarshal(got, &g)
		_ = json.Unmarshal(want, &w)
		t.Errorf("%s is stale: regenerate it with go test ./platform/stack -run TestDeployerPolicyDoc -update and commit it; first difference:\n%s", deployerDoc, firstDiff("", g, w))
	}
}

func TestDeployerPolicyJSONResolves(t *testing.T) {
	spec := specs(t)["production"]
	spec.Region = "cn-north-1"
	doc, err := DeployerPolicyJSON(spec)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	if strings.Contains(s, "${") || strings.Contains(s, "Fn::") {
		t.Errorf("DeployerPolicyJSON left an intrinsic or pseudo parameter: %s", s)
	}
	for _, want := range []string{
		`"arn:aws-cn:cloudformation:cn-north-1:` + spec.Account + `:stack/shipyard-production-environment/*"`,
		`"arn:aws-cn:iam::` + spec.Account + `:role/shipyard-production-environment-*"`,
		`"arn:aws-cn:s3:::shipyard-production-bootstrap-*/*"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("DeployerPolicyJSON(cn-north-1) lacks %s", want)
		}
	}
	if _, err := resolve(map[string]any{"Fn::Sub": "${AWS::StackName}"}, map[string]string{}); err == nil || !strings.Contains(err.Error(), "AWS::StackName") {
		t.Errorf("resolve(${AWS::StackName}) = %v, want an error naming it", err)
	}
	if _, err := resolve(map[string]any{"Fn::GetAtt": []any{"A", "Arn"}}, nil); err == nil {
		t.Errorf("resolve(GetAtt) = nil error, want one")
	}
}

// unusedServices are services whose actions the resource handlers list for
// features the templates do not use.
var unusedServices = map[string]string{
	"kms":               "no customer managed keys: encryption uses AWS-owned keys (AES256, SSE)",
	"kinesis":           "no Kinesis streaming destination on the ledger",
	"firehose":          "no log delivery to Firehose",
	"cognito-idp":       "no Cognito authentication on the listeners",
	"s3tables":          "no S3 metadata tables",
	"elasticfilesystem": "no EFS on the Lambda",
	"s3files":           "no file systems on the Lambda",
}

// unusedFeatures are handler actions of used services for properties the
// templates do not set; writes only (reads are granted).
var unusedFeatures = map[string]string{
	"ec2:AssociateSubnetCidrBlock":                   "no IPv6 subnets",
	"ec2:DisassociateSubnetCidrBlock":                "no IPv6 subnets",
	"ec2:CreateVpcEncryptionControl":                 "no VPC encryption control",
	"ec2:ModifyVpcTenancy":                           "default tenancy",
	"ec2:AttachVpnGateway":                           "no VPN gateway",
	"ec2:DetachVpnGateway":                           "no VPN gateway",
	"ec2:AcceptAddressTransfer":                      "no Elastic IP transfer",
	"ec2:AssignPrivateNatGatewayAddress":             "no secondary NAT addresses",
	"ec2:UnassignPrivateNatGatewayAddress":           "no secondary NAT addresses",
	"ec2:AssociateNatGatewayAddress":                 "no secondary NAT addresses",
	"ec2:DisassociateNatGatewayAddress":              "no secondary NAT addresses",
	"elasticloadbalancing:ModifyCapacityReservation": "no load balancer capacity reservation",
	"elasticloadbalancing:ModifyIpPools":             "no IPAM pools",
	"elasticloadbalancing:RegisterTargets":           "targets are registered by ECS with the infrastructure role, not by a template",
	"elasticloadbalancing:DeregisterTargets":         "targets are registered by ECS with the infrastructure role, not by a template",
	"iam:PutRolePermissionsBoundary":                 "no permissions boundary",
	"iam:DeleteRolePermissionsBoundary":              "no permissions boundary",
	"iam:AttachGroupPolicy":                          "the managed policies attach to the deployer role only",
	"iam:DetachGroupPolicy":                          "the managed policies attach to the deployer role only",
	"iam:AttachUserPolicy":                           "the managed policies attach to the deployer role only",
	"iam:DetachUserPolicy":                           "the managed policies attach to the deployer role only",
	"ecs:PutAccountSetting":                          "no account settings",
	"ecs:PutAccountSettingDefault":                   "no account settings",
	"ecs:PutClusterCapacityProviders":                "no capacity providers",
	"ecr:SetRepositoryPolicy":                        "no repository policy",
	"ecr:DeleteRepositoryPolicy":                     "no repository policy",
	"logs:AssociateKmsKey":                           "no KMS key on log groups",
	"logs:DisassociateKmsKey":                        "no KMS key on log groups",
	"logs:CreateLogDelivery":                         "no log delivery",
	"logs:PutDataProtectionPolicy":                   "no data protection policy",
	"logs:DeleteDataProtectionPolicy":                "no data protection policy",
	"logs:PutResourcePolicy":                         "no log resource policy",
	"logs:CreateLogStream":                           "the table's import logs: no import",
	"logs:PutLogEvents":                              "the table's import logs: no import",
	"dynamodb:AssociateTableReplica":                 "no global table",
	"dynamodb:CreateTableReplica":                    "no global table",
	"dynamodb:ImportTable":                           "no import",
	"dynamodb:DescribeImport":                        "no import",
	"dynamodb:BatchWriteItem":                        "no import",
	"dynamodb:DeleteItem":                            "handler data access for replicas and imports; ship never deletes ledger items",
	"dynamodb:Scan":                                  "handler data access for replicas and imports; ship never scans the ledger",
	"dynamodb:EnableKinesisStreamingDestination":     "no Kinesis streaming destination",
	"dynamodb:DisableKinesisStreamingDestination":    "no Kinesis streaming destination",
	"dynamodb:UpdateKinesisStreamingDestination":     "no Kinesis streaming destination",
	"dynamodb:UpdateContributorInsights":             "no contributor insights",
	"dynamodb:UpdateTimeToLive":                      "no time to live",
	"dynamodb:PutResourcePolicy":                     "no table resource policy",
	"dynamodb:DeleteResourcePolicy":                  "no table resource policy",
	"s3:GetObjectMetadata":                           "the table import's source: no import",
	"lambda:DeleteFunctionCodeSigningConfig":         "no code signing",
	"lambda:PutFunctionCodeSigningConfig":            "no code signing",
	"lambda:GetCodeSigningConfig":                    "no code signing",
	"lambda:DeleteFunctionConcurrency":               "no reserved concurrency",
	"lambda:PutFunctionConcurrency":                  "no reserved concurrency",
	"lambda:PutFunctionRecursionConfig":              "default recursion detection",
	"lambda:PutFunctionScalingConfig":                "no scaling configuration",
	"lambda:PutRuntimeManagementConfig":              "default runtime management",
	"lambda:GetLayerVersion":                         "no layers",
	"lambda:PublishVersion":                          "no published versions",
	"lambda:PassCapacityProvider":                    "no capacity provider",
	"iam:CreateServiceLinkedRole":                    "only the ECS, ELB and Application Auto Scaling roles (the ship policy); DynamoDB's is for global tables",
	"s3:PutAccelerateConfiguration":                  "no transfer acceleration",
	"s3:PutAnalyticsConfiguration":                   "no analytics",
	"s3:DeleteBucketAnalyticsConfiguration":          "no analytics",
	"s3:PutBucketAcl":                                "ACLs are off (BucketOwnerEnforced)",
	"s3:PutObjectAcl":                                "ACLs are off (BucketOwnerEnforced)",
	"s3:PutBucketCORS":                               "no CORS",
	"s3:DeleteBucketCors":                            "no CORS",
	"s3:PutBucketLogging":                            "no access logging",
	"s3:PutBucketNotification":                       "no notifications",
	"s3:PutBucketObjectLockConfiguration":            "no object lock",
	"s3:PutObjectLockConfiguration":                  "no object lock",
	"s3:PutIntelligentTieringConfiguration":          "no intelligent tiering",
	"s3:PutInventoryConfiguration":                   "no inventory",
	"s3:PutMetricsConfiguration":                     "no request metrics",
	"s3:DeleteBucketMetricsConfiguration":            "no request metrics",
	"s3:PutReplicationConfiguration":                 "no replication",
	"s3:PutBucketReplication":                        "no replication",
	"s3:DeleteBucketReplication":                     "no replication",
	"s3:PutBucketWebsite":                            "no website",
	"s3:DeleteBucketWebsite":                         "no website",
	"s3:CreateBucketMetadataTableConfiguration":      "no metadata tables",
	"s3:DeleteBucketMetadataTableConfiguration":      "no metadata tables",
	"s3:DeleteBucketEncryption":                      "encryption is always set",
	"s3:DeleteBucketLifecycle":                       "the lifecycle rules are always set",
	"s3:REST.PUT.OBJECT":                             "not an IAM action (the log group schema lists an S3 log line)",
	"iam:PassRole":                                   "the ship policy passes the environment's roles to ECS and Lambda; the bucket (replication) and rules (targets with roles) pass none",
}

// TestProvisioningCoversHandlers checks the deployer policies against the
// permissions AWS's resource schemas list for the handlers of every
// resource type the templates use: each is allowed, or the feature or
// service it is for is named as unused.
func TestProvisioningCoversHandlers(t *testing.T) {
	dir := filepath.Join("..", "..", cfntest.SchemaDir)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("CloudFormation schemas not found at %s; handler permissions not checked", dir)
	}
	spec := withCI(t, "")
	boot, envDoc := render(t, spec, Inputs{})
	types := map[string]bool{}
	for _, doc := range [][]byte{boot, envDoc} {
		for _, r := range parse(t, doc)["Resources"].(map[string]any) {
			types[r.(map[string]any)["Type"].(string)] = true
		}
	}
	allowed := map[string]bool{}
	for _, p := range DeployerPolicies(spec) {
		for _, st := range p.PolicyDocument.Statement {
			for _, a := range st.Action {
				allowed[a] = true
			}
		}
	}
	used := map[string]bool{}
	for typ := range types {
		b, err := os.ReadFile(filepath.Join(dir, strings.ReplaceAll(typ, "::", "_")+".json"))
		if err != nil {
			t.Errorf("schema of %s: %v", typ, err)
			continue
		}
		var schema struct {
			Handlers map[string]struct{ Permissions []string }
		}
		if err := json.Unmarshal(b, &schema); err != nil {
			t.Fatalf("parse the schema of %s: %v", typ, err)
		}
		for _, h := range []string{"create", "read", "update", "delete"} {
			for _, perm := range schema.Handlers[h].Permissions {
				svc, name, _ := strings.Cut(perm, ":")
				a := strings.ToLower(svc) + ":" + name
				if unusedServices[strings.ToLower(svc)] != "" {
					continue
				}
				if unusedFeatures[a] != "" {
					used[a] = true
					continue
				}
				if !allowed[a] {
					t.Errorf("%s's %s handler needs %s: add it to the deployer policies (platform/stack/deployer.go), or name the unused feature in unusedFeatures", typ, h, a)
				}
			}
		}
	}
	for a := range unusedFeatures {
		if !used[a] {
			t.Errorf("unusedFeatures names %s, which no handler of the templates' types lists; remove it", a)
		}
		if allowed[a] && a != "iam:PassRole" && a != "iam:CreateServiceLinkedRole" {
			t.Errorf("unusedFeatures names %s, which the deployer policies allow; remove one", a)
		}
	}
}
