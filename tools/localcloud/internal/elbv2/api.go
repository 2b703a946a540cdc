package elbv2

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// Register adds ELBv2 (query, 2015-12-01) to the mux.
func (b *Backend) Register(m *awsproto.Mux) {
	m.HandleQuery(awsproto.QueryService{
		Version:        "2015-12-01",
		SigningName:    "elasticloadbalancing",
		XMLNamespace:   "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
		ValidationCode: CodeValidation,
		Ops: map[string]awsproto.QueryOp{
			"CreateLoadBalancer":             awsproto.Op[createLoadBalancerInput](b.createLoadBalancer).Query(),
			"DescribeLoadBalancers":          awsproto.Op[describeLoadBalancersInput](b.describeLoadBalancers).Query(),
			"DeleteLoadBalancer":             awsproto.Op[arnInput](b.deleteLoadBalancer).Query(),
			"DescribeLoadBalancerAttributes": awsproto.Op[arnInput](b.describeLoadBalancerAttributes).Query(),
			"ModifyLoadBalancerAttributes":   awsproto.Op[modifyAttributesInput](b.modifyLoadBalancerAttributes).Query(),
			"CreateTargetGroup":              awsproto.Op[createTargetGroupInput](b.createTargetGroup).Query(),
			"ModifyTargetGroup":              awsproto.Op[createTargetGroupInput](b.modifyTargetGroup).Query(),
			"DescribeTargetGroups":           awsproto.Op[describeTargetGroupsInput](b.describeTargetGroups).Query(),
			"DeleteTargetGroup":              awsproto.Op[arnInput](b.deleteTargetGroup).Query(),
			"DescribeTargetGroupAttributes":  awsproto.Op[arnInput](b.describeTargetGroupAttributes).Query(),
			"ModifyTargetGroupAttributes":    awsproto.Op[modifyAttributesInput](b.modifyTargetGroupAttributes).Query(),
			"CreateListener":                 awsproto.Op[listenerInput](b.createListener).Query(),
			"ModifyListener":                 awsproto.Op[listenerInput](b.modifyListener).Query(),
			"DescribeListeners":              awsproto.Op[describeListenersInput](b.describeListeners).Query(),
			"DeleteListener":                 awsproto.Op[arnInput](b.deleteListener).Query(),
			"CreateRule":                     awsproto.Op[ruleInput](b.createRule).Query(),
			"ModifyRule":                     awsproto.Op[ruleInput](b.modifyRule).Query(),
			"DescribeRules":                  awsproto.Op[describeRulesInput](b.describeRules).Query(),
			"DeleteRule":                     awsproto.Op[arnInput](b.deleteRule).Query(),
			"SetRulePriorities":              awsproto.Op[setRulePrioritiesInput](b.setRulePriorities).Query(),
			"RegisterTargets":                awsproto.Op[targetsInput](b.registerTargets).Query(),
			"DeregisterTargets":              awsproto.Op[targetsInput](b.deregisterTargets).Query(),
			"DescribeTargetHealth":           awsproto.Op[targetsInput](b.describeTargetHealth).Query(),
			"AddTags":                        awsproto.Op[tagsInput](b.addTags).Query(),
			"RemoveTags":                     awsproto.Op[tagsInput](b.removeTags).Query(),
			"DescribeTags":                   awsproto.Op[tagsInput](b.describeTags).Query(),
		},
	})
}

// arnInput carries the one ARN the simple calls take.
type arnInput struct {
	LoadBalancerArn string
	TargetGroupArn  string
	ListenerArn     string
	RuleArn         string
}

type empty struct{}

// page cuts one page out of a full listing: Marker is the offset of the
// page, PageSize 1–400 (default 400); NextMarker is set while more remain.
func page[T any](items []T, marker string, pageSize *int32) ([]T, string, error) {
	size := 400
	if pageSize != nil {
		if *pageSize < 1 || *pageSize > 400 {
			return nil, "", awsproto.Validation(CodeValidation, awsproto.Violation{Field: "pageSize", Value: *pageSize, Constraint: "Member must have value between 1 and 400"})
		}
		size = int(*pageSize)
	}
	start := 0
	if marker != "" {
		n, err := strconv.Atoi(marker)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", awsproto.Errorf(CodeValidation, "Invalid marker '%s'", marker)
		}
		start = n
	}
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

// ---- load balancers ----

type createLoadBalancerInput struct {
	Name           string
	Subnets        []string
	SubnetMappings []struct{ SubnetId string }
	SecurityGroups []string
	Scheme         string
	Type           string
	IpAddressType  string
	Tags           []Tag
}

type loadBalancersOutput struct {
	LoadBalancers []loadBalancerXML `xml:"LoadBalancers>member"`
	NextMarker    string            `xml:"NextMarker,omitempty"`
}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)

func validateName(kind, name string) error {
	if name == "" {
		return awsproto.Validation(CodeValidation, awsproto.Required("name"))
	}
	if len(name) > 32 {
		return awsproto.Errorf(CodeValidation, "%s name '%s' cannot be longer than '32' characters", kind, name)
	}
	if !nameRE.MatchString(name) {
		return awsproto.Errorf(CodeValidation, "%s name '%s' can only contain characters that are alphanumeric characters or hyphens(-)", kind, name)
	}
	if strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") {
		return awsproto.Errorf(CodeValidation, "%s name '%s' cannot begin or end with a hyphen", kind, name)
	}
	return nil
}

func (b *Backend) createLoadBalancer(_ context.Context, in *createLoadBalancerInput) (any, error) {
	if err := validateName("Load balancer", in.Name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(in.Name, "internal-") {
		return nil, awsproto.Errorf(CodeValidation, "Load balancer name '%s' cannot begin with 'internal-'", in.Name)
	}
	typ := in.Type
	if typ == "" {
		typ = "application"
	}
	if typ != "application" {
		return nil, awsproto.Errorf(CodeValidation, "Load balancer type '%s' is not supported by localcloud, which emulates application load balancers only", typ)
	}
	scheme := in.Scheme
	if scheme == "" {
		scheme = "internet-facing"
	}
	if scheme != "internet-facing" && scheme != "internal" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Violation{Field: "scheme", Value: scheme, Constraint: "Member must satisfy enum value set: [internet-facing, internal]"})
	}
	subnets := append([]string(nil), in.Subnets...)
	for _, m := range in.SubnetMappings {
		subnets = append(subnets, m.SubnetId)
	}
	if len(subnets) < 2 {
		return nil, awsproto.Errorf(CodeValidation, "At least two subnets in two different Availability Zones must be specified")
	}
	ipType := in.IpAddressType
	if ipType == "" {
		ipType = "ipv4"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, lb := range b.lbs {
		if lb.Name == in.Name {
			if lb.Scheme == scheme && slices.Equal(lb.Subnets, subnets) {
				return loadBalancersOutput{LoadBalancers: []loadBalancerXML{lb.xml()}}, nil
			}
			return nil, awsproto.Errorf(CodeDuplicateLBName, "A load balancer with the same name '%s' exists, but with different settings", in.Name)
		}
	}
	id := newID()
	lb := &loadBalancer{
		ARN:     arnPrefix + "loadbalancer/app/" + in.Name + "/" + id,
		Name:    in.Name,
		DNSName: strings.ToLower(in.Name) + "-" + newDigits(10) + "." + Region + ".elb.amazonaws.com",
		Scheme:  scheme, Type: typ, IPAddressType: ipType,
		VpcID:   "vpc-" + newID()[:8],
		Subnets: subnets, SecurityGroups: in.SecurityGroups,
		Created: b.clock.Now().UTC(), Tags: in.Tags,
		Attributes: defaultLBAttributes(),
	}
	if scheme == "internal" {
		lb.DNSName = "internal-" + lb.DNSName
	}
	b.lbs[lb.ARN] = lb
	b.log.Info("load balancer created", "name", lb.Name)
	b.saveLocked()
	return loadBalancersOutput{LoadBalancers: []loadBalancerXML{lb.xml()}}, nil
}

func defaultLBAttributes() map[string]string {
	return map[string]string{
		"access_logs.s3.enabled":                                   "false",
		"access_logs.s3.bucket":                                    "",
		"access_logs.s3.prefix":                                    "",
		"client_keep_alive.seconds":                                "3600",
		"connection_logs.s3.enabled":                               "false",
		"connection_logs.s3.bucket":                                "",
		"connection_logs.s3.prefix":                                "",
		"deletion_protection.enabled":                              "false",
		"health_check_logs.s3.enabled":                             "false",
		"health_check_logs.s3.bucket":                              "",
		"health_check_logs.s3.prefix":                              "",
		"idle_timeout.timeout_seconds":                             "60",
		"load_balancing.cross_zone.enabled":                        "true",
		"routing.http.desync_mitigation_mode":                      "defensive",
		"routing.http.drop_invalid_header_fields.enabled":          "false",
		"routing.http.preserve_host_header.enabled":                "false",
		"routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
		"routing.http.xff_client_port.enabled":                     "false",
		"routing.http.xff_header_processing.mode":                  "append",
		"routing.http2.enabled":                                    "true",
		"waf.fail_open.enabled":                                    "false",
		"zonal_shift.config.enabled":                               "false",
	}
}

func (lb *loadBalancer) xml() loadBalancerXML {
	x := loadBalancerXML{
		LoadBalancerArn: lb.ARN, DNSName: lb.DNSName, CanonicalHostedZoneId: "Z35SXDOTRQ7X7K",
		CreatedTime: awsproto.NewTimestamp(lb.Created), LoadBalancerName: lb.Name, Scheme: lb.Scheme,
		VpcId: lb.VpcID, Type: lb.Type, SecurityGroups: lb.SecurityGroups, IpAddressType: lb.IPAddressType,
	}
	x.State.Code = "active"
	for i, s := range lb.Subnets {
		x.AvailabilityZones = append(x.AvailabilityZones, availabilityZone{ZoneName: Region + string(rune('a'+i%6)), SubnetId: s})
	}
	return x
}

type describeLoadBalancersInput struct {
	LoadBalancerArns []string
	Names            []string
	Marker           string
	PageSize         *int32
}

func (b *Backend) describeLoadBalancers(_ context.Context, in *describeLoadBalancersInput) (any, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out loadBalancersOutput
	switch {
	case len(in.LoadBalancerArns) > 0:
		for _, arn := range in.LoadBalancerArns {
			lb, ok := b.lbs[arn]
			if !ok {
				return nil, awsproto.Errorf(CodeLoadBalancerNotFound, "Load balancers '[%s]' not found", arn)
			}
			out.LoadBalancers = append(out.LoadBalancers, lb.xml())
		}
	case len(in.Names) > 0:
		for _, name := range in.Names {
			var found *loadBalancer
			for _, lb := range b.lbs {
				if lb.Name == name {
					found = lb
				}
			}
			if found == nil {
				return nil, awsproto.Errorf(CodeLoadBalancerNotFound, "Load balancers '[%s]' not found", name)
			}
			out.LoadBalancers = append(out.LoadBalancers, found.xml())
		}
	default:
		for _, lb := range b.lbs {
			out.LoadBalancers = append(out.LoadBalancers, lb.xml())
		}
		sort.Slice(out.LoadBalancers, func(i, j int) bool {
			return out.LoadBalancers[i].LoadBalancerName < out.LoadBalancers[j].LoadBalancerName
		})
	}
	return paged(&out, in.Marker, in.PageSize)
}

// deleteLoadBalancer removes the load balancer with its listeners and rules;
// deleting one that does not exist succeeds, as on AWS.
func (b *Backend) deleteLoadBalancer(_ context.Context, in *arnInput) (any, error) {
	if in.LoadBalancerArn == "" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("loadBalancerArn"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	lb, ok := b.lbs[in.LoadBalancerArn]
	if !ok {
		return empty{}, nil
	}
	if lb.Attributes["deletion_protection.enabled"] == "true" {
		return nil, awsproto.Errorf(CodeOperationNotAllowed, "Load balancer '%s' cannot be deleted because deletion protection is enabled", lb.ARN)
	}
	for _, l := range b.listeners {
		if l.LBARN == lb.ARN {
			b.deleteListenerLocked(l)
		}
	}
	delete(b.lbs, lb.ARN)
	b.reconcileHealthLocked()
	b.log.Info("load balancer deleted", "name", lb.Name)
	b.saveLocked()
	return empty{}, nil
}

type attributesOutput struct {
	Attributes []Attribute `xml:"Attributes>member"`
}

func sortedAttributes(m map[string]string) attributesOutput {
	out := attributesOutput{Attributes: []Attribute{}}
	for k, v := range m {
		out.Attributes = append(out.Attributes, Attribute{k, v})
	}
	sort.Slice(out.Attributes, func(i, j int) bool { return out.Attributes[i].Key < out.Attributes[j].Key })
	return out
}

func (b *Backend) describeLoadBalancerAttributes(_ context.Context, in *arnInput) (any, error) {
	if in.LoadBalancerArn == "" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("loadBalancerArn"))
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	lb, ok := b.lbs[in.LoadBalancerArn]
	if !ok {
		return nil, awsproto.Errorf(CodeLoadBalancerNotFound, "Load balancers '[%s]' not found", in.LoadBalancerArn)
	}
	return sortedAttributes(lb.Attributes), nil
}

type modifyAttributesInput struct {
	LoadBalancerArn string
	TargetGroupArn  string
	Attributes      []Attribute
}

func (b *Backend) modifyLoadBalancerAttributes(_ context.Context, in *modifyAttributesInput) (any, error) {
	if in.LoadBalancerArn == "" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("loadBalancerArn"))
	}
	if in.Attributes == nil {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("attributes"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	lb, ok := b.lbs[in.LoadBalancerArn]
	if !ok {
		return nil, awsproto.Errorf(CodeLoadBalancerNotFound, "Load balancers '[%s]' not found", in.LoadBalancerArn)
	}
	for _, a := range in.Attributes {
		if _, known := lb.Attributes[a.Key]; !known {
			return nil, awsproto.Errorf(CodeValidation, "Load balancer attribute key '%s' is not recognized", a.Key)
		}
		if strings.HasSuffix(a.Key, ".enabled") && a.Value != "true" && a.Value != "false" {
			return nil, awsproto.Errorf(CodeValidation, "Load balancer attribute value '%s' for key '%s' must be 'true' or 'false'", a.Value, a.Key)
		}
		if a.Key == "idle_timeout.timeout_seconds" {
			if n, err := strconv.Atoi(a.Value); err != nil || n < 1 || n > 4000 {
				return nil, awsproto.Errorf(CodeValidation, "Load balancer attribute value '%s' for key '%s' must be an integer between 1 and 4000", a.Value, a.Key)
			}
		}
	}
	for _, a := range in.Attributes {
		lb.Attributes[a.Key] = a.Value
	}
	b.saveLocked()
	return sortedAttributes(lb.Attributes), nil
}

// ---- target groups ----

type createTargetGroupInput struct {
	Name                       string
	TargetGroupArn             string // ModifyTargetGroup
	Protocol                   string
	ProtocolVersion            string
	Port                       *int32
	VpcId                      string
	HealthCheckProtocol        string
	HealthCheckPort            string
	HealthCheckEnabled         *bool
	HealthCheckPath            string
	HealthCheckIntervalSeconds *int32
	HealthCheckTimeoutSeconds  *int32
	HealthyThresholdCount      *int32
	UnhealthyThresholdCount    *int32
	Matcher                    *Matcher
	TargetType                 string
	IpAddressType              string
	Tags                       []Tag
}

type targetGroupsOutput struct {
	TargetGroups []targetGroupXML `xml:"TargetGroups>member"`
	NextMarker   string           `xml:"NextMarker,omitempty"`
}

// applyHealthCheck overlays the members the request set and validates the result.
func applyHealthCheck(hc HealthCheck, in *createTargetGroupInput) (HealthCheck, error) {
	if in.HealthCheckProtocol != "" {
		hc.Protocol = in.HealthCheckProtocol
	}
	if in.HealthCheckPort != "" {
		hc.Port = in.HealthCheckPort
	}
	if in.HealthCheckEnabled != nil {
		hc.Enabled = *in.HealthCheckEnabled
	}
	if in.HealthCheckPath != "" {
		hc.Path = in.HealthCheckPath
	}
	if in.HealthCheckIntervalSeconds != nil {
		hc.IntervalSeconds = *in.HealthCheckIntervalSeconds
	}
	if in.HealthCheckTimeoutSeconds != nil {
		hc.TimeoutSeconds = *in.HealthCheckTimeoutSeconds
	}
	if in.HealthyThresholdCount != nil {
		hc.HealthyThreshold = *in.HealthyThresholdCount
	}
	if in.UnhealthyThresholdCount != nil {
		hc.UnhealthyThreshold = *in.UnhealthyThresholdCount
	}
	if in.Matcher != nil {
		hc.Matcher = in.Matcher.HttpCode
	}
	var vs []awsproto.Violation
	rng := func(field string, v, lo, hi int32) {
		if v < lo || v > hi {
			vs = append(vs, awsproto.Violation{Field: field, Value: v, Constraint: fmt.Sprintf("Member must have value between %d and %d", lo, hi)})
		}
	}
	rng("healthCheckIntervalSeconds", hc.IntervalSeconds, 5, 300)
	rng("healthCheckTimeoutSeconds", hc.TimeoutSeconds, 2, 120)
	rng("healthyThresholdCount", hc.HealthyThreshold, 2, 10)
	rng("unhealthyThresholdCount", hc.UnhealthyThreshold, 2, 10)
	if len(vs) > 0 {
		return hc, awsproto.Validation(CodeValidation, vs...)
	}
	if hc.TimeoutSeconds >= hc.IntervalSeconds {
		return hc, awsproto.Errorf(CodeValidation, "Health check interval must be greater than the timeout.")
	}
	if !strings.HasPrefix(hc.Path, "/") {
		return hc, awsproto.Errorf(CodeValidation, "Health check path must begin with a '/' character")
	}
	if hc.Protocol != "HTTP" && hc.Protocol != "HTTPS" {
		return hc, awsproto.Errorf(CodeValidation, "Health check protocol '%s' is not supported for target groups with the protocol HTTP or HTTPS", hc.Protocol)
	}
	if hc.Port != "traffic-port" {
		if p, err := strconv.Atoi(hc.Port); err != nil || p < 1 || p > 65535 {
			return hc, awsproto.Errorf(CodeValidation, "Health check port '%s' must be 'traffic-port' or a port between 1 and 65535", hc.Port)
		}
	}
	if !validMatcher(hc.Matcher) {
		return hc, awsproto.Errorf(CodeValidation, "Health check matcher HTTP code '%s' must be a value between 200 and 499, a comma-separated list, or a range", hc.Matcher)
	}
	return hc, nil
}

var matcherRE = regexp.MustCompile(`^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$`)

func validMatcher(m string) bool {
	if !matcherRE.MatchString(m) {
		return false
	}
	for _, c := range regexp.MustCompile(`\d{3}`).FindAllString(m, -1) {
		if n, _ := strconv.Atoi(c); n < 200 || n > 499 {
			return false
		}
	}
	return true
}

func (b *Backend) createTargetGroup(_ context.Context, in *createTargetGroupInput) (any, error) {
	if err := validateName("Target group", in.Name); err != nil {
		return nil, err
	}
	tt := in.TargetType
	if tt == "" {
		tt = "instance"
	}
	if !slices.Contains([]string{"instance", "ip", "lambda", "alb"}, tt) {
		return nil, awsproto.Validation(CodeValidation, awsproto.Violation{Field: "targetType", Value: tt, Constraint: "Member must satisfy enum value set: [instance, ip, lambda, alb]"})
	}
	if tt != "ip" && tt != "instance" {
		return nil, awsproto.Errorf(CodeValidation, "Target type '%s' is not supported by localcloud, which routes to ip and instance targets only", tt)
	}
	switch {
	case in.Protocol == "":
		return nil, awsproto.Errorf(CodeValidation, "A protocol must be specified")
	case in.Port == nil:
		return nil, awsproto.Errorf(CodeValidation, "A port must be specified")
	case in.VpcId == "":
		return nil, awsproto.Errorf(CodeValidation, "A VPC ID must be specified")
	}
	if in.Protocol != "HTTP" && in.Protocol != "HTTPS" {
		return nil, awsproto.Errorf(CodeValidation, "Protocol '%s' is not supported by localcloud, which emulates application load balancers (HTTP, HTTPS) only", in.Protocol)
	}
	if *in.Port < 1 || *in.Port > 65535 {
		return nil, awsproto.Validation(CodeValidation, awsproto.Violation{Field: "port", Value: *in.Port, Constraint: "Member must have value between 1 and 65535"})
	}
	hc, err := applyHealthCheck(HealthCheck{
		Enabled: true, Protocol: in.Protocol, Port: "traffic-port", Path: "/",
		IntervalSeconds: 30, TimeoutSeconds: 5, HealthyThreshold: 5, UnhealthyThreshold: 2, Matcher: "200",
	}, in)
	if err != nil {
		return nil, err
	}
	pv := in.ProtocolVersion
	if pv == "" {
		pv = "HTTP1"
	}
	ipType := in.IpAddressType
	if ipType == "" {
		ipType = "ipv4"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, tg := range b.tgs {
		if tg.Name == in.Name {
			if tg.Protocol == in.Protocol && tg.Port == *in.Port && tg.VpcID == in.VpcId && tg.TargetType == tt && tg.HealthCheck == hc {
				return targetGroupsOutput{TargetGroups: []targetGroupXML{b.tgXMLLocked(tg)}}, nil
			}
			return nil, awsproto.Errorf(CodeDuplicateTGName, "A target group with the same name '%s' exists, but with different settings", in.Name)
		}
	}
	tg := &targetGroup{
		ARN: arnPrefix + "targetgroup/" + in.Name + "/" + newID(), Name: in.Name,
		Protocol: in.Protocol, ProtocolVersion: pv, Port: *in.Port, VpcID: in.VpcId, TargetType: tt, IPAddressType: ipType,
		HealthCheck: hc, Attributes: defaultTGAttributes(), Tags: in.Tags, targets: map[Target]*targetRuntime{},
	}
	b.tgs[tg.ARN] = tg
	b.log.Info("target group created", "name", tg.Name)
	b.saveLocked()
	return targetGroupsOutput{TargetGroups: []targetGroupXML{b.tgXMLLocked(tg)}}, nil
}

func (b *Backend) modifyTargetGroup(_ context.Context, in *createTargetGroupInput) (any, error) {
	if in.TargetGroupArn == "" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("targetGroupArn"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	tg, err := b.targetGroupLocked(in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	hc, err := applyHealthCheck(tg.HealthCheck, in)
	if err != nil {
		return nil, err
	}
	tg.HealthCheck = hc
	b.saveLocked()
	return targetGroupsOutput{TargetGroups: []targetGroupXML{b.tgXMLLocked(tg)}}, nil
}

func defaultTGAttributes() map[string]string {
	return map[string]string{
		"deregistration_delay.timeout_seconds":                                           "300",
		"stickiness.enabled":                                                             "false",
		"stickiness.type":                                                                "lb_cookie",
		"stickiness.lb_cookie.duration_seconds":                                          "86400",
		"stickiness.app_cookie.cookie_name":                                              "",
		"stickiness.app_cookie.duration_seconds":                                         "86400",
		"load_balancing.algorithm.type":                                                  "round_robin",
		"load_balancing.algorithm.anomaly_mitigation":                                    "off",
		"load_balancing.cross_zone.enabled":                                              "use_load_balancer_configuration",
		"slow_start.duration_seconds":                                                    "0",
		"target_group_health.dns_failover.minimum_healthy_targets.count":                 "1",
		"target_group_health.dns_failover.minimum_healthy_targets.percentage":            "off",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      "1",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
	}
}

func (b *Backend) tgXMLLocked(tg *targetGroup) targetGroupXML {
	hc := tg.HealthCheck
	return targetGroupXML{
		TargetGroupArn: tg.ARN, TargetGroupName: tg.Name, Protocol: tg.Protocol, Port: tg.Port, VpcId: tg.VpcID,
		HealthCheckProtocol: hc.Protocol, HealthCheckPort: hc.Port, HealthCheckEnabled: hc.Enabled,
		HealthCheckIntervalSeconds: hc.IntervalSeconds, HealthCheckTimeoutSeconds: hc.TimeoutSeconds,
		HealthyThresholdCount: hc.HealthyThreshold, UnhealthyThresholdCount: hc.UnhealthyThreshold,
		HealthCheckPath: hc.Path, Matcher: Matcher{HttpCode: hc.Matcher},
		LoadBalancerArns: b.tgLoadBalancersLocked(tg.ARN), TargetType: tg.TargetType,
		ProtocolVersion: tg.ProtocolVersion, IpAddressType: tg.IPAddressType,
	}
}

type describeTargetGroupsInput struct {
	LoadBalancerArn string
	TargetGroupArns []string
	Names           []string
	Marker          string
	PageSize        *int32
}

func (b *Backend) describeTargetGroups(_ context.Context, in *describeTargetGroupsInput) (any, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := targetGroupsOutput{TargetGroups: []targetGroupXML{}}
	switch {
	case len(in.TargetGroupArns) > 0:
		for _, arn := range in.TargetGroupArns {
			tg, err := b.targetGroupLocked(arn)
			if err != nil {
				return nil, awsproto.Errorf(CodeTargetGroupNotFound, "Target groups '[%s]' not found", arn)
			}
			out.TargetGroups = append(out.TargetGroups, b.tgXMLLocked(tg))
		}
		return paged(&out, in.Marker, in.PageSize)
	case len(in.Names) > 0:
		for _, name := range in.Names {
			var found *targetGroup
			for _, tg := range b.tgs {
				if tg.Name == name {
					found = tg
				}
			}
			if found == nil {
				return nil, awsproto.Errorf(CodeTargetGroupNotFound, "One or more target groups not found")
			}
			out.TargetGroups = append(out.TargetGroups, b.tgXMLLocked(found))
		}
		return paged(&out, in.Marker, in.PageSize)
	case in.LoadBalancerArn != "":
		if _, ok := b.lbs[in.LoadBalancerArn]; !ok {
			return nil, awsproto.Errorf(CodeLoadBalancerNotFound, "Load balancers '[%s]' not found", in.LoadBalancerArn)
		}
	}
	for _, tg := range b.tgs {
		x := b.tgXMLLocked(tg)
		if in.LoadBalancerArn != "" && !slices.Contains(x.LoadBalancerArns, in.LoadBalancerArn) {
			continue
		}
		out.TargetGroups = append(out.TargetGroups, x)
	}
	sort.Slice(out.TargetGroups, func(i, j int) bool { return out.TargetGroups[i].TargetGroupName < out.TargetGroups[j].TargetGroupName })
	return paged(&out, in.Marker, in.PageSize)
}

// deleteTargetGroup refuses a group a listener or rule still forwards to;
// deleting one that does not exist succeeds, as on AWS.
func (b *Backend) deleteTargetGroup(_ context.Context, in *arnInput) (any, error) {
	if in.TargetGroupArn == "" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("targetGroupArn"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	tg, ok := b.tgs[in.TargetGroupArn]
	if !ok {
		return empty{}, nil
	}
	if b.usedTargetGroupsLocked()[tg.ARN] {
		return nil, awsproto.Errorf(CodeResourceInUse, "Target group '%s' is currently in use by a listener or a rule", tg.ARN)
	}
	for _, rt := range tg.targets {
		rt.stop()
	}
	delete(b.tgs, tg.ARN)
	b.log.Info("target group deleted", "name", tg.Name)
	b.saveLocked()
	return empty{}, nil
}

func (b *Backend) describeTargetGroupAttributes(_ context.Context, in *arnInput) (any, error) {
	if in.TargetGroupArn == "" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("targetGroupArn"))
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	tg, err := b.targetGroupLocked(in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	return sortedAttributes(tg.Attributes), nil
}

func (b *Backend) modifyTargetGroupAttributes(_ context.Context, in *modifyAttributesInput) (any, error) {
	if in.TargetGroupArn == "" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("targetGroupArn"))
	}
	if in.Attributes == nil {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("attributes"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	tg, err := b.targetGroupLocked(in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	for _, a := range in.Attributes {
		if err := validateTGAttribute(tg, a); err != nil {
			return nil, err
		}
	}
	for _, a := range in.Attributes {
		tg.Attributes[a.Key] = a.Value
	}
	b.saveLocked()
	return sortedAttributes(tg.Attributes), nil
}

func validateTGAttribute(tg *targetGroup, a Attribute) error {
	if _, known := tg.Attributes[a.Key]; !known {
		return awsproto.Errorf(CodeValidation, "Target group attribute key '%s' is not recognized", a.Key)
	}
	intRange := func(lo, hi int) error {
		n, err := strconv.Atoi(a.Value)
		if err != nil || n < lo || n > hi {
			return awsproto.Errorf(CodeValidation, "Target group attribute '%s' value '%s' must be an integer between %d and %d", a.Key, a.Value, lo, hi)
		}
		return nil
	}
	switch a.Key {
	case "deregistration_delay.timeout_seconds":
		return intRange(0, 3600)
	case "slow_start.duration_seconds":
		return intRange(0, 900)
	case "stickiness.lb_cookie.duration_seconds", "stickiness.app_cookie.duration_seconds":
		return intRange(1, 604800)
	case "stickiness.enabled":
		if a.Value != "true" && a.Value != "false" {
			return awsproto.Errorf(CodeValidation, "Target group attribute '%s' value '%s' must be 'true' or 'false'", a.Key, a.Value)
		}
	case "load_balancing.algorithm.type":
		if !slices.Contains([]string{"round_robin", "least_outstanding_requests", "weighted_random"}, a.Value) {
			return awsproto.Errorf(CodeValidation, "Target group attribute '%s' value '%s' must be one of round_robin, least_outstanding_requests, weighted_random", a.Key, a.Value)
		}
	}
	return nil
}

// ---- listeners ----

type listenerInput struct {
	LoadBalancerArn string
	ListenerArn     string // ModifyListener
	Protocol        string
	Port            *int32
	DefaultActions  []Action
	Certificates    []struct{ CertificateArn string }
	SslPolicy       string
	Tags            []Tag
}

type listenersOutput struct {
	Listeners  []listenerXML `xml:"Listeners>member"`
	NextMarker string        `xml:"NextMarker,omitempty"`
}

func (b *Backend) listenerXMLLocked(l *listener) listenerXML {
	x := listenerXML{ListenerArn: l.ARN, LoadBalancerArn: l.LBARN, Port: l.Port, Protocol: l.Protocol}
	if r, ok := b.rules[l.DefaultRuleARN]; ok {
		x.DefaultActions = r.Actions
	}
	return x
}

func (b *Backend) createListener(_ context.Context, in *listenerInput) (any, error) {
	var vs []awsproto.Violation
	if in.LoadBalancerArn == "" {
		vs = append(vs, awsproto.Required("loadBalancerArn"))
	}
	if in.DefaultActions == nil {
		vs = append(vs, awsproto.Required("defaultActions"))
	}
	if len(vs) > 0 {
		return nil, awsproto.Validation(CodeValidation, vs...)
	}
	protocol := in.Protocol
	if protocol == "" {
		protocol = "HTTP"
	}
	if err := validateListener(protocol, in.Port, len(in.Certificates) > 0); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	lb, ok := b.lbs[in.LoadBalancerArn]
	if !ok {
		return nil, notFound(CodeLoadBalancerNotFound, "load balancers")
	}
	for _, l := range b.listeners {
		if l.LBARN == lb.ARN && l.Port == *in.Port {
			return nil, awsproto.Errorf(CodeDuplicateListener, "A listener already exists on this port for this load balancer '%s'", lb.ARN)
		}
	}
	l := &listener{
		ARN:   arnPrefix + "listener/app/" + lb.Name + "/" + lbID(lb.ARN) + "/" + newID(),
		LBARN: lb.ARN, Port: *in.Port, Protocol: protocol, Tags: in.Tags,
	}
	if err := b.validateActionsLocked(l, in.DefaultActions); err != nil {
		return nil, err
	}
	def := &rule{ARN: ruleARN(l), ListenerARN: l.ARN, IsDefault: true, Actions: normalizeActions(in.DefaultActions)}
	l.DefaultRuleARN = def.ARN
	if err := b.startProxyLocked(l); err != nil {
		return nil, awsproto.Errorf(CodeInvalidConfiguration, "%v", err)
	}
	b.listeners[l.ARN] = l
	b.rules[def.ARN] = def
	b.reconcileHealthLocked()
	b.saveLocked()
	return listenersOutput{Listeners: []listenerXML{b.listenerXMLLocked(l)}}, nil
}

func validateListener(protocol string, port *int32, hasCert bool) error {
	if protocol != "HTTP" && protocol != "HTTPS" {
		return awsproto.Errorf(CodeIncompatibleProtocol, "Protocol '%s' is not supported by localcloud, which emulates application load balancers (HTTP, HTTPS) only", protocol)
	}
	if port == nil {
		return awsproto.Errorf(CodeValidation, "A listener port must be specified")
	}
	if *port < 1 || *port > 65535 {
		return awsproto.Validation(CodeValidation, awsproto.Violation{Field: "port", Value: *port, Constraint: "Member must have value between 1 and 65535"})
	}
	if protocol == "HTTPS" && !hasCert {
		return awsproto.Errorf(CodeValidation, "A certificate must be specified for HTTPS listeners")
	}
	return nil
}

func lbID(lbARN string) string {
	parts := strings.Split(lbSuffix(lbARN), "/")
	return parts[len(parts)-1]
}

// ruleARN mints a rule ARN under the listener:
// listener-rule/app/<lb>/<lbid>/<listenerid>/<ruleid>.
func ruleARN(l *listener) string {
	return strings.Replace(l.ARN, ":listener/", ":listener-rule/", 1) + "/" + newID()
}

func (b *Backend) modifyListener(_ context.Context, in *listenerInput) (any, error) {
	if in.ListenerArn == "" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("listenerArn"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.listeners[in.ListenerArn]
	if !ok {
		return nil, notFound(CodeListenerNotFound, "listeners")
	}
	protocol, port := l.Protocol, l.Port
	if in.Protocol != "" {
		protocol = in.Protocol
	}
	if in.Port != nil {
		port = *in.Port
	}
	// An HTTPS listener keeps its certificate unless the protocol changes.
	hasCert := len(in.Certificates) > 0 || protocol == l.Protocol
	if err := validateListener(protocol, &port, hasCert); err != nil {
		return nil, err
	}
	if port != l.Port {
		for _, o := range b.listeners {
			if o.LBARN == l.LBARN && o.Port == port {
				return nil, awsproto.Errorf(CodeDuplicateListener, "A listener already exists on this port for this load balancer '%s'", l.LBARN)
			}
		}
	}
	if in.DefaultActions != nil {
		if err := b.validateActionsLocked(l, in.DefaultActions); err != nil {
			return nil, err
		}
	}
	if port != l.Port {
		old := *l
		l.Port = port
		if p, ok := b.proxies[l.ARN]; ok {
			p.close()
			delete(b.proxies, l.ARN)
		}
		if err := b.startProxyLocked(l); err != nil {
			*l = old
			if err2 := b.startProxyLocked(l); err2 != nil {
				b.log.Error("restart listener", "listener", l.ARN, "err", err2)
			}
			return nil, awsproto.Errorf(CodeInvalidConfiguration, "%v", err)
		}
	}
	l.Protocol = protocol
	if in.DefaultActions != nil {
		b.rules[l.DefaultRuleARN].Actions = normalizeActions(in.DefaultActions)
		b.log.Info("listener default actions set", "listener", l.ARN, "forward", forwardSummary(b.rules[l.DefaultRuleARN].Actions))
	}
	b.reconcileHealthLocked()
	b.saveLocked()
	return listenersOutput{Listeners: []listenerXML{b.listenerXMLLocked(l)}}, nil
}

type describeListenersInput struct {
	LoadBalancerArn string
	ListenerArns    []string
	Marker          string
	PageSize        *int32
}

func (b *Backend) describeListeners(_ context.Context, in *describeListenersInput) (any, error) {
	if in.LoadBalancerArn == "" && len(in.ListenerArns) == 0 {
		return nil, awsproto.Errorf(CodeValidation, "You must specify either listener ARNs or a load balancer ARN")
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := listenersOutput{Listeners: []listenerXML{}}
	if len(in.ListenerArns) > 0 {
		for _, arn := range in.ListenerArns {
			l, ok := b.listeners[arn]
			if !ok {
				return nil, notFound(CodeListenerNotFound, "listeners")
			}
			out.Listeners = append(out.Listeners, b.listenerXMLLocked(l))
		}
		return paged(&out, in.Marker, in.PageSize)
	}
	if _, ok := b.lbs[in.LoadBalancerArn]; !ok {
		return nil, notFound(CodeLoadBalancerNotFound, "load balancers")
	}
	for _, l := range b.listeners {
		if l.LBARN == in.LoadBalancerArn {
			out.Listeners = append(out.Listeners, b.listenerXMLLocked(l))
		}
	}
	sort.Slice(out.Listeners, func(i, j int) bool { return out.Listeners[i].Port < out.Listeners[j].Port })
	return paged(&out, in.Marker, in.PageSize)
}

func (b *Backend) deleteListener(_ context.Context, in *arnInput) (any, error) {
	if in.ListenerArn == "" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("listenerArn"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.listeners[in.ListenerArn]
	if !ok {
		return nil, notFound(CodeListenerNotFound, "listeners")
	}
	b.deleteListenerLocked(l)
	b.reconcileHealthLocked()
	b.saveLocked()
	return empty{}, nil
}

func (b *Backend) deleteListenerLocked(l *listener) {
	if p, ok := b.proxies[l.ARN]; ok {
		p.close()
		delete(b.proxies, l.ARN)
	}
	for arn, r := range b.rules {
		if r.ListenerARN == l.ARN {
			delete(b.rules, arn)
		}
	}
	delete(b.listeners, l.ARN)
	b.log.Info("listener deleted", "port", l.Port, "listener", l.ARN)
}

// ---- actions ----

var actionTypes = []string{"forward", "fixed-response", "redirect", "authenticate-oidc", "authenticate-cognito"}

// validateActionsLocked checks actions as AWS does, including that a target
// group serves one load balancer only.
func (b *Backend) validateActionsLocked(l *listener, actions []Action) error {
	if len(actions) == 0 {
		return awsproto.Errorf(CodeValidation, "At least one action must be specified")
	}
	terminal := 0
	for i, a := range actions {
		if !slices.Contains(actionTypes, a.Type) {
			return awsproto.Validation(CodeValidation, awsproto.Violation{Field: fmt.Sprintf("actions.%d.member.type", i+1), Value: a.Type, Constraint: "Member must satisfy enum value set: [" + strings.Join(actionTypes, ", ") + "]"})
		}
		switch a.Type {
		case "forward":
			terminal++
			if err := b.validateForwardLocked(l, a); err != nil {
				return err
			}
		case "fixed-response":
			terminal++
			if a.FixedResponseConfig == nil || !regexp.MustCompile(`^[245]\d\d$`).MatchString(a.FixedResponseConfig.StatusCode) {
				return awsproto.Errorf(CodeValidation, "A fixed-response action requires a status code of the form 2XX, 4XX or 5XX")
			}
		case "redirect":
			terminal++
			if a.RedirectConfig == nil || (a.RedirectConfig.StatusCode != "HTTP_301" && a.RedirectConfig.StatusCode != "HTTP_302") {
				return awsproto.Errorf(CodeValidation, "A redirect action requires a status code of HTTP_301 or HTTP_302")
			}
		}
	}
	if terminal != 1 {
		return awsproto.Errorf(CodeInvalidLBAction, "Exactly one forward, fixed-response or redirect action must be specified")
	}
	return nil
}

func (b *Backend) validateForwardLocked(l *listener, a Action) error {
	tuples := forwardTuples(a)
	if len(tuples) == 0 {
		return awsproto.Errorf(CodeValidation, "A target group ARN must be specified for a forward action")
	}
	if a.TargetGroupArn != "" && a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
		if len(a.ForwardConfig.TargetGroups) != 1 || a.ForwardConfig.TargetGroups[0].TargetGroupArn != a.TargetGroupArn {
			return awsproto.Errorf(CodeValidation, "You cannot specify both a target group ARN and a forward config with different target groups")
		}
	}
	if len(tuples) > 5 {
		return awsproto.Errorf(CodeValidation, "A forward action can have at most 5 target groups")
	}
	seen := map[string]bool{}
	for _, t := range tuples {
		if seen[t.TargetGroupArn] {
			return awsproto.Errorf(CodeValidation, "Target group '%s' is specified more than once", t.TargetGroupArn)
		}
		seen[t.TargetGroupArn] = true
		if w := weightOf(t); w < 0 || w > 999 {
			return awsproto.Validation(CodeValidation, awsproto.Violation{Field: "weight", Value: w, Constraint: "Member must have value between 0 and 999"})
		}
		if _, ok := b.tgs[t.TargetGroupArn]; !ok {
			return notFound(CodeTargetGroupNotFound, "target groups")
		}
		for _, other := range b.tgLoadBalancersLocked(t.TargetGroupArn) {
			if l != nil && other != l.LBARN {
				return awsproto.Errorf(CodeTGAssociationLimit, "The following target groups cannot be associated with more than one load balancer: %s", t.TargetGroupArn)
			}
		}
	}
	return nil
}

// normalizeActions fills in what AWS reports back: a forward action always
// has a ForwardConfig (weight 1 for a plain TargetGroupArn), a single-group
// one also the TargetGroupArn, and every action an Order.
func normalizeActions(actions []Action) []Action {
	out := make([]Action, len(actions))
	for i, a := range actions {
		if a.Order == nil {
			o := int32(i + 1)
			a.Order = &o
		}
		if a.Type == "forward" {
			fc := &ForwardConfig{}
			if a.ForwardConfig != nil {
				fc.TargetGroupStickinessConfig = a.ForwardConfig.TargetGroupStickinessConfig
			}
			for _, t := range forwardTuples(a) {
				w := weightOf(t)
				fc.TargetGroups = append(fc.TargetGroups, TargetGroupTuple{TargetGroupArn: t.TargetGroupArn, Weight: &w})
			}
			if fc.TargetGroupStickinessConfig == nil {
				off := false
				fc.TargetGroupStickinessConfig = &TargetGroupStickinessConfig{Enabled: &off}
			}
			a.ForwardConfig = fc
			a.TargetGroupArn = ""
			if len(fc.TargetGroups) == 1 {
				a.TargetGroupArn = fc.TargetGroups[0].TargetGroupArn
			}
		}
		out[i] = a
	}
	return out
}

// ---- rules ----

type ruleInput struct {
	ListenerArn string
	RuleArn     string // ModifyRule
	Priority    *int32
	Conditions  []RuleCondition
	Actions     []Action
	Tags        []Tag
}

type rulesOutput struct {
	Rules      []ruleXML `xml:"Rules>member"`
	NextMarker string    `xml:"NextMarker,omitempty"`
}

func (r *rule) xml() ruleXML {
	p := "default"
	if !r.IsDefault {
		p = strconv.Itoa(r.Priority)
	}
	conds := r.Conditions
	if conds == nil {
		conds = []RuleCondition{}
	}
	return ruleXML{RuleArn: r.ARN, Priority: p, Conditions: conds, Actions: r.Actions, IsDefault: r.IsDefault}
}

var conditionFields = []string{"path-pattern", "host-header", "http-header", "http-request-method", "query-string", "source-ip"}

func validateConditions(conds []RuleCondition) error {
	if len(conds) == 0 {
		return awsproto.Errorf(CodeValidation, "A rule must have at least one condition")
	}
	for i, c := range conds {
		if !slices.Contains(conditionFields, c.Field) {
			return awsproto.Validation(CodeValidation, awsproto.Violation{Field: fmt.Sprintf("conditions.%d.member.field", i+1), Value: c.Field, Constraint: "Member must satisfy enum value set: [" + strings.Join(conditionFields, ", ") + "]"})
		}
		n := len(c.Values)
		for _, cfg := range []*ValuesConfig{c.PathPatternConfig, c.HostHeaderConfig, c.HttpRequestMethodConfig, c.SourceIpConfig} {
			if cfg != nil {
				n += len(cfg.Values)
			}
		}
		if c.HttpHeaderConfig != nil {
			n += len(c.HttpHeaderConfig.Values)
		}
		if c.QueryStringConfig != nil {
			n += len(c.QueryStringConfig.Values)
		}
		if n == 0 {
			return awsproto.Errorf(CodeValidation, "A condition for the field '%s' must specify at least one value", c.Field)
		}
		if c.Field == "http-header" && (c.HttpHeaderConfig == nil || c.HttpHeaderConfig.HttpHeaderName == "") {
			return awsproto.Errorf(CodeValidation, "An http-header condition must specify HttpHeaderConfig with a header name")
		}
	}
	return nil
}

func (b *Backend) createRule(_ context.Context, in *ruleInput) (any, error) {
	var vs []awsproto.Violation
	if in.ListenerArn == "" {
		vs = append(vs, awsproto.Required("listenerArn"))
	}
	if in.Conditions == nil {
		vs = append(vs, awsproto.Required("conditions"))
	}
	if in.Priority == nil {
		vs = append(vs, awsproto.Required("priority"))
	}
	if in.Actions == nil {
		vs = append(vs, awsproto.Required("actions"))
	}
	if len(vs) > 0 {
		return nil, awsproto.Validation(CodeValidation, vs...)
	}
	if *in.Priority < 1 || *in.Priority > 50000 {
		return nil, awsproto.Validation(CodeValidation, awsproto.Violation{Field: "priority", Value: *in.Priority, Constraint: "Member must have value between 1 and 50000"})
	}
	if err := validateConditions(in.Conditions); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.listeners[in.ListenerArn]
	if !ok {
		return nil, notFound(CodeListenerNotFound, "listeners")
	}
	for _, r := range b.rules {
		if r.ListenerARN == l.ARN && !r.IsDefault && r.Priority == int(*in.Priority) {
			return nil, awsproto.Errorf(CodePriorityInUse, "Priority '%d' is currently in use", *in.Priority)
		}
	}
	if err := b.validateActionsLocked(l, in.Actions); err != nil {
		return nil, err
	}
	r := &rule{ARN: ruleARN(l), ListenerARN: l.ARN, Priority: int(*in.Priority), Conditions: in.Conditions, Actions: normalizeActions(in.Actions), Tags: in.Tags}
	b.rules[r.ARN] = r
	b.reconcileHealthLocked()
	b.saveLocked()
	return rulesOutput{Rules: []ruleXML{r.xml()}}, nil
}

func (b *Backend) modifyRule(_ context.Context, in *ruleInput) (any, error) {
	if in.RuleArn == "" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("ruleArn"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.rules[in.RuleArn]
	if !ok {
		return nil, notFound(CodeRuleNotFound, "rules")
	}
	if in.Conditions != nil {
		if r.IsDefault {
			return nil, awsproto.Errorf(CodeOperationNotAllowed, "Conditions cannot be specified for the default rule '%s'", r.ARN)
		}
		if err := validateConditions(in.Conditions); err != nil {
			return nil, err
		}
	}
	if in.Actions != nil {
		if err := b.validateActionsLocked(b.listeners[r.ListenerARN], in.Actions); err != nil {
			return nil, err
		}
		r.Actions = normalizeActions(in.Actions)
		b.log.Info("rule actions set", "rule", r.ARN, "forward", forwardSummary(r.Actions))
	}
	if in.Conditions != nil {
		r.Conditions = in.Conditions
	}
	b.reconcileHealthLocked()
	b.saveLocked()
	return rulesOutput{Rules: []ruleXML{r.xml()}}, nil
}

type describeRulesInput struct {
	ListenerArn string
	RuleArns    []string
	Marker      string
	PageSize    *int32
}

func (b *Backend) describeRules(_ context.Context, in *describeRulesInput) (any, error) {
	if in.ListenerArn == "" && len(in.RuleArns) == 0 {
		return nil, awsproto.Errorf(CodeValidation, "You must specify either listener rule ARNs or a listener ARN")
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := rulesOutput{Rules: []ruleXML{}}
	if len(in.RuleArns) > 0 {
		for _, arn := range in.RuleArns {
			r, ok := b.rules[arn]
			if !ok {
				return nil, notFound(CodeRuleNotFound, "rules")
			}
			out.Rules = append(out.Rules, r.xml())
		}
		return paged(&out, in.Marker, in.PageSize)
	}
	if _, ok := b.listeners[in.ListenerArn]; !ok {
		return nil, notFound(CodeListenerNotFound, "listeners")
	}
	var rules []*rule
	for _, r := range b.rules {
		if r.ListenerARN == in.ListenerArn {
			rules = append(rules, r)
		}
	}
	sort.Slice(rules, func(i, j int) bool {
		if rules[i].IsDefault != rules[j].IsDefault {
			return !rules[i].IsDefault
		}
		return rules[i].Priority < rules[j].Priority
	})
	for _, r := range rules {
		out.Rules = append(out.Rules, r.xml())
	}
	return paged(&out, in.Marker, in.PageSize)
}

func (b *Backend) deleteRule(_ context.Context, in *arnInput) (any, error) {
	if in.RuleArn == "" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("ruleArn"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.rules[in.RuleArn]
	if !ok {
		return nil, notFound(CodeRuleNotFound, "rules")
	}
	if r.IsDefault {
		return nil, awsproto.Errorf(CodeOperationNotAllowed, "Default rule '%s' cannot be deleted", r.ARN)
	}
	delete(b.rules, r.ARN)
	b.reconcileHealthLocked()
	b.saveLocked()
	return empty{}, nil
}

// ---- targets ----

type targetsInput struct {
	TargetGroupArn string
	Targets        []TargetDescription
}

func (in *targetsInput) targets() []Target {
	out := make([]Target, 0, len(in.Targets))
	for _, t := range in.Targets {
		var port int32
		if t.Port != nil {
			port = *t.Port
		}
		out = append(out, Target{ID: t.Id, Port: port})
	}
	return out
}

func (in *targetsInput) validate(needTargets bool) error {
	var vs []awsproto.Violation
	if in.TargetGroupArn == "" {
		vs = append(vs, awsproto.Required("targetGroupArn"))
	}
	if needTargets && in.Targets == nil {
		vs = append(vs, awsproto.Required("targets"))
	}
	for i, t := range in.Targets {
		if t.Id == "" {
			vs = append(vs, awsproto.Required(fmt.Sprintf("targets.%d.member.id", i+1)))
		}
	}
	if len(vs) > 0 {
		return awsproto.Validation(CodeValidation, vs...)
	}
	return nil
}

func (b *Backend) registerTargets(ctx context.Context, in *targetsInput) (any, error) {
	if err := in.validate(true); err != nil {
		return nil, err
	}
	return empty{}, b.RegisterTargets(ctx, in.TargetGroupArn, in.targets())
}

func (b *Backend) deregisterTargets(ctx context.Context, in *targetsInput) (any, error) {
	if err := in.validate(true); err != nil {
		return nil, err
	}
	return empty{}, b.DeregisterTargets(ctx, in.TargetGroupArn, in.targets())
}

type targetHealthOutput struct {
	TargetHealthDescriptions []targetHealthXML `xml:"TargetHealthDescriptions>member"`
}

func (b *Backend) describeTargetHealth(_ context.Context, in *targetsInput) (any, error) {
	if err := in.validate(false); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	tg, err := b.targetGroupLocked(in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	desc := func(rt *targetRuntime) targetHealthXML {
		port := rt.target.Port
		x := targetHealthXML{Target: TargetDescription{Id: rt.target.ID, Port: &port}, HealthCheckPort: strconv.Itoa(int(port))}
		if tg.HealthCheck.Port != "traffic-port" {
			x.HealthCheckPort = tg.HealthCheck.Port
		}
		x.TargetHealth.State, x.TargetHealth.Reason, x.TargetHealth.Description = rt.state, rt.reason, rt.description
		return x
	}
	out := targetHealthOutput{TargetHealthDescriptions: []targetHealthXML{}}
	if len(in.Targets) == 0 {
		for _, rt := range tg.sortedTargets() {
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, desc(rt))
		}
		return out, nil
	}
	for _, t := range in.targets() {
		if t.Port == 0 {
			t.Port = tg.Port
		}
		rt, ok := tg.targets[t]
		if !ok {
			rt = &targetRuntime{target: t, state: "unavailable", reason: "Target.NotRegistered", description: "Target is not registered to the target group"}
		}
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, desc(rt))
	}
	return out, nil
}

// ---- tags ----

type tagsInput struct {
	ResourceArns []string
	Tags         []Tag
	TagKeys      []string
}

type tagDescription struct {
	ResourceArn string `xml:"ResourceArn"`
	Tags        []Tag  `xml:"Tags>member"`
}

type tagsOutput struct {
	TagDescriptions []tagDescription `xml:"TagDescriptions>member"`
}

// tagsLocked finds the tag list of any ELBv2 resource.
func (b *Backend) tagsLocked(arn string) (*[]Tag, error) {
	if lb, ok := b.lbs[arn]; ok {
		return &lb.Tags, nil
	}
	if tg, ok := b.tgs[arn]; ok {
		return &tg.Tags, nil
	}
	if l, ok := b.listeners[arn]; ok {
		return &l.Tags, nil
	}
	if r, ok := b.rules[arn]; ok {
		return &r.Tags, nil
	}
	switch {
	case strings.Contains(arn, ":targetgroup/"):
		return nil, notFound(CodeTargetGroupNotFound, "target groups")
	case strings.Contains(arn, ":listener-rule/"):
		return nil, notFound(CodeRuleNotFound, "rules")
	case strings.Contains(arn, ":listener/"):
		return nil, notFound(CodeListenerNotFound, "listeners")
	}
	return nil, notFound(CodeLoadBalancerNotFound, "load balancers")
}

func (b *Backend) addTags(_ context.Context, in *tagsInput) (any, error) {
	if len(in.ResourceArns) == 0 || in.Tags == nil {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("resourceArns"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, arn := range in.ResourceArns {
		if _, err := b.tagsLocked(arn); err != nil {
			return nil, err
		}
	}
	for _, arn := range in.ResourceArns {
		tags, _ := b.tagsLocked(arn)
		for _, t := range in.Tags {
			*tags = slices.DeleteFunc(*tags, func(o Tag) bool { return o.Key == t.Key })
			*tags = append(*tags, t)
		}
	}
	b.saveLocked()
	return empty{}, nil
}

func (b *Backend) removeTags(_ context.Context, in *tagsInput) (any, error) {
	if len(in.ResourceArns) == 0 || in.TagKeys == nil {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("resourceArns"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, arn := range in.ResourceArns {
		tags, err := b.tagsLocked(arn)
		if err != nil {
			return nil, err
		}
		*tags = slices.DeleteFunc(*tags, func(o Tag) bool { return slices.Contains(in.TagKeys, o.Key) })
	}
	b.saveLocked()
	return empty{}, nil
}

func (b *Backend) describeTags(_ context.Context, in *tagsInput) (any, error) {
	if len(in.ResourceArns) == 0 {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("resourceArns"))
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := tagsOutput{}
	for _, arn := range in.ResourceArns {
		tags, err := b.tagsLocked(arn)
		if err != nil {
			return nil, err
		}
		out.TagDescriptions = append(out.TagDescriptions, tagDescription{ResourceArn: arn, Tags: append([]Tag{}, *tags...)})
	}
	return out, nil
}

// listing is an output of a Describe call that pages one list: it points at
// the list and at its NextMarker.
type listing[T any] interface {
	listing() (*[]T, *string)
}

func (o *loadBalancersOutput) listing() (*[]loadBalancerXML, *string) {
	return &o.LoadBalancers, &o.NextMarker
}

func (o *targetGroupsOutput) listing() (*[]targetGroupXML, *string) {
	return &o.TargetGroups, &o.NextMarker
}

func (o *listenersOutput) listing() (*[]listenerXML, *string) { return &o.Listeners, &o.NextMarker }

func (o *rulesOutput) listing() (*[]ruleXML, *string) { return &o.Rules, &o.NextMarker }

// paged cuts out's list down to the page that marker and size ask for and
// sets its NextMarker: all four Describe listings page the same way.
func paged[T any](out listing[T], marker string, size *int32) (any, error) {
	items, next := out.listing()
	var err error
	if *items, *next, err = page(*items, marker, size); err != nil {
		return nil, err
	}
	return out, nil
}

type setRulePrioritiesInput struct {
	RulePriorities []struct {
		RuleArn  string
		Priority *int32
	}
}

// setRulePriorities reorders rules atomically: all or none.
func (b *Backend) setRulePriorities(_ context.Context, in *setRulePrioritiesInput) (any, error) {
	if in.RulePriorities == nil {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("rulePriorities"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	next := map[string]int{}
	for i, rp := range in.RulePriorities {
		if rp.RuleArn == "" || rp.Priority == nil {
			return nil, awsproto.Validation(CodeValidation, awsproto.Required(fmt.Sprintf("rulePriorities.%d.member.priority", i+1)))
		}
		if *rp.Priority < 1 || *rp.Priority > 50000 {
			return nil, awsproto.Validation(CodeValidation, awsproto.Violation{Field: "priority", Value: *rp.Priority, Constraint: "Member must have value between 1 and 50000"})
		}
		r, ok := b.rules[rp.RuleArn]
		if !ok {
			return nil, notFound(CodeRuleNotFound, "rules")
		}
		if r.IsDefault {
			return nil, awsproto.Errorf(CodeOperationNotAllowed, "Default rule '%s' cannot have its priority set", r.ARN)
		}
		next[r.ARN] = int(*rp.Priority)
	}
	// Priorities must stay unique per listener once every change applies.
	taken := map[string]map[int]string{}
	for _, r := range b.rules {
		if r.IsDefault {
			continue
		}
		p := r.Priority
		if np, ok := next[r.ARN]; ok {
			p = np
		}
		if taken[r.ListenerARN] == nil {
			taken[r.ListenerARN] = map[int]string{}
		}
		if other, dup := taken[r.ListenerARN][p]; dup && other != r.ARN {
			return nil, awsproto.Errorf(CodePriorityInUse, "Priority '%d' is currently in use", p)
		}
		taken[r.ListenerARN][p] = r.ARN
	}
	out := rulesOutput{Rules: []ruleXML{}}
	for _, rp := range in.RulePriorities {
		r := b.rules[rp.RuleArn]
		r.Priority = next[r.ARN]
		out.Rules = append(out.Rules, r.xml())
	}
	b.saveLocked()
	return out, nil
}
