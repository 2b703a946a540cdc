package ecr

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// regError is an OCI distribution error: an HTTP status and an error code
// from the distribution spec.
type regError struct {
	Status  int
	Code    string
	Message string
}

func regErr(status int, code, msg string) *regError {
	return &regError{Status: status, Code: code, Message: msg}
}

func nameUnknown(repo string) *regError {
	return regErr(404, "NAME_UNKNOWN", fmt.Sprintf("The repository with name '%s' does not exist in the registry", repo))
}

func (e *regError) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": e.Code, "message": e.Message}}})
}

// Registry returns the OCI distribution API (mount it at /v2/).
func (b *Backend) Registry() http.Handler { return http.HandlerFunc(b.serveRegistry) }

var uploadID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (b *Backend) serveRegistry(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	p := strings.TrimPrefix(r.URL.Path, "/v2")
	if p == "/" || p == "" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
		return
	}
	p = strings.TrimPrefix(p, "/")
	var e *regError
	switch {
	case strings.HasSuffix(p, "/tags/list"):
		e = b.serveTags(w, r, strings.TrimSuffix(p, "/tags/list"))
	case strings.Contains(p, "/blobs/uploads"):
		i := strings.LastIndex(p, "/blobs/uploads")
		repo, rest := p[:i], strings.Trim(p[i+len("/blobs/uploads"):], "/")
		e = b.serveUpload(w, r, repo, rest)
	case strings.Contains(p, "/blobs/"):
		i := strings.LastIndex(p, "/blobs/")
		e = b.serveBlob(w, r, p[:i], p[i+len("/blobs/"):])
	case strings.Contains(p, "/manifests/"):
		i := strings.LastIndex(p, "/manifests/")
		e = b.serveManifest(w, r, p[:i], p[i+len("/manifests/"):])
	default:
		e = regErr(404, "NAME_UNKNOWN", "unknown registry path "+r.URL.Path)
	}
	if e != nil {
		if e.Status >= 500 {
			b.log.Error("registry request failed", "method", r.Method, "path", r.URL.Path, "error", e.Message)
		}
		e.write(w)
	}
}

func (b *Backend) serveTags(w http.ResponseWriter, r *http.Request, repo string) *regError {
	if r.Method != http.MethodGet {
		return regErr(405, "UNSUPPORTED", "method not allowed")
	}
	tags, e := b.tags(repo)
	if e != nil {
		return e
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"name": repo, "tags": tags})
	return nil
}

func (b *Backend) serveBlob(w http.ResponseWriter, r *http.Request, repo, ref string) *regError {
	if !b.repoExists(repo) {
		return nameUnknown(repo)
	}
	h, err := v1.NewHash(ref)
	if err != nil {
		return regErr(400, "DIGEST_INVALID", "invalid digest "+ref)
	}
	switch r.Method {
	case http.MethodHead, http.MethodGet:
	default:
		return regErr(405, "UNSUPPORTED", "method not allowed")
	}
	var size int64
	var ok bool
	if r.Method == http.MethodHead {
		// A push asks whether it may skip the upload: keep the blob for it.
		size, ok = b.holdBlob(repo, h)
	} else {
		size, ok = b.hasBlob(h)
	}
	if !ok {
		return regErr(404, "BLOB_UNKNOWN", "blob unknown to registry: "+ref)
	}
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Docker-Content-Digest", h.String())
	w.Header().Set("Content-Type", "application/octet-stream")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	f, err := b.openBlob(h)
	if err != nil {
		return regErr(500, "UNKNOWN", err.Error())
	}
	defer f.Close()
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, f)
	return nil
}

func (b *Backend) uploadPath(id string) string {
	return filepath.Join(b.cfg.Dir, "uploads", id)
}

func newUploadID() string {
	var x [16]byte
	_, _ = rand.Read(x[:])
	return hex.EncodeToString(x[:])
}

// serveUpload implements blob upload sessions: POST starts one (or mounts,
// or uploads monolithically with ?digest=), PATCH appends a chunk, PUT
// closes it against the expected digest.
func (b *Backend) serveUpload(w http.ResponseWriter, r *http.Request, repo, id string) *regError {
	if !b.repoExists(repo) {
		return nameUnknown(repo)
	}
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPost && id == "":
		if mount := q.Get("mount"); mount != "" {
			if h, err := v1.NewHash(mount); err == nil {
				if _, ok := b.holdBlob(repo, h); ok {
					w.Header().Set("Location", "/v2/"+repo+"/blobs/"+h.String())
					w.Header().Set("Docker-Content-Digest", h.String())
					w.WriteHeader(http.StatusCreated)
					return nil
				}
			}
		}
		id = newUploadID()
		if err := os.WriteFile(b.uploadPath(id), nil, 0o644); err != nil {
			return regErr(500, "UNKNOWN", err.Error())
		}
		if d := q.Get("digest"); d != "" {
			if e := b.appendUpload(id, r.Body); e != nil {
				return e
			}
			return b.finishUpload(w, repo, id, d)
		}
		w.Header().Set("Location", "/v2/"+repo+"/blobs/uploads/"+id)
		w.Header().Set("Docker-Upload-UUID", id)
		w.Header().Set("Range", "0-0")
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusAccepted)
		return nil
	case !uploadID.MatchString(id):
		return regErr(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
	case r.Method == http.MethodPatch:
		if e := b.appendUpload(id, r.Body); e != nil {
			return e
		}
		fi, err := os.Stat(b.uploadPath(id))
		if err != nil {
			return regErr(500, "UNKNOWN", err.Error())
		}
		w.Header().Set("Location", "/v2/"+repo+"/blobs/uploads/"+id)
		w.Header().Set("Docker-Upload-UUID", id)
		w.Header().Set("Range", fmt.Sprintf("0-%d", max(fi.Size()-1, 0)))
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusAccepted)
		return nil
	case r.Method == http.MethodPut:
		if e := b.appendUpload(id, r.Body); e != nil {
			return e
		}
		return b.finishUpload(w, repo, id, q.Get("digest"))
	case r.Method == http.MethodGet:
		fi, err := os.Stat(b.uploadPath(id))
		if err != nil {
			return regErr(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
		}
		w.Header().Set("Range", fmt.Sprintf("0-%d", max(fi.Size()-1, 0)))
		w.Header().Set("Docker-Upload-UUID", id)
		w.WriteHeader(http.StatusNoContent)
		return nil
	case r.Method == http.MethodDelete:
		if err := os.Remove(b.uploadPath(id)); err != nil {
			return regErr(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return regErr(405, "UNSUPPORTED", "method not allowed")
}

func (b *Backend) appendUpload(id string, body io.Reader) *regError {
	f, err := os.OpenFile(b.uploadPath(id), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return regErr(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
		}
		return regErr(500, "UNKNOWN", err.Error())
	}
	defer f.Close()
	if _, err := io.Copy(f, body); err != nil {
		return regErr(500, "UNKNOWN", err.Error())
	}
	return nil
}

func (b *Backend) finishUpload(w http.ResponseWriter, repo, id, digest string) *regError {
	want, err := v1.NewHash(digest)
	if err != nil {
		return regErr(400, "DIGEST_INVALID", "invalid digest "+digest)
	}
	path := b.uploadPath(id)
	f, err := os.Open(path)
	if err != nil {
		return regErr(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
	}
	hasher := sha256.New()
	_, err = io.Copy(hasher, f)
	f.Close()
	if err != nil {
		return regErr(500, "UNKNOWN", err.Error())
	}
	if got := "sha256:" + hex.EncodeToString(hasher.Sum(nil)); got != want.String() {
		os.Remove(path)
		return regErr(400, "DIGEST_INVALID", fmt.Sprintf("provided digest %s did not match uploaded content %s", want, got))
	}
	// Held before it is in place, so no delete frees it in between.
	b.hold(repo, want.String())
	if err := os.Rename(path, b.blobPath(want)); err != nil {
		return regErr(500, "UNKNOWN", err.Error())
	}
	w.Header().Set("Location", "/v2/"+repo+"/blobs/"+want.String())
	w.Header().Set("Docker-Content-Digest", want.String())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

// maxManifest bounds a manifest body, as registries do (4 MiB).
const maxManifest = 4 << 20

func (b *Backend) serveManifest(w http.ResponseWriter, r *http.Request, repo, ref string) *regError {
	switch r.Method {
	case http.MethodPut:
		body, err := io.ReadAll(io.LimitReader(r.Body, maxManifest+1))
		if err != nil {
			return regErr(400, "MANIFEST_INVALID", err.Error())
		}
		if len(body) > maxManifest {
			return regErr(413, "SIZE_INVALID", "manifest too large")
		}
		if !b.repoExists(repo) {
			return nameUnknown(repo)
		}
		h, e := b.putManifest(repo, ref, r.Header.Get("Content-Type"), body)
		if e != nil {
			return e
		}
		w.Header().Set("Location", "/v2/"+repo+"/manifests/"+h.String())
		w.Header().Set("Docker-Content-Digest", h.String())
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusCreated)
		return nil
	case http.MethodGet, http.MethodHead:
		im, e := b.resolve(repo, ref)
		if e != nil {
			return e
		}
		h, _ := v1.NewHash(im.Digest)
		body, err := b.readBlob(h)
		if err != nil {
			return regErr(500, "UNKNOWN", err.Error())
		}
		w.Header().Set("Content-Type", im.MediaType)
		w.Header().Set("Docker-Content-Digest", im.Digest)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
		return nil
	case http.MethodDelete:
		if e := b.deleteManifest(repo, ref, false); e != nil {
			return e
		}
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	return regErr(405, "UNSUPPORTED", "method not allowed")
}
