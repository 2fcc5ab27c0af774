package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/vfs"

	"github.com/cairn-s3/cairn/internal/store"
)

// walFixture writes n objects of size bytes into a new store in dir,
// closes it and returns the keys in write order and the path of the WAL
// holding them.
func walFixture(t *testing.T, dir string, n, size int) ([]string, string) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("obj-%04d", i)
		body := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		if _, err := s.PutObject(ctx, "b", keys[i], bytes.NewReader(body), store.PutOptions{Size: int64(size)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	m, err := checkMetaLogs(vfs.Default, filepath.Join(dir, "meta"), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.WALs) != 1 {
		t.Fatalf("want one live WAL, got %d", len(m.WALs))
	}
	return keys, m.WALs[0].Path
}

// keyOffset returns the offset of the version record of key in the WAL.
func keyOffset(t *testing.T, wal, key string) int {
	t.Helper()
	b, err := os.ReadFile(wal)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, keyPrefix(tagObject, "b", key, false))
	if i < 0 {
		t.Fatalf("%s not found in %s", key, wal)
	}
	return i
}

func flipByte(t *testing.T, path string, off int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], int64(off)); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b[:], int64(off)); err != nil {
		t.Fatal(err)
	}
}

// readAll checks that every key in keys reads back with its body.
func readAll(t *testing.T, s *Store, keys []string, size int) {
	t.Helper()
	for i, k := range keys {
		_, rc, err := s.GetObject(context.Background(), "b", k, store.GetOptions{})
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, bytes.Repeat([]byte{byte('a' + i%26)}, size)) {
			t.Errorf("%s: body differs (%d bytes, %v)", k, len(got), err)
		}
	}
}

// TestOpenRefusesMidWALDamage flips one byte in an early record of the
// WAL: Pebble alone would open the store without the records after it
// (and Open would then delete their data files as unreferenced).
func TestOpenRefusesMidWALDamage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n, size int
	}{
		{"four objects", 4, 100 << 10},
		{"many blocks", 300, 70 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			keys, wal := walFixture(t, dir, tc.n, tc.size)
			at := keyOffset(t, wal, keys[0])
			flipByte(t, wal, at+3)
			files := dataFilesIn(t, dir)

			s, err := Open(dir, Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded on a WAL damaged in the middle")
			}
			var ce *CorruptMetadataError
			if !errors.As(err, &ce) {
				t.Fatalf("want a CorruptMetadataError, got %v", err)
			}
			msg := err.Error()
			for _, want := range []string{wal, fmt.Sprintf("offset %d", ce.Offset), "cairn admin fsck --data " + dir} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if ce.Offset <= 0 || ce.Offset > int64(at) || ce.Intact <= ce.Offset {
				t.Errorf("offsets: damage %d, intact %d, key at %d", ce.Offset, ce.Intact, at)
			}
			if got := dataFilesIn(t, dir); got != files {
				t.Errorf("a refused Open changed the data files: %d, was %d", got, files)
			}
		})
	}
}

// TestOpenAcceptsTornTail cuts the WAL inside its last record, as a crash
// during the write leaves it (cut short, or zero-filled up to the old size):
// the store opens and every earlier object is intact.
func TestOpenAcceptsTornTail(t *testing.T) {
	for _, zeroFill := range []bool{false, true} {
		t.Run(fmt.Sprintf("zero fill %v", zeroFill), func(t *testing.T) {
			dir := t.TempDir()
			const n, size = 200, 70 << 10
			keys, wal := walFixture(t, dir, n, size)
			fi, err := os.Stat(wal)
			if err != nil {
				t.Fatal(err)
			}
			cut := keyOffset(t, wal, keys[n-1]) + 5
			if err := os.Truncate(wal, int64(cut)); err != nil {
				t.Fatal(err)
			}
			if zeroFill {
				if err := os.Truncate(wal, fi.Size()); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatalf("Open after a torn tail: %v", err)
			}
			defer s.Close()
			readAll(t, s, keys[:n-1], size)
			if _, err := s.HeadObject(context.Background(), "b", keys[n-1], store.GetOptions{}); !errors.Is(err, store.ErrNoSuchKey) {
				t.Errorf("the torn object: %v", err)
			}
			checkRefs(t, s)
		})
	}
}

// TestOpenAfterRecycledWAL reopens a store many times, so Pebble recycles
// its WAL files over older ones whose chunks remain after the new tail:
// those must not count as damage.
func TestOpenAfterRecycledWAL(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var keys []string
	for round := 0; round < 6; round++ {
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if round == 0 {
			if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 40-round*5; i++ {
			k := fmt.Sprintf("obj-%d-%d", round, i)
			body := bytes.Repeat([]byte{byte('a' + len(keys)%26)}, 1000)
			if _, err := s.PutObject(ctx, "b", k, bytes.NewReader(body), store.PutOptions{Size: 1000}); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k)
		}
		if round%2 == 1 {
			if err := s.db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	readAll(t, s, keys, 1000)
}

// dataFilesIn counts the files under dir/data.
func dataFilesIn(t *testing.T, dir string) int {
	t.Helper()
	return dataFiles(t, &Store{dir: dir})
}

// flushedFixture writes objects in rounds with a flush after each, so the
// MANIFEST holds several version edits and older WALs are obsolete.
func flushedFixture(t *testing.T, dir string) []string {
	t.Helper()
	ctx := context.Background()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for round := 0; round < 4; round++ {
		for i := 0; i < 5; i++ {
			k := fmt.Sprintf("obj-%04d", len(keys))
			body := bytes.Repeat([]byte{byte('a' + len(keys)%26)}, 1000)
			if _, err := s.PutObject(ctx, "b", k, bytes.NewReader(body), store.PutOptions{Size: 1000}); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k)
		}
		if err := s.db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestOpenRefusesMidManifestDamage flips a byte in an early MANIFEST
// record: Pebble alone would forget the tables added after it.
func TestOpenRefusesMidManifestDamage(t *testing.T) {
	dir := t.TempDir()
	flushedFixture(t, dir)
	meta := filepath.Join(dir, "meta")
	name, err := currentManifest(vfs.Default, meta)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	if _, err := scanLog(vfs.Default, filepath.Join(meta, name), 0, true, false, func(off int64, _ []byte) { offs = append(offs, off) }); err != nil {
		t.Fatal(err)
	}
	if len(offs) < 3 {
		t.Fatalf("MANIFEST has %d records", len(offs))
	}
	flipByte(t, filepath.Join(meta, name), int(offs[1])+legacyChunkHeader+1)

	_, err = Open(dir, Options{})
	var ce *CorruptMetadataError
	if !errors.As(err, &ce) || ce.Kind != "MANIFEST" || ce.Offset != offs[1] {
		t.Fatalf("Open: %v", err)
	}
	rep, err := Fsck(dir, FsckOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Damaged || len(rep.Unrepairable) != 1 || len(rep.Repairs) != 0 || rep.Logs[0].Status != "damaged" {
		t.Errorf("fsck of a damaged MANIFEST: %+v", rep)
	}
}

// TestOpenIgnoresObsoleteWAL flips a byte in a WAL whose records are all
// in tables already: Pebble does not replay it, so it is no damage.
func TestOpenIgnoresObsoleteWAL(t *testing.T) {
	dir := t.TempDir()
	keys := flushedFixture(t, dir)
	meta := filepath.Join(dir, "meta")
	m, err := checkMetaLogs(vfs.Default, meta, false)
	if err != nil {
		t.Fatal(err)
	}
	nums, err := walNumbers(vfs.Default, meta)
	if err != nil {
		t.Fatal(err)
	}
	if len(nums) == 0 || len(m.WALNums) == 0 || nums[0] >= m.WALNums[0] {
		t.Fatalf("no obsolete WAL: on disk %v, live %v", nums, m.WALNums)
	}
	old := filepath.Join(meta, walName(nums[0]))
	fi, err := os.Stat(old)
	if err != nil || fi.Size() < 100 {
		t.Fatalf("obsolete WAL %s: %v %v", old, fi, err)
	}
	flipByte(t, old, 50)
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	readAll(t, s, keys, 1000)
}
