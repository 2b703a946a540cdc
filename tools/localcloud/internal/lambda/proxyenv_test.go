package lambda_test

import (
	"testing"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/lambda"
)

// TestProxyEnv: every instance gets Config.ProxyEnv (localcloud's VPC
// proxy), and a function's own Variables override it.
func TestProxyEnv(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *lambda.Config) {
		c.ProxyEnv = []string{"HTTP_PROXY=http://127.0.0.1:3128", "NO_PROXY=localhost,127.0.0.0/8,::1"}
	})
	e.create(t, "plain", nil)
	e.create(t, "own-proxy", map[string]string{"HTTP_PROXY": "http://10.0.0.1:8080"})
	for name, want := range map[string]string{"plain": "http://127.0.0.1:3128", "own-proxy": "http://10.0.0.1:8080"} {
		_, got := e.invoke(t, name, `{}`)
		if got.Env["HTTP_PROXY"] != want || got.Env["NO_PROXY"] != "localhost,127.0.0.0/8,::1" {
			t.Errorf("%s: HTTP_PROXY=%q NO_PROXY=%q, want %q and loopback left direct", name, got.Env["HTTP_PROXY"], got.Env["NO_PROXY"], want)
		}
	}
}
