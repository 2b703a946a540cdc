// Command vulndb builds a local Go vulnerability database, in the v1 layout
// govulncheck reads with -db file:///abs/path, from the golang.org/x/vulndb
// module fetched through the module proxy (the public database is not
// reachable from our machines or CI).
//
//	vulndb -module golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018 -out .cache/vulndb/VERSION
//	vulndb -src DIR/data/osv -snapshot 2026-11-05T23:49:57Z -out DIR
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/devtools/vulndb"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("vulndb", flag.ContinueOnError)
	module := fs.String("module", "", "`path@version` of the vulndb module to fetch with the go command")
	src := fs.String("src", "", "`dir` of OSV entries to read instead of -module")
	snapshot := fs.String("snapshot", "", "RFC 3339 `time` the -src entries were taken (with -src)")
	out := fs.String("out", "", "`dir` to write the database to; must not exist")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || (*module == "") == (*src == "") {
		fs.Usage()
		return errors.New("parse flags: give -out and exactly one of -module or -src")
	}

	var taken time.Time
	switch {
	case *module != "":
		dir, t, err := download(ctx, *module)
		if err != nil {
			return err
		}
		*src, taken = filepath.Join(dir, "data", "osv"), t
	case *snapshot != "":
		t, err := time.Parse(time.RFC3339, *snapshot)
		if err != nil {
			return fmt.Errorf("parse -snapshot: %w; use RFC 3339, e.g. 2026-11-05T23:49:57Z", err)
		}
		taken = t
	default:
		return errors.New("parse flags: -src needs -snapshot, the time the entries were taken")
	}

	abs, err := filepath.Abs(*out)
	if err != nil {
		return fmt.Errorf("resolve -out: %w", err)
	}
	idx, err := vulndb.Build(*src, abs, taken)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %d entries for %d modules to %s (modified %s); use govulncheck -db file://%s\n",
		len(idx.Vulns), len(idx.Modules), abs, idx.DB.Modified.Format(time.RFC3339), filepath.ToSlash(abs))
	return err
}

// download fetches module@version into the module cache with the go command
// and returns its directory and the version's time.
func download(ctx context.Context, module string) (string, time.Time, error) {
	if !strings.Contains(module, "@") {
		return "", time.Time{}, fmt.Errorf("parse -module %q: want path@version", module)
	}
	// Outside any module or workspace, so the caller's go.work cannot matter.
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", module)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	var got struct {
		Dir   string
		Info  string
		Error string
	}
	if jerr := json.Unmarshal(b, &got); jerr == nil && got.Error != "" {
		return "", time.Time{}, fmt.Errorf("download %s: %s", module, got.Error)
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("download %s: %w: %s", module, err, strings.TrimSpace(stderr.String()))
	}
	if got.Dir == "" || got.Info == "" {
		return "", time.Time{}, fmt.Errorf("download %s: the go command reported no directory", module)
	}
	raw, err := os.ReadFile(got.Info)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("read version info of %s: %w", module, err)
	}
	var info struct{ Time time.Time }
	if err := json.Unmarshal(raw, &info); err != nil {
		return "", time.Time{}, fmt.Errorf("decode version info %s: %w", got.Info, err)
	}
	if info.Time.IsZero() {
		return "", time.Time{}, fmt.Errorf("read version time of %s: %s has none", module, got.Info)
	}
	return got.Dir, info.Time, nil
}
