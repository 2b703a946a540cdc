package ecr

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/validate"

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
// OnDelete which images are gone from the registry.
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

// TestNewSweepsUnreferencedBlobs: blobs left by deletes before they freed
// anything, or by a push cut short, go when the registry starts.
func TestNewSweepsUnreferencedBlobs(t *testing.T) {
	dir := t.TempDir()
	store := &fileStore{dir: dir}
	b, err := New(Config{Dir: dir, Store: store, Clock: wallClock{}})
	if err != nil {
		t.Fatal(err)
	}
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
	b, err = New(Config{Dir: dir, Store: store, Clock: wallClock{}})
	if err != nil {
		t.Fatal(err)
	}
	if n := blobCount(t, b); n != 1 || !b.HasImage(kept.String()) {
		t.Errorf("after restart: blobs = %d, HasImage(kept) = %v; want 1, true", n, b.HasImage(kept.String()))
	}
}

// TestNewSweepsAbandonedUploads: an upload session a push opened and never
// finished (the client was killed mid-push) holds its bytes until the
// registry restarts, and then goes; the session is unknown afterwards.
func TestNewSweepsAbandonedUploads(t *testing.T) {
	dir := t.TempDir()
	store := &fileStore{dir: dir}
	b, err := New(Config{Dir: dir, Store: store, Clock: wallClock{}})
	if err != nil {
		t.Fatal(err)
	}
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

	b, err = New(Config{Dir: dir, Store: store, Clock: wallClock{}})
	if err != nil {
		t.Fatal(err)
	}
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
