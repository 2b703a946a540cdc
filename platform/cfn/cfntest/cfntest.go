// Package cfntest gives tests the CloudFormation resource schemas shared by
// this project (../shared/cfn-schemas beside the repository), or skips the
// test, saying why, where they are absent: in a clone outside the project's
// CI. Nothing else may skip.
package cfntest

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/shipyard-ecs/shipyard/platform/cfn"
)

var (
	once    sync.Once
	schemas *cfn.Schemas
	reason  string
	loadErr error
)

// SchemaDir is where the schemas are, relative to the repository root.
const SchemaDir = "../shared/cfn-schemas"

// Schemas returns the loaded schemas or skips t.
func Schemas(t testing.TB) *cfn.Schemas {
	t.Helper()
	once.Do(load)
	if loadErr != nil {
		t.Fatalf("load CloudFormation schemas: %v", loadErr)
	}
	if schemas == nil {
		t.Skip(reason)
	}
	return schemas
}

func load() {
	root, err := repoRoot()
	if err != nil {
		reason = "cannot find the repository root (go.work): " + err.Error()
		return
	}
	dir := filepath.Join(root, SchemaDir)
	if _, err := os.Stat(dir); err != nil {
		reason = "CloudFormation schemas not found at " + dir + " (the project's shared/ folder is not beside this clone); schema checks skipped"
		return
	}
	// Present but unreadable is a failure, not a skip.
	schemas, loadErr = cfn.LoadSchemas(dir)
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
