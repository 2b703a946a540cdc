package platform

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func validSpec() Spec {
	s := Defaults("test")
	s.Account = "123456789012"
	s.Resolve()
	return s
}

// TestDefaultsAreTheSeed pins every seed value of DESIGN §2 that lives in the
// spec; changing one is a design change, not a refactor.
func TestDefaultsAreTheSeed(t *testing.T) {
	s := validSpec()
	tests := []struct {
		name      string
		got, want any
	}{
		{"launch type", s.Service.LaunchType, "FARGATE"},
		{"platform version", s.Service.PlatformVersion, "LATEST"},
		{"desired count", s.Service.DesiredCount, 2},
		{"az rebalancing", s.Service.AZRebalancing, true},
		{"scaling min", s.Scaling.Min, 2},
		{"cpu target", s.Scaling.TargetCPUPercent, 70.0},
		{"region", s.Region, "us-east-1"},
		{"zones", strings.Join(s.Network.AvailabilityZones, ","), "us-east-1a,us-east-1b"},
		{"nat per az", s.Network.NAT, NATPerAZ},
		{"listener port", s.LoadBalancer.ListenerPort, 80},
		{"container port", s.Task.ContainerPort, 5000},
		{"health path", s.HealthCheck.Path, "/health"},
		{"healthy threshold", s.HealthCheck.HealthyThreshold, 2},
		{"unhealthy threshold", s.HealthCheck.UnhealthyThreshold, 3},
		{"interval", s.HealthCheck.IntervalSeconds, 30},
		{"deregistration delay", s.HealthCheck.DeregistrationDelaySeconds, 60},
		{"bake time", s.Deployment.BakeTimeInMinutes, 3},
		{"alarm rollback", s.Deployment.AlarmRollback, true},
		{"stop timeout covers the app's 25 s drain", s.Task.StopTimeoutSeconds, 30},
		{"non-root user", s.Task.User, "65532"},
		{"lambda arm64", s.Deploywatch.Architecture, "arm64"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("Defaults: %s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if ps := s.Validate(); ps != nil {
		t.Errorf("Defaults + account: Validate() = %v, want no problems", ps)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*Spec)
		path     string
		contains string
	}{
		{"bad name", func(s *Spec) { s.Name = "Ship_yard" }, "name", "lowercase"},
		{"long name", func(s *Spec) { s.Name = "averyveryverylongname"; s.Env = "production" }, "name", "shorten"},
		{"account not 12 digits", func(s *Spec) { s.Account = "1234" }, "account", "12 digits"},
		{"bad region", func(s *Spec) { s.Region = "mars"; s.Network.AvailabilityZones = []string{"marsa", "marsb"} }, "region", "us-east-1"},
		{"vpc not a cidr", func(s *Spec) { s.Network.VPCCIDR = "10.0.0.0" }, "network.vpcCidr", "IPv4 CIDR"},
		{"vpc host bits", func(s *Spec) { s.Network.VPCCIDR = "10.0.0.1/16" }, "network.vpcCidr", "10.0.0.0/16"},
		{"vpc too small", func(s *Spec) { s.Network.VPCCIDR = "10.0.0.0/26" }, "network.vpcCidr", "/16 to /24"},
		{"vpc too large", func(s *Spec) { s.Network.VPCCIDR = "10.0.0.0/8" }, "network.vpcCidr", "/16 to /24"},
		{"one az", func(s *Spec) { s.Network.AvailabilityZones = []string{"us-east-1a"} }, "network.availabilityZones", "exactly two"},
		{"same az twice", func(s *Spec) { s.Network.AvailabilityZones = []string{"us-east-1a", "us-east-1a"} }, "network.availabilityZones", "distinct"},
		{"az of another region", func(s *Spec) { s.Network.AvailabilityZones = []string{"us-east-1a", "eu-west-1b"} }, "network.availabilityZones[1]", "not a zone of region us-east-1"},
		{"nat mode", func(s *Spec) { s.Network.NAT = "none" }, "network.nat", "per-az, single"},
		{"listener port zero", func(s *Spec) { s.LoadBalancer.ListenerPort = 0 }, "loadBalancer.listenerPort", "1 to 65535"},
		{"test port equals listener", func(s *Spec) { s.LoadBalancer.TestListenerPort = 80 }, "loadBalancer.testListenerPort", "production listener"},
		{"idle timeout", func(s *Spec) { s.LoadBalancer.IdleTimeoutSeconds = 5000 }, "loadBalancer.idleTimeoutSeconds", "1 to 4000"},
		{"health path", func(s *Spec) { s.HealthCheck.Path = "health" }, "healthCheck.path", "start with /"},
		{"interval low", func(s *Spec) { s.HealthCheck.IntervalSeconds = 4 }, "healthCheck.intervalSeconds", "5 to 300"},
		{"interval high", func(s *Spec) { s.HealthCheck.IntervalSeconds = 301 }, "healthCheck.intervalSeconds", "5 to 300"},
		{"timeout not below interval", func(s *Spec) { s.HealthCheck.TimeoutSeconds = 30 }, "healthCheck.timeoutSeconds", "less than"},
		{"healthy threshold low", func(s *Spec) { s.HealthCheck.HealthyThreshold = 1 }, "healthCheck.healthyThreshold", "2 to 10"},
		{"unhealthy threshold high", func(s *Spec) { s.HealthCheck.UnhealthyThreshold = 11 }, "healthCheck.unhealthyThreshold", "2 to 10"},
		{"matcher", func(s *Spec) { s.HealthCheck.Matcher = "ok" }, "healthCheck.matcher", "200-299"},
		{"deregistration delay", func(s *Spec) { s.HealthCheck.DeregistrationDelaySeconds = 3601 }, "healthCheck.deregistrationDelaySeconds", "0 to 3600"},
		{"launch type", func(s *Spec) { s.Service.LaunchType = "EC2" }, "service.launchType", "FARGATE"},
		{"platform version", func(s *Spec) { s.Service.PlatformVersion = "newest" }, "service.platformVersion", "LATEST"},
		{"desired zero", func(s *Spec) { s.Service.DesiredCount = 0 }, "service.desiredCount", "1 to 5000"},
		{"desired above max", func(s *Spec) { s.Service.DesiredCount = 7 }, "service.desiredCount", "scaling.max (6)"},
		{"max below min", func(s *Spec) { s.Scaling.Max = 1 }, "scaling.max", "max >= min"},
		{"min zero", func(s *Spec) { s.Scaling.Min = 0; s.Service.DesiredCount = 1 }, "scaling.min", "1 to 5000"},
		{"cpu target", func(s *Spec) { s.Scaling.TargetCPUPercent = 150 }, "scaling.targetCpuPercent", "1 to 100"},
		{"cooldown", func(s *Spec) { s.Scaling.ScaleInCooldownSeconds = -1 }, "scaling.scaleInCooldownSeconds", "0 to 3600"},
		{"cpu size", func(s *Spec) { s.Task.CPU = 300 }, "task.cpu", "256, 512, 1024"},
		{"memory for cpu", func(s *Spec) { s.Task.CPU = 256; s.Task.Memory = 4096 }, "task.memory", "512, 1024, 2048"},
		{"memory step", func(s *Spec) { s.Task.CPU = 8192; s.Task.Memory = 17408 }, "task.memory", "16384, 20480"},
		{"architecture", func(s *Spec) { s.Task.Architecture = "arm64" }, "task.architecture", "ARM64, X86_64"},
		{"container port is listener port", func(s *Spec) { s.Task.ContainerPort = 80 }, "task.containerPort", "listener port"},
		{"stop timeout", func(s *Spec) { s.Task.StopTimeoutSeconds = 121 }, "task.stopTimeoutSeconds", "2 to 120"},
		{"root user", func(s *Spec) { s.Task.User = "0" }, "task.user", "non-root"},
		{"named user", func(s *Spec) { s.Task.User = "nobody" }, "task.user", "non-root"},
		{"env name", func(s *Spec) { s.Task.Environment = map[string]string{"A-B": "x"} }, "task.environment.A-B", "environment variable name"},
		{"env PORT", func(s *Spec) { s.Task.Environment = map[string]string{"PORT": "1"} }, "task.environment.PORT", "containerPort"},
		{"container health retries", func(s *Spec) { s.Task.HealthCheck.Retries = 11 }, "task.healthCheck.retries", "1 to 10"},
		{"bake time high", func(s *Spec) { s.Deployment.BakeTimeInMinutes = 1441 }, "deployment.bakeTimeInMinutes", "0 to 1440"},
		{"bake time negative", func(s *Spec) { s.Deployment.BakeTimeInMinutes = -1 }, "deployment.bakeTimeInMinutes", "0 to 1440"},
		{"hook timeout", func(s *Spec) { s.Deployment.HookTimeoutMinutes = 0 }, "deployment.hookTimeoutMinutes", "1 to 1440"},
		{"alarm period", func(s *Spec) { s.Alarms.PeriodSeconds = 45 }, "alarms.periodSeconds", "multiple of 60"},
		{"alarm threshold", func(s *Spec) { s.Alarms.Target5XXThreshold = 0 }, "alarms.target5xxThreshold", "1 to"},
		{"enforcement", func(s *Spec) { s.Deploywatch.Enforcement = "yes" }, "deploywatch.enforcement", "enforce, dry-run"},
		{"guard window", func(s *Spec) { s.Deploywatch.GuardWindowMinutes = 2000 }, "deploywatch.guardWindowMinutes", "0 to 1440"},
		{"lambda arch", func(s *Spec) { s.Deploywatch.Architecture = "ARM64" }, "deploywatch.architecture", "arm64, x86_64"},
		{"lambda memory", func(s *Spec) { s.Deploywatch.MemoryMB = 64 }, "deploywatch.memoryMB", "128 to 10240"},
		{"lambda timeout", func(s *Spec) { s.Deploywatch.TimeoutSeconds = 901 }, "deploywatch.timeoutSeconds", "1 to 900"},
		{"smoke check no status", func(s *Spec) { s.Deploywatch.SmokeChecks = []string{"/=200", "/version"} }, "deploywatch.smokeChecks[1]", "want path=status"},
		{"smoke check status range", func(s *Spec) { s.Deploywatch.SmokeChecks = []string{"/=700"} }, "deploywatch.smokeChecks[0]", "HTTP status"},
		{"smoke check comma", func(s *Spec) { s.Deploywatch.SmokeChecks = []string{"/a,/b=200"} }, "deploywatch.smokeChecks[0]", "no commas"},
		{"smoke check relative", func(s *Spec) { s.Deploywatch.SmokeChecks = []string{"health=200"} }, "deploywatch.smokeChecks[0]", "starting with /"},
		{"tracing otlp", func(s *Spec) { s.Deploywatch.Tracing = "otlp" }, "deploywatch.tracing", "-tags otlp"},
		{"tracing unknown", func(s *Spec) { s.Deploywatch.Tracing = "zipkin" }, "deploywatch.tracing", "want console or none"},
		{"smoke checks without test listener", func(s *Spec) {
			s.Deploywatch.SmokeChecks = []string{"/=200"}
			s.LoadBalancer.TestListener = false
		}, "deploywatch.smokeChecks", "loadBalancer.testListener"},
		{"retention", func(s *Spec) { s.Logs.RetentionDays = 2 }, "logs.retentionDays", "1, 3, 5"},
		{"bad env name", func(s *Spec) { s.Env = "Prod" }, "env", "lowercase"},
		{"test port range", func(s *Spec) { s.LoadBalancer.TestListenerPort = 70000 }, "loadBalancer.testListenerPort", "1 to 65535"},
		{"health timeout range", func(s *Spec) { s.HealthCheck.TimeoutSeconds = 1 }, "healthCheck.timeoutSeconds", "2 to 120"},
		{"grace period", func(s *Spec) { s.Service.HealthCheckGracePeriodSeconds = -1 }, "service.healthCheckGracePeriodSeconds", "0 to 2147483647"},
		{"max range", func(s *Spec) { s.Scaling.Max = 5001 }, "scaling.max", "1 to 5000"},
		{"scale-out cooldown", func(s *Spec) { s.Scaling.ScaleOutCooldownSeconds = 3601 }, "scaling.scaleOutCooldownSeconds", "0 to 3600"},
		{"container port range", func(s *Spec) { s.Task.ContainerPort = 0 }, "task.containerPort", "1 to 65535"},
		{"container is test port", func(s *Spec) { s.Task.ContainerPort = 8080 }, "task.containerPort", "listener port"},
		{"env HOST", func(s *Spec) { s.Task.Environment = map[string]string{"HOST": "x"} }, "task.environment.HOST", "containerPort"},
		{"container health interval", func(s *Spec) { s.Task.HealthCheck.IntervalSeconds = 4 }, "task.healthCheck.intervalSeconds", "5 to 300"},
		{"container health timeout", func(s *Spec) { s.Task.HealthCheck.TimeoutSeconds = 61 }, "task.healthCheck.timeoutSeconds", "2 to 60"},
		{"container start period", func(s *Spec) { s.Task.HealthCheck.StartPeriodSeconds = 301 }, "task.healthCheck.startPeriodSeconds", "0 to 300"},
		{"elb alarm threshold", func(s *Spec) { s.Alarms.ELB5XXThreshold = 0 }, "alarms.elb5xxThreshold", "1 to"},
		{"latency alarm threshold", func(s *Spec) { s.Alarms.LatencyThresholdMs = 0 }, "alarms.latencyThresholdMs", "1 to"},
		{"evaluation periods", func(s *Spec) { s.Alarms.EvaluationPeriods = 0 }, "alarms.evaluationPeriods", "1 to 100"},
		{"alarm period too long", func(s *Spec) { s.Alarms.PeriodSeconds = 86460 }, "alarms.periodSeconds", "up to 86400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			tt.change(&s)
			ps := s.Validate()
			i := slices.IndexFunc(ps, func(p Problem) bool { return p.Path == tt.path })
			if i < 0 {
				t.Fatalf("Validate() = %v, want a problem at %s", ps, tt.path)
			}
			if !strings.Contains(ps[i].Message, tt.contains) {
				t.Errorf("Validate() at %s = %q, want it to mention %q", tt.path, ps[i].Message, tt.contains)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	s := validSpec()
	s.Task.CPU = 300
	s.Deployment.BakeTimeInMinutes = 2000
	s.HealthCheck.HealthyThreshold = 1
	ps := s.Validate()
	var paths []string
	for _, p := range ps {
		paths = append(paths, p.Path)
	}
	want := []string{"healthCheck.healthyThreshold", "task.cpu", "deployment.bakeTimeInMinutes"}
	if !slices.Equal(paths, want) {
		t.Errorf("Validate() paths = %v, want %v", paths, want)
	}
}

func TestSubnetCIDRs(t *testing.T) {
	tests := []struct {
		vpc          string
		public, priv []string
	}{
		{"10.0.0.0/16", []string{"10.0.0.0/18", "10.0.64.0/18"}, []string{"10.0.128.0/18", "10.0.192.0/18"}},
		{"10.20.0.0/24", []string{"10.20.0.0/26", "10.20.0.64/26"}, []string{"10.20.0.128/26", "10.20.0.192/26"}},
	}
	for _, tt := range tests {
		s := validSpec()
		s.Network.VPCCIDR = tt.vpc
		pub, priv := s.SubnetCIDRs()
		if !slices.Equal(pub, tt.public) || !slices.Equal(priv, tt.priv) {
			t.Errorf("SubnetCIDRs(%s) = %v, %v, want %v, %v", tt.vpc, pub, priv, tt.public, tt.priv)
		}
	}
}

// TestValidateAcceptsTheLimits checks the rules do not reject values AWS
// accepts: each range's ends, and every Fargate size.
func TestValidateAcceptsTheLimits(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Spec)
	}{
		{"bake time 0", func(s *Spec) { s.Deployment.BakeTimeInMinutes = 0 }},
		{"bake time 1440", func(s *Spec) { s.Deployment.BakeTimeInMinutes = 1440 }},
		{"interval 5, timeout 2", func(s *Spec) { s.HealthCheck.IntervalSeconds = 5; s.HealthCheck.TimeoutSeconds = 2 }},
		{"interval 300", func(s *Spec) { s.HealthCheck.IntervalSeconds = 300 }},
		{"thresholds 10", func(s *Spec) { s.HealthCheck.HealthyThreshold = 10; s.HealthCheck.UnhealthyThreshold = 10 }},
		{"desired = min = max = 1", func(s *Spec) { s.Service.DesiredCount = 1; s.Scaling.Min = 1; s.Scaling.Max = 1 }},
		{"single NAT", func(s *Spec) { s.Network.NAT = NATSingle }},
		{"vpc /24", func(s *Spec) { s.Network.VPCCIDR = "192.168.10.0/24" }},
		{"no test listener, container on 8080", func(s *Spec) { s.LoadBalancer.TestListener = false; s.Task.ContainerPort = 8080 }},
		{"platform 1.4.0", func(s *Spec) { s.Service.PlatformVersion = "1.4.0" }},
		{"uid:gid", func(s *Spec) { s.Task.User = "65532:65532" }},
		{"dry run", func(s *Spec) { s.Deploywatch.Enforcement = EnforceDryRun }},
		{"alarm period 10", func(s *Spec) { s.Alarms.PeriodSeconds = 10 }},
		{"matcher range", func(s *Spec) { s.HealthCheck.Matcher = "200-299" }},
		{"other region", func(s *Spec) {
			s.Region = "eu-west-1"
			s.Network.AvailabilityZones = []string{"eu-west-1b", "eu-west-1c"}
		}},
	}
	for cpu, mems := range fargateSizes {
		for _, mem := range mems {
			tests = append(tests, struct {
				name   string
				change func(*Spec)
			}{fmt.Sprintf("fargate %d/%d", cpu, mem), func(s *Spec) { s.Task.CPU, s.Task.Memory = cpu, mem }})
		}
	}
	for _, tt := range tests {
		s := validSpec()
		tt.change(&s)
		if ps := s.Validate(); ps != nil {
			t.Errorf("%s: Validate() = %v, want no problems", tt.name, ps)
		}
	}
}
