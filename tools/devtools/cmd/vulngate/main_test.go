package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	stream, err := os.ReadFile(filepath.Join("..", "..", "vulngate", "testdata", "app.json"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		accept     string // accept file content; "-" for a missing file
		args       []string
		wantErr    string // empty: the gate passes
		wantOutput []string
	}{
		{
			name:       "both reachable vulnerabilities accepted",
			accept:     "GO-2026-6875 services/app 2027-01-31 no fix in Echo v4\nGO-2026-6603 services/app 2026-12-01 x/net upgrade pending\n",
			wantOutput: []string{"GO-2026-6875 accepted", "GO-2026-6603 accepted", "1 more in code it imports or requires but does not call: GO-2026-6865", "no reachable vulnerability outside the accepted ones"},
		},
		{
			name:       "one not accepted",
			accept:     "GO-2026-6875 services/app 2027-01-31 no fix in Echo v4\n",
			wantErr:    "1 reachable vulnerabilities",
			wantOutput: []string{"services/app: GO-2026-6603 HTTP/2 server memory exhaustion", "fixed in v0.60.0", "ecsmeta.Client.fetch (internal/ecsmeta/ecsmeta.go:132)"},
		},
		{name: "missing accept file", accept: "-", wantErr: "open accept file"},
		{name: "malformed accept file", accept: "GO-2026-6875\n", wantErr: "line 1"},
		{name: "no module", accept: "", args: []string{"-module", ""}, wantErr: "give -module and -accept"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			accept := filepath.Join(t.TempDir(), "accepted.txt")
			if tt.accept != "-" {
				if err := os.WriteFile(accept, []byte(tt.accept), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := append([]string{"-module", "services/app", "-accept", accept}, tt.args...)
			var out bytes.Buffer
			err := run(args, bytes.NewReader(stream), &out, now)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("run(%q) error: %v\n%s", args, err, out.String())
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("run(%q) error = %v, want one containing %q", args, err, tt.wantErr)
			}
			for _, want := range tt.wantOutput {
				if !strings.Contains(out.String(), want) {
					t.Errorf("run(%q) printed\n%s\nwant it to contain %q", args, out.String(), want)
				}
			}
		})
	}
}
