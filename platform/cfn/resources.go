package cfn

// The properties of the resource types the stacks use, with the names and
// shapes of AWS's registry schemas (checked against them in tests). Only
// the properties we set are declared; a Value field takes a literal or an
// intrinsic, a plain Go field only a literal.

// Properties is the typed properties of one resource type.
type Properties interface{ ResourceType() string }

// Of wraps typed properties into a resource of their type.
func Of(p Properties, dependsOn ...string) Resource {
	return Resource{Type: p.ResourceType(), Properties: p, DependsOn: dependsOn}
}

// --- EC2 -------------------------------------------------------------------

type VPC struct {
	CidrBlock          string `json:"CidrBlock"`
	EnableDnsHostnames bool   `json:"EnableDnsHostnames"`
	EnableDnsSupport   bool   `json:"EnableDnsSupport"`
	Tags               []Tag  `json:"Tags,omitempty"`
}

func (VPC) ResourceType() string { return "AWS::EC2::VPC" }

type InternetGateway struct {
	Tags []Tag `json:"Tags,omitempty"`
}

func (InternetGateway) ResourceType() string { return "AWS::EC2::InternetGateway" }

type VPCGatewayAttachment struct {
	VpcId             Value `json:"VpcId"`
	InternetGatewayId Value `json:"InternetGatewayId"`
}

func (VPCGatewayAttachment) ResourceType() string { return "AWS::EC2::VPCGatewayAttachment" }

type Subnet struct {
	VpcId               Value  `json:"VpcId"`
	CidrBlock           string `json:"CidrBlock"`
	AvailabilityZone    string `json:"AvailabilityZone"`
	MapPublicIpOnLaunch bool   `json:"MapPublicIpOnLaunch"`
	Tags                []Tag  `json:"Tags,omitempty"`
}

func (Subnet) ResourceType() string { return "AWS::EC2::Subnet" }

type EIP struct {
	Domain string `json:"Domain"`
	Tags   []Tag  `json:"Tags,omitempty"`
}

func (EIP) ResourceType() string { return "AWS::EC2::EIP" }

type NatGateway struct {
	AllocationId Value `json:"AllocationId"`
	SubnetId     Value `json:"SubnetId"`
	Tags         []Tag `json:"Tags,omitempty"`
}

func (NatGateway) ResourceType() string { return "AWS::EC2::NatGateway" }

type RouteTable struct {
	VpcId Value `json:"VpcId"`
	Tags  []Tag `json:"Tags,omitempty"`
}

func (RouteTable) ResourceType() string { return "AWS::EC2::RouteTable" }

type Route struct {
	RouteTableId         Value  `json:"RouteTableId"`
	DestinationCidrBlock string `json:"DestinationCidrBlock"`
	GatewayId            Value  `json:"GatewayId,omitempty"`
	NatGatewayId         Value  `json:"NatGatewayId,omitempty"`
}

func (Route) ResourceType() string { return "AWS::EC2::Route" }

type SubnetRouteTableAssociation struct {
	SubnetId     Value `json:"SubnetId"`
	RouteTableId Value `json:"RouteTableId"`
}

func (SubnetRouteTableAssociation) ResourceType() string {
	return "AWS::EC2::SubnetRouteTableAssociation"
}

type SecurityGroup struct {
	GroupDescription     string      `json:"GroupDescription"`
	VpcId                Value       `json:"VpcId"`
	SecurityGroupIngress []SGIngress `json:"SecurityGroupIngress,omitempty"`
	SecurityGroupEgress  []SGEgress  `json:"SecurityGroupEgress,omitempty"`
	Tags                 []Tag       `json:"Tags,omitempty"`
}

func (SecurityGroup) ResourceType() string { return "AWS::EC2::SecurityGroup" }

// SGIngress is an inline ingress rule; exactly one source is set.
type SGIngress struct {
	Description           string `json:"Description,omitempty"`
	IpProtocol            string `json:"IpProtocol"`
	FromPort              int    `json:"FromPort"`
	ToPort                int    `json:"ToPort"`
	CidrIp                string `json:"CidrIp,omitempty"`
	SourceSecurityGroupId Value  `json:"SourceSecurityGroupId,omitempty"`
}

// SGEgress is an inline egress rule; exactly one destination is set.
type SGEgress struct {
	Description                string `json:"Description,omitempty"`
	IpProtocol                 string `json:"IpProtocol"`
	FromPort                   *int   `json:"FromPort,omitempty"`
	ToPort                     *int   `json:"ToPort,omitempty"`
	CidrIp                     string `json:"CidrIp,omitempty"`
	DestinationSecurityGroupId Value  `json:"DestinationSecurityGroupId,omitempty"`
}

// --- Elastic Load Balancing v2 ----------------------------------------------

type LoadBalancer struct {
	Name                   string     `json:"Name"`
	Type                   string     `json:"Type"`
	Scheme                 string     `json:"Scheme"`
	IpAddressType          string     `json:"IpAddressType"`
	Subnets                []Value    `json:"Subnets"`
	SecurityGroups         []Value    `json:"SecurityGroups"`
	LoadBalancerAttributes []KeyValue `json:"LoadBalancerAttributes"`
	Tags                   []Tag      `json:"Tags,omitempty"`
}

func (LoadBalancer) ResourceType() string { return "AWS::ElasticLoadBalancingV2::LoadBalancer" }

// KeyValue is a load balancer or target group attribute.
type KeyValue struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type TargetGroup struct {
	Name                       string     `json:"Name"`
	Protocol                   string     `json:"Protocol"`
	Port                       int        `json:"Port"`
	TargetType                 string     `json:"TargetType"`
	VpcId                      Value      `json:"VpcId"`
	HealthCheckEnabled         bool       `json:"HealthCheckEnabled"`
	HealthCheckProtocol        string     `json:"HealthCheckProtocol"`
	HealthCheckPath            string     `json:"HealthCheckPath"`
	HealthCheckIntervalSeconds int        `json:"HealthCheckIntervalSeconds"`
	HealthCheckTimeoutSeconds  int        `json:"HealthCheckTimeoutSeconds"`
	HealthyThresholdCount      int        `json:"HealthyThresholdCount"`
	UnhealthyThresholdCount    int        `json:"UnhealthyThresholdCount"`
	Matcher                    Matcher    `json:"Matcher"`
	TargetGroupAttributes      []KeyValue `json:"TargetGroupAttributes"`
	Tags                       []Tag      `json:"Tags,omitempty"`
}

func (TargetGroup) ResourceType() string { return "AWS::ElasticLoadBalancingV2::TargetGroup" }

type Matcher struct {
	HttpCode string `json:"HttpCode"`
}

type Listener struct {
	LoadBalancerArn Value    `json:"LoadBalancerArn"`
	Port            int      `json:"Port"`
	Protocol        string   `json:"Protocol"`
	DefaultActions  []Action `json:"DefaultActions"`
}

func (Listener) ResourceType() string { return "AWS::ElasticLoadBalancingV2::Listener" }

type ListenerRule struct {
	ListenerArn Value       `json:"ListenerArn"`
	Priority    int         `json:"Priority"`
	Conditions  []Condition `json:"Conditions"`
	Actions     []Action    `json:"Actions"`
}

func (ListenerRule) ResourceType() string { return "AWS::ElasticLoadBalancingV2::ListenerRule" }

type Action struct {
	Type                string               `json:"Type"`
	Order               int                  `json:"Order,omitempty"`
	ForwardConfig       *ForwardConfig       `json:"ForwardConfig,omitempty"`
	FixedResponseConfig *FixedResponseConfig `json:"FixedResponseConfig,omitempty"`
}

type ForwardConfig struct {
	TargetGroups                []TargetGroupTuple           `json:"TargetGroups"`
	TargetGroupStickinessConfig *TargetGroupStickinessConfig `json:"TargetGroupStickinessConfig,omitempty"`
}

type TargetGroupTuple struct {
	TargetGroupArn Value `json:"TargetGroupArn"`
	Weight         int   `json:"Weight"`
}

type TargetGroupStickinessConfig struct {
	Enabled bool `json:"Enabled"`
}

type FixedResponseConfig struct {
	StatusCode  string `json:"StatusCode"`
	ContentType string `json:"ContentType,omitempty"`
	MessageBody string `json:"MessageBody,omitempty"`
}

type Condition struct {
	Field             string             `json:"Field"`
	PathPatternConfig *PathPatternConfig `json:"PathPatternConfig,omitempty"`
}

type PathPatternConfig struct {
	Values []string `json:"Values"`
}

// --- ECS, ECR, logs ----------------------------------------------------------

type Cluster struct {
	ClusterName     string      `json:"ClusterName"`
	ClusterSettings []NameValue `json:"ClusterSettings"`
	Tags            []Tag       `json:"Tags,omitempty"`
}

func (Cluster) ResourceType() string { return "AWS::ECS::Cluster" }

type NameValue struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type Repository struct {
	RepositoryName             string                     `json:"RepositoryName"`
	ImageTagMutability         string                     `json:"ImageTagMutability"`
	ImageScanningConfiguration ImageScanningConfiguration `json:"ImageScanningConfiguration"`
	EncryptionConfiguration    RepositoryEncryption       `json:"EncryptionConfiguration"`
	LifecyclePolicy            RepositoryLifecyclePolicy  `json:"LifecyclePolicy"`
	EmptyOnDelete              bool                       `json:"EmptyOnDelete"`
	Tags                       []Tag                      `json:"Tags,omitempty"`
}

func (Repository) ResourceType() string { return "AWS::ECR::Repository" }

type ImageScanningConfiguration struct {
	ScanOnPush bool `json:"ScanOnPush"`
}

type RepositoryEncryption struct {
	EncryptionType string `json:"EncryptionType"`
}

type RepositoryLifecyclePolicy struct {
	LifecyclePolicyText string `json:"LifecyclePolicyText"`
}

type LogGroup struct {
	LogGroupName    string `json:"LogGroupName"`
	RetentionInDays int    `json:"RetentionInDays"`
	Tags            []Tag  `json:"Tags,omitempty"`
}

func (LogGroup) ResourceType() string { return "AWS::Logs::LogGroup" }

// --- S3, SQS -----------------------------------------------------------------

type Bucket struct {
	BucketEncryption               BucketEncryption               `json:"BucketEncryption"`
	VersioningConfiguration        VersioningConfiguration        `json:"VersioningConfiguration"`
	PublicAccessBlockConfiguration PublicAccessBlockConfiguration `json:"PublicAccessBlockConfiguration"`
	OwnershipControls              OwnershipControls              `json:"OwnershipControls"`
	LifecycleConfiguration         *LifecycleConfiguration        `json:"LifecycleConfiguration,omitempty"`
	Tags                           []Tag                          `json:"Tags,omitempty"`
}

func (Bucket) ResourceType() string { return "AWS::S3::Bucket" }

type BucketEncryption struct {
	ServerSideEncryptionConfiguration []ServerSideEncryptionRule `json:"ServerSideEncryptionConfiguration"`
}

type ServerSideEncryptionRule struct {
	ServerSideEncryptionByDefault ServerSideEncryptionByDefault `json:"ServerSideEncryptionByDefault"`
	BucketKeyEnabled              bool                          `json:"BucketKeyEnabled,omitempty"`
}

type ServerSideEncryptionByDefault struct {
	SSEAlgorithm string `json:"SSEAlgorithm"`
}

type VersioningConfiguration struct {
	Status string `json:"Status"`
}

type PublicAccessBlockConfiguration struct {
	BlockPublicAcls       bool `json:"BlockPublicAcls"`
	BlockPublicPolicy     bool `json:"BlockPublicPolicy"`
	IgnorePublicAcls      bool `json:"IgnorePublicAcls"`
	RestrictPublicBuckets bool `json:"RestrictPublicBuckets"`
}

type OwnershipControls struct {
	Rules []OwnershipControlsRule `json:"Rules"`
}

type OwnershipControlsRule struct {
	ObjectOwnership string `json:"ObjectOwnership"`
}

type LifecycleConfiguration struct {
	Rules []LifecycleRule `json:"Rules"`
}

type LifecycleRule struct {
	Id                             string                          `json:"Id"`
	Status                         string                          `json:"Status"`
	NoncurrentVersionExpiration    *NoncurrentVersionExpiration    `json:"NoncurrentVersionExpiration,omitempty"`
	AbortIncompleteMultipartUpload *AbortIncompleteMultipartUpload `json:"AbortIncompleteMultipartUpload,omitempty"`
}

type NoncurrentVersionExpiration struct {
	NoncurrentDays int `json:"NoncurrentDays"`
}

type AbortIncompleteMultipartUpload struct {
	DaysAfterInitiation int `json:"DaysAfterInitiation"`
}

type BucketPolicy struct {
	Bucket         Value          `json:"Bucket"`
	PolicyDocument PolicyDocument `json:"PolicyDocument"`
}

func (BucketPolicy) ResourceType() string { return "AWS::S3::BucketPolicy" }

type Queue struct {
	QueueName              string `json:"QueueName"`
	MessageRetentionPeriod int    `json:"MessageRetentionPeriod"`
	SqsManagedSseEnabled   bool   `json:"SqsManagedSseEnabled"`
	Tags                   []Tag  `json:"Tags,omitempty"`
}

func (Queue) ResourceType() string { return "AWS::SQS::Queue" }

type QueuePolicy struct {
	Queues         []Value        `json:"Queues"`
	PolicyDocument PolicyDocument `json:"PolicyDocument"`
}

func (QueuePolicy) ResourceType() string { return "AWS::SQS::QueuePolicy" }

// --- IAM ---------------------------------------------------------------------

type Role struct {
	RoleName                 string         `json:"RoleName,omitempty"`
	Description              string         `json:"Description,omitempty"`
	AssumeRolePolicyDocument PolicyDocument `json:"AssumeRolePolicyDocument"`
	ManagedPolicyArns        []Value        `json:"ManagedPolicyArns,omitempty"`
	Policies                 []Policy       `json:"Policies,omitempty"`
	// PermissionsBoundary is the ARN of the managed policy that caps the
	// role's permissions; nil for none.
	PermissionsBoundary Value `json:"PermissionsBoundary,omitempty"`
	Tags                []Tag `json:"Tags,omitempty"`
}

func (Role) ResourceType() string { return "AWS::IAM::Role" }

// Policy is an inline policy of a role.
type Policy struct {
	PolicyName     string         `json:"PolicyName"`
	PolicyDocument PolicyDocument `json:"PolicyDocument"`
}

// PolicyDocument is an IAM policy.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy.
type Statement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal *Principal                `json:"Principal,omitempty"`
	Action    []string                  `json:"Action"`
	Resource  []Value                   `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// Principal names who a trust or resource policy is about.
type Principal struct {
	Service []string `json:"Service,omitempty"`
	AWS     []Value  `json:"AWS,omitempty"`
	// Federated is an identity provider, e.g. an OIDC provider's ARN.
	Federated Value `json:"Federated,omitempty"`
}

// PolicyVersion is the IAM policy language version.
const PolicyVersion = "2012-10-17"

// --- CloudWatch, EventBridge, Lambda, DynamoDB -------------------------------

type Alarm struct {
	AlarmName          string      `json:"AlarmName"`
	AlarmDescription   string      `json:"AlarmDescription"`
	Namespace          string      `json:"Namespace"`
	MetricName         string      `json:"MetricName"`
	Dimensions         []Dimension `json:"Dimensions"`
	Statistic          string      `json:"Statistic"`
	Period             int         `json:"Period"`
	EvaluationPeriods  int         `json:"EvaluationPeriods"`
	DatapointsToAlarm  int         `json:"DatapointsToAlarm"`
	Threshold          float64     `json:"Threshold"`
	ComparisonOperator string      `json:"ComparisonOperator"`
	TreatMissingData   string      `json:"TreatMissingData"`
}

func (Alarm) ResourceType() string { return "AWS::CloudWatch::Alarm" }

type Dimension struct {
	Name  string `json:"Name"`
	Value Value  `json:"Value"`
}

type EventRule struct {
	Name         string         `json:"Name"`
	Description  string         `json:"Description"`
	State        string         `json:"State"`
	EventPattern map[string]any `json:"EventPattern"`
	Targets      []EventTarget  `json:"Targets"`
}

func (EventRule) ResourceType() string { return "AWS::Events::Rule" }

type EventTarget struct {
	Id               string            `json:"Id"`
	Arn              Value             `json:"Arn"`
	RetryPolicy      *RetryPolicy      `json:"RetryPolicy,omitempty"`
	DeadLetterConfig *DeadLetterConfig `json:"DeadLetterConfig,omitempty"`
}

type RetryPolicy struct {
	MaximumRetryAttempts     int `json:"MaximumRetryAttempts"`
	MaximumEventAgeInSeconds int `json:"MaximumEventAgeInSeconds"`
}

type DeadLetterConfig struct {
	Arn Value `json:"Arn"`
}

type Function struct {
	FunctionName  string              `json:"FunctionName"`
	Description   string              `json:"Description,omitempty"`
	Runtime       string              `json:"Runtime"`
	Handler       string              `json:"Handler"`
	Architectures []string            `json:"Architectures"`
	Code          FunctionCode        `json:"Code"`
	Role          Value               `json:"Role"`
	MemorySize    int                 `json:"MemorySize"`
	Timeout       int                 `json:"Timeout"`
	Environment   FunctionEnvironment `json:"Environment"`
	LoggingConfig *LoggingConfig      `json:"LoggingConfig,omitempty"`
	VpcConfig     *VpcConfig          `json:"VpcConfig,omitempty"`
	Tags          []Tag               `json:"Tags,omitempty"`
}

func (Function) ResourceType() string { return "AWS::Lambda::Function" }

type FunctionCode struct {
	S3Bucket Value `json:"S3Bucket"`
	S3Key    Value `json:"S3Key"`
}

type FunctionEnvironment struct {
	Variables map[string]Value `json:"Variables"`
}

type LoggingConfig struct {
	LogGroup  Value  `json:"LogGroup"`
	LogFormat string `json:"LogFormat"`
}

type VpcConfig struct {
	SubnetIds        []Value `json:"SubnetIds"`
	SecurityGroupIds []Value `json:"SecurityGroupIds"`
}

type Permission struct {
	FunctionName Value  `json:"FunctionName"`
	Action       string `json:"Action"`
	Principal    string `json:"Principal"`
	SourceArn    Value  `json:"SourceArn"`
}

func (Permission) ResourceType() string { return "AWS::Lambda::Permission" }

type Table struct {
	TableName                        string                           `json:"TableName"`
	BillingMode                      string                           `json:"BillingMode"`
	AttributeDefinitions             []AttributeDefinition            `json:"AttributeDefinitions"`
	KeySchema                        []KeySchema                      `json:"KeySchema"`
	PointInTimeRecoverySpecification PointInTimeRecoverySpecification `json:"PointInTimeRecoverySpecification"`
	SSESpecification                 SSESpecification                 `json:"SSESpecification"`
	DeletionProtectionEnabled        bool                             `json:"DeletionProtectionEnabled"`
	Tags                             []Tag                            `json:"Tags,omitempty"`
}

func (Table) ResourceType() string { return "AWS::DynamoDB::Table" }

type AttributeDefinition struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

type KeySchema struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

type PointInTimeRecoverySpecification struct {
	PointInTimeRecoveryEnabled bool `json:"PointInTimeRecoveryEnabled"`
}

type SSESpecification struct {
	SSEEnabled bool `json:"SSEEnabled"`
}
