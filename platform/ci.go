package platform

import (
	"regexp"
	"strings"
)

// CI is a delivery pipeline's access to the environment. With
// GitHub.Repository set, the bootstrap stack holds GitHub's OIDC provider
// (unless OIDCProviderARN names the account's existing one) and a deployer
// role that only workflow runs of that repository's branch can assume, with
// the deployer permissions (stack.DeployerPolicy). Unset, nothing is added.
//
// It can be set at the top of ship.yaml or per environment; per environment
// is usual, since each environment gets its own role.
type CI struct {
	GitHub GitHub `json:"github"`
	// OIDCProviderARN is the account's existing provider for
	// token.actions.githubusercontent.com. IAM holds one provider per URL
	// per account, so a second environment (or anything else) in the same
	// account must name the first one's instead of creating another.
	OIDCProviderARN string `json:"oidcProviderArn"`
}

// GitHub names the GitHub Actions runs that may deploy.
type GitHub struct {
	// Repository is owner/name, as GitHub shows it.
	Repository string `json:"repository"`
	// Branch is the branch whose workflow runs may assume the role.
	Branch string `json:"branch"`
}

// Enabled reports whether the environment has a CI deployer role.
func (c CI) Enabled() bool { return c.GitHub.Repository != "" }

// GitHubOIDCHost is GitHub Actions' token issuer; GitHubOIDCAudience the
// audience aws-actions/configure-aws-credentials asks its tokens for.
const (
	GitHubOIDCHost     = "token.actions.githubusercontent.com"
	GitHubOIDCAudience = "sts.amazonaws.com"
)

// Subject is the sub claim of the tokens GitHub Actions issues to workflow
// runs of the branch (jobs without a GitHub deployment environment).
func (g GitHub) Subject() string {
	return "repo:" + g.Repository + ":ref:refs/heads/" + g.Branch
}

var (
	// GitHub's rules: an owner is 1-39 letters, digits and inner dashes; a
	// repository name 1-100 letters, digits, '.', '_' and '-'.
	repositoryPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?/[A-Za-z0-9._-]{1,100}$`)
	// A branch name as git check-ref-format allows it, narrowed to what is
	// safe inside an exact IAM condition (no wildcards, no spaces).
	branchPattern       = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,255}$`)
	oidcProviderPattern = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::([0-9]{12}):oidc-provider/` + regexp.QuoteMeta(GitHubOIDCHost) + `$`)
)

func (s Spec) validateCI(v *validator) {
	c := s.CI
	if !c.Enabled() {
		if c.OIDCProviderARN != "" {
			v.add("ci.github.repository", "is not set, but ci.oidcProviderArn is; set the repository (owner/name) the deployer role is for, or remove ci")
		}
		return
	}
	repo := c.GitHub.Repository
	_, name, _ := strings.Cut(repo, "/")
	if !repositoryPattern.MatchString(repo) || name == "." || name == ".." {
		v.add("ci.github.repository", "%q is not a GitHub repository; want owner/name, e.g. acme/shipyard", repo)
	}
	b := c.GitHub.Branch
	if !branchPattern.MatchString(b) || strings.Contains(b, "..") || strings.Contains(b, "//") ||
		strings.HasPrefix(b, "/") || strings.HasPrefix(b, "-") || strings.HasPrefix(b, "refs/") ||
		strings.HasSuffix(b, "/") || strings.HasSuffix(b, ".") || strings.HasSuffix(b, ".lock") {
		v.add("ci.github.branch", "%q is not a branch name; want a name such as main or release/v2, without refs/heads/ or wildcards", b)
	}
	if arn := c.OIDCProviderARN; arn != "" {
		m := oidcProviderPattern.FindStringSubmatch(arn)
		switch {
		case m == nil:
			v.add("ci.oidcProviderArn", "%q is not a GitHub OIDC provider ARN; want arn:aws:iam::<account>:oidc-provider/%s, or leave it out to create one", arn, GitHubOIDCHost)
		case m[2] != s.Account:
			v.add("ci.oidcProviderArn", "is in account %s, not the environment's account %s; name the provider of account %s", m[2], s.Account, s.Account)
		}
	}
}
