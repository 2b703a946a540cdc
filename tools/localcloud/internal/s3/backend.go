// Package s3 emulates Amazon S3's REST-XML API for the buckets the
// platform uses: buckets, objects stored on disk, and bucket settings
// recorded and read back.
//
// The rules, as on S3:
//   - Requests are path-style (http://127.0.0.1:4566/bucket/key) or
//     virtual-hosted (http://bucket.localhost:4566/key); aws-sdk-go-v2 with
//     AWS_ENDPOINT_URL=http://127.0.0.1:PORT addresses buckets path-style by
//     itself, because an IP-address endpoint cannot carry a bucket label.
//   - Bucket names follow S3's rules (3–63 characters of a-z, 0-9, '.',
//     '-', starting and ending with a letter or digit, not an IP address).
//     CreateBucket on a bucket that exists answers BucketAlreadyOwnedByYou;
//     DeleteBucket refuses a bucket with objects (BucketNotEmpty).
//   - PutObject accepts plain bodies, Content-MD5, x-amz-content-sha256,
//     the flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) in a
//     header or as an aws-chunked trailer, and the aws-chunked streaming
//     encodings (signed or unsigned); every claimed digest is verified
//     (BadDigest otherwise). Objects without a checksum get CRC64NVME, as
//     S3 computes it. If-None-Match: * and If-Match make writes conditional.
//   - ETags are the MD5 of the content, or of the parts' MD5s with a part
//     count for multipart uploads.
//   - ListObjectsV2 lists keys in UTF-8 byte order with prefix, delimiter,
//     start-after, max-keys and continuation tokens.
//   - Bucket policy, encryption, versioning, public access block, tagging,
//     ownership controls, lifecycle, CORS and ACL documents are recorded and
//     returned as given; none is enforced (any credentials may do
//     anything). Versioning status is reported and version IDs are issued,
//     but only the latest version of an object is kept.
//   - Object bodies live under <state>/s3/, metadata in the state store; both
//     survive a restart.
package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// Config is what the backend needs.
type Config struct {
	Logger *slog.Logger
	Clock  clock.Clock
	Store  state.Store
	// Region is where buckets report they live (default us-east-1).
	Region string
	// MaxObjectSize bounds one PutObject or part (default 512 MiB).
	MaxObjectSize int64
}

// Backend is the S3 emulator; its methods are safe for concurrent use.
type Backend struct {
	cfg     Config
	log     *slog.Logger
	clock   clock.Clock
	dataDir string
	tempDir bool

	mu      sync.Mutex
	buckets map[string]*bucket
	uploads map[string]*upload
}

// bucket is a bucket's settings and its objects' metadata, as persisted.
type bucket struct {
	Name    string
	Created time.Time
	Region  string
	Policy  string `json:",omitempty"`
	// Configs holds each recorded subresource document by its query name
	// (encryption, versioning, publicAccessBlock, tagging, …), as given.
	Configs    map[string]string `json:",omitempty"`
	Versioning string            `json:",omitempty"` // Enabled, Suspended or ""
	Objects    map[string]*object
}

// object is one object's metadata; the body is the file named File.
type object struct {
	Key          string
	Size         int64
	ETag         string // with quotes
	LastModified time.Time
	ContentType  string            `json:",omitempty"`
	Headers      map[string]string `json:",omitempty"` // Cache-Control, Content-Disposition, …
	Metadata     map[string]string `json:",omitempty"` // x-amz-meta-*
	Checksum     checksum
	ChecksumType string `json:",omitempty"` // FULL_OBJECT or COMPOSITE
	VersionID    string `json:",omitempty"`
	Parts        int    `json:",omitempty"`
	File         string
}

// New returns a backend with the buckets saved in cfg.Store and the object
// bodies under <cfg.Store.Dir>/s3 (a temporary directory without a store
// directory, removed by Close).
func New(cfg Config) (*Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New(1)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.MaxObjectSize == 0 {
		cfg.MaxObjectSize = 512 << 20
	}
	b := &Backend{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, buckets: map[string]*bucket{}, uploads: map[string]*upload{}}
	if cfg.Store.Dir != "" {
		b.dataDir = filepath.Join(cfg.Store.Dir, "s3")
	} else {
		d, err := os.MkdirTemp("", "localcloud-s3-")
		if err != nil {
			return nil, fmt.Errorf("create s3 data dir: %w", err)
		}
		b.dataDir, b.tempDir = d, true
	}
	if err := os.MkdirAll(b.dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create s3 data dir: %w", err)
	}
	var names []string
	ok, err := cfg.Store.Load("s3", &names)
	if err != nil {
		return nil, fmt.Errorf("restore s3: %w", err)
	}
	if ok {
		objects := 0
		for _, n := range names {
			var bk bucket
			if _, err := cfg.Store.Load(stateBucketPrefix+n, &bk); err != nil {
				return nil, fmt.Errorf("restore s3 bucket %s: %w", n, err)
			}
			if bk.Objects == nil {
				bk.Objects = map[string]*object{}
			}
			b.buckets[n] = &bk
			objects += len(bk.Objects)
		}
		b.log.Info("restored s3", "buckets", len(names), "objects", objects)
	}
	b.sweep()
	return b, nil
}

// stateBucketPrefix starts the name of each bucket's state document
// (Store.Save), beside the list of buckets ("s3").
const stateBucketPrefix = "s3-bucket-"

// sweep removes what no bucket accounts for: the directories and documents
// of buckets deleted before deletes freed them, and the parts of multipart
// uploads, which do not survive a restart.
func (b *Backend) sweep() {
	if b.cfg.Store.Dir == "" {
		return
	}
	entries, err := os.ReadDir(b.dataDir)
	if err != nil {
		b.log.Warn("sweep s3 data", "err", err)
		return
	}
	for _, e := range entries {
		if _, ok := b.buckets[e.Name()]; ok {
			continue
		}
		if err := os.RemoveAll(filepath.Join(b.dataDir, e.Name())); err != nil {
			b.log.Warn("sweep s3 data", "err", err)
		}
	}
	docs, _ := filepath.Glob(filepath.Join(b.cfg.Store.Dir, stateBucketPrefix+"*.json"))
	for _, d := range docs {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(d), stateBucketPrefix), ".json")
		if _, ok := b.buckets[name]; !ok {
			if err := b.cfg.Store.Delete(stateBucketPrefix + name); err != nil {
				b.log.Warn("sweep s3 state", "err", err)
			}
		}
	}
}

// Close removes a temporary data directory.
func (b *Backend) Close() error {
	if b.tempDir {
		return os.RemoveAll(b.dataDir)
	}
	return nil
}

// Register serves S3 on the mux: requests signed for s3, and any request
// no other protocol claims.
func (b *Backend) Register(m *awsproto.Mux) {
	m.HandleREST("s3", b, true)
}

func (b *Backend) saveIndexLocked() error {
	names := make([]string, 0, len(b.buckets))
	for n := range b.buckets {
		names = append(names, n)
	}
	sort.Strings(names)
	if err := b.cfg.Store.Save("s3", names); err != nil {
		return fmt.Errorf("save s3 buckets: %w", err)
	}
	return nil
}

func (b *Backend) saveBucketLocked(bk *bucket) error {
	if err := b.cfg.Store.Save(stateBucketPrefix+bk.Name, bk); err != nil {
		return fmt.Errorf("save s3 bucket %s: %w", bk.Name, err)
	}
	return nil
}

var (
	bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

func validBucketName(name string) bool {
	if !bucketNameRE.MatchString(name) || strings.Contains(name, "..") || net.ParseIP(name) != nil {
		return false
	}
	return !strings.HasPrefix(name, "xn--") && !strings.HasSuffix(name, "-s3alias")
}

func (b *Backend) bucketLocked(name string) (*bucket, error) {
	bk, ok := b.buckets[name]
	if !ok {
		return nil, bucketErr(ErrNoSuchBucket, name)
	}
	return bk, nil
}

// ARN is a bucket's ARN.
func ARN(bucket string) string { return "arn:aws:s3:::" + bucket }

// CreateBucket creates a bucket, for in-process callers (CloudFormation)
// and the API alike.
func (b *Backend) CreateBucket(ctx context.Context, name string) error {
	if !validBucketName(name) {
		return bucketErr(ErrInvalidBucketName, name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.buckets[name]; ok {
		return bucketErr(ErrBucketAlreadyOwnedByYou, name)
	}
	bk := &bucket{Name: name, Created: b.clock.Now().UTC(), Region: b.cfg.Region, Objects: map[string]*object{}}
	b.buckets[name] = bk
	if err := b.saveBucketLocked(bk); err != nil {
		delete(b.buckets, name)
		return err
	}
	if err := b.saveIndexLocked(); err != nil {
		delete(b.buckets, name)
		return err
	}
	b.log.Info("bucket created", "bucket", name)
	return nil
}

// DeleteBucket deletes an empty bucket.
func (b *Backend) DeleteBucket(ctx context.Context, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk, err := b.bucketLocked(name)
	if err != nil {
		return err
	}
	if len(bk.Objects) > 0 {
		return bucketErr(ErrBucketNotEmpty, name)
	}
	delete(b.buckets, name)
	if err := b.saveIndexLocked(); err != nil {
		b.buckets[name] = bk
		return err
	}
	// A deleted bucket takes no room: its document, its directory and the
	// parts of uploads nobody can complete any more.
	if err := b.cfg.Store.Delete(stateBucketPrefix + name); err != nil {
		b.log.Warn("remove deleted bucket's state", "bucket", name, "err", err)
	}
	for id, u := range b.uploads {
		if u.bucket != name {
			continue
		}
		delete(b.uploads, id)
		for _, p := range u.parts {
			os.Remove(filepath.Join(b.dataDir, p.file))
		}
	}
	// name is a bucket that existed, so a validated bucket name, not a path.
	if err := os.RemoveAll(filepath.Join(b.dataDir, name)); err != nil { //nolint:gosec // G703: see above
		b.log.Warn("remove deleted bucket's files", "bucket", name, "err", err)
	}
	b.log.Info("bucket deleted", "bucket", name)
	return nil
}

// BucketExists reports whether a bucket exists.
func (b *Backend) BucketExists(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.buckets[name]
	return ok
}

// PutBucketPolicy records a bucket policy (a JSON document).
func (b *Backend) PutBucketPolicy(ctx context.Context, name, policy string) error {
	if !strings.HasPrefix(strings.TrimSpace(policy), "{") || !jsonValid(policy) {
		return newErr(ErrMalformedPolicy)
	}
	return b.updateBucket(name, func(bk *bucket) error { bk.Policy = policy; return nil })
}

// DeleteBucketPolicy removes a bucket's policy.
func (b *Backend) DeleteBucketPolicy(ctx context.Context, name string) error {
	return b.updateBucket(name, func(bk *bucket) error { bk.Policy = ""; return nil })
}

// BucketPolicy returns a bucket's policy, or "" when it has none.
func (b *Backend) BucketPolicy(name string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk, err := b.bucketLocked(name)
	if err != nil {
		return "", err
	}
	return bk.Policy, nil
}

// PutBucketConfig records a bucket subresource document (encryption,
// versioning, publicAccessBlock, tagging, ownershipControls, lifecycle,
// cors, acl, …) as the XML the API would receive; versioning's Status is
// also applied.
func (b *Backend) PutBucketConfig(ctx context.Context, name, sub string, doc []byte) error {
	if err := xml.Unmarshal(doc, new(anyXML)); err != nil {
		return newErr(ErrMalformedXML)
	}
	var status string
	if sub == "versioning" {
		var v struct {
			Status string
		}
		_ = xml.Unmarshal(doc, &v)
		if v.Status != "Enabled" && v.Status != "Suspended" {
			return newErr(ErrIllegalVersioningConfig)
		}
		status = v.Status
	}
	if sub == "encryption" {
		var e struct {
			Rule []struct {
				ApplyServerSideEncryptionByDefault struct{ SSEAlgorithm string }
			}
		}
		_ = xml.Unmarshal(doc, &e)
		if len(e.Rule) == 0 {
			return newErr(ErrMalformedXML)
		}
		for _, r := range e.Rule {
			switch r.ApplyServerSideEncryptionByDefault.SSEAlgorithm {
			case "AES256", "aws:kms", "aws:kms:dsse":
			default:
				return newErr(ErrInvalidEncryptionAlgorithm)
			}
		}
	}
	return b.updateBucket(name, func(bk *bucket) error {
		if bk.Configs == nil {
			bk.Configs = map[string]string{}
		}
		bk.Configs[sub] = string(doc)
		if status != "" {
			bk.Versioning = status
		}
		return nil
	})
}

// DeleteBucketConfig removes a recorded subresource document.
func (b *Backend) DeleteBucketConfig(ctx context.Context, name, sub string) error {
	return b.updateBucket(name, func(bk *bucket) error { delete(bk.Configs, sub); return nil })
}

// BucketConfig returns a recorded subresource document, or nil.
func (b *Backend) BucketConfig(name, sub string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk, err := b.bucketLocked(name)
	if err != nil {
		return nil, err
	}
	if d, ok := bk.Configs[sub]; ok {
		return []byte(d), nil
	}
	return nil, nil
}

func (b *Backend) updateBucket(name string, f func(*bucket) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk, err := b.bucketLocked(name)
	if err != nil {
		return err
	}
	before := *bk
	before.Configs = map[string]string{}
	for k, v := range bk.Configs {
		before.Configs[k] = v
	}
	if err := f(bk); err != nil {
		return err
	}
	if err := b.saveBucketLocked(bk); err != nil {
		bk.Policy, bk.Configs, bk.Versioning = before.Policy, before.Configs, before.Versioning
		return err
	}
	return nil
}

type anyXML struct {
	XMLName xml.Name
}

// PutInput is an in-process PutObject.
type PutInput struct {
	Bucket, Key string
	Body        []byte
	ContentType string
	Metadata    map[string]string
}

// PutObject stores an object, for in-process callers.
func (b *Backend) PutObject(ctx context.Context, in PutInput) (etag string, err error) {
	bd := &body{data: in.Body}
	md5hex, sum, err := bd.verify()
	if err != nil {
		return "", err
	}
	obj, err := b.storeObject(in.Bucket, in.Key, in.Body, md5hex, sum, objectMeta{contentType: in.ContentType, metadata: in.Metadata}, nil)
	if err != nil {
		return "", err
	}
	return obj.ETag, nil
}

// GetObject returns an object's content, for in-process callers (Lambda
// code from S3).
func (b *Backend) GetObject(ctx context.Context, bucketName, key string) ([]byte, error) {
	b.mu.Lock()
	bk, err := b.bucketLocked(bucketName)
	if err != nil {
		b.mu.Unlock()
		return nil, err
	}
	obj, ok := bk.Objects[key]
	b.mu.Unlock()
	if !ok {
		return nil, keyErr(ErrNoSuchKey, key)
	}
	data, err := os.ReadFile(filepath.Join(b.dataDir, obj.File))
	if err != nil {
		return nil, fmt.Errorf("read object %s/%s: %w", bucketName, key, err)
	}
	return data, nil
}

type objectMeta struct {
	contentType string
	headers     map[string]string
	metadata    map[string]string
}

// precondition is a conditional write's check of the current object.
type precondition func(cur *object) error

// storeObject writes the body to a new file and swaps it in.
func (b *Backend) storeObject(bucketName, key string, data []byte, md5hex string, sum checksum, meta objectMeta, pre precondition) (*object, error) {
	if key == "" {
		return nil, errf(ErrInvalidArgument, "Object key must not be empty")
	}
	if len(key) > 1024 {
		return nil, keyErr(ErrKeyTooLong, key)
	}
	b.mu.Lock()
	_, err := b.bucketLocked(bucketName)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	file, err := b.writeFile(bucketName, data)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	bk, err := b.bucketLocked(bucketName)
	if err != nil {
		os.Remove(filepath.Join(b.dataDir, file))
		return nil, err
	}
	old := bk.Objects[key]
	if pre != nil {
		if err := pre(old); err != nil {
			os.Remove(filepath.Join(b.dataDir, file))
			return nil, err
		}
	}
	if meta.contentType == "" {
		meta.contentType = "binary/octet-stream"
	}
	obj := &object{
		Key: key, Size: int64(len(data)), ETag: `"` + md5hex + `"`, LastModified: b.clock.Now().UTC().Truncate(time.Second),
		ContentType: meta.contentType, Headers: meta.headers, Metadata: meta.metadata, Checksum: sum, ChecksumType: "FULL_OBJECT", File: file,
	}
	if bk.Versioning == "Enabled" {
		obj.VersionID = newVersionID()
	}
	bk.Objects[key] = obj
	if err := b.saveBucketLocked(bk); err != nil {
		if old != nil {
			bk.Objects[key] = old
		} else {
			delete(bk.Objects, key)
		}
		os.Remove(filepath.Join(b.dataDir, file))
		return nil, err
	}
	if old != nil {
		os.Remove(filepath.Join(b.dataDir, old.File))
	}
	return obj, nil
}

// writeFile stores data durably under a fresh name and returns the name
// relative to the data directory. bucketName is a validated bucket name
// (or ".uploads"), never a path from a request.
//
//nolint:gosec // G703: see above
func (b *Backend) writeFile(bucketName string, data []byte) (string, error) {
	dir := filepath.Join(b.dataDir, bucketName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create bucket dir: %w", err)
	}
	f, err := os.CreateTemp(dir, "obj-*")
	if err != nil {
		return "", fmt.Errorf("store object: %w", err)
	}
	if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("store object: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("store object: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("store object: %w", err)
	}
	return filepath.Join(bucketName, filepath.Base(f.Name())), nil
}

// DeleteObject deletes an object; a missing object is not an error.
func (b *Backend) DeleteObject(ctx context.Context, bucketName, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk, err := b.bucketLocked(bucketName)
	if err != nil {
		return err
	}
	old, ok := bk.Objects[key]
	if !ok {
		return nil
	}
	delete(bk.Objects, key)
	if err := b.saveBucketLocked(bk); err != nil {
		bk.Objects[key] = old
		return err
	}
	os.Remove(filepath.Join(b.dataDir, old.File))
	return nil
}

func newVersionID() string {
	var r [16]byte
	rand.Read(r[:])
	s := sha256.Sum256(r[:])
	return hex.EncodeToString(s[:16])
}

func newRequestID() string {
	var r [8]byte
	rand.Read(r[:])
	return strings.ToUpper(hex.EncodeToString(r[:]))
}
