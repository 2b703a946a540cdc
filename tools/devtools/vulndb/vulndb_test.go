package vulndb

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestBuildFixture(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "db")
	got, err := Build("testdata/osv", dst, date("2099-02-15T00:00:00Z"))
	if err != nil {
		t.Fatalf("Build(testdata/osv) error: %v", err)
	}
	want := &Index{
		// The newest entry (2099-03-01) is newer than the snapshot.
		DB: DBMeta{Modified: date("2099-03-01T00:00:00Z")},
		Modules: []Module{
			{Path: "example.com/a", Vulns: []ModuleVuln{
				// No modification time in the entry: its publication time.
				{ID: "GO-2099-0001", Modified: date("2099-01-02T03:04:05Z"), Fixed: "1.2.0"},
				// Reintroduced after its fix: no version is known safe.
				{ID: "GO-2099-0003", Modified: date("2099-01-05T00:00:00Z")},
			}},
			// The standard library and the go command keep their pseudo paths.
			{Path: "stdlib", Vulns: []ModuleVuln{{ID: "GO-2099-0002", Modified: date("2099-03-01T00:00:00Z"), Fixed: "1.26.9"}}},
			{Path: "toolchain", Vulns: []ModuleVuln{{ID: "GO-2099-0002", Modified: date("2099-03-01T00:00:00Z"), Fixed: "1.26.9"}}},
		},
		Vulns: []Vuln{
			{ID: "GO-2099-0001", Modified: date("2099-01-02T03:04:05Z"), Aliases: []string{"CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"}},
			{ID: "GO-2099-0002", Modified: date("2099-03-01T00:00:00Z")},
			{ID: "GO-2099-0003", Modified: date("2099-01-05T00:00:00Z")},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Build(testdata/osv) =\n%s\nwant\n%s", dump(t, got), dump(t, want))
	}

	// What is on disk is what Build returned.
	read, err := ReadIndex(os.DirFS(dst))
	if err != nil {
		t.Fatalf("ReadIndex(%s) error: %v", dst, err)
	}
	if !reflect.DeepEqual(read, want) {
		t.Errorf("ReadIndex(%s) =\n%s\nwant\n%s", dst, dump(t, read), dump(t, want))
	}
	entries, err := filepath.Glob(filepath.Join(dst, "ID", "*.json"))
	if err != nil || len(entries) != 3 {
		t.Errorf("ID/*.json = %d files (%v), want 3", len(entries), err)
	}
	if tmp, _ := filepath.Glob(dst + ".tmp-*"); len(tmp) != 0 {
		t.Errorf("temporary directories left behind: %v", tmp)
	}
}

func TestBuildEntries(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "db")
	if _, err := Build("testdata/osv", dst, date("2099-02-15T00:00:00Z")); err != nil {
		t.Fatalf("Build(testdata/osv) error: %v", err)
	}
	tests := []struct {
		id           string
		wantModified string
		wantRewrite  bool // false: served byte for byte as published
	}{
		{id: "GO-2099-0001", wantModified: "2099-01-02T03:04:05Z", wantRewrite: true},
		{id: "GO-2099-0002", wantModified: "2099-03-01T00:00:00Z", wantRewrite: false},
		{id: "GO-2099-0003", wantModified: "2099-01-05T00:00:00Z", wantRewrite: true},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "osv", tt.id+".json"))
			if err != nil {
				t.Fatal(err)
			}
			out, err := os.ReadFile(filepath.Join(dst, "ID", tt.id+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if rewritten := string(src) != string(out); rewritten != tt.wantRewrite {
				t.Errorf("entry %s rewritten = %t, want %t", tt.id, rewritten, tt.wantRewrite)
			}
			var in, got map[string]any
			if err := json.Unmarshal(src, &in); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("entry %s is not JSON: %v", tt.id, err)
			}
			if got["modified"] != tt.wantModified {
				t.Errorf("entry %s modified = %v, want %s", tt.id, got["modified"], tt.wantModified)
			}
			// Everything but "modified" is served as published.
			delete(in, "modified")
			delete(got, "modified")
			if !reflect.DeepEqual(got, in) {
				t.Errorf("entry %s fields = %v, want %v", tt.id, got, in)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	good, err := os.ReadFile("testdata/osv/GO-2099-0001.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{name: "no entries", files: map[string]string{"README": "x"}, wantErr: "no *.json files"},
		{name: "file name differs from id", files: map[string]string{"GO-2099-9999.json": string(good)}, wantErr: "file name must be GO-2099-0001.json"},
		{name: "not JSON", files: map[string]string{"GO-2099-0001.json": "{"}, wantErr: "unexpected end of JSON"},
		{name: "id with a path separator", files: map[string]string{"x.json": `{"id":"../GO-2099-0001","affected":[{"package":{"name":"a"}}]}`}, wantErr: "not of the form"},
		{name: "affects nothing", files: map[string]string{"GO-2099-0004.json": `{"id":"GO-2099-0004"}`}, wantErr: "affects no module"},
		{name: "package without a name", files: map[string]string{"GO-2099-0004.json": `{"id":"GO-2099-0004","affected":[{"package":{"name":""}}]}`}, wantErr: "without a name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			for name, body := range tt.files {
				if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			dst := filepath.Join(t.TempDir(), "db")
			_, err := Build(src, dst, time.Time{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Build(%v) error = %v, want one containing %q", tt.files, err, tt.wantErr)
			}
			if _, err := os.Stat(dst); !os.IsNotExist(err) {
				t.Errorf("Build(%v) left %s behind (stat: %v)", tt.files, dst, err)
			}
		})
	}
}

func TestBuildRefusesExistingDestination(t *testing.T) {
	dst := t.TempDir()
	_, err := Build("testdata/osv", dst, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("Build(testdata/osv, existing %s) error = %v, want 'already exists'", dst, err)
	}
}

func TestLatestFixed(t *testing.T) {
	semverRange := func(events ...Event) Range { return Range{Type: "SEMVER", Events: events} }
	tests := []struct {
		name   string
		ranges []Range
		want   string
	}{
		{name: "none", ranges: nil, want: ""},
		{name: "never fixed", ranges: []Range{semverRange(Event{Introduced: "0"})}, want: ""},
		{name: "fixed once", ranges: []Range{semverRange(Event{Introduced: "0"}, Event{Fixed: "1.2.0"})}, want: "1.2.0"},
		{name: "semver order, not string order", ranges: []Range{semverRange(Event{Introduced: "0"}, Event{Fixed: "1.10.0"}, Event{Introduced: "1.2.0"}, Event{Fixed: "1.9.0"})}, want: "1.10.0"},
		{name: "reintroduced without fix", ranges: []Range{semverRange(Event{Introduced: "0"}, Event{Fixed: "1.0.0"}, Event{Introduced: "1.1.0"})}, want: ""},
		{name: "prerelease introduction before fix", ranges: []Range{semverRange(Event{Introduced: "0"}, Event{Fixed: "1.25.9"}, Event{Introduced: "1.26.0-0"}, Event{Fixed: "1.26.9"})}, want: "1.26.9"},
		{name: "non-semver ranges ignored", ranges: []Range{{Type: "GIT", Events: []Event{{Fixed: "abc123"}}}}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LatestFixed(tt.ranges); got != tt.want {
				t.Errorf("LatestFixed(%v) = %q, want %q", tt.ranges, got, tt.want)
			}
		})
	}
}

func dump(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
