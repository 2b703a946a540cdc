package cloudformation

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// recorded provisions a type that has no local meaning (VPC, subnets,
// routes, security groups, IAM): the resource is validated and recorded with
// the identifiers and attributes AWS would give it, and nothing else happens.
type recorded struct {
	// make builds the physical id and attributes from the properties. On
	// update it gets the previous result, so identifiers stay put.
	make func(r *Request, prev *Result) (Result, error)
}

func (p recorded) Create(_ context.Context, r *Request) (Result, error) { return p.make(r, nil) }

func (p recorded) Update(_ context.Context, r *Request, prev Result, _ map[string]any) (Result, error) {
	return p.make(r, &prev)
}

func (recorded) Delete(context.Context, *Request, Result) error { return nil }

// ec2ID is an EC2 resource id: prefix, a dash and 17 hex digits.
func ec2ID(prefix string) string { return prefix + "-" + randomHex(17) }

// keep returns prev's physical id when there is one, else fresh.
func keep(prev *Result, fresh func() string) string {
	if prev != nil && prev.PhysicalID != "" {
		return prev.PhysicalID
	}
	return fresh()
}

func keepAttr(prev *Result, name string, fresh func() string) string {
	if prev != nil {
		if v, ok := prev.Attributes[name].(string); ok && v != "" {
			return v
		}
	}
	return fresh()
}

func requireProps(r *Request, names ...string) error {
	var missing []string
	for _, n := range names {
		if _, ok := r.Properties[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return msgf("Properties validation failed for resource %s with message: #: required key [%s] not found", r.LogicalID, strings.Join(missing, ", "))
	}
	return nil
}

func recordedProvisioners() map[string]Provisioner {
	simple := func(prefix, idAttr string, required ...string) recorded {
		return recorded{make: func(r *Request, prev *Result) (Result, error) {
			if err := requireProps(r, required...); err != nil {
				return Result{}, err
			}
			id := keep(prev, func() string { return ec2ID(prefix) })
			attrs := map[string]any{}
			if idAttr != "" {
				attrs[idAttr] = id
			}
			return Result{PhysicalID: id, Attributes: attrs}, nil
		}}
	}
	return map[string]Provisioner{
		"AWS::EC2::VPC": recorded{make: func(r *Request, prev *Result) (Result, error) {
			if _, ok := r.Properties["CidrBlock"]; !ok {
				if err := requireProps(r, "Ipv4IpamPoolId"); err != nil {
					return Result{}, msgf("Properties validation failed for resource %s with message: #: required key [CidrBlock] not found", r.LogicalID)
				}
			}
			id := keep(prev, func() string { return ec2ID("vpc") })
			return Result{PhysicalID: id, Attributes: map[string]any{
				"VpcId":                 id,
				"CidrBlock":             str(r.Properties, "CidrBlock"),
				"CidrBlockAssociations": []any{keepAttr(prev, "CidrBlockAssociation", func() string { return ec2ID("vpc-cidr-assoc") })},
				"DefaultNetworkAcl":     keepAttr(prev, "DefaultNetworkAcl", func() string { return ec2ID("acl") }),
				"DefaultSecurityGroup":  keepAttr(prev, "DefaultSecurityGroup", func() string { return ec2ID("sg") }),
				"Ipv6CidrBlocks":        []any{},
			}}, nil
		}},
		"AWS::EC2::Subnet": recorded{make: func(r *Request, prev *Result) (Result, error) {
			if err := requireProps(r, "VpcId"); err != nil {
				return Result{}, err
			}
			id := keep(prev, func() string { return ec2ID("subnet") })
			az := str(r.Properties, "AvailabilityZone")
			if az == "" {
				az = r.Region + "a"
			}
			return Result{PhysicalID: id, Attributes: map[string]any{
				"SubnetId":                id,
				"VpcId":                   str(r.Properties, "VpcId"),
				"AvailabilityZone":        az,
				"AvailabilityZoneId":      "use1-az" + fmt.Sprint(int(az[len(az)-1]-'a')+1),
				"CidrBlock":               str(r.Properties, "CidrBlock"),
				"NetworkAclAssociationId": keepAttr(prev, "NetworkAclAssociationId", func() string { return ec2ID("aclassoc") }),
				"Ipv6CidrBlocks":          []any{},
				"OutpostArn":              "",
			}}, nil
		}},
		"AWS::EC2::InternetGateway": simple("igw", "InternetGatewayId"),
		"AWS::EC2::VPCGatewayAttachment": recorded{make: func(r *Request, prev *Result) (Result, error) {
			if err := requireProps(r, "VpcId"); err != nil {
				return Result{}, err
			}
			gw := str(r.Properties, "InternetGatewayId")
			if gw == "" {
				gw = str(r.Properties, "VpnGatewayId")
			}
			if gw == "" {
				return Result{}, msgf("Properties validation failed for resource %s with message: #: one of InternetGatewayId or VpnGatewayId is required", r.LogicalID)
			}
			typ := "igw"
			if strings.HasPrefix(gw, "vgw-") {
				typ = "vgw"
			}
			id := strings.ToUpper(typ) + "|" + str(r.Properties, "VpcId")
			return Result{PhysicalID: id, Attributes: map[string]any{"AttachmentType": typ}}, nil
		}},
		"AWS::EC2::EIP": recorded{make: func(r *Request, prev *Result) (Result, error) {
			ip := keep(prev, func() string {
				b := randomHex(6)
				return fmt.Sprintf("3.%d.%d.%d", hexByte(b[0:2]), hexByte(b[2:4]), hexByte(b[4:6])|1)
			})
			return Result{PhysicalID: ip, Attributes: map[string]any{
				"PublicIp":     ip,
				"AllocationId": keepAttr(prev, "AllocationId", func() string { return ec2ID("eipalloc") }),
			}}, nil
		}},
		"AWS::EC2::NatGateway":                  simple("nat", "NatGatewayId", "SubnetId"),
		"AWS::EC2::RouteTable":                  simple("rtb", "RouteTableId", "VpcId"),
		"AWS::EC2::SubnetRouteTableAssociation": simple("rtbassoc", "Id", "SubnetId", "RouteTableId"),
		"AWS::EC2::Route": recorded{make: func(r *Request, prev *Result) (Result, error) {
			if err := requireProps(r, "RouteTableId"); err != nil {
				return Result{}, err
			}
			dest := str(r.Properties, "DestinationCidrBlock")
			if dest == "" {
				dest = str(r.Properties, "DestinationIpv6CidrBlock")
			}
			if dest == "" {
				dest = str(r.Properties, "DestinationPrefixListId")
			}
			if dest == "" {
				return Result{}, msgf("Properties validation failed for resource %s with message: #: a destination (DestinationCidrBlock, DestinationIpv6CidrBlock or DestinationPrefixListId) is required", r.LogicalID)
			}
			id := str(r.Properties, "RouteTableId") + "|" + dest
			return Result{PhysicalID: id, Attributes: map[string]any{"CidrBlock": dest}}, nil
		}},
		"AWS::EC2::SecurityGroup": recorded{make: func(r *Request, prev *Result) (Result, error) {
			if err := requireProps(r, "GroupDescription"); err != nil {
				return Result{}, err
			}
			id := keep(prev, func() string { return ec2ID("sg") })
			return Result{PhysicalID: id, Attributes: map[string]any{"GroupId": id, "VpcId": str(r.Properties, "VpcId")}}, nil
		}},
		"AWS::EC2::SecurityGroupIngress": simple("sgr", "Id", "IpProtocol"),
		"AWS::EC2::SecurityGroupEgress":  simple("sgr", "Id", "IpProtocol", "GroupId"),
		"AWS::EC2::VPCEndpoint": recorded{make: func(r *Request, prev *Result) (Result, error) {
			if err := requireProps(r, "ServiceName", "VpcId"); err != nil {
				return Result{}, err
			}
			id := keep(prev, func() string { return ec2ID("vpce") })
			return Result{PhysicalID: id, Attributes: map[string]any{
				"Id": id, "CreationTimestamp": time.Now().UTC().Format(time.RFC3339),
				"DnsEntries": []any{}, "NetworkInterfaceIds": []any{},
			}}, nil
		}},
		"AWS::IAM::Role": recorded{make: func(r *Request, prev *Result) (Result, error) {
			if err := requireProps(r, "AssumeRolePolicyDocument"); err != nil {
				return Result{}, err
			}
			name := keep(prev, func() string {
				if n := str(r.Properties, "RoleName"); n != "" {
					return n
				}
				return physicalName(r.StackName, r.LogicalID, 64, false)
			})
			path := str(r.Properties, "Path")
			if path == "" {
				path = "/"
			}
			return Result{PhysicalID: name, Attributes: map[string]any{
				"Arn":    fmt.Sprintf("arn:aws:iam::%s:role%s%s", r.Account, path, name),
				"RoleId": keepAttr(prev, "RoleId", func() string { return "AROA" + randomUpper(17) }),
			}}, nil
		}},
		"AWS::IAM::Policy": recorded{make: func(r *Request, prev *Result) (Result, error) {
			if err := requireProps(r, "PolicyName", "PolicyDocument"); err != nil {
				return Result{}, err
			}
			id := keep(prev, func() string { return physicalName(r.StackName, r.LogicalID[:min(5, len(r.LogicalID))], 64, false) })
			return Result{PhysicalID: id, Attributes: map[string]any{"Id": id}}, nil
		}},
		"AWS::IAM::OIDCProvider": recorded{make: func(r *Request, prev *Result) (Result, error) {
			if err := requireProps(r, "Url"); err != nil {
				return Result{}, err
			}
			host := strings.TrimPrefix(strings.TrimPrefix(str(r.Properties, "Url"), "https://"), "http://")
			arn := fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", r.Account, host)
			return Result{PhysicalID: arn, Attributes: map[string]any{"Arn": arn}}, nil
		}},
		// A placeholder resource templates use to force an update; its Ref
		// is a presigned URL nobody calls here.
		"AWS::CloudFormation::WaitConditionHandle": recorded{make: func(r *Request, prev *Result) (Result, error) {
			url := keep(prev, func() string {
				return fmt.Sprintf("https://cloudformation-waitcondition-%s.s3.amazonaws.com/%s/%s", r.Region, strings.ReplaceAll(r.StackID, ":", "%3A"), r.LogicalID)
			})
			return Result{PhysicalID: url, Attributes: map[string]any{}}, nil
		}},
		"AWS::IAM::ManagedPolicy": recorded{make: func(r *Request, prev *Result) (Result, error) {
			if err := requireProps(r, "PolicyDocument"); err != nil {
				return Result{}, err
			}
			arn := keep(prev, func() string {
				name := str(r.Properties, "ManagedPolicyName")
				if name == "" {
					name = physicalName(r.StackName, r.LogicalID, 128, false)
				}
				path := str(r.Properties, "Path")
				if path == "" {
					path = "/"
				}
				return fmt.Sprintf("arn:aws:iam::%s:policy%s%s", r.Account, path, name)
			})
			return Result{PhysicalID: arn, Attributes: map[string]any{
				"PolicyArn": arn,
				"PolicyId":  keepAttr(prev, "PolicyId", func() string { return "ANPA" + randomUpper(17) }),
			}}, nil
		}},
	}
}

func hexByte(s string) int {
	n, _ := strconv.ParseUint(s, 16, 8) // s is two hex digits from randomHex
	return int(n)
}
