package elbv2

import "github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"

// The wire and state types below serve three purposes at once: they decode
// query requests (member names are the Go field names), they encode XML
// responses (lists as <member>), and they persist as JSON.

// Action is a listener or rule action.
type Action struct {
	Type                string               `xml:"Type"`
	TargetGroupArn      string               `xml:"TargetGroupArn,omitempty" json:",omitempty"`
	Order               *int32               `xml:"Order,omitempty" json:",omitempty"`
	ForwardConfig       *ForwardConfig       `xml:"ForwardConfig,omitempty" json:",omitempty"`
	FixedResponseConfig *FixedResponseConfig `xml:"FixedResponseConfig,omitempty" json:",omitempty"`
	RedirectConfig      *RedirectConfig      `xml:"RedirectConfig,omitempty" json:",omitempty"`
}

// ForwardConfig forwards to weighted target groups.
type ForwardConfig struct {
	TargetGroups                []TargetGroupTuple           `xml:"TargetGroups>member"`
	TargetGroupStickinessConfig *TargetGroupStickinessConfig `xml:"TargetGroupStickinessConfig,omitempty" json:",omitempty"`
}

// TargetGroupTuple is one weighted target group of a forward action.
type TargetGroupTuple struct {
	TargetGroupArn string `xml:"TargetGroupArn"`
	Weight         *int32 `xml:"Weight,omitempty" json:",omitempty"`
}

// TargetGroupStickinessConfig is recorded; localcloud does not pin sessions.
type TargetGroupStickinessConfig struct {
	Enabled         *bool  `xml:"Enabled,omitempty" json:",omitempty"`
	DurationSeconds *int32 `xml:"DurationSeconds,omitempty" json:",omitempty"`
}

// FixedResponseConfig answers without a target.
type FixedResponseConfig struct {
	StatusCode  string `xml:"StatusCode"`
	ContentType string `xml:"ContentType,omitempty" json:",omitempty"`
	MessageBody string `xml:"MessageBody,omitempty" json:",omitempty"`
}

// RedirectConfig answers with a redirect; "#{host}"-style placeholders keep
// the request's value.
type RedirectConfig struct {
	StatusCode string `xml:"StatusCode"`
	Protocol   string `xml:"Protocol,omitempty" json:",omitempty"`
	Host       string `xml:"Host,omitempty" json:",omitempty"`
	Port       string `xml:"Port,omitempty" json:",omitempty"`
	Path       string `xml:"Path,omitempty" json:",omitempty"`
	Query      string `xml:"Query,omitempty" json:",omitempty"`
}

// RuleCondition is one condition of a rule; all of a rule's conditions must
// hold, and any of a condition's values.
type RuleCondition struct {
	Field                   string                   `xml:"Field,omitempty" json:",omitempty"`
	Values                  []string                 `xml:"Values>member" json:",omitempty"`
	PathPatternConfig       *ValuesConfig            `xml:"PathPatternConfig,omitempty" json:",omitempty"`
	HostHeaderConfig        *ValuesConfig            `xml:"HostHeaderConfig,omitempty" json:",omitempty"`
	HttpHeaderConfig        *HttpHeaderConfig        `xml:"HttpHeaderConfig,omitempty" json:",omitempty"`
	HttpRequestMethodConfig *ValuesConfig            `xml:"HttpRequestMethodConfig,omitempty" json:",omitempty"`
	SourceIpConfig          *ValuesConfig            `xml:"SourceIpConfig,omitempty" json:",omitempty"`
	QueryStringConfig       *QueryStringConditionCfg `xml:"QueryStringConfig,omitempty" json:",omitempty"`
}

// ValuesConfig is the shape shared by the path, host, method and source-ip
// condition configs.
type ValuesConfig struct {
	Values []string `xml:"Values>member"`
}

// HttpHeaderConfig matches one header against values.
type HttpHeaderConfig struct {
	HttpHeaderName string   `xml:"HttpHeaderName"`
	Values         []string `xml:"Values>member"`
}

// QueryStringConditionCfg matches query parameters.
type QueryStringConditionCfg struct {
	Values []QueryStringKeyValue `xml:"Values>member"`
}

// QueryStringKeyValue is one key/value of a query-string condition; an empty
// key matches any key.
type QueryStringKeyValue struct {
	Key   string `xml:"Key,omitempty" json:",omitempty"`
	Value string `xml:"Value"`
}

// Matcher is the health check's success codes, e.g. "200", "200-299", "200,202".
type Matcher struct {
	HttpCode string `xml:"HttpCode"`
}

// TargetDescription names a target in requests and responses.
type TargetDescription struct {
	Id               string `xml:"Id"`
	Port             *int32 `xml:"Port,omitempty" json:",omitempty"`
	AvailabilityZone string `xml:"AvailabilityZone,omitempty" json:",omitempty"`
}

// Tag is a resource tag.
type Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// Attribute is a target group or load balancer attribute.
type Attribute struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type loadBalancerXML struct {
	LoadBalancerArn       string             `xml:"LoadBalancerArn"`
	DNSName               string             `xml:"DNSName"`
	CanonicalHostedZoneId string             `xml:"CanonicalHostedZoneId"`
	CreatedTime           awsproto.Timestamp `xml:"CreatedTime"`
	LoadBalancerName      string             `xml:"LoadBalancerName"`
	Scheme                string             `xml:"Scheme"`
	VpcId                 string             `xml:"VpcId,omitempty"`
	State                 struct {
		Code string `xml:"Code"`
	} `xml:"State"`
	Type              string             `xml:"Type"`
	AvailabilityZones []availabilityZone `xml:"AvailabilityZones>member"`
	SecurityGroups    []string           `xml:"SecurityGroups>member"`
	IpAddressType     string             `xml:"IpAddressType"`
}

type availabilityZone struct {
	ZoneName string `xml:"ZoneName"`
	SubnetId string `xml:"SubnetId"`
}

type targetGroupXML struct {
	TargetGroupArn             string   `xml:"TargetGroupArn"`
	TargetGroupName            string   `xml:"TargetGroupName"`
	Protocol                   string   `xml:"Protocol,omitempty"`
	Port                       int32    `xml:"Port,omitempty"`
	VpcId                      string   `xml:"VpcId,omitempty"`
	HealthCheckProtocol        string   `xml:"HealthCheckProtocol"`
	HealthCheckPort            string   `xml:"HealthCheckPort"`
	HealthCheckEnabled         bool     `xml:"HealthCheckEnabled"`
	HealthCheckIntervalSeconds int32    `xml:"HealthCheckIntervalSeconds"`
	HealthCheckTimeoutSeconds  int32    `xml:"HealthCheckTimeoutSeconds"`
	HealthyThresholdCount      int32    `xml:"HealthyThresholdCount"`
	UnhealthyThresholdCount    int32    `xml:"UnhealthyThresholdCount"`
	HealthCheckPath            string   `xml:"HealthCheckPath"`
	Matcher                    Matcher  `xml:"Matcher"`
	LoadBalancerArns           []string `xml:"LoadBalancerArns>member"`
	TargetType                 string   `xml:"TargetType"`
	ProtocolVersion            string   `xml:"ProtocolVersion,omitempty"`
	IpAddressType              string   `xml:"IpAddressType"`
}

type listenerXML struct {
	ListenerArn     string   `xml:"ListenerArn"`
	LoadBalancerArn string   `xml:"LoadBalancerArn"`
	Port            int32    `xml:"Port"`
	Protocol        string   `xml:"Protocol"`
	DefaultActions  []Action `xml:"DefaultActions>member"`
}

type ruleXML struct {
	RuleArn    string          `xml:"RuleArn"`
	Priority   string          `xml:"Priority"`
	Conditions []RuleCondition `xml:"Conditions>member"`
	Actions    []Action        `xml:"Actions>member"`
	IsDefault  bool            `xml:"IsDefault"`
}

type targetHealthXML struct {
	Target          TargetDescription `xml:"Target"`
	HealthCheckPort string            `xml:"HealthCheckPort"`
	TargetHealth    struct {
		State       string `xml:"State"`
		Reason      string `xml:"Reason,omitempty"`
		Description string `xml:"Description,omitempty"`
	} `xml:"TargetHealth"`
}
