package stack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/cfn"
	"github.com/shipyard-ecs/shipyard/platform/cfn/cfntest"
)

// withBoundary is the production spec with a ci section and the permissions
// boundary b.
func withBoundary(t *testing.T, b string) platform.Spec {
	t.Helper()
	s := withCI(t, "")
	s.IAM.PermissionsBoundary = b
	if ps := s.Validate(); ps != nil {
		t.Fatalf("withBoundary(%q): Validate() = %v", b, ps)
	}
	return s
}

// boundaryProperty is AWS::IAM::Role's boundary property, read from AWS's
// schema where the schemas are present.
func boundaryProperty(t *testing.T) string {
	t.Helper()
	const want = "PermissionsBoundary"
	path := filepath.Join("..", "..", cfntest.SchemaDir, "AWS_IAM_Role.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Logf("no role schema at %s (%v); taking %s as the property", path, err, want)
		return want
	}
	var schema struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if p, ok := schema.Properties[want]; !ok || p.Type != "string" {
		t.Fatalf("%s has no string property %s; the template writes one", path, want)
	}
	return want
}

// TestPermissionsBoundaryOnEveryRole: with a boundary, every role of both
// stacks carries it, as an ARN; without one, none does.
func TestPermissionsBoundaryOnEveryRole(t *testing.T) {
	prop := boundaryProperty(t)
	const account = "123456789012"
	tests := []struct {
		name string
		spec platform.Spec
		want string // the property's JSON; "" for none
	}{
		{"arn", withBoundary(t, "arn:aws:iam::"+account+":policy/boundaries/shipyard"), `"arn:aws:iam::` + account + `:policy/boundaries/shipyard"`},
		{"name", withBoundary(t, "shipyard-boundary"), `{"Fn::Sub":"arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/shipyard-boundary"}`},
		{"none", specs(t)["production"], ""},
		{"none, with ci", withCI(t, ""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			boot, env := render(t, tt.spec, Inputs{})
			roles := 0
			for name, doc := range map[string][]byte{"bootstrap": boot, "environment": env} {
				p := parse(t, doc)
				for _, id := range p.ofType("AWS::IAM::Role") {
					roles++
					got := p.get("Resources." + id + ".Properties." + prop)
					switch {
					case tt.want == "" && got != nil:
						t.Errorf("%s %s: %s = %s, want none", name, id, prop, js(got))
					case tt.want != "" && js(got) != canon(tt.want):
						t.Errorf("%s %s: %s = %s, want %s", name, id, prop, js(got), tt.want)
					}
				}
			}
			// The environment's five roles, and the deployer role with ci.
			want := 5
			if tt.spec.CI.Enabled() {
				want = 6
			}
			if roles != want {
				t.Errorf("found %d roles, want %d; is a role missing, or new and unchecked?", roles, want)
			}
		})
	}
}

func TestPermissionsBoundarySchemas(t *testing.T) {
	schemas := cfntest.Schemas(t)
	for _, b := range []string{"arn:aws:iam::123456789012:policy/shipyard-boundary", "shipyard-boundary"} {
		boot, env := render(t, withBoundary(t, b), Inputs{})
		for name, doc := range map[string][]byte{"bootstrap": boot, "environment": env} {
			if err := cfn.Check(doc); err != nil {
				t.Errorf("Check(%s, boundary %s) = %v", name, b, err)
			}
			if err := schemas.Validate(doc); err != nil {
				t.Errorf("Schemas.Validate(%s, boundary %s) = %v", name, b, err)
			}
		}
	}
}

// boundaryGated are the role writes that take iam:PermissionsBoundary and
// that CloudFormation makes for the deployer.
var boundaryGated = []string{
	"iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
	"iam:AttachRolePolicy", "iam:DetachRolePolicy",
}

// TestDeployerWithinBoundary: with a boundary, the deployer may write a
// role's permissions only when the role has it, may never remove it, and may
// not change the boundary policy; without one, nothing of this appears.
func TestDeployerWithinBoundary(t *testing.T) {
	const arn = "arn:aws:iam::123456789012:policy/shipyard-boundary"
	for _, tt := range []struct {
		name     string
		spec     platform.Spec
		boundary cfn.Value // nil for none
	}{
		{"arn, with ci", withBoundary(t, arn), cfn.String(arn)},
		{"name, with ci", withBoundary(t, "shipyard-boundary"), cfn.Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/shipyard-boundary")},
		{"arn, without ci", func() platform.Spec { s := specs(t)["production"]; s.IAM.PermissionsBoundary = arn; return s }(), cfn.String(arn)},
		{"none", specs(t)["production"], nil},
		{"none, with ci", withCI(t, ""), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantCondition := js(map[string]any{"iam:PermissionsBoundary": tt.boundary})
			gated := map[string]bool{}
			var denies []cfn.Statement
			for _, p := range DeployerPolicies(tt.spec) {
				for _, st := range p.PolicyDocument.Statement {
					where := p.PolicyName + "/" + st.Sid
					if st.Effect == "Deny" {
						denies = append(denies, st)
						continue
					}
					if slices.Contains(st.Action, "iam:DeleteRolePermissionsBoundary") {
						t.Errorf("%s allows iam:DeleteRolePermissionsBoundary, want it never allowed", where)
					}
					cond, hasCond := st.Condition["StringEquals"]["iam:PermissionsBoundary"]
					if tt.boundary == nil && hasCond {
						t.Errorf("%s has an iam:PermissionsBoundary condition without a boundary", where)
					}
					for _, a := range st.Action {
						if !slices.Contains(boundaryGated, a) {
							continue
						}
						gated[a] = true
						if tt.boundary != nil && (!hasCond || js(map[string]any{"iam:PermissionsBoundary": cond}) != wantCondition) {
							t.Errorf("%s allows %s with condition %s, want StringEquals %s", where, a, js(st.Condition), wantCondition)
						}
						if _, via := st.Condition["ForAnyValue:StringEquals"]["aws:CalledVia"]; !via {
							t.Errorf("%s allows %s outside CloudFormation, want aws:CalledVia", where, a)
						}
					}
				}
			}
			wantGated := len(boundaryGated)
			if tt.boundary == nil {
				wantGated-- // iam:PutRolePermissionsBoundary only with a boundary
			}
			if len(gated) != wantGated {
				t.Errorf("the deployer may %v, want all of %v (less PutRolePermissionsBoundary without a boundary)", gated, boundaryGated)
			}
			if tt.boundary == nil {
				if len(denies) != 0 {
					t.Errorf("denies %s without a boundary, want none", js(denies))
				}
				return
			}
			want := map[string]string{
				"iam:DeleteRolePermissionsBoundary": js(deployer{spec: tt.spec, prefix: tt.spec.Prefix()}.roles()),
				"iam:CreatePolicyVersion":           js([]cfn.Value{tt.boundary}),
				"iam:DeletePolicy":                  js([]cfn.Value{tt.boundary}),
				"iam:DeletePolicyVersion":           js([]cfn.Value{tt.boundary}),
				"iam:SetDefaultPolicyVersion":       js([]cfn.Value{tt.boundary}),
			}
			denied := map[string]string{}
			for _, st := range denies {
				if st.Condition != nil {
					t.Errorf("deny %s has condition %s, want it unconditional", st.Sid, js(st.Condition))
				}
				for _, a := range st.Action {
					denied[a] = js(st.Resource)
				}
			}
			for a, res := range want {
				if denied[a] != res {
					t.Errorf("deny of %s on %s, want on %s", a, denied[a], res)
				}
			}
		})
	}
}

// TestDeployerBoundaryResolves: the policy for a person resolves a boundary
// given by name to the environment's account, and fits IAM's size limit.
func TestDeployerBoundaryResolves(t *testing.T) {
	s := withBoundary(t, "shipyard-boundary")
	doc, err := DeployerPolicyJSON(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `"arn:aws:iam::` + s.Account + `:policy/shipyard-boundary"`
	if n := strings.Count(string(doc), want); n < 3 {
		t.Errorf("DeployerPolicyJSON names %s %d times, want it in the conditions and the deny", want, n)
	}
}

// TestExampleBoundary: the boundary docs/deployer-iam.md gives to start from
// allows every action of the deployer policies on their resources (the
// deployer role carries it), and allows no IAM, Lambda or CloudFormation
// action on every resource: the deployer writes its own policies, so with
// those the boundary would bound nothing.
func TestExampleBoundary(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "deployer-iam.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "### An example boundary to start from")
	_, rest, ok2 := strings.Cut(rest, "```json\n")
	block, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/deployer-iam.md has no json block under 'An example boundary to start from'")
	}
	type statement struct {
		Sid, Effect      string
		Action, Resource any
	}
	var boundary struct{ Statement []statement }
	if err := json.Unmarshal([]byte(block), &boundary); err != nil {
		t.Fatalf("the example boundary is not JSON: %v", err)
	}
	list := func(v any) []string {
		switch v := v.(type) {
		case string:
			return []string{v}
		case []any:
			var out []string
			for _, e := range v {
				out = append(out, e.(string))
			}
			return out
		}
		return nil
	}
	// IAM's wildcards: * any run of characters, ? one.
	match := func(pattern, s string, fold bool) bool {
		re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
		if fold {
			re = "(?i)" + re
		}
		return regexp.MustCompile(re).MatchString(s)
	}
	allows := func(action, resource string) bool {
		for _, st := range boundary.Statement {
			if st.Effect != "Allow" || !slices.ContainsFunc(list(st.Action), func(p string) bool { return match(p, action, true) }) {
				continue
			}
			if slices.ContainsFunc(list(st.Resource), func(p string) bool { return match(p, resource, false) }) {
				return true
			}
		}
		return false
	}
	for _, st := range boundary.Statement {
		if st.Effect != "Allow" || !slices.Contains(list(st.Resource), "*") {
			continue
		}
		for _, a := range list(st.Action) {
			if svc, _, _ := strings.Cut(a, ":"); svc == "iam" || svc == "lambda" || svc == "cloudformation" {
				t.Errorf("the example boundary's %s allows %s on *, want it on the environment's resources", st.Sid, a)
			}
		}
	}

	doc, err := DeployerPolicyJSON(withBoundary(t, "shipyard-boundary"))
	if err != nil {
		t.Fatal(err)
	}
	var policies struct {
		Policies []struct {
			PolicyName     string
			PolicyDocument struct {
				Statement []struct {
					Sid, Effect      string
					Action, Resource []string
				}
			}
		}
	}
	if err := json.Unmarshal(doc, &policies); err != nil {
		t.Fatal(err)
	}
	for _, p := range policies.Policies {
		for _, st := range p.PolicyDocument.Statement {
			if st.Effect != "Allow" {
				continue
			}
			for _, a := range st.Action {
				for _, r := range st.Resource {
					if !allows(a, r) {
						t.Errorf("the example boundary does not allow %s on %s (%s/%s)", a, r, p.PolicyName, st.Sid)
					}
				}
			}
		}
	}
}
