package bundle_test

import (
	"archive/zip"
	"bytes"
	"io"
	"testing"

	"github.com/shipyard-ecs/shipyard/platform/bundle"
)

// TestZip: the package holds an executable bootstrap, and the same binary
// always zips to the same bytes (its key names its content).
func TestZip(t *testing.T) {
	bin := []byte("\x7fELF pretend binary")
	a, err := bundle.Zip(bin)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := bundle.Zip(bin)
	if !bytes.Equal(a, b) {
		t.Errorf("Zip(same binary) twice gave different bytes")
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
		t.Fatalf("zip entries = %v, want one bootstrap with mode 0755", zr.File)
	}
	rc, _ := zr.File[0].Open()
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, bin) {
		t.Errorf("bootstrap = %q, want %q", got, bin)
	}
}
