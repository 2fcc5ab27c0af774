package local

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cairn-s3/cairn/internal/store"
)

// integrityBody is 5 blocks and a bit: GetObject reads and verifies the
// first block before it returns, so damage there fails GetObject itself and
// damage further in surfaces only mid-body.
func integrityBody() []byte {
	b := make([]byte, 5*dataBlockSize+1000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// onlyDataFile returns the path of the store's single data file.
func onlyDataFile(t *testing.T, s *Store) string {
	t.Helper()
	var found []string
	filepath.WalkDir(filepath.Join(s.dir, "data"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			found = append(found, p)
		}
		return nil
	})
	if len(found) != 1 {
		t.Fatalf("data files: %v", found)
	}
	return found[0]
}

// flipBodyByte flips one byte of body offset off in a format-1 data file.
func flipBodyByte(t *testing.T, path string, off int64) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHeader(raw)
	if err != nil {
		t.Fatal(err)
	}
	at := int64(h.Len) + off/dataBlockSize*(dataBlockSize+crcSize) + off%dataBlockSize
	raw[at] ^= 0x40
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readRange(s *Store, rng *store.Range) ([]byte, error) {
	_, rc, err := s.GetObject(context.Background(), "b", "k", store.GetOptions{Range: rng})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// readBig reads through Read with a buffer that holds whole blocks (the
// path that verifies in the caller's buffer).
func readBig(s *Store, rng *store.Range) ([]byte, error) {
	_, rc, err := s.GetObject(context.Background(), "b", "k", store.GetOptions{Range: rng})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var out bytes.Buffer
	_, err = io.CopyBuffer(&out, struct{ io.Reader }{rc}, make([]byte, 256<<10))
	return out.Bytes(), err
}

func TestIntegrityFlippedByte(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block int64
		early bool // GetObject itself fails: before a status line
	}{{"first block", 0, true}, {"late block", 5, false}} {
		t.Run(tc.name, func(t *testing.T) {
			var counted atomic.Int64
			var last *CorruptError
			s := openTest(t, Options{OnCorrupt: func(e *CorruptError) { counted.Add(1); last = e }})
			defer s.Close()
			ctx := context.Background()
			if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
				t.Fatal(err)
			}
			body := integrityBody()
			info, err := s.PutObject(ctx, "b", "k", bytes.NewReader(body), store.PutOptions{Size: int64(len(body))})
			if err != nil {
				t.Fatal(err)
			}
			if rep, err := s.Scrub(ctx, ScrubOptions{}); err != nil || rep.DamagedCount != 0 || rep.Files != 1 || rep.Bytes != int64(len(body)) {
				t.Fatalf("clean scrub: %+v, %v", rep, err)
			}
			flipBodyByte(t, onlyDataFile(t, s), tc.block*dataBlockSize+7)

			_, rc, err := s.GetObject(ctx, "b", "k", store.GetOptions{})
			if tc.early {
				if !errors.Is(err, store.ErrDataCorrupt) {
					t.Fatalf("GetObject: %v, want ErrDataCorrupt", err)
				}
			} else {
				if err != nil {
					t.Fatalf("GetObject: %v", err)
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if !errors.Is(err, store.ErrDataCorrupt) {
					t.Fatalf("read: %v, want ErrDataCorrupt", err)
				}
				big, errBig := readBig(s, nil)
				if !errors.Is(errBig, store.ErrDataCorrupt) {
					t.Fatalf("read with a large buffer: %v, want ErrDataCorrupt", errBig)
				}
				counted.Add(-1) // the second read's detection
				// Only verified blocks were handed out: all before the bad one.
				for _, got := range [][]byte{got, big} {
					if int64(len(got)) > tc.block*dataBlockSize || !bytes.Equal(got, body[:len(got)]) {
						t.Fatalf("read %d bytes before the error; bad block starts at %d", len(got), tc.block*dataBlockSize)
					}
				}
			}
			if counted.Load() != 1 || last.Block != tc.block || last.Bucket != "b" || last.Key != "k" {
				t.Fatalf("integrity errors: %d, last %+v", counted.Load(), last)
			}
			// A range covering the block fails; ranges of other blocks succeed.
			if _, err := readRange(s, &store.Range{Offset: tc.block*dataBlockSize + 5, Length: 10}); !errors.Is(err, store.ErrDataCorrupt) {
				t.Fatalf("range over the bad block: %v", err)
			}
			for _, rng := range []store.Range{{Offset: 0, Length: dataBlockSize}, {Offset: (tc.block+1)*dataBlockSize - 3, Length: 3},
				{Offset: 3*dataBlockSize + 1, Length: 100}} {
				if rng.Offset/dataBlockSize == tc.block {
					continue
				}
				got, err := readRange(s, &rng)
				if err != nil && rng.Offset >= int64(len(body)) {
					continue
				}
				if err != nil || !bytes.Equal(got, body[rng.Offset:min(int64(len(body)), rng.Offset+rng.Length)]) {
					t.Fatalf("range %+v: %d bytes, %v", rng, len(got), err)
				}
			}
			rep, err := s.Scrub(ctx, ScrubOptions{})
			if err != nil || rep.DamagedCount != 1 || len(rep.Damaged) != 1 {
				t.Fatalf("scrub: %+v, %v", rep, err)
			}
			d := rep.Damaged[0]
			if d.Bucket != "b" || d.Key != "k" || d.VersionID != info.VersionID || d.Block != tc.block || d.File == "" {
				t.Fatalf("scrub damage: %+v", d)
			}
		})
	}
}

func TestDataFileHeaderNamesTheWrite(t *testing.T) {
	s := openTest(t, Options{InlineThreshold: -1})
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	up, err := s.CreateMultipartUpload(ctx, "b", "dir/obj", store.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UploadPart(ctx, "b", "dir/obj", up.UploadID, 3, bytes.NewReader([]byte("part three")), store.PartOptions{Size: 10}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(onlyDataFile(t, s))
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHeader(raw)
	if err != nil {
		t.Fatal(err)
	}
	if h.Bucket != "b" || h.Key != "dir/obj" || h.UploadID != up.UploadID || h.Part != 3 || int64(len(raw)) != physicalSize(h.Len, 10) {
		t.Fatalf("header %+v, file %d bytes", h, len(raw))
	}
}

// makeLegacy rewrites the store's only data file as today's Cairn wrote
// it before format 1 (the bare body) and drops the format from the
// version record, as such a store has it.
func makeLegacy(t *testing.T, s *Store, bucket, key string, body []byte) {
	t.Helper()
	if err := os.WriteFile(onlyDataFile(t, s), body, 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := s.latest(reader{db: s.db}, bucket, key)
	if err != nil || v == nil {
		t.Fatalf("latest: %v", err)
	}
	for i := range v.Blobs {
		v.Blobs[i].Format = 0
	}
	tx := s.newTxn(context.Background())
	defer tx.close()
	if err := tx.setJSON(versionKey(bucket, key, v.Seq), v); err != nil {
		t.Fatal(err)
	}
	if err := tx.commit(); err != nil {
		t.Fatal(err)
	}
}

func TestLegacyDataFilesReadUnverified(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	// A legacy body may even start with the magic: the metadata, not the
	// bytes, says which format a file has.
	body := append([]byte(dataMagic), integrityBody()...)
	if _, err := s.PutObject(ctx, "b", "k", bytes.NewReader(body), store.PutOptions{Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	makeLegacy(t, s, "b", "k", body)
	got, err := readRange(s, nil)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("legacy read: %d bytes, %v", len(got), err)
	}
	got, err = readRange(s, &store.Range{Offset: 3, Length: 5})
	if err != nil || !bytes.Equal(got, body[3:8]) {
		t.Fatalf("legacy ranged read: %q, %v", got, err)
	}
	rep, err := s.Scrub(ctx, ScrubOptions{})
	if err != nil || rep.LegacyCount != 1 || len(rep.Legacy) != 1 || rep.DamagedCount != 0 || rep.Legacy[0].Key != "k" {
		t.Fatalf("scrub: %+v, %v", rep, err)
	}

	// Upgrading rewrites it with checksums, in place of the old file.
	rep, err = s.Scrub(ctx, ScrubOptions{UpgradeLegacy: true})
	if err != nil || rep.Upgraded != 1 || rep.LegacyCount != 0 || rep.DamagedCount != 0 {
		t.Fatalf("upgrading scrub: %+v, %v", rep, err)
	}
	if got, err := readRange(s, nil); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read after upgrade: %d bytes, %v", len(got), err)
	}
	path := onlyDataFile(t, s) // the old file is gone
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := parseHeader(raw); err != nil || h.Bucket != "b" || h.Key != "k" {
		t.Fatalf("upgraded header %+v, %v", h, err)
	}
	if rep, err := s.Scrub(ctx, ScrubOptions{UpgradeLegacy: true}); err != nil || rep.Upgraded != 0 || rep.LegacyCount != 0 || rep.Files != 1 {
		t.Fatalf("scrub after upgrade: %+v, %v", rep, err)
	}
	flipBodyByte(t, path, 100)
	if _, err := readRange(s, nil); !errors.Is(err, store.ErrDataCorrupt) {
		t.Fatalf("damage after upgrade: %v", err)
	}
	// The upgrade survives a restart.
	s.Close()
	s2, err := Open(s.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if rep, err := s2.Scrub(ctx, ScrubOptions{}); err != nil || rep.DamagedCount != 1 || rep.LegacyCount != 0 {
		t.Fatalf("scrub after restart: %+v, %v", rep, err)
	}
}

// failFS fails writes with ENOSPC once armed.
type failFS struct {
	osFS
	armed atomic.Bool
}

type failFile struct {
	File
	fs *failFS
}

func (f *failFS) Create(name string) (File, error) {
	file, err := f.osFS.Create(name)
	if err != nil {
		return nil, err
	}
	return failFile{file, f}, nil
}

func (f failFile) Write(p []byte) (int, error) {
	if f.fs.armed.Load() {
		return 0, &os.PathError{Op: "write", Path: "data", Err: syscall.ENOSPC}
	}
	return f.File.Write(p)
}

func TestDataFSInjectedENOSPC(t *testing.T) {
	ffs := &failFS{}
	s := openTest(t, Options{FS: ffs})
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	body := integrityBody()
	ffs.armed.Store(true)
	_, err := s.PutObject(ctx, "b", "k", bytes.NewReader(body), store.PutOptions{Size: int64(len(body))})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("put on a full disk: %v", err)
	}
	if n := dataFiles(t, s); n != 0 {
		t.Fatalf("%d data files left", n)
	}
	if tmp, _ := os.ReadDir(filepath.Join(s.dir, "tmp")); len(tmp) != 0 {
		t.Fatalf("tmp files left: %v", tmp)
	}
	ffs.armed.Store(false)
	if _, err := s.PutObject(ctx, "b", "k", bytes.NewReader(body), store.PutOptions{Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	if got, err := readRange(s, nil); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read after space returned: %v", err)
	}
}

// TestVerifiedRangesMatchTheBody reads random ranges, including ones across
// block and read-window boundaries and up to the short last block.
func TestVerifiedRangesMatchTheBody(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	body := append(integrityBody(), integrityBody()...) // 10+ blocks: more than one window
	if _, err := s.PutObject(ctx, "b", "k", bytes.NewReader(body), store.PutOptions{Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	size := int64(len(body))
	edges := []int64{0, 1, dataBlockSize - 1, dataBlockSize, 4*dataBlockSize - 1, 4 * dataBlockSize, size - 1}
	for i := 0; i < 200; i++ {
		var off int64
		if i < len(edges) {
			off = edges[i]
		} else {
			off = r.Int64N(size)
		}
		n := 1 + r.Int64N(min(size-off, 6*dataBlockSize))
		got, err := readRange(s, &store.Range{Offset: off, Length: n})
		if err != nil || !bytes.Equal(got, body[off:off+n]) {
			t.Fatalf("range %d+%d: %d bytes, %v", off, n, len(got), err)
		}
	}
	if got, err := readRange(s, nil); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("whole body: %v", err)
	}
	for _, rng := range []*store.Range{nil, {Offset: dataBlockSize, Length: 3 * dataBlockSize}, {Offset: 10, Length: size - 10}} {
		got, err := readBig(s, rng)
		want := body
		if rng != nil {
			want = body[rng.Offset : rng.Offset+rng.Length]
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("large-buffer read %+v: %d bytes, %v", rng, len(got), err)
		}
	}
}

// BenchmarkBlockChecksum is the CPU cost of verifying one 64 KiB block.
func BenchmarkBlockChecksum(b *testing.B) {
	block := integrityBody()[:dataBlockSize]
	b.SetBytes(dataBlockSize)
	for b.Loop() {
		_ = crc32.Checksum(block, castagnoli)
	}
}

// TestScrubDuringOverwrites: files a scrub is reading are never reported
// missing or damaged when overwrites and deletes remove their versions
// meanwhile (scrub pins what it reads, as GET does).
func TestScrubDuringOverwrites(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	body := integrityBody()
	put := func(key string) {
		if _, err := s.PutObject(ctx, "b", key, bytes.NewReader(body), store.PutOptions{Size: int64(len(body))}); err != nil {
			t.Error(err)
		}
	}
	for i := 0; i < 8; i++ {
		put(string(rune('a' + i)))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 40; i++ {
			key := string(rune('a' + i%8))
			if i%5 == 4 {
				s.DeleteObject(ctx, "b", key, store.DeleteOptions{})
			}
			put(key)
		}
	}()
	for i := 0; i < 5; i++ {
		rep, err := s.Scrub(ctx, ScrubOptions{})
		if err != nil || rep.DamagedCount != 0 {
			t.Fatalf("scrub %d: %+v, %v", i, rep, err)
		}
	}
	<-done
}
