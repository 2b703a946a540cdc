package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	src := filepath.Join("..", "..", "vulndb", "testdata", "osv")
	tests := []struct {
		name       string
		args       []string
		wantErr    string // empty: success
		wantOutput string
	}{
		{name: "from a directory", args: []string{"-src", src, "-snapshot", "2099-02-15T00:00:00Z"}, wantOutput: "wrote 3 entries for 3 modules"},
		{name: "no source", args: nil, wantErr: "exactly one of -module or -src"},
		{name: "both sources", args: []string{"-src", src, "-module", "golang.org/x/vulndb@v0.0.0"}, wantErr: "exactly one of -module or -src"},
		{name: "directory without snapshot", args: []string{"-src", src}, wantErr: "-src needs -snapshot"},
		{name: "bad snapshot", args: []string{"-src", src, "-snapshot", "yesterday"}, wantErr: "use RFC 3339"},
		{name: "module without version", args: []string{"-module", "golang.org/x/vulndb"}, wantErr: "want path@version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "db")
			var stdout bytes.Buffer
			err := run(context.Background(), append(tt.args, "-out", out), &stdout)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("run(%q) error = %v, want one containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run(%q) error: %v", tt.args, err)
			}
			if !strings.Contains(stdout.String(), tt.wantOutput) {
				t.Errorf("run(%q) printed %q, want it to contain %q", tt.args, stdout.String(), tt.wantOutput)
			}
			if _, err := os.Stat(filepath.Join(out, "index", "modules.json")); err != nil {
				t.Errorf("run(%q) wrote no index: %v", tt.args, err)
			}
		})
	}
}
