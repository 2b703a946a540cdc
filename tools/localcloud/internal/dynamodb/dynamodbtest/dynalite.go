// Package dynamodbtest is a DynamoDB contract test suite that runs through
// the real aws-sdk-go-v2 client against any endpoint — localcloud always,
// and dynalite (an independent DynamoDB implementation on npm) when Node is
// present — so the emulator is held to behaviour another implementation
// agrees on, not only to its own reading of the documentation.
package dynamodbtest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// DynaliteVersion is the pinned dynalite the suite compares with.
const DynaliteVersion = "4.0.0"

// Dynalite starts dynalite on a free loopback port for the test and returns
// its endpoint. It skips the test, saying why, when node or npm is missing
// or the package cannot be installed (offline). The package is installed
// once into the repository's git-ignored .cache (or the test's temp dir
// outside a checkout).
func Dynalite(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: the dynalite comparison needs Node.js and npm")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm not found: the dynalite comparison needs Node.js and npm")
	}
	dir := cacheDir(t)
	cli := filepath.Join(dir, "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Skipf("create dynalite cache %s: %v", dir, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "install", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", dir, "dynalite@"+DynaliteVersion)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("npm install dynalite@%s failed (offline?): %v\n%s", DynaliteVersion, err, lastLines(string(out), 10))
		}
	}
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Skipf("start dynalite: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") {
				ready <- nil
				for sc.Scan() {
				}
				return
			}
		}
		ready <- fmt.Errorf("dynalite exited before listening")
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dynalite did not start within 30s")
	}
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

// cacheDir is <repo>/.cache/dynalite/<version>, or a temp dir outside a
// checkout.
func cacheDir(t *testing.T) string {
	wd, err := os.Getwd()
	if err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
				return filepath.Join(d, ".cache", "dynalite", DynaliteVersion)
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return t.TempDir()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
