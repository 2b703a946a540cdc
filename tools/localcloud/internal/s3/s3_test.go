package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/s3"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

var ctx = context.Background()

type env struct {
	b      *s3.Backend
	url    string
	client *s3sdk.Client
	paths  *[]string // request paths the server saw
	hosts  *[]string
}

func newEnv(t *testing.T, store state.Store) env { return newEnvTLS(t, store, false) }

// newEnvTLS serves over TLS when tls is set: the SDK streams unseekable
// bodies as aws-chunked with a trailing checksum only over TLS.
func newEnvTLS(t *testing.T, store state.Store, tls bool) env {
	t.Helper()
	b, err := s3.New(s3.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	mux := awsproto.NewMux(slog.New(slog.DiscardHandler))
	b.Register(mux)
	var paths, hosts []string
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		hosts = append(hosts, r.Host)
		mu.Unlock()
		mux.ServeHTTP(w, r)
	})
	srv := httptest.NewUnstartedServer(h)
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	// The client as product code builds it: no UsePathStyle.
	c := s3sdk.New(s3sdk.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), HTTPClient: srv.Client()})
	return env{b, srv.URL, c, &paths, &hosts}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestObjectRoundTripDefaultClient(t *testing.T) {
	e := newEnv(t, state.Store{Dir: t.TempDir()})
	if _, err := e.client.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("artifacts")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	if (*e.paths)[0] != "/artifacts" {
		t.Errorf("CreateBucket path = %q, want path-style /artifacts for an IP endpoint", (*e.paths)[0])
	}
	body := []byte("lambda code zip bytes")
	put, err := e.client.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("lambdas/deploywatch.zip"), Body: bytes.NewReader(body),
		ContentType: aws.String("application/zip"), Metadata: map[string]string{"commit": "abc123"}})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if aws.ToString(put.ChecksumCRC32) == "" && aws.ToString(put.ChecksumCRC64NVME) == "" {
		t.Errorf("PutObject returned no checksum, want the one the SDK sent")
	}
	get, err := e.client.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("lambdas/deploywatch.zip"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, _ := io.ReadAll(get.Body)
	get.Body.Close()
	if !bytes.Equal(got, body) || aws.ToString(get.ContentType) != "application/zip" || get.Metadata["commit"] != "abc123" || aws.ToString(get.ETag) != aws.ToString(put.ETag) {
		t.Errorf("GetObject = %q type %q meta %v etag %s, want the object put (etag %s)", got, aws.ToString(get.ContentType), get.Metadata, aws.ToString(get.ETag), aws.ToString(put.ETag))
	}
	head, err := e.client.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("lambdas/deploywatch.zip")})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(body)) || head.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Errorf("HeadObject = %+v, %v", head, err)
	}
	_, err = e.client.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("nope")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadObject(missing) error = %v, want NotFound", err)
	}
	_, err = e.client.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("nope")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("GetObject(missing) error = %v, want NoSuchKey", err)
	}
	// Range reads.
	rg, err := e.client.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("lambdas/deploywatch.zip"), Range: aws.String("bytes=7-10")})
	if err != nil {
		t.Fatalf("GetObject(range): %v", err)
	}
	part, _ := io.ReadAll(rg.Body)
	rg.Body.Close()
	if string(part) != "code" {
		t.Errorf("GetObject(bytes=7-10) = %q, want code", part)
	}
	if _, err := e.client.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("lambdas/deploywatch.zip")}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	if _, err := e.client.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("lambdas/deploywatch.zip")}); err != nil {
		t.Errorf("DeleteObject(again) = %v, want success", err)
	}
}

func TestChecksumsAndConditionalWrites(t *testing.T) {
	plain := newEnv(t, state.Store{})
	tls := newEnvTLS(t, state.Store{}, true)
	for _, e := range []env{plain, tls} {
		if _, err := e.client.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("bucket-one")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256} {
		// An io.Reader that cannot seek makes the SDK stream aws-chunked
		// with the checksum in a trailer.
		for _, seekable := range []bool{true, false} {
			var r io.Reader = bytes.NewReader([]byte("payload " + string(alg)))
			if !seekable {
				r = io.MultiReader(r)
			}
			in := &s3sdk.PutObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("k-" + string(alg)), Body: r, ChecksumAlgorithm: alg}
			e := plain
			if !seekable {
				in.ContentLength = aws.Int64(int64(len("payload " + string(alg))))
				e = tls
			}
			if _, err := e.client.PutObject(ctx, in); err != nil {
				t.Errorf("PutObject(%s, seekable %v): %v", alg, seekable, err)
			}
		}
	}
	e := plain
	got, err := tls.b.GetObject(ctx, "bucket-one", "k-CRC64NVME")
	if err != nil || string(got) != "payload CRC64NVME" {
		t.Errorf("object streamed aws-chunked = %q, %v", got, err)
	}
	// A wrong checksum is refused.
	_, err = e.client.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("bad"), Body: strings.NewReader("data"), ChecksumCRC32: aws.String("AAAAAA==")})
	if code(err) != "BadDigest" {
		t.Errorf("PutObject(wrong CRC32) error = %v, want BadDigest", err)
	}
	// If-None-Match: * writes once.
	_, err = e.client.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("once"), Body: strings.NewReader("1"), IfNoneMatch: aws.String("*")})
	if err != nil {
		t.Fatalf("PutObject(If-None-Match) first: %v", err)
	}
	_, err = e.client.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("once"), Body: strings.NewReader("2"), IfNoneMatch: aws.String("*")})
	if code(err) != "PreconditionFailed" {
		t.Errorf("PutObject(If-None-Match) second error = %v, want PreconditionFailed", err)
	}
}

// The deprecated manager is what product code uploads with today.
//
//nolint:staticcheck // SA1019: feature/s3/manager is deprecated for transfermanager
func TestManagerUploader(t *testing.T) {
	e := newEnv(t, state.Store{})
	if _, err := e.client.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("uploads")}); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 11<<20)
	rand.Read(big)
	for name, data := range map[string][]byte{"small": []byte("small body"), "multipart": big} {
		up := manager.NewUploader(e.client)
		if _, err := up.Upload(ctx, &s3sdk.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String(name), Body: bytes.NewReader(data)}); err != nil {
			t.Fatalf("Upload(%s): %v", name, err)
		}
		out, err := e.client.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String(name)})
		if err != nil {
			t.Fatalf("GetObject(%s): %v", name, err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, data) {
			t.Errorf("GetObject(%s) returned %d bytes, want the %d uploaded", name, len(got), len(data))
		}
	}
	dl := manager.NewDownloader(e.client, func(d *manager.Downloader) { d.PartSize = 5 << 20 })
	buf := manager.NewWriteAtBuffer(nil)
	if _, err := dl.Download(ctx, buf, &s3sdk.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("multipart")}); err != nil || !bytes.Equal(buf.Bytes(), big) {
		t.Errorf("Download(multipart) = %d bytes, %v, want the object", len(buf.Bytes()), err)
	}
}

func TestListObjectsV2(t *testing.T) {
	e := newEnv(t, state.Store{})
	if _, err := e.client.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("list")}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a/1", "a/2", "b/1", "c", "d/e/f"} {
		if _, err := e.client.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String("list"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := e.client.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String("list"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	var keys, prefixes []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	for _, p := range out.CommonPrefixes {
		prefixes = append(prefixes, aws.ToString(p.Prefix))
	}
	if strings.Join(keys, ",") != "c" || strings.Join(prefixes, ",") != "a/,b/,d/" {
		t.Errorf("ListObjectsV2(/) = keys %v prefixes %v, want [c] [a/ b/ d/]", keys, prefixes)
	}
	var all []string
	p := s3sdk.NewListObjectsV2Paginator(e.client, &s3sdk.ListObjectsV2Input{Bucket: aws.String("list"), MaxKeys: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range page.Contents {
			all = append(all, aws.ToString(o.Key))
		}
	}
	if strings.Join(all, ",") != "a/1,a/2,b/1,c,d/e/f" || pages != 3 {
		t.Errorf("paged listing = %v in %d pages, want all five keys in 3", all, pages)
	}
	pre, err := e.client.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String("list"), Prefix: aws.String("a/")})
	if err != nil || aws.ToInt32(pre.KeyCount) != 2 {
		t.Errorf("ListObjectsV2(prefix a/) = %+v, %v, want 2 keys", pre, err)
	}
	_, err = e.client.DeleteBucket(ctx, &s3sdk.DeleteBucketInput{Bucket: aws.String("list")})
	if code(err) != "BucketNotEmpty" {
		t.Errorf("DeleteBucket(non-empty) error = %v, want BucketNotEmpty", err)
	}
}

func TestBucketSettingsRecorded(t *testing.T) {
	store := state.Store{Dir: t.TempDir()}
	e := newEnv(t, store)
	b := aws.String("settings")
	if _, err := e.client.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: b})
	var owned *types.BucketAlreadyOwnedByYou
	if !errors.As(err, &owned) {
		t.Errorf("CreateBucket(again) error = %v, want BucketAlreadyOwnedByYou", err)
	}
	if _, err := e.client.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("Bad_Name")}); code(err) != "InvalidBucketName" {
		t.Errorf("CreateBucket(Bad_Name) error = %v, want InvalidBucketName", err)
	}
	_, err = e.client.GetBucketPolicy(ctx, &s3sdk.GetBucketPolicyInput{Bucket: b})
	if code(err) != "NoSuchBucketPolicy" {
		t.Errorf("GetBucketPolicy(none) error = %v, want NoSuchBucketPolicy", err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::settings/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	steps := []func() error{
		func() error {
			_, err := e.client.PutBucketPolicy(ctx, &s3sdk.PutBucketPolicyInput{Bucket: b, Policy: aws.String(policy)})
			return err
		},
		func() error {
			_, err := e.client.PutBucketEncryption(ctx, &s3sdk.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
				Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("alias/s3")}}}}})
			return err
		},
		func() error {
			_, err := e.client.PutBucketVersioning(ctx, &s3sdk.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
			return err
		},
		func() error {
			_, err := e.client.PutPublicAccessBlock(ctx, &s3sdk.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}})
			return err
		},
		func() error {
			_, err := e.client.PutBucketTagging(ctx, &s3sdk.PutBucketTaggingInput{Bucket: b, Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("app"), Value: aws.String("shipyard")}}}})
			return err
		},
	}
	for i, f := range steps {
		if err := f(); err != nil {
			t.Fatalf("setting %d: %v", i, err)
		}
	}
	// Read back through a restarted backend.
	e2 := newEnv(t, store)
	c := e2.client
	pol, err := c.GetBucketPolicy(ctx, &s3sdk.GetBucketPolicyInput{Bucket: b})
	if err != nil || aws.ToString(pol.Policy) != policy {
		t.Errorf("GetBucketPolicy = %v, %v", pol, err)
	}
	enc, err := c.GetBucketEncryption(ctx, &s3sdk.GetBucketEncryptionInput{Bucket: b})
	if err != nil || enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAwsKms {
		t.Errorf("GetBucketEncryption = %+v, %v, want aws:kms", enc, err)
	}
	ver, err := c.GetBucketVersioning(ctx, &s3sdk.GetBucketVersioningInput{Bucket: b})
	if err != nil || ver.Status != types.BucketVersioningStatusEnabled {
		t.Errorf("GetBucketVersioning = %+v, %v, want Enabled", ver, err)
	}
	pab, err := c.GetPublicAccessBlock(ctx, &s3sdk.GetPublicAccessBlockInput{Bucket: b})
	if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.RestrictPublicBuckets) {
		t.Errorf("GetPublicAccessBlock = %+v, %v", pab, err)
	}
	tags, err := c.GetBucketTagging(ctx, &s3sdk.GetBucketTaggingInput{Bucket: b})
	if err != nil || len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Value) != "shipyard" {
		t.Errorf("GetBucketTagging = %+v, %v", tags, err)
	}
	put, err := c.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: b, Key: aws.String("v"), Body: strings.NewReader("x")})
	if err != nil || aws.ToString(put.VersionId) == "" || put.ServerSideEncryption != types.ServerSideEncryptionAwsKms {
		t.Errorf("PutObject in a versioned KMS bucket = %+v, %v, want a version id and aws:kms", put, err)
	}
	if _, err := c.HeadBucket(ctx, &s3sdk.HeadBucketInput{Bucket: b}); err != nil {
		t.Errorf("HeadBucket: %v", err)
	}
	_, err = c.HeadBucket(ctx, &s3sdk.HeadBucketInput{Bucket: aws.String("missing-bucket")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadBucket(missing) error = %v, want NotFound", err)
	}
}

func TestObjectsSurviveRestart(t *testing.T) {
	store := state.Store{Dir: t.TempDir()}
	e := newEnv(t, store)
	if _, err := e.client.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("keep")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String("keep"), Key: aws.String("a/b.txt"), Body: strings.NewReader("persisted")}); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, store)
	out, err := e2.client.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String("keep"), Key: aws.String("a/b.txt")})
	if err != nil {
		t.Fatalf("GetObject after restart: %v", err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != "persisted" {
		t.Errorf("after restart = %q, want persisted", got)
	}
	data, err := e2.b.GetObject(ctx, "keep", "a/b.txt")
	if err != nil || string(data) != "persisted" {
		t.Errorf("in-process GetObject = %q, %v", data, err)
	}
}

// TestVirtualHostedStyle drives the default client at a localhost endpoint,
// which makes it address buckets as bucket.localhost. Not every resolver
// maps *.localhost to loopback, so the client dials the server directly.
func TestVirtualHostedStyle(t *testing.T) {
	e := newEnv(t, state.Store{})
	addr := strings.TrimPrefix(e.url, "http://")
	port := addr[strings.LastIndex(addr, ":")+1:]
	dial := &net.Dialer{}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dial.DialContext(ctx, network, addr)
	}}}
	c := s3sdk.New(s3sdk.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://localhost:" + port), HTTPClient: hc, Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if _, err := c.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("vhost")}); err != nil {
		t.Fatalf("CreateBucket(virtual-hosted): %v", err)
	}
	if h := (*e.hosts)[len(*e.hosts)-1]; !strings.HasPrefix(h, "vhost.localhost") {
		t.Errorf("Host = %q, want virtual-hosted vhost.localhost", h)
	}
	if _, err := c.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String("vhost"), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatalf("PutObject(virtual-hosted): %v", err)
	}
	if !e.b.BucketExists("vhost") {
		t.Error("bucket not created")
	}
	data, err := e.b.GetObject(ctx, "vhost", "k")
	if err != nil || string(data) != "v" {
		t.Errorf("object = %q, %v", data, err)
	}
}
