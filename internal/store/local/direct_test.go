package local

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/tmpfstest"
)

// TestDirectFileWritesEveryByte writes bodies around the buffer and
// alignment boundaries in uneven pieces and reads them back.
func TestDirectFileWritesEveryByte(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("direct I/O is used on Linux only")
	}
	var bufs directBuffers
	dir := t.TempDir()
	for _, size := range []int{directBufSize, directBufSize + 1, directBufSize - 1, 3*directBufSize + 4095, directAlign, 17} {
		want := make([]byte, size)
		rng := rand.New(rand.NewPCG(uint64(size), 1))
		for i := range want {
			want[i] = byte(rng.Uint32())
		}
		name := filepath.Join(dir, "f")
		f, err := osFS{}.CreateDirect(name, &bufs)
		if err != nil {
			t.Fatal(err)
		}
		if !hasDirectFlag(t, f.(*directFile).f) {
			t.Fatal("file not opened with O_DIRECT")
		}
		for rest := want; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(300<<10))
			if _, err := f.Write(rest[:n]); err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			rest = rest[n:]
		}
		if err := f.Sync(); err != nil {
			t.Fatalf("size %d: sync: %v", size, err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("size %d: read back %d bytes, differ from what was written", size, len(got))
		}
		os.Remove(name)
	}
}

func hasDirectFlag(t *testing.T, f *os.File) bool {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags uintptr
	rc.Control(func(fd uintptr) {
		flags, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	})
	return flags&syscall.O_DIRECT != 0
}

// noDirectFS is the OS filesystem on a volume that refuses direct I/O.
type noDirectFS struct{ osFS }

func (noDirectFS) CreateDirect(string, *directBuffers) (File, error) {
	return nil, errDirectUnsupported
}

// TestLargeBodiesWithoutDirectIO: a filesystem that refuses direct I/O
// gets large bodies through the page cache, intact.
func TestLargeBodiesWithoutDirectIO(t *testing.T) {
	s, err := Open(t.TempDir(), Options{FS: noDirectFS{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b", Owner: "u"}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("cairn"), 3<<20/5)
	if _, err := s.PutObject(ctx, "b", "k", bytes.NewReader(body), store.PutOptions{Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	if !s.direct.unsupported.Load() {
		t.Fatal("the store did not note that direct I/O is unsupported")
	}
	_, rc, err := s.GetObject(ctx, "b", "k", store.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read back %d bytes (err %v), want the %d written", len(got), err, len(body))
	}
}

// A direct write that fails in the background (here the disk is full) is
// reported by a later Write or by Sync, never lost: the data file would
// otherwise be acknowledged with a hole.
func TestDirectFileReportsBackgroundWriteError(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("direct I/O is used on Linux only")
	}
	dir := tmpfstest.Mount(t, "3m")
	var bufs directBuffers
	f, err := osFS{}.CreateDirect(filepath.Join(dir, "f"), &bufs)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, directBufSize)
	var werr error
	for i := 0; i < 8 && werr == nil; i++ {
		_, werr = f.Write(chunk)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if !errors.Is(werr, syscall.ENOSPC) {
		t.Fatalf("8 MiB into a 3 MiB filesystem: %v, want ENOSPC", werr)
	}
	if err := f.Sync(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Sync after the failed write: %v, want the same error", err)
	}
}
