package platform

import (
	"slices"
	"strings"
	"testing"
)

func TestValidateIAM(t *testing.T) {
	tests := []struct {
		name     string
		boundary string
		contains string // "" when valid
		region   string // the spec's, when not us-east-1
	}{
		{"unset", "", "", ""},
		{"arn", "arn:aws:iam::123456789012:policy/shipyard-boundary", "", ""},
		{"arn with a path", "arn:aws:iam::123456789012:policy/boundaries/team-a/shipyard", "", ""},
		{"china partition", "arn:aws-cn:iam::123456789012:policy/shipyard-boundary", "", "cn-north-1"},
		{"gov partition", "arn:aws-us-gov:iam::123456789012:policy/shipyard-boundary", "", "us-gov-west-1"},
		{"china arn in a commercial region", "arn:aws-cn:iam::123456789012:policy/b", "partition aws-cn, but region us-east-1 is in partition aws", ""},
		{"commercial arn in a gov region", "arn:aws:iam::123456789012:policy/b", "partition aws, but region us-gov-east-1 is in partition aws-us-gov", "us-gov-east-1"},
		{"bare name", "shipyard-boundary", "", ""},
		{"bare name with IAM's punctuation", "Ship+yard=1,2.x@acme_b-c", "", ""},
		{"another account", "arn:aws:iam::210987654321:policy/shipyard-boundary", "not the environment's account 123456789012", ""},
		{"AWS managed policy", "arn:aws:iam::aws:policy/PowerUserAccess", "", ""},
		{"role arn", "arn:aws:iam::123456789012:role/shipyard-boundary", "not a managed policy", ""},
		{"other service", "arn:aws:s3:::shipyard-boundary", "not a managed policy", ""},
		{"unknown partition", "arn:aws-xx:iam::123456789012:policy/b", "not a managed policy", ""},
		{"short account", "arn:aws:iam::12345:policy/b", "not a managed policy", ""},
		{"no name", "arn:aws:iam::123456789012:policy/", "not a managed policy", ""},
		{"name with a path but no arn", "boundaries/shipyard", "not a managed policy", ""},
		{"wildcard", "arn:aws:iam::123456789012:policy/*", "not a managed policy", ""},
		{"space", "shipyard boundary", "not a managed policy", ""},
		{"substitution", "${BoundaryName}", "not a managed policy", ""},
		{"name too long", strings.Repeat("a", 129), "not a managed policy", ""},
		{"path too long", "arn:aws:iam::123456789012:policy/" + strings.Repeat("p/", 300) + "b", "longer than IAM's 512", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			s.IAM.PermissionsBoundary = tt.boundary
			if tt.region != "" {
				s.Region = tt.region
				s.Network.AvailabilityZones = []string{tt.region + "a", tt.region + "b"}
			}
			ps := s.Validate()
			if tt.contains == "" {
				if ps != nil {
					t.Fatalf("Validate(%q) = %v, want no problems", tt.boundary, ps)
				}
				return
			}
			i := slices.IndexFunc(ps, func(p Problem) bool { return p.Path == "iam.permissionsBoundary" })
			if i < 0 {
				t.Fatalf("Validate(%q) = %v, want a problem at iam.permissionsBoundary", tt.boundary, ps)
			}
			if !strings.Contains(ps[i].Message, tt.contains) {
				t.Errorf("Validate(%q) at iam.permissionsBoundary = %q, want it to mention %q", tt.boundary, ps[i].Message, tt.contains)
			}
		})
	}
}

func TestBoundaryIsName(t *testing.T) {
	for boundary, want := range map[string]bool{
		"":                                   false,
		"shipyard-boundary":                  true,
		"arn:aws:iam::123456789012:policy/b": false,
	} {
		if got := (IAM{PermissionsBoundary: boundary}).BoundaryIsName(); got != want {
			t.Errorf("IAM{%q}.BoundaryIsName() = %v, want %v", boundary, got, want)
		}
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{"us-east-1": "aws", "eu-west-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov"} {
		if got := Partition(region); got != want {
			t.Errorf("Partition(%s) = %s, want %s", region, got, want)
		}
	}
}
