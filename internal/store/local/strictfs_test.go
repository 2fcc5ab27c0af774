package local

import (
	"fmt"
	"io/fs"
	"os"
	"testing"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/storetest"
	"github.com/cockroachdb/pebble/vfs"
)

// vfsDataFS puts the data files on a Pebble vfs.FS. On a vfs.NewStrictMem
// both the metadata store and the data files then live on one filesystem
// that forgets whatever was not synced when ResetToSyncedState is called:
// file contents not synced with the file, and directory entries (creates,
// renames, removes) not synced with their directory — a power loss.
//
// beforeSync, if set, runs before every sync of a data file or directory,
// so a test can cut the power exactly there.
type vfsDataFS struct {
	fs         vfs.FS
	beforeSync func()
}

// hookedFile runs its filesystem's beforeSync before a sync.
type hookedFile struct {
	vfs.File
	beforeSync func()
}

func (f *hookedFile) Sync() error {
	f.beforeSync()
	return f.File.Sync()
}

func (f *hookedFile) SyncData() error {
	f.beforeSync()
	return f.File.SyncData()
}

func (f *hookedFile) SyncTo(length int64) (bool, error) {
	f.beforeSync()
	return f.File.SyncTo(length)
}

// hookedVFS runs beforeSync before every sync of the metadata store's
// files and directories, so a test can cut the power exactly there too.
type hookedVFS struct {
	vfs.FS
	beforeSync func()
}

func (h hookedVFS) hook(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return &hookedFile{File: f, beforeSync: h.beforeSync}, nil
}

func (h hookedVFS) Create(name string) (vfs.File, error) { return h.hook(h.FS.Create(name)) }

func (h hookedVFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	return h.hook(h.FS.Open(name, opts...))
}

func (h hookedVFS) OpenReadWrite(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	return h.hook(h.FS.OpenReadWrite(name, opts...))
}

func (h hookedVFS) OpenDir(name string) (vfs.File, error) { return h.hook(h.FS.OpenDir(name)) }

func (h hookedVFS) ReuseForWrite(oldname, newname string) (vfs.File, error) {
	return h.hook(h.FS.ReuseForWrite(oldname, newname))
}

func (v vfsDataFS) Create(name string) (File, error) {
	// vfs.FS.Create truncates; the store's Create must not.
	if _, err := v.fs.Stat(name); err == nil {
		return nil, &os.PathError{Op: "create", Path: name, Err: fs.ErrExist}
	}
	f, err := v.fs.Create(name)
	if err != nil || v.beforeSync == nil {
		return f, err
	}
	return &hookedFile{File: f, beforeSync: v.beforeSync}, nil
}

func (v vfsDataFS) Open(name string) (File, error) { return v.fs.Open(name) }

func (v vfsDataFS) Rename(oldname, newname string) error { return v.fs.Rename(oldname, newname) }

func (v vfsDataFS) Remove(name string) error { return v.fs.Remove(name) }

func (v vfsDataFS) MkdirAll(dir string) error { return v.fs.MkdirAll(dir, 0o755) }

func (v vfsDataFS) ReadDir(dir string) ([]string, error) { return v.fs.List(dir) }

func (v vfsDataFS) SyncDir(dir string) error {
	if v.beforeSync != nil {
		v.beforeSync()
	}
	d, err := v.fs.OpenDir(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// openStrict opens a store in dir on fsys (a vfs.NewStrictMem) for both its
// metadata and its data files. The free-space reserve is off: a memory
// filesystem has no statfs.
func openStrict(dir string, fsys *vfs.MemFS, opts Options) (*Store, error) {
	if opts.FS == nil {
		opts.FS = vfsDataFS{fs: fsys}
	}
	if opts.pebbleFS == nil {
		opts.pebbleFS = fsys
	}
	opts.BallastSize = -1
	return Open(dir, opts)
}

// TestConformanceStrictFS runs the conformance suite with the metadata and
// every data file on a strict memory filesystem, so the power-loss tests'
// filesystem is known to behave as a real one does while nothing crashes.
func TestConformanceStrictFS(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend {
		s, err := openStrict("/store", vfs.NewStrictMem(), Options{InlineThreshold: -1})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestHooksStrictFS(t *testing.T) {
	storetest.RunHooks(t, func(t *testing.T, h store.ChangeHook) (store.Backend, kv.Store) {
		s, err := openStrict("/store", vfs.NewStrictMem(), Options{Hook: h, InlineThreshold: -1})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s, s.KV()
	})
}

// TestPowerLossNewStore: a store written just after it was created survives
// a power loss, both in a directory the operator made (its meta directory's
// entry must be synced) and in one Open makes (its own entry too).
func TestPowerLossNewStore(t *testing.T) {
	for _, dir := range []string{"/srv/made", "/srv/new"} {
		fsys := vfs.NewStrictMem()
		if err := fsys.MkdirAll("/srv/made", 0o755); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{"/", "/srv"} {
			if err := (vfsDataFS{fs: fsys}).SyncDir(d); err != nil {
				t.Fatal(err)
			}
		}
		s, err := openStrict(dir, fsys, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateBucket(t.Context(), store.Bucket{Name: "b"}); err != nil {
			t.Fatal(err)
		}
		put(t, s, "b", "k", []byte("acknowledged"))
		fsys.SetIgnoreSyncs(true)
		s.Close()
		fsys.ResetToSyncedState()
		fsys.SetIgnoreSyncs(false)
		s, err = openStrict(dir, fsys, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.HeadObject(t.Context(), "b", "k", store.GetOptions{}); err != nil {
			t.Errorf("%s: the acknowledged object after a power loss: %v", dir, err)
		}
		s.Close()
	}
}
