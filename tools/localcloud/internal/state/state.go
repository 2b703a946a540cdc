// Package state keeps each localcloud backend's state on disk as JSON, one
// file per name under a directory, so the emulator survives a restart. Writes
// are atomic (temp file, fsync, rename): a crash leaves the old file or the
// new one, never half of either.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Store saves and loads named JSON documents under Dir. An empty Dir keeps
// nothing: Load finds nothing and Save succeeds without writing.
type Store struct {
	Dir string
}

func (s Store) path(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", fmt.Errorf("check state name %q: must be a plain file name", name)
	}
	return filepath.Join(s.Dir, name+".json"), nil
}

// Load reads the document called name into v. It reports false, and leaves v
// alone, when there is no such document yet.
func (s Store) Load(name string, v any) (bool, error) {
	if s.Dir == "" {
		return false, nil
	}
	p, err := s.path(name)
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read state %s: %w", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode state %s (%s): %w", name, p, err)
	}
	return true, nil
}

// Save writes v as the document called name, replacing it atomically.
func (s Store) Save(name string, v any) error {
	if s.Dir == "" {
		return nil
	}
	p, err := s.path(name)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state %s: %w", name, err)
	}
	if err := os.MkdirAll(s.Dir, 0o750); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	f, err := os.CreateTemp(s.Dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("save state %s: %w", name, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("save state %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("save state %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save state %s: %w", name, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("save state %s: %w", name, err)
	}
	return nil
}

// Delete removes the document called name, so what was deleted takes no
// room on disk. A document that does not exist is not an error.
func (s Store) Delete(name string) error {
	if s.Dir == "" {
		return nil
	}
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete state %s: %w", name, err)
	}
	return nil
}
