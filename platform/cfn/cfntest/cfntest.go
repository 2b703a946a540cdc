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
	dir, err := os.Getwd()
	if err != nil {
		reason = "cannot tell the working directory: " + err.Error()
		return
	}
	schemas, reason, loadErr = loadFrom(dir)
}

// loadFrom finds the repository root at or above dir and loads the schemas
// beside it. It returns the schemas, or why the tests skip, or why they fail.
func loadFrom(dir string) (*cfn.Schemas, string, error) {
	root, err := repoRoot(dir)
	if err != nil {
		return nil, "cannot find the repository root (go.work) above " + dir + "; schema checks skipped", nil
	}
	schemaDir := filepath.Join(root, SchemaDir)
	if _, err := os.Stat(schemaDir); err != nil {
		return nil, "CloudFormation schemas not found at " + schemaDir + " (the project's shared/ folder is not beside this clone); schema checks skipped", nil
	}
	// Present but unreadable is a failure, not a skip.
	s, err := cfn.LoadSchemas(schemaDir)
	return s, "", err
}

func repoRoot(dir string) (string, error) {
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
