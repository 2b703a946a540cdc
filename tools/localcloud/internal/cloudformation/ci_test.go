package cloudformation_test

import (
	"regexp"
	"testing"
)

// ciBootstrapGolden is the platform's bootstrap stack with a ci section: a
// GitHub OIDC provider, a deployer role and its managed policies.
const ciBootstrapGolden = "../../../../platform/stack/testdata/ci-bootstrap.json"

// TestCIBootstrapTemplate creates the bootstrap stack with the CI deployer
// resources, so ship up works locally with a ci section.
func TestCIBootstrapTemplate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{schemas: registrySchemas(t)})
	st := e.createStack("shipyard-production-bootstrap", readGolden(t, ciBootstrapGolden), nil)
	if got := string(st.StackStatus); got != "CREATE_COMPLETE" {
		t.Fatalf("stack status = %s, want CREATE_COMPLETE; events:\n%s", got, e.failures("shipyard-production-bootstrap"))
	}
	role := outputs(st)["DeployerRoleArn"]
	if !regexp.MustCompile(`^arn:aws:iam::000000000000:role/shipyard-production-bootstrap-DeployerRole-[A-Z0-9]{12}$`).MatchString(role) {
		t.Errorf("DeployerRoleArn = %q, want a role ARN named after the stack", role)
	}
}
