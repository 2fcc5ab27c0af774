package local

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/storetest"
)

func openTest(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend { return openTest(t, Options{}) })
}

// TestConformanceAllFiles stores every non-empty body in a data file, so the
// suite covers the file path for small bodies too.
func TestConformanceAllFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	storetest.Run(t, func(t *testing.T) store.Backend { return openTest(t, Options{InlineThreshold: -1}) })
}

func TestHooks(t *testing.T) {
	storetest.RunHooks(t, func(t *testing.T, h store.ChangeHook) (store.Backend, kv.Store) {
		s := openTest(t, Options{Hook: h})
		return s, s.KV()
	})
}

func TestKV(t *testing.T) {
	storetest.RunKV(t, func(t *testing.T) kv.Store {
		s := openTest(t, Options{})
		t.Cleanup(func() { s.Close() })
		return s.KV()
	})
}

// dataFiles counts the files in the data directory.
func dataFiles(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(s.dir, "data"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkRefs verifies that data files and reference rows match one to one,
// and that every version's blobs exist.
func checkRefs(t *testing.T, s *Store) {
	t.Helper()
	refs := 0
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: tagFile, UpperBound: prefixEnd(tagFile)})
	if err != nil {
		t.Fatal(err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		refs++
		seq := binary.BigEndian.Uint64(it.Key()[len(tagFile):])
		if _, err := os.Stat(s.dataPath(seq)); err != nil {
			t.Errorf("referenced data file %d: %v", seq, err)
		}
	}
	it.Close()
	if n := dataFiles(t, s); n != refs {
		t.Errorf("%d data files, %d references", n, refs)
	}
	it, err = s.db.NewIter(&pebble.IterOptions{LowerBound: tagObject, UpperBound: prefixEnd(tagObject)})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		v, err := decodeVersion(it.Value())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range v.Blobs {
			key := seqKey(tagFile, b.Seq)
			if b.Inline {
				key = seqKey(tagInline, b.Seq)
			}
			if _, err := s.get(key); err != nil {
				t.Errorf("version %d: blob %+v: %v", v.Seq, b, err)
			}
		}
	}
}

func put(t *testing.T, s *Store, bucket, key string, body []byte) store.ObjectInfo {
	t.Helper()
	info, err := s.PutObject(context.Background(), bucket, key, bytes.NewReader(body), store.PutOptions{Size: int64(len(body))})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	return info
}

func TestGarbageRemoved(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	defer s.Close()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 200<<10)
	put(t, s, "b", "k", big)
	put(t, s, "b", "k", big)             // overwrite
	put(t, s, "b", "k", []byte("small")) // overwrite file with inline
	put(t, s, "b", "d", big)
	if _, err := s.DeleteObject(ctx, "b", "d", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	up, err := s.CreateMultipartUpload(ctx, "b", "mp", store.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var parts []store.CompletePart
	for i := 1; i <= 3; i++ {
		p, err := s.UploadPart(ctx, "b", "mp", up.UploadID, i, bytes.NewReader(big), store.PartOptions{Size: int64(len(big))})
		if err != nil {
			t.Fatal(err)
		}
		if i != 2 { // overwritten below
			parts = append(parts, store.CompletePart{Number: i, ETag: p.ETag})
		}
	}
	if _, err := s.UploadPart(ctx, "b", "mp", up.UploadID, 2, bytes.NewReader(big[:1000]), store.PartOptions{Size: 1000}); err != nil {
		t.Fatal(err)
	}
	// Part 1 must be 5 MiB to be a non-last part; complete with part 3 only.
	if _, err := s.CompleteMultipartUpload(ctx, "b", "mp", up.UploadID, parts[1:], store.CompleteOptions{}); err != nil {
		t.Fatal(err)
	}
	up2, _ := s.CreateMultipartUpload(ctx, "b", "ab", store.PutOptions{})
	s.UploadPart(ctx, "b", "ab", up2.UploadID, 1, bytes.NewReader(big), store.PartOptions{Size: -1})
	if err := s.AbortMultipartUpload(ctx, "b", "ab", up2.UploadID); err != nil {
		t.Fatal(err)
	}
	if n := dataFiles(t, s); n != 1 {
		t.Errorf("%d data files remain, want 1 (the completed upload's part)", n)
	}
	checkRefs(t, s)
}

// TestReadPinsDeletedVersion deletes an object while a reader streams it:
// the reader finishes, and the file goes when it closes.
func TestReadPinsDeletedVersion(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	defer s.Close()
	s.CreateBucket(ctx, store.Bucket{Name: "b"})
	body := bytes.Repeat([]byte("0123456789"), 100<<10)
	put(t, s, "b", "k", body)
	_, rc, err := s.GetObject(ctx, "b", "k", store.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 10)
	if _, err := io.ReadFull(rc, head); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteObject(ctx, "b", "k", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	put(t, s, "b", "k2", body) // unrelated work meanwhile
	rest, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(append(head, rest...), body) {
		t.Fatalf("read of a deleted version: %d bytes, %v", len(rest)+10, err)
	}
	if n := dataFiles(t, s); n != 2 {
		t.Errorf("while pinned: %d data files, want 2", n)
	}
	rc.Close()
	if n := dataFiles(t, s); n != 1 {
		t.Errorf("after close: %d data files, want 1", n)
	}
	checkRefs(t, s)
}

func TestOpenRemovesLeftovers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.CreateBucket(ctx, store.Bucket{Name: "b"})
	body := bytes.Repeat([]byte("y"), 300<<10)
	v := put(t, s, "b", "k", body)
	s.Close()

	// Leftovers of a crash: a partial temp file and an uncommitted data file.
	os.WriteFile(filepath.Join(dir, "tmp", "00000000000fffff"), []byte("partial"), 0o644)
	orphan := filepath.Join(dir, "data", "ff", fmt.Sprintf("%016x", uint64(0xabcff)))
	os.WriteFile(orphan, []byte("uncommitted"), 0o644)

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Errorf("tmp not cleaned: %v", ents)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("orphan data file survived Open: %v", err)
	}
	_, rc, err := s.GetObject(ctx, "b", "k", store.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body) {
		t.Error("object changed across reopen")
	}
	// Sequence numbers continue above the previous run's.
	if err := s.UpdateBucket(ctx, "b", func(b *store.Bucket) error { b.Versioning = store.Enabled; return nil }); err != nil {
		t.Fatal(err)
	}
	v2 := put(t, s, "b", "k", []byte("new"))
	vs, err := s.ListObjectVersions(ctx, "b", store.ListVersionsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs.Versions) != 2 || vs.Versions[0].VersionID != v2.VersionID || vs.Versions[1].ETag != v.ETag {
		t.Errorf("versions after reopen = %+v", vs.Versions)
	}
	checkRefs(t, s)
}
