package cloudformation

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var english = message.NewPrinter(language.English)

// Schemas holds CloudFormation registry resource schemas (the
// AWS_Service_Type.json files), by type name. A nil *Schemas validates
// nothing and answers replacement questions from a built-in list.
type Schemas struct {
	types map[string]*typeSchema
}

type typeSchema struct {
	raw               map[string]any
	createOnly        []string // top-level property paths, "/properties/X/..."
	conditionalCreate []string
	readOnly          []string

	once     sync.Once
	compiled *jsonschema.Schema
	err      error
}

// LoadSchemas reads every *.json registry schema in dir.
func LoadSchemas(dir string) (*Schemas, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list schemas in %s: %w", dir, err)
	}
	s := &Schemas{types: map[string]*typeSchema{}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read schema: %w", err)
		}
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
		if err != nil {
			return nil, fmt.Errorf("decode schema %s: %w", f, err)
		}
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("decode schema %s: not an object", f)
		}
		name, _ := m["typeName"].(string)
		if name == "" {
			continue
		}
		ts := &typeSchema{raw: m}
		ts.createOnly = stringsOf(m["createOnlyProperties"])
		ts.conditionalCreate = stringsOf(m["conditionalCreateOnlyProperties"])
		ts.readOnly = stringsOf(m["readOnlyProperties"])
		s.types[name] = ts
	}
	if len(s.types) == 0 {
		return nil, fmt.Errorf("load schemas: no registry schemas (*.json with a typeName) in %s", dir)
	}
	return s, nil
}

func stringsOf(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Len is the number of types with a schema.
func (s *Schemas) Len() int {
	if s == nil {
		return 0
	}
	return len(s.types)
}

func (s *Schemas) get(typ string) *typeSchema {
	if s == nil {
		return nil
	}
	return s.types[typ]
}

func (ts *typeSchema) schema() (*jsonschema.Schema, error) {
	ts.once.Do(func() {
		doc := map[string]any{}
		for k, v := range ts.raw {
			switch k {
			case "$schema", "$id", "handlers", "tagging", "primaryIdentifier", "additionalIdentifiers",
				"readOnlyProperties", "writeOnlyProperties", "createOnlyProperties", "conditionalCreateOnlyProperties",
				"deprecatedProperties", "propertyTransform", "typeName", "sourceUrl", "documentationUrl", "replacementStrategy", "taggable", "resourceLink", "nonPublicProperties", "nonPublicDefinitions":
				continue
			}
			doc[k] = v
		}
		// Read-only properties are outputs; a template may not set them, but
		// the registry schemas list them among the properties, so they are
		// removed from "required".
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft7)
		url := "mem:///" + strings.ReplaceAll(ts.raw["typeName"].(string), "::", "_") + ".json"
		if ts.err = c.AddResource(url, doc); ts.err != nil {
			return
		}
		ts.compiled, ts.err = c.Compile(url)
	})
	return ts.compiled, ts.err
}

// Validate checks a resource's evaluated properties against its type's
// schema, after coercing strings to the numbers and booleans the schema
// wants (as CloudFormation does: "5000" is a valid Port). It returns the
// coerced properties. Values still unknown (from resources not yet created)
// are not judged. A type without a schema passes unchanged.
func (s *Schemas) Validate(typ string, props map[string]any) (map[string]any, error) {
	ts := s.get(typ)
	if ts == nil {
		return props, nil
	}
	sch, err := ts.schema()
	if err != nil {
		// A schema Go's regexp dialect cannot compile is not the template's
		// fault; say so rather than fail the resource.
		return props, nil
	}
	n := 0
	inst := toSchemaValue(props, &n)
	if inst == nil {
		inst = map[string]any{}
	}
	for range 50 {
		err := sch.Validate(inst)
		if err == nil {
			return fromSchemaValue(inst).(map[string]any), nil
		}
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, err
		}
		leaves := leafErrors(ve)
		fixed := false
		var msgs []string
		for _, l := range leaves {
			if coerce(inst, l) {
				fixed = true
				break
			}
			if atUnknown(inst, l.InstanceLocation) {
				continue
			}
			msgs = append(msgs, describe(l))
		}
		if fixed {
			continue
		}
		if len(msgs) == 0 {
			return fromSchemaValue(inst).(map[string]any), nil
		}
		sort.Strings(msgs)
		msgs = slices.Compact(msgs)
		return nil, errors.New(strings.Join(msgs, ", "))
	}
	return nil, msgf("#: properties do not settle to valid types")
}

const unknownMarker = "{{localcloud:unknown:"

// toSchemaValue copies v into the value types the validator knows, with
// Unknown values as marker strings, each different (two unknown subnets are
// not "equal items").
func toSchemaValue(v any, n *int) any {
	switch c := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(c))
		for k, e := range c {
			out[k] = toSchemaValue(e, n)
		}
		return out
	case []any:
		out := make([]any, len(c))
		for i, e := range c {
			out[i] = toSchemaValue(e, n)
		}
		return out
	case []string:
		return toSchemaValue(toAnyList(c), n)
	case Unknown:
		*n++
		return fmt.Sprintf("%s%d}}", unknownMarker, *n)
	}
	return v
}

func fromSchemaValue(v any) any {
	switch c := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(c))
		for k, e := range c {
			out[k] = fromSchemaValue(e)
		}
		return out
	case []any:
		out := make([]any, len(c))
		for i, e := range c {
			out[i] = fromSchemaValue(e)
		}
		return out
	case string:
		if strings.HasPrefix(c, unknownMarker) {
			return Unknown{Ref: "value"}
		}
	}
	return v
}

func leafErrors(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leafErrors(c)...)
	}
	return out
}

func lookup(inst any, loc []string) (any, bool) {
	cur := inst
	for _, tok := range loc {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func set(inst any, loc []string, v any) {
	if len(loc) == 0 {
		return
	}
	parent, ok := lookup(inst, loc[:len(loc)-1])
	if !ok {
		return
	}
	last := loc[len(loc)-1]
	switch c := parent.(type) {
	case map[string]any:
		c[last] = v
	case []any:
		if i, err := strconv.Atoi(last); err == nil && i >= 0 && i < len(c) {
			c[i] = v
		}
	}
}

func atUnknown(inst any, loc []string) bool {
	v, ok := lookup(inst, loc)
	if !ok {
		return false
	}
	if s, ok := v.(string); ok && strings.HasPrefix(s, unknownMarker) {
		return true
	}
	return false
}

// coerce fixes a string where the schema wants a number or boolean, and a
// scalar where it wants a string, when the value converts cleanly.
func coerce(inst any, l *jsonschema.ValidationError) bool {
	t, ok := l.ErrorKind.(*kind.Type)
	if !ok {
		return false
	}
	v, ok := lookup(inst, l.InstanceLocation)
	if !ok {
		return false
	}
	for _, want := range t.Want {
		switch c := v.(type) {
		case string:
			if strings.HasPrefix(c, unknownMarker) {
				return false
			}
			switch want {
			case "integer":
				if _, err := strconv.ParseInt(c, 10, 64); err == nil {
					set(inst, l.InstanceLocation, json.Number(c))
					return true
				}
			case "number":
				if _, err := strconv.ParseFloat(c, 64); err == nil {
					set(inst, l.InstanceLocation, json.Number(c))
					return true
				}
			case "boolean":
				if c == "true" || c == "false" {
					set(inst, l.InstanceLocation, c == "true")
					return true
				}
			}
		case json.Number, bool:
			if want == "string" {
				set(inst, l.InstanceLocation, scalarString(c))
				return true
			}
		}
	}
	return false
}

// describe renders one failure the way CloudFormation's handler validation
// words it ("#/Port: expected type: Integer, found: String").
func describe(l *jsonschema.ValidationError) string {
	path := "#"
	if len(l.InstanceLocation) > 0 {
		path = "#/" + strings.Join(l.InstanceLocation, "/")
	}
	switch k := l.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		return fmt.Sprintf("%s: extraneous key [%s] is not permitted", path, strings.Join(k.Properties, ", "))
	case *kind.Required:
		return fmt.Sprintf("%s: required key [%s] not found", path, strings.Join(k.Missing, ", "))
	case *kind.Type:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = titleCase(w)
		}
		return fmt.Sprintf("%s: expected type: %s, found: %s", path, strings.Join(want, " or "), titleCase(k.Got))
	case *kind.Enum:
		return fmt.Sprintf("%s: %v is not a valid enum value", path, k.Got)
	}
	return fmt.Sprintf("%s: %s", path, l.ErrorKind.LocalizedString(english))
}

func titleCase(s string) string {
	switch s {
	case "object":
		return "JSONObject"
	case "array":
		return "JSONArray"
	}
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// builtinCreateOnly lists, for the types localcloud provisions, the
// properties whose change replaces the resource, for when no registry
// schemas are loaded. It mirrors the registry's createOnlyProperties.
var builtinCreateOnly = map[string][]string{
	"AWS::EC2::VPC":                               {"CidrBlock", "Ipv4IpamPoolId", "Ipv4NetmaskLength"},
	"AWS::EC2::Subnet":                            {"VpcId", "AvailabilityZone", "AvailabilityZoneId", "CidrBlock", "OutpostArn", "Ipv4IpamPoolId", "Ipv4NetmaskLength"},
	"AWS::EC2::InternetGateway":                   {},
	"AWS::EC2::VPCGatewayAttachment":              {"VpcId"},
	"AWS::EC2::EIP":                               {"NetworkBorderGroup", "TransferAddress", "IpamPoolId", "Address"},
	"AWS::EC2::NatGateway":                        {"SubnetId", "VpcId", "AllocationId", "ConnectivityType", "PrivateIpAddress", "AvailabilityMode"},
	"AWS::EC2::RouteTable":                        {"VpcId"},
	"AWS::EC2::Route":                             {"RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId"},
	"AWS::EC2::SubnetRouteTableAssociation":       {"SubnetId", "RouteTableId"},
	"AWS::EC2::SecurityGroup":                     {"GroupDescription", "GroupName", "VpcId"},
	"AWS::EC2::SecurityGroupIngress":              {"GroupId", "GroupName", "IpProtocol", "FromPort", "ToPort", "CidrIp", "CidrIpv6", "SourceSecurityGroupId", "SourceSecurityGroupName", "SourceSecurityGroupOwnerId", "SourcePrefixListId"},
	"AWS::EC2::SecurityGroupEgress":               {"GroupId", "IpProtocol", "FromPort", "ToPort", "CidrIp", "CidrIpv6", "DestinationSecurityGroupId", "DestinationPrefixListId"},
	"AWS::EC2::VPCEndpoint":                       {"ServiceName", "VpcEndpointType", "VpcId"},
	"AWS::IAM::Role":                              {"RoleName", "Path"},
	"AWS::IAM::Policy":                            {},
	"AWS::IAM::ManagedPolicy":                     {"ManagedPolicyName", "Path", "Description"},
	"AWS::ElasticLoadBalancingV2::LoadBalancer":   {"Name", "Scheme"},
	"AWS::ElasticLoadBalancingV2::TargetGroup":    {"Name", "Port", "Protocol", "TargetType", "VpcId", "ProtocolVersion", "IpAddressType"},
	"AWS::ElasticLoadBalancingV2::Listener":       {"LoadBalancerArn"},
	"AWS::ElasticLoadBalancingV2::ListenerRule":   {"ListenerArn"},
	"AWS::CloudWatch::Alarm":                      {"AlarmName"},
	"AWS::Logs::LogGroup":                         {"LogGroupName"},
	"AWS::ECS::Cluster":                           {"ClusterName"},
	"AWS::ECR::Repository":                        {"RepositoryName", "EncryptionConfiguration"},
	"AWS::Events::Rule":                           {"Name", "EventBusName"},
	"AWS::Lambda::Function":                       {"FunctionName"},
	"AWS::Lambda::Permission":                     {"Action", "EventSourceToken", "FunctionName", "FunctionUrlAuthType", "Principal", "PrincipalOrgID", "SourceAccount", "SourceArn"},
	"AWS::S3::Bucket":                             {"BucketName", "ObjectLockEnabled"},
	"AWS::S3::BucketPolicy":                       {"Bucket"},
	"AWS::DynamoDB::Table":                        {"TableName", "ImportSourceSpecification"},
	"AWS::SQS::Queue":                             {"FifoQueue", "QueueName"},
	"AWS::SQS::QueuePolicy":                       {},
	"AWS::SNS::Topic":                             {"FifoTopic", "TopicName"},
	"AWS::SNS::Subscription":                      {"Endpoint", "Protocol", "TopicArn"},
	"AWS::SNS::TopicPolicy":                       {},
	"AWS::IAM::OIDCProvider":                      {"Url"},
	"AWS::CloudFormation::WaitConditionHandle":    {},
	"AWS::ApplicationAutoScaling::ScalableTarget": {"ResourceId", "ScalableDimension", "ServiceNamespace"},
	"AWS::ApplicationAutoScaling::ScalingPolicy":  {"PolicyName", "ResourceId", "ScalableDimension", "ScalingTargetId", "ServiceNamespace"},
}

// replacement says whether changing the given top-level properties of a
// resource of type typ replaces it: "True", "Conditional" or "False", and
// for each property whether it alone requires recreation ("Always",
// "Conditionally", "Never").
func (s *Schemas) replacement(typ string, changed []string) (string, map[string]string) {
	per := map[string]string{}
	var createOnly, conditional []string
	if ts := s.get(typ); ts != nil {
		for _, p := range ts.createOnly {
			createOnly = append(createOnly, topProperty(p))
		}
		for _, p := range ts.conditionalCreate {
			conditional = append(conditional, topProperty(p))
		}
	} else {
		createOnly = builtinCreateOnly[typ]
	}
	result := "False"
	for _, c := range changed {
		switch {
		case slices.Contains(createOnly, c):
			per[c] = "Always"
			result = "True"
		case slices.Contains(conditional, c):
			per[c] = "Conditionally"
			if result == "False" {
				result = "Conditional"
			}
		default:
			per[c] = "Never"
		}
	}
	return result, per
}

func topProperty(p string) string {
	p = strings.TrimPrefix(p, "/properties/")
	top, _, _ := strings.Cut(p, "/")
	return top
}
