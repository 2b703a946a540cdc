package platform

import (
	"regexp"
	"strings"
)

// IAM is how the stacks' roles fit the account's IAM rules. With
// PermissionsBoundary set, every role the bootstrap and environment stacks
// create carries that managed policy as its permissions boundary, and the
// deployer may create and change roles only with it attached
// (docs/deployer-iam.md). Unset, nothing changes.
type IAM struct {
	// PermissionsBoundary is an existing customer managed policy of the
	// environment's account (its ARN, or its name alone, no path), or an
	// AWS managed policy's ARN.
	PermissionsBoundary string `json:"permissionsBoundary"`
}

var (
	// An IAM managed policy's ARN: a path of printable characters between
	// slashes, then the name.
	boundaryARNPattern = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::([0-9]{12}|aws):policy/((?:[\x21-\x2E\x30-\x7E]+/)*)([\w+=,.@-]{1,128})$`)
	// A policy name as IAM allows it.
	policyNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
)

// BoundaryIsName reports whether the boundary is given by name, to be
// resolved in the environment's own account and partition.
func (i IAM) BoundaryIsName() bool {
	return i.PermissionsBoundary != "" && policyNamePattern.MatchString(i.PermissionsBoundary)
}

func (s Spec) validateIAM(v *validator) {
	b := s.IAM.PermissionsBoundary
	if b == "" || policyNamePattern.MatchString(b) {
		return
	}
	m := boundaryARNPattern.FindStringSubmatch(b)
	switch {
	case m == nil:
		v.add("iam.permissionsBoundary", "%q is not a managed policy; want its ARN, arn:aws:iam::<account>:policy/<name>, or its name alone (letters, digits and +=,.@_-)", b)
	case len(m[3])+1 > 512:
		v.add("iam.permissionsBoundary", "%q has a path longer than IAM's 512 characters; check the ARN", b)
	case "aws"+m[1] != Partition(s.Region):
		v.add("iam.permissionsBoundary", "is in partition %s, but region %s is in partition %s; name a policy of the environment's partition, or give its name alone", "aws"+m[1], s.Region, Partition(s.Region))
	case m[2] != s.Account && m[2] != "aws": // AWS managed policies can be boundaries too
		v.add("iam.permissionsBoundary", "is in account %s, not the environment's account %s; name a policy of account %s, or give its name alone", m[2], s.Account, s.Account)
	}
}

// Partition is the AWS partition of a region: aws, aws-cn or aws-us-gov.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}
