package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDestroyRefusesOrHasNothing covers what ship destroy decides before it
// talks to any cloud: a protected environment is refused, and the local
// environment whose local cloud is not running has nothing to destroy,
// without starting it, and so nothing to confirm with --yes either
// (TestEnvironmentLifecycle refuses a run without a terminal or --yes).
func TestDestroyRefusesOrHasNothing(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "")
	mpath := writeManifest(t, `name: shipyard
environments:
  local:
    account: "000000000000"
  production:
    account: "123456789012"
    loadBalancer:
      deletionProtection: true
`)
	ctx := context.Background()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"protected", []string{"--env", "production", "--yes"}, exitUsage, "deletionProtection"},
		{"no terminal, no --yes, nothing to destroy", []string{"--env", "local"}, exitOK, "nothing to destroy"},
		{"local cloud not running", []string{"--env", "local", "--yes"}, exitOK, "nothing to destroy"},
		{"unknown environment", []string{"--env", "nowhere", "--yes"}, exitUsage, "no such environment"},
	}
	for _, tc := range tests {
		stdout, stderr, code := shipIn(ctx, append([]string{"destroy", "--manifest", mpath}, tc.args...)...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("%s: ship destroy %v: exit %d, want %d saying %q\nstdout:\n%s\nstderr:\n%s", tc.name, tc.args, code, tc.code, tc.want, stdout, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(mpath), ".localcloud")); !os.IsNotExist(err) {
		t.Errorf("ship destroy started the local cloud (.localcloud: %v), want it left stopped", err)
	}
}
