package platform

import (
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Problem is one broken rule of a Spec: the key it is about, as a dotted
// path of ship.yaml keys (task.cpu), and what is wrong, with the accepted
// values.
type Problem struct {
	Path    string
	Message string
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

// Problems is every broken rule of a Spec, as one error.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

var (
	namePattern    = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$`)
	azPattern      = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+[a-z]$`)
	versionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	uidPattern     = regexp.MustCompile(`^[0-9]+(:[0-9]+)?$`)
	matcherPattern = regexp.MustCompile(`^[1-5][0-9]{2}([-,][1-5][0-9]{2})*$`)
	envKeyPattern  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// maxNameLength keeps "<name>-<env>-green", the longest name we give a
// target group, within ELB's 32 characters.
const maxNameLength = 32 - len("-green")

// fargateSizes are the Fargate task sizes: CPU units → the memory (MiB)
// allowed with them. From the ECS developer guide, "Task CPU and memory".
var fargateSizes = map[int][]int{
	256:   {512, 1024, 2048},
	512:   steps(1024, 4096, 1024),
	1024:  steps(2048, 8192, 1024),
	2048:  steps(4096, 16384, 1024),
	4096:  steps(8192, 30720, 1024),
	8192:  steps(16384, 61440, 4096),
	16384: steps(32768, 122880, 8192),
}

func steps(from, to, step int) []int {
	var out []int
	for m := from; m <= to; m += step {
		out = append(out, m)
	}
	return out
}

// logRetentionDays are the values CloudWatch Logs accepts.
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Validate checks every rule and returns all the broken ones, or nil. The
// ranges are AWS's own limits, so a Spec that passes is one AWS accepts.
func (s Spec) Validate() Problems {
	var v validator
	v.match("name", s.Name, namePattern, "lowercase letters, digits and dashes, starting with a letter")
	v.match("env", s.Env, namePattern, "lowercase letters, digits and dashes, starting with a letter")
	if n := len(s.Prefix()); n > maxNameLength {
		v.add("name", "%q and environment %q make resource names of %d characters; shorten them to %d together (with the dash)", s.Name, s.Env, n, maxNameLength)
	}
	v.match("account", s.Account, accountPattern, "12 digits, quoted")
	v.match("region", s.Region, regionPattern, "a region such as us-east-1")

	s.validateNetwork(&v)

	lb := s.LoadBalancer
	v.between("loadBalancer.listenerPort", lb.ListenerPort, 1, 65535)
	v.between("loadBalancer.testListenerPort", lb.TestListenerPort, 1, 65535)
	if lb.TestListener && lb.TestListenerPort == lb.ListenerPort {
		v.add("loadBalancer.testListenerPort", "%d is the production listener's port; choose another", lb.TestListenerPort)
	}
	v.between("loadBalancer.idleTimeoutSeconds", lb.IdleTimeoutSeconds, 1, 4000)

	hc := s.HealthCheck
	if !strings.HasPrefix(hc.Path, "/") || len(hc.Path) > 1024 {
		v.add("healthCheck.path", "%q must start with / and be at most 1024 characters", hc.Path)
	}
	v.between("healthCheck.intervalSeconds", hc.IntervalSeconds, 5, 300)
	v.between("healthCheck.timeoutSeconds", hc.TimeoutSeconds, 2, 120)
	if hc.TimeoutSeconds >= hc.IntervalSeconds {
		v.add("healthCheck.timeoutSeconds", "%d must be less than healthCheck.intervalSeconds (%d)", hc.TimeoutSeconds, hc.IntervalSeconds)
	}
	v.between("healthCheck.healthyThreshold", hc.HealthyThreshold, 2, 10)
	v.between("healthCheck.unhealthyThreshold", hc.UnhealthyThreshold, 2, 10)
	v.match("healthCheck.matcher", hc.Matcher, matcherPattern, "HTTP codes such as 200, 200,204 or 200-299")
	v.between("healthCheck.deregistrationDelaySeconds", hc.DeregistrationDelaySeconds, 0, 3600)

	svc := s.Service
	v.oneOf("service.launchType", svc.LaunchType, []string{"FARGATE"})
	if svc.PlatformVersion != "LATEST" && !versionPattern.MatchString(svc.PlatformVersion) {
		v.add("service.platformVersion", "%q is not a platform version; want LATEST or a version such as 1.4.0", svc.PlatformVersion)
	}
	v.between("service.desiredCount", svc.DesiredCount, 1, 5000)
	v.between("service.healthCheckGracePeriodSeconds", svc.HealthCheckGracePeriodSeconds, 0, 2147483647)

	sc := s.Scaling
	v.between("scaling.min", sc.Min, 1, 5000)
	v.between("scaling.max", sc.Max, 1, 5000)
	if sc.Max < sc.Min {
		v.add("scaling.max", "%d is less than scaling.min (%d); want max >= min", sc.Max, sc.Min)
	}
	if svc.DesiredCount < sc.Min || svc.DesiredCount > sc.Max {
		v.add("service.desiredCount", "%d is outside scaling's range; want scaling.min (%d) <= desiredCount <= scaling.max (%d)", svc.DesiredCount, sc.Min, sc.Max)
	}
	if sc.TargetCPUPercent < 1 || sc.TargetCPUPercent > 100 {
		v.add("scaling.targetCpuPercent", "%s is out of range; want 1 to 100", strconv.FormatFloat(sc.TargetCPUPercent, 'g', -1, 64))
	}
	v.between("scaling.scaleInCooldownSeconds", sc.ScaleInCooldownSeconds, 0, 3600)
	v.between("scaling.scaleOutCooldownSeconds", sc.ScaleOutCooldownSeconds, 0, 3600)

	s.validateTask(&v)

	d := s.Deployment
	v.between("deployment.bakeTimeInMinutes", d.BakeTimeInMinutes, 0, 1440)
	v.between("deployment.hookTimeoutMinutes", d.HookTimeoutMinutes, 1, 1440)

	al := s.Alarms
	v.between("alarms.target5xxThreshold", al.Target5XXThreshold, 1, 1000000)
	v.between("alarms.elb5xxThreshold", al.ELB5XXThreshold, 1, 1000000)
	// An ALB waits at most its idle timeout (up to 4000 s) for a target.
	v.between("alarms.latencyThresholdMs", al.LatencyThresholdMs, 1, 4000000)
	if p := al.PeriodSeconds; p != 10 && p != 30 && (p < 60 || p%60 != 0 || p > 86400) {
		v.add("alarms.periodSeconds", "%d is not an alarm period; want 10, 30 or a multiple of 60 up to 86400", p)
	}
	v.between("alarms.evaluationPeriods", al.EvaluationPeriods, 1, 100)

	dw := s.Deploywatch
	v.oneOf("deploywatch.enforcement", dw.Enforcement, []string{EnforceRollback, EnforceDryRun})
	v.between("deploywatch.guardWindowMinutes", dw.GuardWindowMinutes, 0, 1440)
	v.oneOf("deploywatch.architecture", dw.Architecture, []string{"arm64", "x86_64"})
	v.between("deploywatch.memoryMB", dw.MemoryMB, 128, 10240)
	v.between("deploywatch.timeoutSeconds", dw.TimeoutSeconds, 1, 900)
	for i, c := range dw.SmokeChecks {
		path, status, ok := strings.Cut(c, "=")
		code, err := strconv.Atoi(status)
		if !ok || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, ", \t") || err != nil || code < 100 || code > 599 {
			v.add(fmt.Sprintf("deploywatch.smokeChecks[%d]", i), "%q is not a check; want path=status, a path starting with / (no commas or spaces) and an HTTP status, e.g. /=200", c)
		}
	}
	switch dw.Tracing {
	case "", TracingNone, TracingConsole:
	case "otlp":
		v.add("deploywatch.tracing", "otlp needs a deploywatch bootstrap built with -tags otlp, which ship up does not build; use %s (spans in the function's log), see docs/deploywatch.md", TracingConsole)
	default:
		v.add("deploywatch.tracing", "%q is not allowed; want %s or %s", dw.Tracing, TracingConsole, TracingNone)
	}
	if len(dw.SmokeChecks) > 0 && !lb.TestListener {
		v.add("deploywatch.smokeChecks", "needs loadBalancer.testListener: true; the smoke test goes through the test listener")
	}

	s.validateCI(&v)
	s.validateIAM(&v)

	if !slices.Contains(logRetentionDays, s.Logs.RetentionDays) {
		v.add("logs.retentionDays", "%d is not a CloudWatch Logs retention; want one of %s", s.Logs.RetentionDays, joinInts(logRetentionDays))
	}
	if len(v.problems) == 0 {
		return nil
	}
	return v.problems
}

func (s Spec) validateNetwork(v *validator) {
	n := s.Network
	prefix, err := netip.ParsePrefix(n.VPCCIDR)
	switch {
	case err != nil || !prefix.Addr().Is4():
		v.add("network.vpcCidr", "%q is not an IPv4 CIDR block such as 10.0.0.0/16", n.VPCCIDR)
	case prefix.Masked() != prefix:
		v.add("network.vpcCidr", "%q has host bits set; want %s", n.VPCCIDR, prefix.Masked())
	case prefix.Bits() < 16 || prefix.Bits() > 24:
		// AWS allows /16 to /28 for a VPC; four subnets of at least /28 need /24.
		v.add("network.vpcCidr", "%q has a /%d prefix; want /16 to /24", n.VPCCIDR, prefix.Bits())
	}
	if len(n.AvailabilityZones) != 2 {
		v.add("network.availabilityZones", "has %d zones; want exactly two distinct zones of region %s", len(n.AvailabilityZones), s.Region)
	} else {
		for i, az := range n.AvailabilityZones {
			path := fmt.Sprintf("network.availabilityZones[%d]", i)
			if !azPattern.MatchString(az) || !strings.HasPrefix(az, s.Region) {
				v.add(path, "%q is not a zone of region %s; want e.g. %sa", az, s.Region, s.Region)
			}
		}
		if n.AvailabilityZones[0] == n.AvailabilityZones[1] {
			v.add("network.availabilityZones", "names %s twice; want two distinct zones", n.AvailabilityZones[0])
		}
	}
	v.oneOf("network.nat", n.NAT, []string{NATPerAZ, NATSingle})
}

func (s Spec) validateTask(v *validator) {
	t := s.Task
	if mems, ok := fargateSizes[t.CPU]; !ok {
		v.add("task.cpu", "%d is not a Fargate CPU size; want one of %s", t.CPU, joinInts(slices.Sorted(maps.Keys(fargateSizes))))
	} else if !slices.Contains(mems, t.Memory) {
		v.add("task.memory", "%d MiB does not go with task.cpu %d; want one of %s", t.Memory, t.CPU, joinInts(mems))
	}
	v.oneOf("task.architecture", t.Architecture, []string{"ARM64", "X86_64"})
	v.between("task.containerPort", t.ContainerPort, 1, 65535)
	if t.ContainerPort == s.LoadBalancer.ListenerPort || (s.LoadBalancer.TestListener && t.ContainerPort == s.LoadBalancer.TestListenerPort) {
		// Not an AWS limit, but the task SG would then look like it admits
		// the listener port, which is what docs/decisions/0002 rules out.
		v.add("task.containerPort", "%d is also a listener port; keep the container port distinct", t.ContainerPort)
	}
	v.between("task.stopTimeoutSeconds", t.StopTimeoutSeconds, 2, 120)
	if t.User == "0" || strings.HasPrefix(t.User, "0:") || !uidPattern.MatchString(t.User) {
		v.add("task.user", "%q is not a non-root numeric uid[:gid]; want e.g. 65532", t.User)
	}
	for _, k := range slices.Sorted(maps.Keys(t.Environment)) {
		path := "task.environment." + k
		if !envKeyPattern.MatchString(k) {
			v.add(path, "%q is not an environment variable name; want letters, digits and _", k)
		}
		if k == "PORT" || k == "HOST" {
			v.add(path, "is set from task.containerPort; remove it")
		}
	}
	hc := t.HealthCheck
	v.between("task.healthCheck.intervalSeconds", hc.IntervalSeconds, 5, 300)
	v.between("task.healthCheck.timeoutSeconds", hc.TimeoutSeconds, 2, 60)
	v.between("task.healthCheck.retries", hc.Retries, 1, 10)
	v.between("task.healthCheck.startPeriodSeconds", hc.StartPeriodSeconds, 0, 300)
}

type validator struct{ problems Problems }

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) between(path string, got, lo, hi int) {
	if got < lo || got > hi {
		v.add(path, "%d is out of range; want %d to %d", got, lo, hi)
	}
}

func (v *validator) oneOf(path, got string, want []string) {
	if !slices.Contains(want, got) {
		v.add(path, "%q is not allowed; want one of %s", got, strings.Join(want, ", "))
	}
}

func (v *validator) match(path, got string, re *regexp.Regexp, want string) {
	if !re.MatchString(got) {
		v.add(path, "%q is not valid; want %s", got, want)
	}
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}
