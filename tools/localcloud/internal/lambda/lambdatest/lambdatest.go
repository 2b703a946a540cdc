// Package lambdatest builds the test Lambda function (../testfn) into
// deployment zips, for tests that deploy it to localcloud.
package lambdatest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Package is the test function's import path.
const Package = "github.com/shipyard-ecs/shipyard/tools/localcloud/internal/lambda/testfn"

// Build compiles the test function (stripped, static) into dir and returns
// the binary and how long the build took.
func Build(dir string) ([]byte, time.Duration, error) {
	start := time.Now()
	bin := filepath.Join(dir, "testfn")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, Package)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, 0, fmt.Errorf("build test function: %w\n%s", err, out)
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, 0, fmt.Errorf("read test function: %w", err)
	}
	return exe, time.Since(start), nil
}

// Zip returns a deployment zip holding exe, executable, under each of names
// ("bootstrap" for provided.al2023, the handler name for go1.x). Entries are
// stored uncompressed: inflating megabytes under the race detector costs
// seconds.
func Zip(exe []byte, names ...string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range names {
		h := &zip.FileHeader{Name: name, Method: zip.Store}
		h.SetMode(0o755)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, fmt.Errorf("zip test function: %w", err)
		}
		if _, err := w.Write(exe); err != nil {
			return nil, fmt.Errorf("zip test function: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip test function: %w", err)
	}
	return buf.Bytes(), nil
}
