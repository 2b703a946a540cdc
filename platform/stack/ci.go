package stack

import (
	"strings"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/cfn"
)

// Logical ids of the CI resources in the bootstrap stack.
const (
	logicalOIDCProvider = "GitHubOIDCProvider"
	logicalDeployerRole = "DeployerRole"
)

// OutputDeployerRole is the bootstrap stack's output with the ARN of the
// role GitHub Actions assumes (only with a ci section).
const OutputDeployerRole = "DeployerRoleArn"

// ci adds what a GitHub Actions workflow needs to deploy the environment:
// GitHub's OIDC provider, unless the spec names the account's existing one,
// and a deployer role only that repository's branch can assume, with the
// deployer policies.
func ci(t *cfn.Template, spec platform.Spec) {
	c := spec.CI
	// The stack's tags (see tags), on both CI resources.
	resourceTags := []cfn.Tag{{Key: "shipyard:app", Value: cfn.String(spec.Name)}, {Key: "shipyard:env", Value: cfn.String(spec.Env)}}
	var provider cfn.Value = cfn.String(c.OIDCProviderARN)
	if c.OIDCProviderARN == "" {
		t.Add(logicalOIDCProvider, cfn.Of(cfn.OIDCProvider{
			Url:          "https://" + platform.GitHubOIDCHost,
			ClientIdList: []string{platform.GitHubOIDCAudience},
			Tags:         resourceTags,
		}))
		provider = cfn.Ref(logicalOIDCProvider) // Ref is the ARN
	}
	t.Add(logicalDeployerRole, cfn.Of(cfn.Role{
		Description: "GitHub Actions deployer: runs of " + c.GitHub.Repository + " on branch " + c.GitHub.Branch + " run ship up and ship deploy",
		AssumeRolePolicyDocument: cfn.PolicyDocument{Version: cfn.PolicyVersion, Statement: []cfn.Statement{{
			Effect:    "Allow",
			Principal: &cfn.Principal{Federated: provider},
			Action:    []string{"sts:AssumeRoleWithWebIdentity"},
			Condition: map[string]map[string]any{"StringEquals": {
				platform.GitHubOIDCHost + ":aud": platform.GitHubOIDCAudience,
				platform.GitHubOIDCHost + ":sub": c.GitHub.Subject(),
			}},
		}}},
		Tags: resourceTags,
	}))
	// Managed, not inline: together the policies pass the 10,240 characters
	// IAM allows a role's inline policies; each fits a managed policy's 6,144.
	for _, p := range DeployerPolicies(spec) {
		t.Add(deployerPolicyID(p.PolicyName), cfn.Of(cfn.ManagedPolicy{
			Description:    "ship deployer of " + spec.Prefix() + ": " + p.PolicyName + " (platform/stack/deployer.go)",
			PolicyDocument: p.PolicyDocument,
			Roles:          []cfn.Value{cfn.Ref(logicalDeployerRole)},
		}))
	}
	t.Output(OutputDeployerRole, "the role GitHub Actions assumes to deploy (the repository variable AWS_DEPLOY_ROLE_ARN)", cfn.GetAtt(logicalDeployerRole, "Arn"))
}

// deployerPolicyID is the logical id of a deployer policy: DeployerPolicy
// and the name in CamelCase (provision-network → DeployerPolicyProvisionNetwork).
func deployerPolicyID(name string) string {
	id := "DeployerPolicy"
	for part := range strings.SplitSeq(name, "-") {
		if part != "" {
			id += strings.ToUpper(part[:1]) + part[1:]
		}
	}
	return id
}
