package ecr

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Reference is a parsed image reference: [host/]repository(:tag|@digest).
type Reference struct {
	Host, Repository, Tag, Digest string
}

// ParseReference splits an image reference as docker does: the first path
// component is a host when it has a dot or a colon or is localhost.
func ParseReference(s string) (Reference, error) {
	var ref Reference
	rest := s
	if i := strings.Index(rest, "@"); i >= 0 {
		ref.Digest, rest = rest[i+1:], rest[:i]
		if _, err := v1.NewHash(ref.Digest); err != nil {
			return ref, fmt.Errorf("parse image reference %q: %w", s, err)
		}
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.Contains(rest[i:], "/") {
		ref.Tag, rest = rest[i+1:], rest[:i]
	}
	if i := strings.Index(rest, "/"); i >= 0 {
		first := rest[:i]
		if strings.ContainsAny(first, ".:") || first == "localhost" {
			ref.Host, rest = first, rest[i+1:]
		}
	}
	ref.Repository = rest
	if ref.Tag == "" && ref.Digest == "" {
		ref.Tag = "latest"
	}
	if ref.Repository == "" {
		return ref, fmt.Errorf("parse image reference %q: no repository", s)
	}
	return ref, nil
}

// local reports whether a registry host names this registry: its own
// host:port, any loopback host, or an ECR registry host (which the local
// cloud answers for every account and region).
func (b *Backend) local(host string) bool {
	h := host
	if i := strings.LastIndex(h, ":"); i >= 0 {
		h = h[:i]
	}
	return host == b.cfg.Host || h == "localhost" || strings.HasPrefix(h, "127.") ||
		strings.Contains(h, ".dkr.ecr.")
}

// Image resolves an image reference in this registry to an image, choosing
// the manifest for this machine's platform from an index. It returns the
// image and its manifest digest.
func (b *Backend) Image(ref string) (v1.Image, string, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, "", err
	}
	if r.Host != "" && !b.local(r.Host) {
		return nil, "", fmt.Errorf("pull %s: registry %s is not this local registry (%s)", ref, r.Host, b.cfg.Host)
	}
	sel := r.Digest
	if sel == "" {
		sel = r.Tag
	}
	im, e := b.resolve(r.Repository, sel)
	if e != nil {
		return nil, "", fmt.Errorf("pull %s: %s", ref, e.Message)
	}
	h, _ := v1.NewHash(im.Digest)
	raw, err := b.readBlob(h)
	if err != nil {
		return nil, "", fmt.Errorf("pull %s: %w", ref, err)
	}
	mt := types.MediaType(im.MediaType)
	if mt.IsIndex() {
		idx, err := v1.ParseIndexManifest(strings.NewReader(string(raw)))
		if err != nil {
			return nil, "", fmt.Errorf("pull %s: %w", ref, err)
		}
		var pick *v1.Descriptor
		for i, d := range idx.Manifests {
			if d.Platform == nil || (d.Platform.OS == runtime.GOOS && d.Platform.Architecture == runtime.GOARCH) {
				pick = &idx.Manifests[i]
				break
			}
		}
		if pick == nil {
			return nil, "", fmt.Errorf("pull %s: no manifest for %s/%s in the index", ref, runtime.GOOS, runtime.GOARCH)
		}
		if raw, err = b.readBlob(pick.Digest); err != nil {
			return nil, "", fmt.Errorf("pull %s: %w", ref, err)
		}
		mt = pick.MediaType
	}
	img, err := partial.CompressedToImage(&localImage{b: b, raw: raw, mediaType: mt})
	if err != nil {
		return nil, "", fmt.Errorf("pull %s: %w", ref, err)
	}
	return img, im.Digest, nil
}

// localImage reads an image manifest's blobs straight from disk.
type localImage struct {
	b         *Backend
	raw       []byte
	mediaType types.MediaType
}

func (i *localImage) RawManifest() ([]byte, error)        { return i.raw, nil }
func (i *localImage) MediaType() (types.MediaType, error) { return i.mediaType, nil }

func (i *localImage) manifest() (*manifestRefs, error) {
	var m manifestRefs
	if err := json.Unmarshal(i.raw, &m); err != nil {
		return nil, err
	}
	if m.Config == nil {
		return nil, fmt.Errorf("manifest has no config")
	}
	return &m, nil
}

func (i *localImage) RawConfigFile() ([]byte, error) {
	m, err := i.manifest()
	if err != nil {
		return nil, err
	}
	return i.b.readBlob(m.Config.Digest)
}

func (i *localImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	m, err := i.manifest()
	if err != nil {
		return nil, err
	}
	for _, d := range append([]v1.Descriptor{*m.Config}, m.Layers...) {
		if d.Digest == h {
			return &localLayer{b: i.b, desc: d}, nil
		}
	}
	return nil, fmt.Errorf("layer %s not in manifest", h)
}

type localLayer struct {
	b    *Backend
	desc v1.Descriptor
}

func (l *localLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *localLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *localLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *localLayer) Compressed() (io.ReadCloser, error)  { return l.b.openBlob(l.desc.Digest) }

// Resolve pins an image reference in this registry to its manifest digest,
// as ECS does when a deployment starts: the reference with its tag replaced
// by @sha256:..., so every task of the deployment runs the same image.
func (b *Backend) Resolve(ref string) (string, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return "", err
	}
	if r.Host != "" && !b.local(r.Host) {
		return "", fmt.Errorf("resolve %s: registry %s is not this local registry (%s)", ref, r.Host, b.cfg.Host)
	}
	sel := r.Digest
	if sel == "" {
		sel = r.Tag
	}
	im, e := b.resolve(r.Repository, sel)
	if e != nil {
		return "", fmt.Errorf("resolve %s: %s", ref, e.Message)
	}
	base := r.Repository
	if r.Host != "" {
		base = r.Host + "/" + base
	}
	return base + "@" + im.Digest, nil
}
