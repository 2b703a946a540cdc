package taskrun

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// What the runner keeps on disk, and for how long:
//
//   - images/<digest>: an image unpacked once per digest, while the registry
//     holds that digest or a task starting or running uses it. DropImages
//     removes it when the registry lets go of it (at once, or when its last
//     task exits or fails to start), and
//     New sweeps the ones the registry no longer holds.
//   - tasks/<task id>: a task's working directory with the copy of its
//     output (container.log), while its owner can still describe the task.
//     RemoveTask and PruneTasks remove it.

// imageHolder says whether the registry still holds an image; *ecr.Backend
// satisfies it. Config.Images may implement it; then New sweeps unpacked
// images the registry no longer holds.
type imageHolder interface {
	HasImage(digest string) bool
}

func (r *Runner) imageDir(digest string) string {
	return filepath.Join(r.cfg.Dir, "images", strings.TrimPrefix(digest, "sha256:"))
}

// unpackLock is the lock that serialises unpacking and removing one digest.
func (r *Runner) unpackLock(hexd string) *sync.Mutex {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.unpacked[hexd]
	if !ok {
		m = &sync.Mutex{}
		r.unpacked[hexd] = m
	}
	return m
}

// inUseLocked reports whether a running process was started from digest,
// or a task is being started from it.
func (r *Runner) inUseLocked(digest string) bool {
	if r.starting[digest] > 0 {
		return true
	}
	for _, p := range r.procs {
		if p.ImageDigest == digest {
			return true
		}
	}
	return false
}

// DropImages removes the unpacked images of digests the registry no longer
// holds (ecr's OnDelete). One that a task starting or running uses goes
// when its last such task exits.
func (r *Runner) DropImages(digests []string) {
	for _, d := range digests {
		r.mu.Lock()
		busy := r.inUseLocked(d)
		if busy {
			r.dropped[d] = true
		}
		r.mu.Unlock()
		if !busy {
			r.removeImage(d)
		}
	}
}

// holdStarting marks digest in use while Start unpacks and starts a task
// from it, so that a delete meanwhile does not remove the root filesystem
// under it; releaseStarting ends that, once the process is in procs or
// Start failed.
func (r *Runner) holdStarting(digest string) {
	r.mu.Lock()
	r.starting[digest]++
	r.mu.Unlock()
}

func (r *Runner) releaseStarting(digest string) {
	r.mu.Lock()
	if r.starting[digest]--; r.starting[digest] <= 0 {
		delete(r.starting, digest)
	}
	r.mu.Unlock()
	r.releaseImage(digest)
}

// releaseImage is called when a process exits or a start ends: an image
// dropped while it was in use goes once nothing uses it.
func (r *Runner) releaseImage(digest string) {
	r.mu.Lock()
	gone := r.dropped[digest] && !r.inUseLocked(digest)
	if gone {
		delete(r.dropped, digest)
	}
	r.mu.Unlock()
	if gone {
		r.removeImage(digest)
	}
}

func (r *Runner) removeImage(digest string) {
	hexd := strings.TrimPrefix(digest, "sha256:")
	if hexd == "" || strings.ContainsAny(hexd, `/\.`) {
		return
	}
	m := r.unpackLock(hexd)
	m.Lock()
	defer m.Unlock()
	dir := r.imageDir(digest)
	if _, err := os.Stat(dir); err != nil {
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		r.log.Warn("remove unpacked image", "digest", digest, "err", err)
		return
	}
	r.log.Info("unpacked image removed", "digest", digest)
}

// sweepImages removes unpacked images the registry no longer holds; New
// runs it before any task starts.
func (r *Runner) sweepImages(h imageHolder) {
	entries, err := os.ReadDir(filepath.Join(r.cfg.Dir, "images"))
	if err != nil {
		return
	}
	for _, e := range entries {
		if d := "sha256:" + e.Name(); !h.HasImage(d) {
			r.removeImage(d)
		}
	}
}

// RemoveTask removes a task's working directory (its container.log), once
// nobody can describe the task any more. A running task keeps it.
func (r *Runner) RemoveTask(taskID string) error {
	if taskID == "" || strings.ContainsAny(taskID, `/\`) || taskID == "." || taskID == ".." {
		return nil
	}
	r.mu.Lock()
	_, running := r.procs[taskID]
	r.mu.Unlock()
	if running {
		return nil
	}
	return os.RemoveAll(filepath.Join(r.cfg.Dir, "tasks", taskID))
}

// PruneTasks removes the working directory of every task that keep does
// not name and that is not running.
func (r *Runner) PruneTasks(keep func(taskID string) bool) error {
	entries, err := os.ReadDir(filepath.Join(r.cfg.Dir, "tasks"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if keep(e.Name()) {
			continue
		}
		if err := r.RemoveTask(e.Name()); err != nil {
			return err
		}
	}
	return nil
}
