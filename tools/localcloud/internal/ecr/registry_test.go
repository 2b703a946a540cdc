package ecr

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func newRegistry(t *testing.T) (*Backend, string) {
	t.Helper()
	b, err := New(Config{Dir: t.TempDir(), Clock: wallClock{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.Registry())
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	b.cfg.Host = host
	return b, host
}

func TestRegistryPushPull(t *testing.T) {
	b, host := newRegistry(t)
	if _, err := b.CreateRepository("team/app", "", false, nil); err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(2048, 3)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	tag, err := name.NewTag(host + "/team/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatalf("remote.Write(%s) = %v, want nil", tag, err)
	}

	// Pull it back by digest over HTTP and compare every layer.
	dig, _ := name.NewDigest(host + "/team/app@" + want.String())
	got, err := remote.Image(dig)
	if err != nil {
		t.Fatalf("remote.Image(%s) = %v", dig, err)
	}
	if d, _ := got.Digest(); d != want {
		t.Errorf("pulled digest = %s, want %s", d, want)
	}
	layers, err := got.Layers()
	if err != nil || len(layers) != 3 {
		t.Fatalf("Layers() = %d, %v; want 3 layers", len(layers), err)
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}

	// In process, by tag and by digest, as the task runner pulls.
	for _, ref := range []string{host + "/team/app:v1", "team/app@" + want.String(), "000000000000.dkr.ecr.us-east-1.amazonaws.com/team/app:v1"} {
		li, d, err := b.Image(ref)
		if err != nil {
			t.Fatalf("Image(%s) = %v", ref, err)
		}
		if d != want.String() {
			t.Errorf("Image(%s) digest = %s, want %s", ref, d, want)
		}
		if _, err := li.ConfigFile(); err != nil {
			t.Errorf("Image(%s).ConfigFile() = %v", ref, err)
		}
	}

	imgs, err := b.DescribeImages("team/app", nil)
	if err != nil || len(imgs) != 1 || imgs[0].Digest != want.String() || len(imgs[0].Tags) != 1 || imgs[0].Tags[0] != "v1" {
		t.Errorf("DescribeImages = %+v, %v; want one image %s tagged v1", imgs, err, want)
	}
	if _, err := b.DeleteRepository("team/app", false); !isCode(err, CodeRepositoryNotEmpty) {
		t.Errorf("DeleteRepository(non-empty, force=false) = %v, want %s", err, CodeRepositoryNotEmpty)
	}
}

func isCode(err error, c Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == c
}

func TestRegistryRules(t *testing.T) {
	b, host := newRegistry(t)
	if _, err := b.CreateRepository("fixed", "IMMUTABLE", true, nil); err != nil {
		t.Fatal(err)
	}
	img1, _ := random.Image(100, 1)
	img2, _ := random.Image(100, 1)

	tests := []struct {
		name string
		ref  string
		img  interface{}
		code string // distribution error code, "" for success
	}{
		{"unknown repository", host + "/nope:v1", img1, "NAME_UNKNOWN"},
		{"first tag", host + "/fixed:v1", img1, ""},
		{"same digest again", host + "/fixed:v1", img1, ""},
		{"immutable tag moved", host + "/fixed:v1", img2, "TAG_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tag, _ := name.NewTag(tt.ref)
			img := img1
			if tt.img != img1 {
				img = img2
			}
			err := remote.Write(tag, img)
			var te *transport.Error
			switch {
			case tt.code == "" && err != nil:
				t.Fatalf("remote.Write(%s) = %v, want nil", tt.ref, err)
			case tt.code != "" && (!errors.As(err, &te) || len(te.Errors) == 0 || string(te.Errors[0].Code) != tt.code):
				t.Fatalf("remote.Write(%s) = %v, want %s", tt.ref, err, tt.code)
			}
		})
	}
}
