package local

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/vfs"

	"github.com/cairn-s3/cairn/internal/store"
)

const testReserve = 1 << 20

// fakeDisk reports a free space the test sets, to drive the reserve's
// decisions without filling a disk.
type fakeDisk struct{ free atomic.Uint64 }

func (d *fakeDisk) statfs(string) (uint64, uint64, error) { return d.free.Load(), 1 << 40, nil }

func ballastSize(t *testing.T, dir string) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dir, ballastName))
	if errors.Is(err, os.ErrNotExist) {
		return -1
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func putSmall(t *testing.T, s *Store, key string) error {
	_, err := s.PutObject(t.Context(), "b", key, strings.NewReader("data"), store.PutOptions{Size: 4})
	return err
}

// TestReserve walks the reserve through a disk that fills and empties:
// new data is refused below the reserve, the ballast goes when free space
// falls below half of it and at a start on a full disk, deletes keep
// working, and the ballast comes back with the space.
func TestReserve(t *testing.T) {
	disk := &fakeDisk{}
	disk.free.Store(100 << 20)
	dir := t.TempDir()
	opts := Options{BallastSize: testReserve, freeSpace: disk.statfs}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := ballastSize(t, dir); got != testReserve {
		t.Fatalf("ballast after Open on an empty disk: %d bytes, want %d", got, testReserve)
	}
	if err := s.CreateBucket(t.Context(), store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := putSmall(t, s, "k"); err != nil {
		t.Fatal(err)
	}

	disk.free.Store(testReserve + 2)
	if err := putSmall(t, s, "k2"); !errors.Is(err, store.ErrStorageFull) {
		t.Fatalf("PUT leaving less than the reserve: %v, want ErrStorageFull", err)
	}
	disk.free.Store(testReserve - 1)
	if _, err := s.CreateMultipartUpload(t.Context(), "b", "k", store.PutOptions{}); !errors.Is(err, store.ErrStorageFull) {
		t.Fatalf("CreateMultipartUpload below the reserve: %v, want ErrStorageFull", err)
	}
	if got := ballastSize(t, dir); got != testReserve {
		t.Fatalf("ballast released at %d bytes free", testReserve-1)
	}

	disk.free.Store(testReserve / 4)
	if _, err := s.DeleteObject(t.Context(), "b", "k", store.DeleteOptions{}); err != nil {
		t.Fatalf("DELETE on a full disk: %v", err)
	}
	if got := ballastSize(t, dir); got != -1 {
		t.Fatalf("ballast kept (%d bytes) below half the reserve", got)
	}
	s.Close()

	// A start on a full disk deletes a ballast before the metadata store
	// opens.
	os.WriteFile(filepath.Join(dir, ballastName), make([]byte, testReserve), 0o600)
	if s, err = Open(dir, opts); err != nil {
		t.Fatalf("Open on a full disk: %v", err)
	}
	defer s.Close()
	if got := ballastSize(t, dir); got != -1 {
		t.Fatalf("ballast kept (%d bytes) at a start on a full disk", got)
	}
	// Space back, but not twice the reserve: still refused.
	disk.free.Store(2*testReserve - 1)
	if err := putSmall(t, s, "k3"); !errors.Is(err, store.ErrStorageFull) {
		t.Fatalf("PUT without room for the ballast: %v, want ErrStorageFull", err)
	}
	disk.free.Store(100 << 20)
	if err := putSmall(t, s, "k3"); err != nil {
		t.Fatalf("PUT once space is back: %v", err)
	}
	if got := ballastSize(t, dir); got != testReserve {
		t.Fatalf("ballast not re-created: %d", got)
	}

	// Bodies still arriving count with their declared size.
	written, err := s.space.admit(60 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.space.admit(60 << 20); !errors.Is(err, store.ErrStorageFull) {
		t.Fatalf("second 60 MiB body on 100 MiB free while the first is arriving: %v, want ErrStorageFull", err)
	}
	written()
	if written, err = s.space.admit(60 << 20); err != nil {
		t.Fatalf("60 MiB body after the first was written: %v", err)
	}
	written()
}

// TestDataFileENOSPC writes a body of undeclared size past the end of a
// real 8 MiB tmpfs: the write fails with ENOSPC (which the S3 adapter maps
// to 507), leaves nothing behind, releases the ballast, and the store keeps
// serving reads, deletes and then writes.
func TestDataFileENOSPC(t *testing.T) {
	mount := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mount).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount tmpfs: %v: %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mount).CombinedOutput(); err != nil {
			t.Errorf("umount: %v: %s", err, out)
		}
	})
	dir := filepath.Join(mount, "store")
	s, err := Open(dir, Options{BallastSize: testReserve})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateBucket(t.Context(), store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := putSmall(t, s, "small"); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{7}, 16<<20)
	_, err = s.PutObject(t.Context(), "b", "big", bytes.NewReader(big), store.PutOptions{Size: -1})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("PUT past the end of the disk: %v, want ENOSPC", err)
	}
	if got := ballastSize(t, dir); got != -1 {
		t.Fatalf("ballast kept (%d bytes) after ENOSPC", got)
	}
	if n := dataFiles(t, s); n != 0 {
		t.Fatalf("%d data files left by the failed write", n)
	}
	_, rc, err := s.GetObject(t.Context(), "b", "small", store.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "data" {
		t.Fatalf("GET after ENOSPC: %q", got)
	}
	if _, err := s.DeleteObject(t.Context(), "b", "small", store.DeleteOptions{}); err != nil {
		t.Fatalf("DELETE after ENOSPC: %v", err)
	}
	if err := putSmall(t, s, "again"); err != nil {
		t.Fatalf("PUT after the failed write was cleaned up: %v", err)
	}
}

// fullTablesFS makes Pebble's table writes fail with ENOSPC while the
// store's ballast file exists: a disk that only the ballast's release
// makes room on.
type fullTablesFS struct {
	vfs.FS
	ballast string
	failed  atomic.Int64
}

func (f *fullTablesFS) Create(name string) (vfs.File, error) {
	file, err := f.FS.Create(name)
	if err != nil || !strings.HasSuffix(name, ".sst") {
		return file, err
	}
	return fullTableFile{File: file, fs: f}, nil
}

type fullTableFile struct {
	vfs.File
	fs *fullTablesFS
}

func (f fullTableFile) Write(p []byte) (int, error) {
	if _, err := os.Stat(f.fs.ballast); err == nil {
		f.fs.failed.Add(1)
		return 0, &os.PathError{Op: "write", Path: "sst", Err: syscall.ENOSPC}
	}
	return f.File.Write(p)
}

// TestFlushENOSPC injects ENOSPC into Pebble's memtable flushes. Pebble v1
// retries a failed flush forever and makes every commit wait for it, so
// without the ballast's release the writes below would hang; with it the
// flush finds room and every acknowledged write survives a reopen.
func TestFlushENOSPC(t *testing.T) {
	dir := t.TempDir()
	fsys := &fullTablesFS{FS: vfs.Default, ballast: filepath.Join(dir, ballastName)}
	opts := Options{BallastSize: testReserve, pebbleFS: fsys}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(t.Context(), store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte{1}, DefaultInlineThreshold)
	const n = 200 // 12.5 MiB inline: several memtables of 4 MiB
	for i := range n {
		if _, err := s.PutObject(t.Context(), "b", fmt.Sprint(i), bytes.NewReader(body), store.PutOptions{Size: int64(len(body))}); err != nil {
			t.Fatalf("PUT %d: %v", i, err)
		}
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if fsys.failed.Load() == 0 {
		t.Fatal("no table write met the injected ENOSPC")
	}
	s.Close()
	if s, err = Open(dir, Options{BallastSize: testReserve}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range n {
		if _, err := s.HeadObject(t.Context(), "b", fmt.Sprint(i), store.GetOptions{}); err != nil {
			t.Fatalf("HEAD %d after reopen: %v", i, err)
		}
	}
}
