package ecr

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Code is an ECR error code, as the SDK's types package names its errors.
type Code string

// The ECR error codes this emulator answers.
const (
	CodeRepositoryNotFound      Code = "RepositoryNotFoundException"
	CodeRepositoryAlreadyExists Code = "RepositoryAlreadyExistsException"
	CodeRepositoryNotEmpty      Code = "RepositoryNotEmptyException"
	CodeImageNotFound           Code = "ImageNotFoundException"
	CodeImageTagAlreadyExists   Code = "ImageTagAlreadyExistsException"
	CodeInvalidParameter        Code = "InvalidParameterException"
	CodeServer                  Code = "ServerException"
	CodeLifecyclePolicyNotFound Code = "LifecyclePolicyNotFoundException"
)

// Error is a rule violation with the ECR code a client sees.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// store persists named JSON documents; internal/state.Store satisfies it.
type store interface {
	Load(name string, v any) (bool, error)
	Save(name string, v any) error
}

// clock is the time source; internal/clock satisfies it.
type clock interface {
	Now() time.Time
}

// Config configures a Backend.
type Config struct {
	// Dir holds blobs, manifests and upload sessions. Required.
	Dir string
	// Store persists the repository metadata; nil keeps it in memory.
	Store store
	// Host is the registry's host:port as clients reach it, used in
	// repository URIs (for example 127.0.0.1:4566).
	Host string
	// Account and Region build ARNs; defaults 000000000000 and us-east-1.
	Account, Region string
	Clock           clock
	Logger          *slog.Logger
}

// Repository is an ECR repository.
type Repository struct {
	Name               string            `json:"name"`
	ARN                string            `json:"arn"`
	CreatedAt          time.Time         `json:"createdAt"`
	ImageTagMutability string            `json:"imageTagMutability"`
	ScanOnPush         bool              `json:"scanOnPush"`
	Tags               map[string]string `json:"tags,omitempty"`
	LifecyclePolicy    string            `json:"lifecyclePolicy,omitempty"`
	// Images by manifest digest.
	Images map[string]*Image `json:"images,omitempty"`
	// TagIndex maps an image tag to its manifest digest.
	TagIndex map[string]string `json:"tagIndex,omitempty"`
}

// Image is a manifest pushed to a repository.
type Image struct {
	Digest    string    `json:"digest"`
	MediaType string    `json:"mediaType"`
	Size      int64     `json:"size"` // manifest plus referenced layers and config
	PushedAt  time.Time `json:"pushedAt"`
	// ArtifactMediaType is the config media type, as DescribeImages reports it.
	ArtifactMediaType string `json:"artifactMediaType,omitempty"`
}

// ImageDetail is an image with its tags, as DescribeImages returns it.
type ImageDetail struct {
	Image
	Repository string
	Tags       []string
}

// Backend holds the repositories and their content. Its methods are safe for
// concurrent use.
type Backend struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	repos    map[string]*Repository
	onDelete []func(digests []string)
	// holds are the blobs pushes are using before their manifest lands:
	// blob digest, then repository pushed to, then when a push last touched
	// it. Deletes do not free them; see gc.go. Never saved: no push spans a
	// restart.
	holds map[string]map[string]time.Time
}

const stateName = "ecr"

// New opens the backend, loading persisted repositories.
func New(cfg Config) (*Backend, error) {
	if cfg.Dir == "" {
		return nil, errors.New("create ecr backend: no directory")
	}
	if cfg.Account == "" {
		cfg.Account = "000000000000"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		return nil, errors.New("create ecr backend: no clock")
	}
	for _, d := range []string{"blobs/sha256", "uploads"} {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("create ecr backend: %w", err)
		}
	}
	b := &Backend{cfg: cfg, log: cfg.Logger, repos: map[string]*Repository{}}
	if cfg.Store != nil {
		if _, err := cfg.Store.Load(stateName, &b.repos); err != nil {
			return nil, fmt.Errorf("load ecr state: %w", err)
		}
		if b.repos == nil {
			b.repos = map[string]*Repository{}
		}
	}
	b.sweepLocked()
	return b, nil
}

// Host is the registry host:port used in repository URIs.
func (b *Backend) Host() string { return b.cfg.Host }

// RegistryID is the account whose registry this is.
func (b *Backend) RegistryID() string { return b.cfg.Account }

// URI is the repository URI clients push to.
func (b *Backend) URI(name string) string { return b.cfg.Host + "/" + name }

func (b *Backend) save() error {
	if b.cfg.Store == nil {
		return nil
	}
	if err := b.cfg.Store.Save(stateName, b.repos); err != nil {
		return fmt.Errorf("save ecr state: %w", err)
	}
	return nil
}

// repoName is ECR's repository-name pattern.
var repoName = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// ValidateName checks a repository name as ECR does: 2 to 256 characters of
// lowercase letters, digits and the separators . _ - /.
func ValidateName(name string) error {
	if len(name) < 2 || len(name) > 256 || !repoName.MatchString(name) {
		return errorf(CodeInvalidParameter, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*' and length between 2 and 256'")
	}
	return nil
}

// CreateRepository creates an empty repository. Mutability is MUTABLE (the
// default) or IMMUTABLE.
func (b *Backend) CreateRepository(name, mutability string, scanOnPush bool, tags map[string]string) (Repository, error) {
	if err := ValidateName(name); err != nil {
		return Repository{}, err
	}
	switch mutability {
	case "":
		mutability = "MUTABLE"
	case "MUTABLE", "IMMUTABLE":
	default:
		return Repository{}, errorf(CodeInvalidParameter, "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE]'")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.repos[name]; ok {
		return Repository{}, errorf(CodeRepositoryAlreadyExists, "The repository with name '%s' already exists in the registry with id '%s'", name, b.cfg.Account)
	}
	r := &Repository{
		Name:               name,
		ARN:                fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", b.cfg.Region, b.cfg.Account, name),
		CreatedAt:          b.cfg.Clock.Now().UTC(),
		ImageTagMutability: mutability,
		ScanOnPush:         scanOnPush,
		Tags:               tags,
		Images:             map[string]*Image{},
		TagIndex:           map[string]string{},
	}
	b.repos[name] = r
	if err := b.save(); err != nil {
		delete(b.repos, name)
		return Repository{}, err
	}
	b.log.Info("repository created", "repository", name)
	return copyRepo(r), nil
}

func copyRepo(r *Repository) Repository {
	c := *r
	c.Images, c.TagIndex = nil, nil
	return c
}

func (b *Backend) notFound(name string) *Error {
	return errorf(CodeRepositoryNotFound, "The repository with name '%s' does not exist in the registry with id '%s'", name, b.cfg.Account)
}

// DescribeRepositories returns the named repositories, or all of them sorted
// by name when names is empty. Any unknown name fails the whole call.
func (b *Backend) DescribeRepositories(names []string) ([]Repository, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Repository
	if len(names) == 0 {
		for _, r := range b.repos {
			out = append(out, copyRepo(r))
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out, nil
	}
	for _, n := range names {
		r, ok := b.repos[n]
		if !ok {
			return nil, b.notFound(n)
		}
		out = append(out, copyRepo(r))
	}
	return out, nil
}

// DeleteRepository deletes a repository; one that holds images only with
// force. Its images' blobs that no other repository references go too.
func (b *Backend) DeleteRepository(name string, force bool) (Repository, error) {
	b.mu.Lock()
	r, ok := b.repos[name]
	if !ok {
		b.mu.Unlock()
		return Repository{}, b.notFound(name)
	}
	if len(r.Images) > 0 && !force {
		b.mu.Unlock()
		return Repository{}, errorf(CodeRepositoryNotEmpty, "The repository with name '%s' in registry with id '%s' cannot be deleted because it still contains images", name, b.cfg.Account)
	}
	delete(b.repos, name)
	if err := b.save(); err != nil {
		b.repos[name] = r
		b.mu.Unlock()
		return Repository{}, err
	}
	// A push into the deleted repository cannot land its manifest: the
	// blobs it touched need not wait for it.
	b.releaseRepoLocked(name)
	gone := make([]string, 0, len(r.Images))
	for d := range r.Images {
		gone = append(gone, d)
	}
	sort.Strings(gone)
	gone = b.collectLocked(gone)
	b.log.Info("repository deleted", "repository", name, "images", len(r.Images))
	b.mu.Unlock()
	b.notify(gone)
	return copyRepo(r), nil
}

// ImageID selects an image by digest or tag.
type ImageID struct {
	Digest, Tag string
}

// DescribeImages lists a repository's images, or the selected ones; an
// unknown selection answers ImageNotFoundException.
func (b *Backend) DescribeImages(name string, ids []ImageID) ([]ImageDetail, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.repos[name]
	if !ok {
		return nil, b.notFound(name)
	}
	tagsOf := map[string][]string{}
	for t, d := range r.TagIndex {
		tagsOf[d] = append(tagsOf[d], t)
	}
	detail := func(im *Image) ImageDetail {
		t := append([]string(nil), tagsOf[im.Digest]...)
		sort.Strings(t)
		return ImageDetail{Image: *im, Repository: name, Tags: t}
	}
	var out []ImageDetail
	if len(ids) == 0 {
		for _, im := range r.Images {
			out = append(out, detail(im))
		}
		sort.Slice(out, func(i, j int) bool { return out[i].PushedAt.Before(out[j].PushedAt) })
		return out, nil
	}
	for _, id := range ids {
		d := id.Digest
		if d == "" {
			d = r.TagIndex[id.Tag]
		}
		im, ok := r.Images[d]
		if !ok || (id.Tag != "" && r.TagIndex[id.Tag] != d) {
			return nil, errorf(CodeImageNotFound, "The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'", id.Digest, id.Tag, name, b.cfg.Account)
		}
		out = append(out, detail(im))
	}
	return out, nil
}

// blobPath is where a blob with the given digest lives.
func (b *Backend) blobPath(h v1.Hash) string {
	return filepath.Join(b.cfg.Dir, "blobs", h.Algorithm, h.Hex)
}

func (b *Backend) hasBlob(h v1.Hash) (int64, bool) {
	fi, err := os.Stat(b.blobPath(h))
	if err != nil {
		return 0, false
	}
	return fi.Size(), true
}

// writeBlob stores content under its digest, atomically.
func (b *Backend) writeBlob(data []byte) (v1.Hash, error) {
	sum := sha256.Sum256(data)
	h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	if _, ok := b.hasBlob(h); ok {
		return h, nil
	}
	tmp, err := os.CreateTemp(filepath.Join(b.cfg.Dir, "uploads"), "blob-*")
	if err != nil {
		return h, fmt.Errorf("write blob: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return h, fmt.Errorf("write blob: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return h, fmt.Errorf("write blob: %w", err)
	}
	if err := os.Rename(tmp.Name(), b.blobPath(h)); err != nil {
		return h, fmt.Errorf("write blob: %w", err)
	}
	return h, nil
}

func (b *Backend) readBlob(h v1.Hash) ([]byte, error) {
	return os.ReadFile(b.blobPath(h))
}

func (b *Backend) repoExists(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.repos[name]
	return ok
}

// manifestRefs lists the blobs a manifest or index references, and for an
// image manifest its config media type.
type manifestRefs struct {
	MediaType types.MediaType `json:"mediaType"`
	Config    *v1.Descriptor  `json:"config"`
	Layers    []v1.Descriptor `json:"layers"`
	Manifests []v1.Descriptor `json:"manifests"`
}

// putManifest stores a manifest and points ref (a tag, or its digest) at it.
// Every referenced blob or child manifest must already be present.
func (b *Backend) putManifest(repo, ref, contentType string, body []byte) (v1.Hash, *regError) {
	var m manifestRefs
	if err := json.Unmarshal(body, &m); err != nil {
		return v1.Hash{}, regErr(400, "MANIFEST_INVALID", "manifest invalid: "+err.Error())
	}
	mediaType := string(m.MediaType)
	if mediaType == "" {
		mediaType = contentType
	}
	refs := append(append([]v1.Descriptor{}, m.Layers...), m.Manifests...)
	artifact := ""
	if m.Config != nil {
		refs = append(refs, *m.Config)
		artifact = string(m.Config.MediaType)
	}
	size := int64(len(body))
	for _, d := range refs {
		size += d.Size
	}
	if e := b.missingBlob(refs); e != nil {
		return v1.Hash{}, e
	}
	h, err := b.writeBlob(body)
	if err != nil {
		return v1.Hash{}, regErr(500, "UNKNOWN", err.Error())
	}
	isDigest := strings.HasPrefix(ref, "sha256:")
	if isDigest && ref != h.String() {
		return v1.Hash{}, regErr(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.repos[repo]
	if !ok {
		return v1.Hash{}, nameUnknown(repo)
	}
	// A delete may have collected a blob, the manifest's own too, since they
	// were checked above (writeBlob writes only a missing one).
	if e := b.missingBlob(refs); e != nil {
		return v1.Hash{}, e
	}
	if _, err := b.writeBlob(body); err != nil {
		return v1.Hash{}, regErr(500, "UNKNOWN", err.Error())
	}
	if !isDigest {
		if old, ok := r.TagIndex[ref]; ok && old != h.String() && r.ImageTagMutability == "IMMUTABLE" {
			return v1.Hash{}, regErr(400, "TAG_INVALID", fmt.Sprintf("The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.", ref, repo))
		}
	}
	if _, ok := r.Images[h.String()]; !ok {
		r.Images[h.String()] = &Image{Digest: h.String(), MediaType: mediaType, Size: size, PushedAt: b.cfg.Clock.Now().UTC(), ArtifactMediaType: artifact}
	}
	if !isDigest {
		r.TagIndex[ref] = h.String()
	}
	if err := b.save(); err != nil {
		return v1.Hash{}, regErr(500, "UNKNOWN", err.Error())
	}
	// The image references them now: pushes into repo need not hold them.
	for _, d := range refs {
		b.releaseLocked(repo, d.Digest.String())
	}
	b.log.Info("image pushed", "repository", repo, "reference", ref, "digest", h.String())
	return h, nil
}

// missingBlob answers the first of a manifest's references the registry
// does not hold.
func (b *Backend) missingBlob(refs []v1.Descriptor) *regError {
	for _, d := range refs {
		if _, ok := b.hasBlob(d.Digest); !ok {
			return regErr(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry: "+d.Digest.String())
		}
	}
	return nil
}

// resolve finds the manifest digest a tag or digest names in a repository.
func (b *Backend) resolve(repo, ref string) (*Image, *regError) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.repos[repo]
	if !ok {
		return nil, nameUnknown(repo)
	}
	d := ref
	if !strings.HasPrefix(ref, "sha256:") {
		d, ok = r.TagIndex[ref]
		if !ok {
			return nil, regErr(404, "MANIFEST_UNKNOWN", "manifest unknown: "+ref)
		}
	}
	im, ok := r.Images[d]
	if !ok {
		return nil, regErr(404, "MANIFEST_UNKNOWN", "manifest unknown: "+ref)
	}
	c := *im
	return &c, nil
}

// deleteManifest removes a tag, or by digest an image and its tags. With
// lastTagDeletes, removing an image's last tag removes the image, as ECR's
// BatchDeleteImage does. The blobs of a removed image that nothing else
// references go with it.
func (b *Backend) deleteManifest(repo, ref string, lastTagDeletes bool) *regError {
	b.mu.Lock()
	r, ok := b.repos[repo]
	if !ok {
		b.mu.Unlock()
		return nameUnknown(repo)
	}
	digest := ref
	if !strings.HasPrefix(ref, "sha256:") {
		d, ok := r.TagIndex[ref]
		if !ok {
			b.mu.Unlock()
			return regErr(404, "MANIFEST_UNKNOWN", "manifest unknown: "+ref)
		}
		delete(r.TagIndex, ref)
		digest = ""
		if lastTagDeletes && !slices.Contains(slices.Collect(maps.Values(r.TagIndex)), d) {
			digest = d
		}
	} else if _, ok := r.Images[ref]; !ok {
		b.mu.Unlock()
		return regErr(404, "MANIFEST_UNKNOWN", "manifest unknown: "+ref)
	}
	if digest != "" {
		delete(r.Images, digest)
		for t, d := range r.TagIndex {
			if d == digest {
				delete(r.TagIndex, t)
			}
		}
	}
	if err := b.save(); err != nil {
		b.mu.Unlock()
		return regErr(500, "UNKNOWN", err.Error())
	}
	var gone []string
	if digest != "" {
		gone = b.collectLocked([]string{digest})
	}
	b.mu.Unlock()
	b.notify(gone)
	return nil
}

func (b *Backend) tags(repo string) ([]string, *regError) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.repos[repo]
	if !ok {
		return nil, nameUnknown(repo)
	}
	out := make([]string, 0, len(r.TagIndex))
	for t := range r.TagIndex {
		out = append(out, t)
	}
	sort.Strings(out)
	return out, nil
}

// openBlob opens a stored blob.
func (b *Backend) openBlob(h v1.Hash) (io.ReadCloser, error) {
	f, err := os.Open(b.blobPath(h))
	if err != nil {
		return nil, err
	}
	return f, nil
}

// UpdateRepository applies change to a repository's settings and persists
// them; a change that returns an error changes nothing.
func (b *Backend) UpdateRepository(name string, change func(*Repository) error) (Repository, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.repos[name]
	if !ok {
		return Repository{}, b.notFound(name)
	}
	next := *r
	next.Tags = maps.Clone(r.Tags)
	if err := change(&next); err != nil {
		return Repository{}, err
	}
	*r = next
	if err := b.save(); err != nil {
		return Repository{}, err
	}
	return copyRepo(r), nil
}

// RepositoryByARN finds a repository's name from its ARN.
func (b *Backend) RepositoryByARN(arn string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, r := range b.repos {
		if r.ARN == arn {
			return name, nil
		}
	}
	return "", errorf(CodeRepositoryNotFound, "The repository with ARN '%s' does not exist in the registry with id '%s'", arn, b.cfg.Account)
}

// DeleteImage removes a tag (the image stays, possibly untagged) or, by
// digest, an image and all its tags. A tag and digest that disagree are
// refused.
func (b *Backend) DeleteImage(repo string, id ImageID) error {
	b.mu.Lock()
	r, ok := b.repos[repo]
	if !ok {
		b.mu.Unlock()
		return b.notFound(repo)
	}
	if id.Tag != "" && id.Digest != "" && r.TagIndex[id.Tag] != id.Digest {
		b.mu.Unlock()
		return errorf(CodeImageNotFound, "ImageTagDoesNotMatchDigest")
	}
	b.mu.Unlock()
	ref := id.Digest
	if ref == "" {
		ref = id.Tag
	}
	if e := b.deleteManifest(repo, ref, true); e != nil {
		return errorf(CodeImageNotFound, "Requested image not found")
	}
	return nil
}
