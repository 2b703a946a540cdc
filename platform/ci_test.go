package platform

import (
	"slices"
	"strings"
	"testing"
)

func TestValidateCI(t *testing.T) {
	withCI := func(repo, branch, provider string) func(*Spec) {
		return func(s *Spec) {
			s.CI.GitHub.Repository, s.CI.OIDCProviderARN = repo, provider
			if branch != "" {
				s.CI.GitHub.Branch = branch
			}
		}
	}
	const provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
	tests := []struct {
		name     string
		change   func(*Spec)
		path     string // "" when valid
		contains string
	}{
		{"unset", func(*Spec) {}, "", ""},
		{"repository on the default branch", withCI("acme/shipyard", "", ""), "", ""},
		{"dots and dashes", withCI("acme-co/ship.yard_2", "release/v2.1", provider), "", ""},
		{"gov partition", func(s *Spec) {
			withCI("acme/shipyard", "", "arn:aws-us-gov:iam::123456789012:oidc-provider/token.actions.githubusercontent.com")(s)
		}, "", ""},
		{"no owner", withCI("shipyard", "", ""), "ci.github.repository", "owner/name"},
		{"url", withCI("https://github.com/acme/shipyard", "", ""), "ci.github.repository", "owner/name"},
		{"three parts", withCI("acme/ship/yard", "", ""), "ci.github.repository", "owner/name"},
		{"owner dash first", withCI("-acme/shipyard", "", ""), "ci.github.repository", "owner/name"},
		{"dot dot name", withCI("acme/..", "", ""), "ci.github.repository", "owner/name"},
		{"wildcard", withCI("acme/*", "", ""), "ci.github.repository", "owner/name"},
		{"branch wildcard", withCI("acme/shipyard", "release/*", ""), "ci.github.branch", "wildcards"},
		{"full ref", withCI("acme/shipyard", "refs/heads/main", ""), "ci.github.branch", "refs/heads/"},
		{"branch with space", withCI("acme/shipyard", "my branch", ""), "ci.github.branch", "branch name"},
		{"branch dot dot", withCI("acme/shipyard", "a..b", ""), "ci.github.branch", "branch name"},
		{"branch .lock", withCI("acme/shipyard", "main.lock", ""), "ci.github.branch", "branch name"},
		{"empty branch", func(s *Spec) { withCI("acme/shipyard", "", "")(s); s.CI.GitHub.Branch = "" }, "ci.github.branch", "branch name"},
		{"provider of another issuer", withCI("acme/shipyard", "", "arn:aws:iam::123456789012:oidc-provider/gitlab.com"), "ci.oidcProviderArn", "not a GitHub OIDC provider ARN"},
		{"provider of another account", withCI("acme/shipyard", "", "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"), "ci.oidcProviderArn", "not the environment's account 123456789012"},
		{"provider without repository", withCI("", "", provider), "ci.github.repository", "is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			tt.change(&s)
			ps := s.Validate()
			if tt.path == "" {
				if ps != nil {
					t.Fatalf("Validate() = %v, want no problems", ps)
				}
				return
			}
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

func TestCIDefaultsAndSubject(t *testing.T) {
	s := validSpec()
	if s.CI.Enabled() {
		t.Errorf("Defaults: CI.Enabled() = true, want no CI role unless ci.github.repository is set")
	}
	if s.CI.GitHub.Branch != "main" {
		t.Errorf("Defaults: ci.github.branch = %q, want main", s.CI.GitHub.Branch)
	}
	g := GitHub{Repository: "acme/shipyard", Branch: "release/v2"}
	if got, want := g.Subject(), "repo:acme/shipyard:ref:refs/heads/release/v2"; got != want {
		t.Errorf("Subject() = %q, want %q", got, want)
	}
}
