package ecr

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	lcclock "github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr/ecrtest"
)

func blobCount(t *testing.T, b *Backend) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(b.cfg.Dir, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// TestDeletesFreeBlobs: deleting images (the last tag through
// BatchDeleteImage, a whole repository) removes the blobs nothing else
// references, keeps those another repository still needs, and tells
// OnDelete which images are gone from the registry. The pushes have landed
// their manifests, so they hold none of the blobs.
func TestDeletesFreeBlobs(t *testing.T) {
	ctx := context.Background()
	b, c, _ := newAPI(t)
	var mu sync.Mutex
	var gone []string
	b.OnDelete(func(d []string) { mu.Lock(); gone = append(gone, d...); mu.Unlock() })
	goneNow := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(gone) }
	for _, n := range []string{"app-a", "app-b"} {
		if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	shared, _ := random.Image(512, 2)
	own, _ := random.Image(512, 2)
	var sharedDigest string
	for _, n := range []string{"app-a", "app-b"} {
		ref, err := ecrtest.Push(shared, b.Host(), n, "v1")
		if err != nil {
			t.Fatal(err)
		}
		sharedDigest = ref[strings.Index(ref, "@")+1:]
	}
	ref, err := ecrtest.Push(own, b.Host(), "app-a", "v2")
	if err != nil {
		t.Fatal(err)
	}
	ownDigest := ref[strings.Index(ref, "@")+1:]
	// Each image: a manifest, a config and two layers.
	if n := blobCount(t, b); n != 8 {
		t.Fatalf("blobs after pushing two images = %d, want 8", n)
	}

	// Removing an image's last tag removes the image, as ECR does, and its blobs.
	del, err := c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("app-a"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v2")}}})
	if err != nil || len(del.ImageIds) != 1 {
		t.Fatalf("BatchDeleteImage(v2) = %+v, %v", del, err)
	}
	if imgs, _ := b.DescribeImages("app-a", nil); len(imgs) != 1 || imgs[0].Digest != sharedDigest {
		t.Errorf("images of a after untagging v2 = %+v, want only the shared one", imgs)
	}
	if n := blobCount(t, b); n != 4 {
		t.Errorf("blobs after deleting one image = %d, want 4", n)
	}
	if g := goneNow(); !slices.Equal(g, []string{ownDigest}) {
		t.Errorf("OnDelete saw %v, want [%s]", g, ownDigest)
	}
	if b.HasImage(ownDigest) || !b.HasImage(sharedDigest) {
		t.Errorf("HasImage(deleted, shared) = %v, %v; want false, true", b.HasImage(ownDigest), b.HasImage(sharedDigest))
	}

	// Repository b still holds the shared image: deleting a keeps its blobs.
	if _, err := c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("app-a"), Force: true}); err != nil {
		t.Fatal(err)
	}
	if n := blobCount(t, b); n != 4 {
		t.Errorf("blobs after deleting a repository whose image another holds = %d, want 4", n)
	}
	if img, _, err := b.Image("app-b:v1"); err != nil {
		t.Errorf("pull b:v1 after deleting a: %v", err)
	} else if err := validate.Image(img); err != nil {
		t.Errorf("b:v1 after deleting a: %v", err)
	}
	if _, err := c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("app-b"), Force: true}); err != nil {
		t.Fatal(err)
	}
	if n := blobCount(t, b); n != 0 {
		t.Errorf("blobs after deleting every repository = %d, want 0", n)
	}
	if g := goneNow(); !slices.Equal(g, []string{ownDigest, sharedDigest}) {
		t.Errorf("OnDelete saw %v, want [%s %s]", g, ownDigest, sharedDigest)
	}
}

// restart starts a registry (anew) on the state in dir.
func restart(t *testing.T, dir string) *Backend {
	t.Helper()
	b, err := New(Config{Dir: dir, Store: &fileStore{dir: dir}, Clock: wallClock{}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNewSweepsUnreferencedBlobs: blobs left by deletes before they freed
// anything, or by a push cut short, go when the registry starts.
func TestNewSweepsUnreferencedBlobs(t *testing.T) {
	dir := t.TempDir()
	b := restart(t, dir)
	if _, err := b.CreateRepository("app", "", false, nil); err != nil {
		t.Fatal(err)
	}
	kept, err := b.writeBlob([]byte(`{"schemaVersion":2,"layers":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, e := b.putManifest("app", "v1", "application/vnd.oci.image.manifest.v1+json", []byte(`{"schemaVersion":2,"layers":[]}`)); e != nil {
		t.Fatal(e.Message)
	}
	if _, err := b.writeBlob([]byte("left behind")); err != nil {
		t.Fatal(err)
	}
	if n := blobCount(t, b); n != 2 {
		t.Fatalf("blobs = %d, want 2", n)
	}
	b = restart(t, dir)
	if n := blobCount(t, b); n != 1 || !b.HasImage(kept.String()) {
		t.Errorf("after restart: blobs = %d, HasImage(kept) = %v; want 1, true", n, b.HasImage(kept.String()))
	}
}

// TestNewSweepsAbandonedUploads: an upload session a push opened and never
// finished (the client was killed mid-push) holds its bytes until the
// registry restarts, and then goes; the session is unknown afterwards.
func TestNewSweepsAbandonedUploads(t *testing.T) {
	dir := t.TempDir()
	b := restart(t, dir)
	if _, err := b.CreateRepository("app", "", false, nil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.Registry())
	resp, err := http.Post(srv.URL+"/v2/app/blobs/uploads/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	session := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusAccepted || session == "" {
		t.Fatalf("POST /v2/app/blobs/uploads/ = %s, Location %q; want 202 and a session", resp.Status, session)
	}
	req, _ := http.NewRequest(http.MethodPatch, srv.URL+session, strings.NewReader("half a layer"))
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.Close()
	if entries, _ := os.ReadDir(filepath.Join(dir, "uploads")); len(entries) != 1 {
		t.Fatalf("upload sessions on disk = %d, want the 1 abandoned", len(entries))
	}

	b = restart(t, dir)
	if entries, _ := os.ReadDir(filepath.Join(dir, "uploads")); len(entries) != 0 {
		t.Errorf("upload sessions on disk after restart = %d, want 0", len(entries))
	}
	srv = httptest.NewServer(b.Registry())
	defer srv.Close()
	resp, err = http.Get(srv.URL + session)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET %s after restart = %s, want 404 BLOB_UPLOAD_UNKNOWN", session, resp.Status)
	}
}

// blobsOf is an image's config and layers, as a push sends them before its
// manifest.
func blobsOf(t *testing.T, img v1.Image) map[v1.Hash][]byte {
	t.Helper()
	out := map[v1.Hash][]byte{}
	cfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	out[h] = cfg
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		h, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[h] = data
	}
	return out
}

// call makes one registry request and returns its status and body.
func call(t *testing.T, method, url, contentType string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The three ways a push gets a blob into a repository before its manifest:
// upload it, mount it from another repository, or find it present by HEAD
// and skip the upload.
var blobWays = []struct {
	name string
	do   func(t *testing.T, ep, repo, from string, h v1.Hash, data []byte)
}{
	{"upload", func(t *testing.T, ep, repo, _ string, h v1.Hash, data []byte) {
		if code, body := call(t, http.MethodPost, ep+"/v2/"+repo+"/blobs/uploads/?digest="+h.String(), "application/octet-stream", data); code != http.StatusCreated {
			t.Fatalf("upload %s into %s = %d %s, want 201", h, repo, code, body)
		}
	}},
	{"mount", func(t *testing.T, ep, repo, from string, h v1.Hash, _ []byte) {
		if code, body := call(t, http.MethodPost, ep+"/v2/"+repo+"/blobs/uploads/?mount="+h.String()+"&from="+from, "", nil); code != http.StatusCreated {
			t.Fatalf("mount %s from %s into %s = %d %s, want 201", h, from, repo, code, body)
		}
	}},
	{"HEAD", func(t *testing.T, ep, repo, _ string, h v1.Hash, _ []byte) {
		if code, body := call(t, http.MethodHead, ep+"/v2/"+repo+"/blobs/"+h.String(), "", nil); code != http.StatusOK {
			t.Fatalf("HEAD %s in %s = %d %s, want 200", h, repo, code, body)
		}
	}},
}

// The three ways a user deletes app-a's image (tagged v1) with app-a.
var deleteWays = []struct {
	name string
	do   func(t *testing.T, c *ecr.Client, ep, digest string)
}{
	{"DeleteRepository", func(t *testing.T, c *ecr.Client, _, _ string) {
		if _, err := c.DeleteRepository(context.Background(), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("app-a"), Force: true}); err != nil {
			t.Fatal(err)
		}
	}},
	{"BatchDeleteImage", func(t *testing.T, c *ecr.Client, _, _ string) {
		out, err := c.BatchDeleteImage(context.Background(), &ecr.BatchDeleteImageInput{RepositoryName: aws.String("app-a"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
		if err != nil || len(out.ImageIds) != 1 {
			t.Fatalf("BatchDeleteImage(app-a:v1) = %+v, %v", out, err)
		}
	}},
	{"registry DELETE", func(t *testing.T, _ *ecr.Client, ep, digest string) {
		if code, body := call(t, http.MethodDelete, ep+"/v2/app-a/manifests/"+digest, "", nil); code != http.StatusAccepted {
			t.Fatalf("DELETE app-a@%s = %d %s, want 202", digest, code, body)
		}
	}},
}

// pushSharedHalfway pushes img to app-a and sends its blobs, not its
// manifest, to app-b one way, as a second push caught halfway.
func pushSharedHalfway(t *testing.T, b *Backend, ep string, img v1.Image, way func(t *testing.T, ep, repo, from string, h v1.Hash, data []byte)) string {
	t.Helper()
	ref, err := ecrtest.Push(img, b.Host(), "app-a", "v1")
	if err != nil {
		t.Fatal(err)
	}
	for h, data := range blobsOf(t, img) {
		way(t, ep, "app-b", "app-a", h, data)
	}
	return ref[strings.Index(ref, "@")+1:]
}

func createRepos(t *testing.T, c *ecr.Client, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := c.CreateRepository(context.Background(), &ecr.CreateRepositoryInput{RepositoryName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPushSurvivesDeleteOfSharedImage: a push into app-b has sent an
// image's blobs (uploaded, mounted, or found present by HEAD) but not yet
// its manifest when the same image goes from app-a (the repository, or the
// image by the API or the registry), minutes later still; its manifest
// then lands, and app-b's image pulls whole.
func TestPushSurvivesDeleteOfSharedImage(t *testing.T) {
	for _, bw := range blobWays {
		for _, dw := range deleteWays {
			t.Run(bw.name+"/"+dw.name, func(t *testing.T) {
				clk := lcclock.NewManual(time.Now(), 1)
				b, c, ep := newAPIClock(t, clk)
				createRepos(t, c, "app-a", "app-b")
				img, _ := random.Image(512, 2)
				digest := pushSharedHalfway(t, b, ep, img, bw.do)
				clk.Advance(pushGrace - time.Second)
				dw.do(t, c, ep, digest)
				if b.HasImage(digest) {
					t.Fatalf("HasImage(%s) after deleting it from app-a = true, want false", digest)
				}

				raw, _ := img.RawManifest()
				mt, _ := img.MediaType()
				if code, body := call(t, http.MethodPut, ep+"/v2/app-b/manifests/v1", string(mt), raw); code != http.StatusCreated {
					t.Fatalf("PUT app-b manifest after app-a's image went = %d %s, want 201", code, body)
				}
				tag, _ := name.NewTag(b.Host() + "/app-b:v1")
				got, err := remote.Image(tag)
				if err != nil {
					t.Fatalf("pull app-b:v1 = %v", err)
				}
				if err := validate.Image(got); err != nil {
					t.Errorf("app-b:v1 = %v", err)
				}
			})
		}
	}
}

// TestHeldBlobsGo: a push's holds end once it has had pushGrace to finish,
// or once the repository it pushes to is gone; a delete then frees the
// blobs, and no hold is left.
func TestHeldBlobsGo(t *testing.T) {
	tests := []struct {
		name  string
		after func(t *testing.T, clk *lcclock.Manual, c *ecr.Client)
	}{
		{"after the grace period", func(t *testing.T, clk *lcclock.Manual, _ *ecr.Client) {
			clk.Advance(pushGrace)
		}},
		{"with the repository pushed to", func(t *testing.T, _ *lcclock.Manual, c *ecr.Client) {
			if _, err := c.DeleteRepository(context.Background(), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("app-b")}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := lcclock.NewManual(time.Now(), 1)
			b, c, ep := newAPIClock(t, clk)
			createRepos(t, c, "app-a", "app-b")
			img, _ := random.Image(512, 2)
			pushSharedHalfway(t, b, ep, img, blobWays[0].do)
			tt.after(t, clk, c)
			if _, err := c.DeleteRepository(context.Background(), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("app-a"), Force: true}); err != nil {
				t.Fatal(err)
			}
			if n := blobCount(t, b); n != 0 {
				t.Errorf("blobs after deleting the only image = %d, want 0", n)
			}
			b.mu.Lock()
			held := len(b.holds)
			b.mu.Unlock()
			if held != 0 {
				t.Errorf("blobs still held = %d, want 0", held)
			}
		})
	}
}

// TestNoHoldForDeletedRepository: a request into a repository deleted after
// it checked that the repository exists (a push cut short by
// DeleteRepository) holds nothing: the delete has released that
// repository's holds, and one taken after it would keep blobs from deletes
// elsewhere for pushGrace.
func TestNoHoldForDeletedRepository(t *testing.T) {
	b, c, _ := newAPI(t)
	createRepos(t, c, "app-a")
	img, _ := random.Image(512, 2)
	if _, err := ecrtest.Push(img, b.Host(), "app-a", "v1"); err != nil {
		t.Fatal(err)
	}
	for h := range blobsOf(t, img) {
		b.holdBlob("app-b", h)      // HEAD or mount
		b.hold("app-b", h.String()) // an upload finishing
	}
	if _, err := c.DeleteRepository(context.Background(), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("app-a"), Force: true}); err != nil {
		t.Fatal(err)
	}
	if n := blobCount(t, b); n != 0 {
		t.Errorf("blobs after deleting the only image = %d, want 0", n)
	}
}

func ref(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLandedPushHoldsNothing: once a push's manifest lands, by tag or by
// digest, or an index's after its children, the push holds none of its
// blobs, so a delete can free them at once.
func TestLandedPushHoldsNothing(t *testing.T) {
	tests := []struct {
		name string
		push func(t *testing.T, host string) error
	}{
		{"image by tag", func(t *testing.T, host string) error {
			img, _ := random.Image(512, 2)
			return remote.Write(ref(t, host+"/app:v1"), img)
		}},
		{"image by digest", func(t *testing.T, host string) error {
			img, _ := random.Image(512, 2)
			d, _ := img.Digest()
			return remote.Write(ref(t, host+"/app@"+d.String()), img)
		}},
		{"index by tag", func(t *testing.T, host string) error {
			idx, _ := random.Index(512, 2, 2)
			return remote.WriteIndex(ref(t, host+"/app:v1"), idx)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, c, _ := newAPI(t)
			createRepos(t, c, "app")
			if err := tt.push(t, b.Host()); err != nil {
				t.Fatal(err)
			}
			b.mu.Lock()
			held := len(b.holds)
			b.mu.Unlock()
			if held != 0 {
				t.Errorf("blobs held after the push landed = %d, want 0", held)
			}
		})
	}
}
