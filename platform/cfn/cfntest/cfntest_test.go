package cfntest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadFrom(t *testing.T) {
	// A clone without shared/ beside it: skip, saying why.
	lonely := filepath.Join(t.TempDir(), "repo")
	if err := os.MkdirAll(filepath.Join(lonely, "platform"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lonely, "go.work"), []byte("go 1.27.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, reason, err := loadFrom(filepath.Join(lonely, "platform"))
	if s != nil || err != nil || !strings.Contains(reason, "not beside this clone") {
		t.Errorf("loadFrom(clone without shared) = %v, %q, %v; want a skip reason", s, reason, err)
	}

	// shared/ present but its schemas unreadable: fail, never skip.
	broken := filepath.Join(t.TempDir(), "repo")
	schemaDir := filepath.Join(broken, SchemaDir)
	for _, d := range []string{broken, schemaDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(broken, "go.work"), []byte("go 1.27.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(schemaDir, "AWS_X_Y.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadFrom(broken); err == nil {
		t.Errorf("loadFrom(broken schemas) error = nil, want a failure")
	}
}
