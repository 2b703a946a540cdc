package lambda

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// lastModifiedLayout is Lambda's LastModified format.
const lastModifiedLayout = "2006-01-02T15:04:05.000-0700"

// Environment is a function's environment variables.
type Environment struct {
	Variables map[string]string `json:"Variables,omitempty"`
}

// FunctionConfiguration is a function as GetFunction and the other
// operations report it.
type FunctionConfiguration struct {
	FunctionName     string
	FunctionArn      string
	Runtime          string `json:",omitempty"`
	Role             string
	Handler          string `json:",omitempty"`
	CodeSize         int64
	Description      string
	Timeout          int32
	MemorySize       int32
	LastModified     string
	CodeSha256       string
	Version          string
	Environment      *Environment `json:",omitempty"`
	TracingConfig    struct{ Mode string }
	RevisionId       string
	State            string
	LastUpdateStatus string
	PackageType      string
	Architectures    []string
	EphemeralStorage struct{ Size int32 }
	LoggingConfig    struct {
		LogFormat string
		LogGroup  string
	}
}

// statement is one resource-policy statement, as AddPermission records it.
type statement struct {
	Sid       string
	Effect    string
	Principal map[string]string
	Action    string
	Resource  string
	Condition map[string]map[string]string `json:",omitempty"`
}

type function struct {
	Config FunctionConfiguration
	// CodeDir is the unpacked code of the current revision; Zip the archive.
	CodeDir string
	Zip     string
	Policy  []statement       `json:",omitempty"`
	Tags    map[string]string `json:",omitempty"`

	inst *instance
}

// logGroup is the function's CloudWatch Logs group.
func (f *function) logGroup() string { return "/aws/lambda/" + f.Config.FunctionName }

// errBadZip is code that is not a zip archive; the API answers it with
// badZipMessage, Lambda's words.
var errBadZip = errors.New("unzip code: not a valid zip archive")

const badZipMessage = "Could not unzip uploaded file. Please check your file, then try to upload again."

// storeCode writes the archive and unpacks it into a new revision directory
// under dir, returning both paths, the size and the base64 SHA-256.
func storeCode(dir string, archive []byte) (zipPath, codeDir string, size int64, sha string, err error) {
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return "", "", 0, "", errBadZip
	}
	sum := sha256.Sum256(archive)
	sha = base64.StdEncoding.EncodeToString(sum[:])
	rev := fmt.Sprintf("%x-%d", sum[:6], time.Now().UnixNano())
	codeDir = filepath.Join(dir, rev)
	if err := os.MkdirAll(codeDir, 0o755); err != nil {
		return "", "", 0, "", fmt.Errorf("create code directory: %w", err)
	}
	for _, zf := range zr.File {
		if err := extract(codeDir, zf); err != nil {
			os.RemoveAll(codeDir)
			return "", "", 0, "", err
		}
	}
	zipPath = codeDir + ".zip"
	if err := os.WriteFile(zipPath, archive, 0o644); err != nil {
		os.RemoveAll(codeDir)
		return "", "", 0, "", fmt.Errorf("save code archive: %w", err)
	}
	return zipPath, codeDir, int64(len(archive)), sha, nil
}

func extract(root string, zf *zip.File) error {
	name := filepath.FromSlash(zf.Name)
	if filepath.IsAbs(name) || strings.HasPrefix(filepath.Clean(name), "..") {
		return fmt.Errorf("unzip code: entry %q leaves the archive root", zf.Name)
	}
	p := filepath.Join(root, name)
	if zf.FileInfo().IsDir() {
		return os.MkdirAll(p, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("unzip code: %w", err)
	}
	mode := zf.Mode().Perm()
	if mode == 0 {
		mode = 0o644
	}
	rc, err := zf.Open()
	if err != nil {
		return errBadZip
	}
	defer rc.Close()
	out, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("unzip code: %w", err)
	}
	if _, err := io.Copy(out, io.LimitReader(rc, 250<<20)); err != nil {
		out.Close()
		return errBadZip
	}
	return out.Close()
}

// entrypoint is the program an instance runs: bootstrap for custom runtimes,
// the Handler binary for go1.x.
func (f *function) entrypoint() string {
	if f.Config.Runtime == "go1.x" {
		return filepath.Join(f.CodeDir, filepath.FromSlash(f.Config.Handler))
	}
	return filepath.Join(f.CodeDir, "bootstrap")
}
