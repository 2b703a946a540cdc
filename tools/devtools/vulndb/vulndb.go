// Package vulndb turns a directory of Go OSV entries (the data/osv folder of
// the golang.org/x/vulndb module) into the v1 layout of the Go vulnerability
// database that govulncheck reads with -db file:///abs/path:
//
//	index/db.json       {"modified": T}, the newest modification of any entry
//	index/modules.json  [{"path", "vulns": [{"id", "modified", "fixed"}]}], sorted
//	index/vulns.json    [{"id", "modified", "aliases"}], sorted by id
//	ID/<id>.json        the OSV entry itself
//
// The standard library and the go command are keyed by the pseudo module
// paths "stdlib" and "toolchain", exactly as the OSV entries name them; the
// "fixed" field is the latest fix not superseded by a later introduction,
// computed as the upstream generator does, because govulncheck skips an entry
// without reading it when the version in use is at or above "fixed".
//
// The upstream generator (x/vulndb's cmd/gendb) takes modification times from
// git history, which a module download does not carry: the published entries
// say "0001-01-01T00:00:00Z". Here an entry without a real modification time
// gets its publication time, and the database as a whole gets the time of the
// snapshot it was built from (the module version's commit time), so the
// metadata stays truthful bounds rather than zero.
package vulndb

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// DBMeta is index/db.json.
type DBMeta struct {
	Modified time.Time `json:"modified"`
}

// Module is one element of index/modules.json.
type Module struct {
	Path  string       `json:"path"`
	Vulns []ModuleVuln `json:"vulns"`
}

// ModuleVuln names one vulnerability of a module in index/modules.json.
type ModuleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	// Fixed has no "v" prefix; empty when no fix supersedes every
	// introduction.
	Fixed string `json:"fixed,omitempty"`
}

// Vuln is one element of index/vulns.json.
type Vuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

// Index is the content of the three index files.
type Index struct {
	DB      DBMeta
	Modules []Module
	Vulns   []Vuln
}

// Range is an OSV affected range; only SEMVER ranges matter to Go.
type Range struct {
	Type   string  `json:"type"`
	Events []Event `json:"events"`
}

// Event is an OSV range event: exactly one field is set.
type Event struct {
	Introduced string `json:"introduced,omitempty"`
	Fixed      string `json:"fixed,omitempty"`
}

// entry holds the fields of an OSV entry that the index needs.
type entry struct {
	ID        string    `json:"id"`
	Modified  time.Time `json:"modified"`
	Published time.Time `json:"published"`
	Aliases   []string  `json:"aliases"`
	Affected  []struct {
		Package struct {
			Name      string `json:"name"`
			Ecosystem string `json:"ecosystem"`
		} `json:"package"`
		Ranges []Range `json:"ranges"`
	} `json:"affected"`
}

// validID keeps IDs usable as file names: no separators, no dot-dot.
var validID = regexp.MustCompile(`^[A-Z]+-[0-9]{4}-[0-9]+$`)

// Build reads every <ID>.json OSV entry in src and writes the database to
// dst, which must not exist yet. snapshot is when the source was taken (the
// vulndb module version's time). It returns the index it wrote.
func Build(src, dst string, snapshot time.Time) (*Index, error) {
	if _, err := os.Stat(dst); err == nil {
		return nil, fmt.Errorf("write database to %s: it already exists; remove it first", dst)
	}
	names, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list OSV entries in %s: %w", src, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("read OSV entries: %s has no *.json files; point -src at the data/osv folder of golang.org/x/vulndb", src)
	}
	sort.Strings(names)

	idx := &Index{DB: DBMeta{Modified: snapshot.UTC()}}
	modules := map[string]*Module{}
	entries := make(map[string][]byte, len(names))
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read OSV entry: %w", err)
		}
		e, out, err := parseEntry(raw, snapshot)
		if err != nil {
			return nil, fmt.Errorf("parse OSV entry %s: %w", name, err)
		}
		if base := filepath.Base(name); base != e.ID+".json" {
			return nil, fmt.Errorf("parse OSV entry %s: file name must be %s.json", name, e.ID)
		}
		entries[e.ID] = out
		if e.Modified.After(idx.DB.Modified) {
			idx.DB.Modified = e.Modified
		}
		idx.Vulns = append(idx.Vulns, Vuln{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		for _, a := range e.Affected {
			path := a.Package.Name
			m := modules[path]
			if m == nil {
				m = &Module{Path: path, Vulns: []ModuleVuln{}}
				modules[path] = m
			}
			m.Vulns = append(m.Vulns, ModuleVuln{ID: e.ID, Modified: e.Modified, Fixed: LatestFixed(a.Ranges)})
		}
	}
	for _, m := range modules {
		sort.SliceStable(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		idx.Modules = append(idx.Modules, *m)
	}
	sort.Slice(idx.Modules, func(i, j int) bool { return idx.Modules[i].Path < idx.Modules[j].Path })
	sort.Slice(idx.Vulns, func(i, j int) bool { return idx.Vulns[i].ID < idx.Vulns[j].ID })

	if err := write(dst, idx, entries); err != nil {
		return nil, err
	}
	return idx, nil
}

// parseEntry validates one OSV entry and returns it with its modification
// time settled, plus the bytes to serve at ID/<id>.json.
func parseEntry(raw []byte, snapshot time.Time) (*entry, []byte, error) {
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, nil, err
	}
	if !validID.MatchString(e.ID) {
		return nil, nil, fmt.Errorf("id %q is not of the form GO-YYYY-NNNN", e.ID)
	}
	if len(e.Affected) == 0 {
		return nil, nil, fmt.Errorf("%s affects no module", e.ID)
	}
	for _, a := range e.Affected {
		if a.Package.Name == "" {
			return nil, nil, fmt.Errorf("%s has an affected package without a name", e.ID)
		}
	}
	own := e.Modified
	switch {
	case !own.IsZero():
	case !e.Published.IsZero():
		e.Modified = e.Published
	default:
		e.Modified = snapshot
	}
	e.Modified = e.Modified.UTC()
	if e.Modified.Equal(own) {
		return &e, raw, nil
	}
	// Rewrite only "modified"; every other field is served as published.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, nil, err
	}
	stamp, err := json.Marshal(e.Modified.Format(time.RFC3339))
	if err != nil {
		return nil, nil, err
	}
	fields["modified"] = stamp
	out, err := json.MarshalIndent(fields, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return &e, out, nil
}

// LatestFixed returns the latest fixed version in the SEMVER ranges, or ""
// when a vulnerability is reintroduced after it. It follows the upstream
// generator and govulncheck's own index builder, so a version at or above
// the result is never affected.
func LatestFixed(ranges []Range) string {
	var latest string
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && less(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && less(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// less compares OSV versions, which carry no "v" prefix; an empty or invalid
// version sorts before every valid one.
func less(a, b string) bool {
	return semver.Compare("v"+strings.TrimPrefix(a, "v"), "v"+strings.TrimPrefix(b, "v")) < 0
}

// write lays the database out in a temporary sibling of dst and renames it
// into place, so an interrupted build never leaves a database that looks
// complete.
func write(dst string, idx *Index, entries map[string][]byte) (err error) {
	parent := filepath.Dir(dst)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dst)+".tmp-")
	if err != nil {
		return fmt.Errorf("create temporary database directory: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.RemoveAll(tmp))
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("set permissions of %s: %w", tmp, err)
	}
	for _, dir := range []string{"index", "ID"} {
		if err := os.Mkdir(filepath.Join(tmp, dir), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	files := map[string]any{
		"index/db.json":      idx.DB,
		"index/modules.json": idx.Modules,
		"index/vulns.json":   idx.Vulns,
	}
	for name, v := range files {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	for id, b := range entries {
		if err := os.WriteFile(filepath.Join(tmp, "ID", id+".json"), b, 0o644); err != nil {
			return fmt.Errorf("write entry %s: %w", id, err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("move database into %s: %w", dst, err)
	}
	return nil
}

// ReadIndex reads the three index files of a database written by Build.
func ReadIndex(fsys fs.FS) (*Index, error) {
	var idx Index
	for name, v := range map[string]any{
		"index/db.json":      &idx.DB,
		"index/modules.json": &idx.Modules,
		"index/vulns.json":   &idx.Vulns,
	} {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", name, err)
		}
	}
	return &idx, nil
}
