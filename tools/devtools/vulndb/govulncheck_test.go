package vulndb

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestGovulncheckReadsTheDatabase builds a database from fixture entries and
// runs the govulncheck pinned in this module's go.mod on a program calling
// strings.ToUpper. The database must be read as govulncheck's client reads the
// public one: the entry affecting every Go release is found at the symbol;
// the entry fixed before the running release is skipped by the index's
// "fixed" field; the one for a module the program does not use never shows.
func TestGovulncheckReadsTheDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs govulncheck")
	}
	db := filepath.Join(t.TempDir(), "db")
	if _, err := Build(filepath.Join("testdata", "e2e", "osv"), db, time.Date(2099, 2, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("Build(testdata/e2e/osv) error: %v", err)
	}
	probe, err := filepath.Abs(filepath.Join("testdata", "e2e", "probe"))
	if err != nil {
		t.Fatal(err)
	}
	// `go tool` resolves govulncheck from this module's go.mod (the test
	// runs in the package directory); -C runs the scan in the probe module.
	cmd := exec.CommandContext(t.Context(), "go", "tool", "govulncheck",
		"-C", probe, "-db", "file://"+filepath.ToSlash(db), "-format", "json", "./...")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, stderr.String())
	}

	// Symbol-level findings: the trace reaches a vulnerable function.
	var called []string
	dec := json.NewDecoder(&stdout)
	for {
		var msg struct {
			Finding *struct {
				OSV   string `json:"osv"`
				Trace []struct {
					Function string `json:"function"`
				} `json:"trace"`
			} `json:"finding"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode govulncheck output: %v", err)
		}
		if f := msg.Finding; f != nil && len(f.Trace) > 0 && f.Trace[0].Function != "" && !slices.Contains(called, f.OSV) {
			called = append(called, f.OSV)
		}
	}
	slices.Sort(called)
	if want := []string{"GO-2099-1001"}; !slices.Equal(called, want) {
		t.Errorf("govulncheck -db <fixture database> findings = %v, want %v", called, want)
	}
}
