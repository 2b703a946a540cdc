// Package vulngate decides whether govulncheck's findings fail the build.
//
// govulncheck fails on every vulnerability the code reaches and has no way to
// record a reviewed exception. Some findings have no fix in the major version
// we are on (Echo v4's are fixed only in v5), which would leave `make vuln`
// red for good and teach everyone to ignore it. So make vuln reads
// govulncheck's JSON stream and fails on every reachable vulnerability except
// those listed in an accept file, each with the module it applies to, an
// expiry date and a reason. Expired entries fail again, so every exception
// is reviewed.
package vulngate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Finding is one vulnerability govulncheck reports for a scanned module.
type Finding struct {
	ID      string
	Summary string
	// Called is true when the code reaches a vulnerable symbol: what
	// govulncheck itself fails on. Otherwise the vulnerable code is only
	// imported or required.
	Called bool
	// Module and Version are where the vulnerability is ("stdlib" for the
	// standard library); Fixed is the version that fixes it, if any.
	Module, Version, Fixed string
	// Trace is the first path govulncheck found from our code to the
	// vulnerable symbol, entry point first; empty when not Called.
	Trace []string
}

// frame is one element of a govulncheck trace.
type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
	Position *struct {
		Filename string `json:"filename"`
		Line     int    `json:"line"`
	} `json:"position"`
}

func (f frame) String() string {
	name := f.Function
	if f.Receiver != "" {
		name = strings.TrimPrefix(f.Receiver, "*") + "." + name
	}
	s := f.Package + "." + name
	if f.Position != nil && f.Position.Filename != "" {
		s += fmt.Sprintf(" (%s:%d)", f.Position.Filename, f.Position.Line)
	}
	return s
}

// Read parses govulncheck -format json output into one Finding per
// vulnerability, the most precise level govulncheck reported for it.
func Read(r io.Reader) ([]Finding, error) {
	byID := map[string]*Finding{}
	summaries := map[string]string{}
	scanned := false
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			SBOM *json.RawMessage `json:"SBOM"`
			OSV  *struct {
				ID      string `json:"id"`
				Summary string `json:"summary"`
			} `json:"osv"`
			Finding *struct {
				OSV          string  `json:"osv"`
				FixedVersion string  `json:"fixed_version"`
				Trace        []frame `json:"trace"`
			} `json:"finding"`
		}
		err := dec.Decode(&msg)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read govulncheck -format json output: %w", err)
		}
		scanned = scanned || msg.SBOM != nil
		if msg.OSV != nil {
			summaries[msg.OSV.ID] = msg.OSV.Summary
		}
		f := msg.Finding
		if f == nil || len(f.Trace) == 0 {
			continue
		}
		called := f.Trace[0].Function != ""
		cur := byID[f.OSV]
		if cur != nil && (cur.Called || !called) {
			continue // keep the first, most precise finding
		}
		nf := &Finding{ID: f.OSV, Called: called, Module: f.Trace[0].Module, Version: f.Trace[0].Version, Fixed: f.FixedVersion}
		if called {
			// The trace runs from the vulnerable symbol to our entry point.
			for i := len(f.Trace) - 1; i >= 0; i-- {
				nf.Trace = append(nf.Trace, f.Trace[i].String())
			}
		}
		byID[f.OSV] = nf
	}
	if !scanned {
		// govulncheck writes the SBOM once the packages have loaded;
		// without it, it failed before scanning (a build error, say) and
		// an empty result would read as clean.
		return nil, errors.New("read govulncheck output: it has no SBOM message, so govulncheck did not scan; see its error above")
	}
	out := make([]Finding, 0, len(byID))
	for id, f := range byID {
		f.Summary = summaries[id]
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Exception is one accepted vulnerability.
type Exception struct {
	ID      string
	Module  string // the workspace module it applies to, e.g. services/app
	Expires time.Time
	Reason  string
	Line    int
}

var exceptionLine = regexp.MustCompile(`^(GO-\d{4}-\d+)\s+(\S+)\s+(\d{4}-\d{2}-\d{2})\s+(\S.*)$`)

// ReadExceptions parses an accept file: one exception a line, as
// "GO-YYYY-NNNN  module/dir  YYYY-MM-DD  reason"; # starts a comment.
func ReadExceptions(r io.Reader) ([]Exception, error) {
	var out []Exception
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := exceptionLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("read accepted vulnerabilities, line %d: %q is not \"GO-YYYY-NNNN module/dir YYYY-MM-DD reason\"", n, line)
		}
		expires, err := time.Parse(time.DateOnly, m[3])
		if err != nil {
			return nil, fmt.Errorf("read accepted vulnerabilities, line %d: parse expiry: %w", n, err)
		}
		out = append(out, Exception{ID: m[1], Module: m[2], Expires: expires, Reason: m[4], Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read accepted vulnerabilities: %w", err)
	}
	return out, nil
}

// Verdict is the outcome for one scanned module.
type Verdict struct {
	Failing  []Finding   // reachable and not accepted, or accepted but expired
	Accepted []Finding   // reachable and accepted until a later date
	Other    []Finding   // imported or required but not reachable
	Expired  []Exception // exceptions for this module past their date
	Stale    []Exception // exceptions for this module that match no finding
}

// Judge applies the exceptions for module to its findings, as of now.
func Judge(module string, findings []Finding, exceptions []Exception, now time.Time) Verdict {
	var v Verdict
	mine := map[string]Exception{}
	used := map[string]bool{}
	for _, e := range exceptions {
		if e.Module == module {
			mine[e.ID] = e
		}
	}
	for _, f := range findings {
		if !f.Called {
			v.Other = append(v.Other, f)
			continue
		}
		e, ok := mine[f.ID]
		used[f.ID] = ok
		switch {
		case !ok:
			v.Failing = append(v.Failing, f)
		case !now.Before(e.Expires):
			v.Failing = append(v.Failing, f)
			v.Expired = append(v.Expired, e)
		default:
			v.Accepted = append(v.Accepted, f)
		}
	}
	for id, e := range mine {
		if !used[id] {
			v.Stale = append(v.Stale, e)
		}
	}
	sort.Slice(v.Stale, func(i, j int) bool { return v.Stale[i].ID < v.Stale[j].ID })
	return v
}

// Report writes the verdict for a person and returns an error when the
// module fails the gate.
func Report(w io.Writer, module string, v Verdict) error {
	for _, f := range v.Failing {
		fmt.Fprintf(w, "%s: %s %s\n", module, f.ID, f.Summary)
		fmt.Fprintf(w, "  in %s@%s, fixed in %s\n", f.Module, f.Version, orNone(f.Fixed))
		// Our entry point and the vulnerable symbol; the frames between
		// are in govulncheck -show verbose.
		if n := len(f.Trace); n > 0 {
			fmt.Fprintf(w, "    %s\n", f.Trace[0])
			if n > 2 {
				fmt.Fprintf(w, "    ... %d calls ...\n", n-2)
			}
			if n > 1 {
				fmt.Fprintf(w, "    %s\n", f.Trace[n-1])
			}
		}
	}
	for _, e := range v.Expired {
		fmt.Fprintf(w, "%s: the exception for %s expired on %s (line %d); fix it or review and extend it\n", module, e.ID, e.Expires.Format(time.DateOnly), e.Line)
	}
	for _, f := range v.Accepted {
		fmt.Fprintf(w, "%s: %s accepted (%s@%s, fixed in %s)\n", module, f.ID, f.Module, f.Version, orNone(f.Fixed))
	}
	for _, e := range v.Stale {
		fmt.Fprintf(w, "%s: the exception for %s (line %d) matches no finding any more; remove it\n", module, e.ID, e.Line)
	}
	if len(v.Other) > 0 {
		ids := make([]string, len(v.Other))
		for i, f := range v.Other {
			ids[i] = f.ID
		}
		fmt.Fprintf(w, "%s: %d more in code it imports or requires but does not call: %s\n", module, len(v.Other), strings.Join(ids, ", "))
	}
	if len(v.Failing) > 0 {
		return fmt.Errorf("%s: %d reachable vulnerabilities; upgrade the module that fixes each, or record a reviewed exception", module, len(v.Failing))
	}
	fmt.Fprintf(w, "%s: no reachable vulnerability outside the accepted ones\n", module)
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "no release yet"
	}
	return s
}
