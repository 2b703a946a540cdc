package vulngate

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readFixture(t *testing.T) []Finding {
	t.Helper()
	f, err := os.Open("testdata/app.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	findings, err := Read(f)
	if err != nil {
		t.Fatalf("Read(testdata/app.json) error: %v", err)
	}
	return findings
}

func TestRead(t *testing.T) {
	got := readFixture(t)
	want := []Finding{
		{
			ID: "GO-2026-6603", Summary: "HTTP/2 server memory exhaustion due to Trailer headers in net/http",
			Called: true, Module: "golang.org/x/net", Version: "v0.59.0", Fixed: "v0.60.0",
			Trace: []string{
				"github.com/shipyard-ecs/shipyard/services/app/internal/ecsmeta.Client.fetch (internal/ecsmeta/ecsmeta.go:132)",
				"encoding/json.Decoder.Decode",
				"golang.org/x/net/http2.connError.Error",
			},
		},
		// Only required: a module-level finding, never called.
		{ID: "GO-2026-6865", Summary: "Panic on two-block frames in github.com/klauspost/compress", Module: "github.com/klauspost/compress", Version: "v1.19.2", Fixed: "v1.20.2"},
		// Reported at module, package and two symbol traces: one finding, the first trace.
		{
			ID: "GO-2026-6875", Summary: "Reverse Proxy Forwards Attacker-Supplied X-Real-IP to Upstream by Default in github.com/labstack/echo",
			Called: true, Module: "github.com/labstack/echo/v4", Version: "v4.16.0",
			Trace: []string{
				"github.com/shipyard-ecs/shipyard/services/app/internal/server.New (internal/server/server.go:118)",
				"github.com/labstack/echo/v4.Echo.GET (echo.go:520)",
			},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Read(testdata/app.json) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestReadRejectsBadStreams(t *testing.T) {
	tests := []struct {
		name, input, wantErr string
	}{
		{"truncated", `{"config": {}}{"SBOM": {}}{"finding": `, "read govulncheck -format json output"},
		// govulncheck failed before scanning: nothing, or only its config
		// (what it writes when the packages do not build).
		{"empty", "", "did not scan"},
		{"config only", `{"config": {"scanner_name": "govulncheck"}}`, "did not scan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Read(strings.NewReader(tt.input)); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Read(%q) error = %v, want one containing %q", tt.input, err, tt.wantErr)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	findings := readFixture(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name         string
		exceptions   []Exception
		wantFailing  []string
		wantAccepted []string
		wantExpired  []string
		wantStale    []string
	}{
		{
			name:        "no exceptions: every called vulnerability fails",
			wantFailing: []string{"GO-2026-6603", "GO-2026-6875"},
		},
		{
			name:         "an exception for this module",
			exceptions:   []Exception{{ID: "GO-2026-6875", Module: "services/app", Expires: day("2027-01-31"), Reason: "no v4 fix"}},
			wantFailing:  []string{"GO-2026-6603"},
			wantAccepted: []string{"GO-2026-6875"},
		},
		{
			name:        "an exception for another module does not apply",
			exceptions:  []Exception{{ID: "GO-2026-6875", Module: "tools/ship", Expires: day("2027-01-31"), Reason: "no v4 fix"}},
			wantFailing: []string{"GO-2026-6603", "GO-2026-6875"},
		},
		{
			name:        "an expired exception fails again",
			exceptions:  []Exception{{ID: "GO-2026-6875", Module: "services/app", Expires: day("2026-11-25"), Reason: "no v4 fix"}},
			wantFailing: []string{"GO-2026-6603", "GO-2026-6875"},
			wantExpired: []string{"GO-2026-6875"},
		},
		{
			name:        "an exception for an uncalled or absent vulnerability is stale",
			exceptions:  []Exception{{ID: "GO-2026-6865", Module: "services/app", Expires: day("2027-01-31")}, {ID: "GO-2026-0001", Module: "services/app", Expires: day("2027-01-31")}},
			wantFailing: []string{"GO-2026-6603", "GO-2026-6875"},
			wantStale:   []string{"GO-2026-0001", "GO-2026-6865"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge("services/app", findings, tt.exceptions, now)
			check := func(what string, got, want []string) {
				if !reflect.DeepEqual(got, want) {
					t.Errorf("Judge(services/app) %s = %v, want %v", what, got, want)
				}
			}
			check("failing", findingIDs(v.Failing), tt.wantFailing)
			check("accepted", findingIDs(v.Accepted), tt.wantAccepted)
			check("expired", exceptionIDs(v.Expired), tt.wantExpired)
			check("stale", exceptionIDs(v.Stale), tt.wantStale)
			check("other", findingIDs(v.Other), []string{"GO-2026-6865"})

			var out bytes.Buffer
			err := Report(&out, "services/app", v)
			if gotErr, wantErr := err != nil, len(tt.wantFailing) > 0; gotErr != wantErr {
				t.Errorf("Report(services/app) error = %v, want error %t\n%s", err, wantErr, out.String())
			}
		})
	}
}

func findingIDs(fs []Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	return ids
}

func exceptionIDs(es []Exception) []string {
	var ids []string
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

func TestReadExceptions(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    []Exception
		wantErr string
	}{
		{name: "empty", input: "# nothing accepted\n\n", want: nil},
		{
			name:  "one",
			input: "# header\nGO-2026-6875  services/app  2027-01-31  Echo v4 has no fix; we use neither proxy nor rate limiter\n",
			want: []Exception{{ID: "GO-2026-6875", Module: "services/app", Expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC),
				Reason: "Echo v4 has no fix; we use neither proxy nor rate limiter", Line: 2}},
		},
		{name: "no reason", input: "GO-2026-6875 services/app 2027-01-31\n", wantErr: "line 1"},
		{name: "bad date", input: "GO-2026-6875 services/app 2027-02-30 reason\n", wantErr: "parse expiry"},
		{name: "not an id", input: "CVE-2026-1 services/app 2027-01-31 reason\n", wantErr: "is not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadExceptions(strings.NewReader(tt.input))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadExceptions(%q) error = %v, want one containing %q", tt.input, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadExceptions(%q) error: %v", tt.input, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReadExceptions(%q) = %+v, want %+v", tt.input, got, tt.want)
			}
		})
	}
}
