package taskrun

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr/ecrtest"
)

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestDeletedImageGoesAfterItsLastTask: an image deleted from the registry
// while a task runs from it keeps its unpacked copy until the task exits,
// then loses it; a task's directory goes when its owner forgets the task,
// never while it runs; New sweeps unpacked images the registry lost.
func TestDeletedImageGoesAfterItsLastTask(t *testing.T) {
	dir := t.TempDir()
	reg, err := ecr.New(ecr.Config{Dir: filepath.Join(dir, "ecr"), Clock: clock.New(1)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg.Registry())
	defer srv.Close()
	if _, err := reg.CreateRepository("drop", "", false, nil); err != nil {
		t.Fatal(err)
	}
	img, err := ecrtest.Image(testappBinary, "APP_VERSION=drop")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := ecrtest.Push(img, strings.TrimPrefix(srv.URL, "http://"), "drop", "v1")
	if err != nil {
		t.Fatal(err)
	}
	digest := ref[strings.Index(ref, "@")+1:]
	r, err := New(Config{Dir: filepath.Join(dir, "runner"), Images: reg, Clock: clock.New(0.01)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	reg.OnDelete(r.DropImages)

	p, err := r.Start(context.Background(), Spec{TaskID: "t-drop", Image: ref, Env: []string{"APP_DRAIN_DELAY=10ms"}, StopTimeout: 2 * time.Minute, Host: freeHost(t, 5000), Port: 5000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Kill(p) })
	imageDir, taskDir := r.imageDir(digest), filepath.Join(dir, "runner", "tasks", "t-drop")
	if !exists(imageDir) || !exists(taskDir) {
		t.Fatalf("after Start: image dir %v, task dir %v; want both", exists(imageDir), exists(taskDir))
	}
	if _, err := reg.DeleteRepository("drop", true); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveTask("t-drop"); err != nil {
		t.Fatal(err)
	}
	if !exists(imageDir) || !exists(taskDir) {
		t.Fatalf("while the task runs: image dir %v, task dir %v; want both kept", exists(imageDir), exists(taskDir))
	}
	if err := r.Stop(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	eventually(t, "the deleted image's unpacked copy goes once its task exited", func() bool { return !exists(imageDir) })
	if err := r.PruneTasks(func(id string) bool { return id == "t-drop" }); err != nil || !exists(taskDir) {
		t.Fatalf("PruneTasks keeping t-drop = %v; task dir kept = %v, want kept", err, exists(taskDir))
	}
	if err := r.PruneTasks(func(string) bool { return false }); err != nil || exists(taskDir) {
		t.Fatalf("PruneTasks keeping nothing = %v; task dir kept = %v, want gone", err, exists(taskDir))
	}

	// An unpacked image the registry does not hold goes at the next start.
	stale := r.imageDir("sha256:" + strings.Repeat("ab", 32))
	if err := os.MkdirAll(filepath.Join(stale, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	r2, err := New(Config{Dir: filepath.Join(dir, "runner"), Images: reg, Clock: clock.New(0.01)})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if exists(stale) {
		t.Errorf("New kept %s, an image the registry does not hold", stale)
	}
}

// deleteOnConfig is the registry's image, whose config read (which Start
// makes after unpacking, before the process starts) then deletes it from
// the registry: a delete that lands while the task is starting.
type deleteOnConfig struct {
	v1.Image
	once   *sync.Once
	delete func()
}

func (i deleteOnConfig) ConfigFile() (*v1.ConfigFile, error) {
	cf, err := i.Image.ConfigFile()
	i.once.Do(i.delete)
	return cf, err
}

type deletingImages struct {
	*ecr.Backend
	delete func()
}

func (d deletingImages) Image(ref string) (v1.Image, string, error) {
	img, digest, err := d.Backend.Image(ref)
	return deleteOnConfig{Image: img, once: &sync.Once{}, delete: d.delete}, digest, err
}

// TestImageDeletedWhileATaskStarts: an image deleted after Start unpacked
// it but before its process is running keeps its root filesystem until the
// task exits, as for a running task.
func TestImageDeletedWhileATaskStarts(t *testing.T) {
	dir := t.TempDir()
	reg, err := ecr.New(ecr.Config{Dir: filepath.Join(dir, "ecr"), Clock: clock.New(1)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg.Registry())
	defer srv.Close()
	if _, err := reg.CreateRepository("starting", "", false, nil); err != nil {
		t.Fatal(err)
	}
	img, err := ecrtest.Image(testappBinary, "APP_VERSION=starting")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := ecrtest.Push(img, strings.TrimPrefix(srv.URL, "http://"), "starting", "v1")
	if err != nil {
		t.Fatal(err)
	}
	digest := ref[strings.Index(ref, "@")+1:]
	images := deletingImages{Backend: reg, delete: func() {
		if _, err := reg.DeleteRepository("starting", true); err != nil {
			t.Errorf("DeleteRepository: %v", err)
		}
	}}
	r, err := New(Config{Dir: filepath.Join(dir, "runner"), Images: images, Clock: clock.New(0.01)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	reg.OnDelete(r.DropImages)

	p, err := r.Start(context.Background(), Spec{TaskID: "t-starting", Image: ref, Env: []string{"APP_DRAIN_DELAY=10ms"}, StopTimeout: 2 * time.Minute, Host: freeHost(t, 5000), Port: 5000}, nil)
	if err != nil {
		t.Fatalf("Start with the image deleted while it starts = %v, want it running", err)
	}
	t.Cleanup(func() { r.Kill(p) })
	imageDir := r.imageDir(digest)
	if reg.HasImage(digest) || !exists(imageDir) {
		t.Fatalf("after Start: registry holds the image %v, unpacked copy %v; want false, true", reg.HasImage(digest), exists(imageDir))
	}
	if err := r.Stop(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	eventually(t, "the deleted image's unpacked copy goes once its task exited", func() bool { return !exists(imageDir) })
}
