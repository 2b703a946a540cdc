package ecr

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Blobs are shared by content across repositories. When an image goes
// (DeleteRepository, BatchDeleteImage, a registry DELETE), the blobs it
// referenced that no image of any repository still references go with it:
// its manifest, an index's child manifests, configs and layers.
//
// Except those a push is still using. A push sends its blobs first and its
// manifest last, and between the two a delete elsewhere could free a layer
// the push uploaded, mounted, or skipped because HEAD found it present; the
// manifest would then fail with MANIFEST_BLOB_UNKNOWN. So each of those
// holds the blob for the repository pushed to, until a manifest referencing
// it lands there, that repository is deleted, or pushGrace passes. Deletes
// leave held blobs alone, as they do blobs that were never part of a
// deleted image. What they leave (a push abandoned halfway, a blob held
// while its image was deleted) stays until New sweeps every blob no image
// references and every upload session left open, since no push spans a
// restart.
//
// A hold belongs to the repository, not to one push: the protocol does not
// say which push a request is part of. Of two pushes into one repository
// sharing a layer, the first manifest to land releases the layer for both,
// and from then on the image it made keeps the layer.

// pushGrace is how long a push may take between touching a blob and
// putting the manifest that references it, in real time: pushes run at the
// machine's speed, whatever the time scale.
const pushGrace = 15 * time.Minute

// hold keeps blob digest d from deletes for a push into repo.
func (b *Backend) hold(repo, d string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.holdLocked(repo, d)
}

func (b *Backend) holdLocked(repo, d string) {
	// The request checked repo exists before taking the lock; a delete in
	// between has released repo's holds, and this one would outlive it.
	if _, ok := b.repos[repo]; !ok {
		return
	}
	now := b.cfg.Clock.Now()
	b.pruneHoldsLocked(now)
	if b.holds == nil {
		b.holds = map[string]map[string]time.Time{}
	}
	if b.holds[d] == nil {
		b.holds[d] = map[string]time.Time{}
	}
	b.holds[d][repo] = now
}

// holdBlob reports whether the blob is present and, if it is, holds it for
// a push into repo, in one step so that no delete frees it in between.
func (b *Backend) holdBlob(repo string, h v1.Hash) (int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, ok := b.hasBlob(h)
	if ok {
		b.holdLocked(repo, h.String())
	}
	return n, ok
}

// releaseLocked releases d's hold for repo.
func (b *Backend) releaseLocked(repo, d string) {
	if m := b.holds[d]; m != nil {
		delete(m, repo)
		if len(m) == 0 {
			delete(b.holds, d)
		}
	}
}

// releaseRepoLocked releases every hold for a deleted repository.
func (b *Backend) releaseRepoLocked(repo string) {
	for d := range b.holds {
		b.releaseLocked(repo, d)
	}
}

// pruneHoldsLocked drops the holds older than pushGrace.
func (b *Backend) pruneHoldsLocked(now time.Time) {
	for d, m := range b.holds {
		for repo, at := range m {
			if now.Sub(at) >= pushGrace {
				delete(m, repo)
			}
		}
		if len(m) == 0 {
			delete(b.holds, d)
		}
	}
}

// OnDelete registers f to be called, outside the backend's lock, with the
// manifest digests that no repository has any more after a delete, so what
// was derived from them (a task runner's unpacked images) can go too.
func (b *Backend) OnDelete(f func(digests []string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onDelete = append(b.onDelete, f)
}

// HasImage reports whether any repository has an image with the manifest digest.
func (b *Backend) HasImage(digest string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hasImageLocked(digest)
}

func (b *Backend) hasImageLocked(digest string) bool {
	for _, r := range b.repos {
		if _, ok := r.Images[digest]; ok {
			return true
		}
	}
	return false
}

// notify tells the OnDelete subscribers which digests went.
func (b *Backend) notify(gone []string) {
	if len(gone) == 0 {
		return
	}
	b.mu.Lock()
	subs := append([]func([]string){}, b.onDelete...)
	b.mu.Unlock()
	for _, f := range subs {
		f(gone)
	}
}

// closure adds to set the blob digests the manifest with digest d needs: the
// manifest itself, its config and layers, and for an index its child
// manifests and theirs. A manifest that cannot be read adds only itself.
func (b *Backend) closure(d string, set map[string]bool) {
	if set[d] {
		return
	}
	set[d] = true
	h, err := v1.NewHash(d)
	if err != nil {
		return
	}
	raw, err := b.readBlob(h)
	if err != nil {
		return
	}
	var m manifestRefs
	if json.Unmarshal(raw, &m) != nil {
		return
	}
	if m.Config != nil {
		set[m.Config.Digest.String()] = true
	}
	for _, l := range m.Layers {
		set[l.Digest.String()] = true
	}
	for _, c := range m.Manifests {
		b.closure(c.Digest.String(), set)
	}
}

// referencedLocked is every blob some image of some repository needs.
func (b *Backend) referencedLocked() map[string]bool {
	set := map[string]bool{}
	for _, r := range b.repos {
		for d := range r.Images {
			b.closure(d, set)
		}
	}
	return set
}

// collectLocked removes the blobs of the deleted manifests gone that no
// image still references, and returns the digests among gone that no
// repository has any more.
func (b *Backend) collectLocked(gone []string) []string {
	if len(gone) == 0 {
		return nil
	}
	candidates := map[string]bool{}
	for _, d := range gone {
		b.closure(d, candidates)
	}
	keep := b.referencedLocked()
	b.pruneHoldsLocked(b.cfg.Clock.Now())
	removed, bytes := 0, int64(0)
	for d := range candidates {
		if keep[d] || b.holds[d] != nil {
			continue
		}
		h, err := v1.NewHash(d)
		if err != nil {
			continue
		}
		n, ok := b.hasBlob(h)
		if !ok {
			continue
		}
		if err := os.Remove(b.blobPath(h)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			b.log.Warn("remove blob", "digest", d, "err", err)
			continue
		}
		removed++
		bytes += n
	}
	if removed > 0 {
		b.log.Info("blobs removed", "blobs", removed, "bytes", bytes)
	}
	var out []string
	for _, d := range gone {
		if !b.hasImageLocked(d) {
			out = append(out, d)
		}
	}
	return out
}

// sweepLocked removes every blob no image references, and every upload
// session: one a push began and never finished (a client killed mid-push)
// would otherwise keep its bytes on disk for good. New runs it, when no push
// can be half done: no push spans a restart.
func (b *Backend) sweepLocked() {
	keep := b.referencedLocked()
	b.sweep("unreferenced blobs", filepath.Join(b.cfg.Dir, "blobs", "sha256"), func(name string) bool { return keep["sha256:"+name] })
	b.sweep("abandoned uploads", filepath.Join(b.cfg.Dir, "uploads"), func(string) bool { return false })
}

// sweep removes the files of dir that keep does not keep, and logs how many
// of what went.
func (b *Backend) sweep(what, dir string, keep func(name string) bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.log.Warn("sweep "+what, "err", err)
		return
	}
	removed := 0
	for _, e := range entries {
		if keep(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			b.log.Warn("sweep "+what, "err", err)
			continue
		}
		removed++
	}
	if removed > 0 {
		b.log.Info(what+" removed", "files", removed)
	}
}
