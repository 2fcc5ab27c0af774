package local

import (
	"fmt"
	"io"
	"os"
)

// FS is the filesystem the store keeps its data files on: the few
// operations the data path uses, so that tests can inject failures (ENOSPC,
// EIO) or simulate a crash that drops whatever was not synced. The metadata
// database has its own (Pebble's vfs).
type FS interface {
	// Create makes a new file for writing; it fails if name exists.
	Create(name string) (File, error)
	// Open opens a file for reading.
	Open(name string) (File, error)
	// Rename atomically replaces newname with oldname.
	Rename(oldname, newname string) error
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// MkdirAll creates a directory and its parents.
	MkdirAll(dir string) error
	// ReadDir returns the names in a directory.
	ReadDir(dir string) ([]string, error)
	// SyncDir makes the directory's entries (creates, renames) durable.
	SyncDir(dir string) error
}

// File is an open data file.
type File interface {
	io.Writer
	io.ReaderAt
	Sync() error
	Close() error
}

// osFS is the real filesystem.
type osFS struct{}

func (osFS) Create(name string) (File, error) {
	return os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
}

func (osFS) Open(name string) (File, error) { return os.Open(name) }

func (osFS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }

func (osFS) Remove(name string) error { return os.Remove(name) }

func (osFS) MkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

func (osFS) ReadDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
