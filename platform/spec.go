package platform

import (
	"net/netip"
	"strings"
)

// Spec is one environment of the service, fully resolved: the seed's defaults
// with the manifest's top-level settings and then the environment's own
// settings laid over them. The json names are the keys of ship.yaml.
//
// Durations are whole seconds or minutes, named so, because that is how AWS
// takes them and how its limits are written.
type Spec struct {
	// Name is the application's name, the prefix of every resource name.
	Name string `json:"-"`
	// Env is the environment's name (local, production, ...).
	Env string `json:"-"`

	// Account is the 12-digit AWS account the environment lives in.
	Account string `json:"account"`
	// Region is the AWS region, e.g. us-east-1.
	Region string `json:"region"`

	Network      Network      `json:"network"`
	LoadBalancer LoadBalancer `json:"loadBalancer"`
	HealthCheck  HealthCheck  `json:"healthCheck"`
	Service      Service      `json:"service"`
	Scaling      Scaling      `json:"scaling"`
	Task         Task         `json:"task"`
	Deployment   Deployment   `json:"deployment"`
	Alarms       Alarms       `json:"alarms"`
	Deploywatch  Deploywatch  `json:"deploywatch"`
	Logs         Logs         `json:"logs"`
	// CI is the optional GitHub Actions deployer role (ci.go).
	CI CI `json:"ci"`
	// IAM is the optional permissions boundary of the stacks' roles (iam.go).
	IAM IAM `json:"iam"`
}

// NAT modes for the private subnets' internet access.
const (
	// NATPerAZ gives each AZ its own NAT gateway, so losing one AZ does not cut
	// the other's tasks off from ECR and CloudWatch.
	NATPerAZ = "per-az"
	// NATSingle shares one NAT gateway between both AZs: cheaper, for
	// environments that can lose an AZ's egress.
	NATSingle = "single"
)

// Network is the VPC the service runs in.
type Network struct {
	// VPCCIDR is the VPC's IPv4 block; the four subnets are carved from it.
	VPCCIDR string `json:"vpcCidr"`
	// AvailabilityZones are the two AZs of the subnets. Empty means the
	// region's "a" and "b" zones.
	AvailabilityZones []string `json:"availabilityZones"`
	// NAT is NATPerAZ or NATSingle.
	NAT string `json:"nat"`
}

// LoadBalancer is the internet-facing ALB and its listeners.
type LoadBalancer struct {
	// ListenerPort is the production listener's port (HTTP).
	ListenerPort int `json:"listenerPort"`
	// TestListener adds a listener that ECS points at green during
	// TEST_TRAFFIC_SHIFT, reachable only from inside the VPC, and the
	// deploywatch smoke-test hook that uses it.
	TestListener bool `json:"testListener"`
	// TestListenerPort is the test listener's port.
	TestListenerPort int `json:"testListenerPort"`
	// DeletionProtection stops the ALB from being deleted with the stack.
	DeletionProtection bool `json:"deletionProtection"`
	// IdleTimeoutSeconds is the ALB's connection idle timeout.
	IdleTimeoutSeconds int `json:"idleTimeoutSeconds"`
}

// HealthCheck is the target groups' health check and draining.
type HealthCheck struct {
	Path                       string `json:"path"`
	IntervalSeconds            int    `json:"intervalSeconds"`
	TimeoutSeconds             int    `json:"timeoutSeconds"`
	HealthyThreshold           int    `json:"healthyThreshold"`
	UnhealthyThreshold         int    `json:"unhealthyThreshold"`
	Matcher                    string `json:"matcher"`
	DeregistrationDelaySeconds int    `json:"deregistrationDelaySeconds"`
}

// Service is the ECS service ship creates and updates.
type Service struct {
	LaunchType      string `json:"launchType"`
	PlatformVersion string `json:"platformVersion"`
	DesiredCount    int    `json:"desiredCount"`
	// HealthCheckGracePeriodSeconds is how long ECS ignores failing ALB health
	// checks of a new task.
	HealthCheckGracePeriodSeconds int  `json:"healthCheckGracePeriodSeconds"`
	AZRebalancing                 bool `json:"azRebalancing"`
}

// Scaling is the service's Application Auto Scaling.
type Scaling struct {
	Min                     int     `json:"min"`
	Max                     int     `json:"max"`
	TargetCPUPercent        float64 `json:"targetCpuPercent"`
	ScaleInCooldownSeconds  int     `json:"scaleInCooldownSeconds"`
	ScaleOutCooldownSeconds int     `json:"scaleOutCooldownSeconds"`
}

// Task is the task definition of the app.
type Task struct {
	// CPU is in CPU units (1024 = 1 vCPU); Memory in MiB. Together they must
	// be a Fargate size.
	CPU    int `json:"cpu"`
	Memory int `json:"memory"`
	// Architecture is the runtime platform's CPU architecture, ARM64 or X86_64.
	Architecture       string `json:"architecture"`
	ContainerPort      int    `json:"containerPort"`
	StopTimeoutSeconds int    `json:"stopTimeoutSeconds"`
	// User is the container's uid; the image is distroless nonroot.
	User string `json:"user"`
	// Environment is extra container environment, beside PORT.
	Environment map[string]string `json:"environment"`
	// HealthCheck is the container health check (`app healthcheck`).
	HealthCheck ContainerHealthCheck `json:"healthCheck"`
}

// ContainerHealthCheck is the ECS container health check's timing.
type ContainerHealthCheck struct {
	IntervalSeconds    int `json:"intervalSeconds"`
	TimeoutSeconds     int `json:"timeoutSeconds"`
	Retries            int `json:"retries"`
	StartPeriodSeconds int `json:"startPeriodSeconds"`
}

// Deployment is the native ECS blue/green deployment configuration.
type Deployment struct {
	// BakeTimeInMinutes is how long both revisions run after production
	// traffic moved, with the alarms watched, before blue is scaled in.
	BakeTimeInMinutes int `json:"bakeTimeInMinutes"`
	// AlarmRollback makes ECS roll back when a deployment alarm fires.
	AlarmRollback bool `json:"alarmRollback"`
	// HookTimeoutMinutes bounds the deploywatch smoke-test hook.
	HookTimeoutMinutes int `json:"hookTimeoutMinutes"`
}

// Alarms are the thresholds of the alarms that gate deployments.
type Alarms struct {
	// Target5XXThreshold is the count of 5XX answers from targets (of both
	// target groups) in one period that puts the 5XX alarm in ALARM.
	Target5XXThreshold int `json:"target5xxThreshold"`
	// ELB5XXThreshold is the same for 5XX the ALB itself returns (502/503/504
	// when targets fail or are missing).
	ELB5XXThreshold int `json:"elb5xxThreshold"`
	// LatencyThresholdMs is the targets' average response time
	// (TargetResponseTime), in milliseconds over one period, that puts the
	// latency alarm in ALARM.
	LatencyThresholdMs int `json:"latencyThresholdMs"`
	PeriodSeconds      int `json:"periodSeconds"`
	EvaluationPeriods  int `json:"evaluationPeriods"`
}

// Enforcement modes of the deploywatch Lambda.
const (
	// EnforceRollback makes deploywatch roll back on an alarm.
	EnforceRollback = "enforce"
	// EnforceDryRun records what deploywatch would do, and does nothing.
	EnforceDryRun = "dry-run"
)

// Deploywatch is the Lambda that records deployments and enforces rollbacks.
type Deploywatch struct {
	// Enforcement is EnforceRollback or EnforceDryRun.
	Enforcement string `json:"enforcement"`
	// GuardWindowMinutes is how long after a completed deployment an alarm
	// still rolls it back.
	GuardWindowMinutes int `json:"guardWindowMinutes"`
	// Architecture is arm64 or x86_64 (Lambda's spelling).
	Architecture   string `json:"architecture"`
	MemoryMB       int    `json:"memoryMB"`
	TimeoutSeconds int    `json:"timeoutSeconds"`
	// SmokeChecks are the requests the smoke-test hook makes through the
	// test listener besides the health path (always checked for 200), each
	// as path=status, e.g. /=200.
	SmokeChecks []string `json:"smokeChecks"`
	// Tracing is the function's OpenTelemetry span exporter: TracingConsole
	// writes spans to its log; empty or TracingNone is off.
	Tracing string `json:"tracing"`
}

// Span exporters of the deploywatch Lambda (its OTEL_TRACES_EXPORTER).
// OTLP needs a bootstrap built with -tags otlp, which ship does not build
// (docs/decisions/0004-deploywatch-tracing.md).
const (
	TracingNone    = "none"
	TracingConsole = "console"
)

// Logs is the log groups' retention.
type Logs struct {
	RetentionDays int `json:"retentionDays"`
}

// Default values that are not plain fields of Spec.
const (
	// DefaultName is the application's name when ship.yaml gives none.
	DefaultName = "shipyard"
	// DefaultRegion is the seed's region.
	DefaultRegion = "us-east-1"
)

// Defaults returns the seed's values (DESIGN §2) for environment env. It is
// the only place they are written down.
func Defaults(env string) Spec {
	return Spec{
		Name:   DefaultName,
		Env:    env,
		Region: DefaultRegion,
		Network: Network{
			VPCCIDR: "10.0.0.0/16",
			NAT:     NATPerAZ,
		},
		LoadBalancer: LoadBalancer{
			ListenerPort:       80,
			TestListener:       true,
			TestListenerPort:   8080,
			DeletionProtection: false,
			IdleTimeoutSeconds: 60,
		},
		HealthCheck: HealthCheck{
			Path:                       "/health",
			IntervalSeconds:            30,
			TimeoutSeconds:             5,
			HealthyThreshold:           2,
			UnhealthyThreshold:         3,
			Matcher:                    "200",
			DeregistrationDelaySeconds: 60,
		},
		Service: Service{
			LaunchType:                    "FARGATE",
			PlatformVersion:               "LATEST",
			DesiredCount:                  2,
			HealthCheckGracePeriodSeconds: 60,
			AZRebalancing:                 true,
		},
		Scaling: Scaling{
			Min:                     2,
			Max:                     6,
			TargetCPUPercent:        70,
			ScaleInCooldownSeconds:  300,
			ScaleOutCooldownSeconds: 60,
		},
		Task: Task{
			CPU:                256,
			Memory:             512,
			Architecture:       "ARM64",
			ContainerPort:      5000,
			StopTimeoutSeconds: 30,
			User:               "65532",
			HealthCheck: ContainerHealthCheck{
				IntervalSeconds:    10,
				TimeoutSeconds:     5,
				Retries:            3,
				StartPeriodSeconds: 10,
			},
		},
		Deployment: Deployment{
			BakeTimeInMinutes:  3,
			AlarmRollback:      true,
			HookTimeoutMinutes: 10,
		},
		Alarms: Alarms{
			Target5XXThreshold: 5,
			ELB5XXThreshold:    5,
			LatencyThresholdMs: 1000,
			PeriodSeconds:      60,
			EvaluationPeriods:  1,
		},
		Deploywatch: Deploywatch{
			Enforcement:        EnforceRollback,
			GuardWindowMinutes: 10,
			Architecture:       "arm64",
			MemoryMB:           128,
			TimeoutSeconds:     60,
		},
		Logs: Logs{RetentionDays: 30},
		CI:   CI{GitHub: GitHub{Branch: "main"}},
	}
}

// Resolve fills in the values derived from others once every layer is
// applied: the AZs follow the region unless named.
func (s *Spec) Resolve() {
	if len(s.Network.AvailabilityZones) == 0 && s.Region != "" {
		s.Network.AvailabilityZones = []string{s.Region + "a", s.Region + "b"}
	}
}

// Prefix is the "<name>-<env>" prefix of every resource name.
func (s Spec) Prefix() string {
	return strings.ToLower(s.Name + "-" + s.Env)
}

// SubnetCIDRs carves the VPC block into four equal subnets, two public and
// two private, one of each per AZ. It assumes a valid VPCCIDR (Validate).
func (s Spec) SubnetCIDRs() (public, private []string) {
	p, err := netip.ParsePrefix(s.Network.VPCCIDR)
	if err != nil || !p.Addr().Is4() {
		return nil, nil
	}
	bits := p.Bits() + 2
	size := uint32(1) << (32 - bits)
	base := p.Masked().Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	block := func(i uint32) string {
		a := start + i*size
		addr := netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
		return netip.PrefixFrom(addr, bits).String()
	}
	return []string{block(0), block(1)}, []string{block(2), block(3)}
}
