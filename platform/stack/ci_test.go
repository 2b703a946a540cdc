package stack

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/cfn"
	"github.com/shipyard-ecs/shipyard/platform/cfn/cfntest"
)

// withCI is the production spec with a ci section, naming an existing OIDC
// provider when provider is not empty.
func withCI(t *testing.T, provider string) platform.Spec {
	t.Helper()
	s := specs(t)["production"]
	s.CI = platform.CI{GitHub: platform.GitHub{Repository: "shipyard-ecs/shipyard", Branch: "main"}, OIDCProviderARN: provider}
	if ps := s.Validate(); ps != nil {
		t.Fatalf("withCI: Validate() = %v", ps)
	}
	return s
}

func bootstrapDoc(t *testing.T, s platform.Spec) []byte {
	t.Helper()
	b, err := Bootstrap(s)
	if err != nil {
		t.Fatalf("Bootstrap(%s) = %v", s.Env, err)
	}
	doc, err := b.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestCIGolden(t *testing.T) {
	golden(t, filepath.Join("testdata", "ci-bootstrap.json"), bootstrapDoc(t, withCI(t, "")))
}

func TestCIBootstrap(t *testing.T) {
	existing := "arn:aws:iam::" + specs(t)["production"].Account + ":oidc-provider/token.actions.githubusercontent.com"
	tests := []struct {
		name         string
		spec         platform.Spec
		wantProvider bool
		federated    string
	}{
		{"new provider", withCI(t, ""), true, `{"Ref":"GitHubOIDCProvider"}`},
		{"existing provider", withCI(t, existing), false, `"` + existing + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := bootstrapDoc(t, tt.spec)
			if err := cfn.Check(doc); err != nil {
				t.Errorf("Check = %v", err)
			}
			p := parse(t, doc)
			if got := p.ofType("AWS::IAM::OIDCProvider"); (len(got) == 1) != tt.wantProvider {
				t.Errorf("OIDC providers = %v, want one: %v", got, tt.wantProvider)
			}
			if tt.wantProvider {
				if got := js(p.get("Resources.GitHubOIDCProvider.Properties.Url")); got != `"https://token.actions.githubusercontent.com"` {
					t.Errorf("provider Url = %s", got)
				}
				if got := js(p.get("Resources.GitHubOIDCProvider.Properties.ClientIdList")); got != `["sts.amazonaws.com"]` {
					t.Errorf("provider audiences = %s, want only sts.amazonaws.com", got)
				}
			}
			trust := "Resources.DeployerRole.Properties.AssumeRolePolicyDocument.Statement"
			if n := len(p.get(trust).([]any)); n != 1 {
				t.Fatalf("deployer trust has %d statements, want 1", n)
			}
			checks := map[string]string{
				trust + ".0.Effect":             `"Allow"`,
				trust + ".0.Action":             `["sts:AssumeRoleWithWebIdentity"]`,
				trust + ".0.Principal":          `{"Federated":` + tt.federated + `}`,
				trust + ".0.Condition":          `{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:shipyard-ecs/shipyard:ref:refs/heads/main"}}`,
				"Outputs.DeployerRoleArn.Value": `{"Fn::GetAtt":["DeployerRole","Arn"]}`,
			}
			for path, want := range checks {
				if got := js(p.get(path)); got != canon(want) {
					t.Errorf("%s = %s, want %s", path, got, want)
				}
			}
			// The role holds exactly the deployer policies, rendered once.
			if got := p.get("Resources.DeployerRole.Properties.Policies"); got != nil {
				t.Errorf("deployer role has inline policies %s, want only the managed ones", js(got))
			}
			ids := p.ofType("AWS::IAM::ManagedPolicy")
			policies := DeployerPolicies(tt.spec)
			if len(ids) != len(policies) {
				t.Fatalf("managed policies %v, want one per deployer policy (%d)", ids, len(policies))
			}
			for _, pol := range policies {
				id := deployerPolicyID(pol.PolicyName)
				if got, want := js(p.get("Resources."+id+".Properties.PolicyDocument")), js(pol.PolicyDocument); got != canon(want) {
					t.Errorf("%s document differs from DeployerPolicies' %s", id, pol.PolicyName)
				}
				if got := js(p.get("Resources." + id + ".Properties.Roles")); got != `[{"Ref":"DeployerRole"}]` {
					t.Errorf("%s roles = %s, want the deployer role", id, got)
				}
			}
		})
	}
}

func TestCIBootstrapSchemas(t *testing.T) {
	schemas := cfntest.Schemas(t)
	existing := "arn:aws:iam::" + specs(t)["production"].Account + ":oidc-provider/token.actions.githubusercontent.com"
	for _, s := range []platform.Spec{withCI(t, ""), withCI(t, existing)} {
		if err := schemas.Validate(bootstrapDoc(t, s)); err != nil {
			t.Errorf("Schemas.Validate(bootstrap with ci, provider %q) = %v", s.CI.OIDCProviderARN, err)
		}
	}
}

func TestNoCIWithoutRepository(t *testing.T) {
	p := parse(t, bootstrapDoc(t, specs(t)["production"]))
	for _, typ := range []string{"AWS::IAM::OIDCProvider", "AWS::IAM::Role"} {
		if ids := p.ofType(typ); len(ids) != 0 {
			t.Errorf("bootstrap without ci has %s %v, want none", typ, ids)
		}
	}
	if p.get("Outputs."+OutputDeployerRole) != nil {
		t.Errorf("bootstrap without ci outputs %s, want none", OutputDeployerRole)
	}
	// Only the OIDC provider's own permissions depend on creating it.
	for _, pol := range DeployerPolicies(withCI(t, "arn:aws:iam::"+specs(t)["production"].Account+":oidc-provider/token.actions.githubusercontent.com")) {
		if strings.Contains(js(pol), "CreateOpenIDConnectProvider") {
			t.Errorf("deployer with an existing provider may create providers; want no such permission")
		}
	}
}
