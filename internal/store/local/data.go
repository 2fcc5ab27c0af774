package local

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/cockroachdb/pebble"

	"github.com/cairn-s3/cairn/internal/store"
)

// copyBufSize is the size of each of the two buffers a large write
// alternates between (see hashPipe): together they hold what one buffer of
// 256 KiB held before hashing moved to its own goroutine, so a write's
// memory did not grow.
const copyBufSize = 128 << 10

// blob is one stored body or part: inline under x/<seq>, or the data file
// named by seq.
type blob struct {
	Seq    uint64 `json:"s"`
	Size   int64  `json:"n"`
	Inline bool   `json:"i,omitempty"`
	// Format is the data file's format: 0 for files written before data
	// files had a header and block checksums (read unverified), else
	// dataFormat (see datafile.go). The metadata, which Pebble checksums,
	// says which format a file has, so a legacy body that happens to start
	// with the magic is never mistaken for a header.
	Format uint16 `json:"c,omitempty"`
}

func (s *Store) dataPath(seq uint64) string {
	return filepath.Join(s.dir, "data", fmt.Sprintf("%02x", seq&0xff), fmt.Sprintf("%016x", seq))
}

// relDataPath is dataPath relative to the store directory, for reports.
func (s *Store) relDataPath(seq uint64) string {
	return filepath.Join("data", fmt.Sprintf("%02x", seq&0xff), fmt.Sprintf("%016x", seq))
}

func (s *Store) tmpPath(seq uint64) string {
	return filepath.Join(s.dir, "tmp", fmt.Sprintf("%016x", seq))
}

// ingested is a received body, durable but not yet referenced by metadata.
type ingested struct {
	blob
	md5  [md5.Size]byte
	data []byte  // the inline body
	bufp *[]byte // pool buffer holding data
}

// stage adds the body to a commit: inline bytes go into the batch, a data
// file gets its reference row.
func (in *ingested) stage(b *pebble.Batch) error {
	if in.Inline {
		return b.Set(seqKey(tagInline, in.Seq), in.data, nil)
	}
	if in.Size == 0 {
		return nil // empty bodies have no blob
	}
	return b.Set(seqKey(tagFile, in.Seq), nil, nil)
}

// done returns the inline buffer to its pool; the batch has copied it.
func (s *Store) done(in *ingested) {
	if in.bufp != nil {
		s.inlinePool.Put(in.bufp)
		in.bufp, in.data = nil, nil
	}
}

// discard removes the body of a write that did not commit.
func (s *Store) discard(in *ingested) {
	s.done(in)
	if !in.Inline && in.Seq != 0 {
		s.removeFile(in.Seq)
	}
}

// ingest receives a body: it reads r to EOF (so that a verifying reader,
// such as an aws-chunked decoder checking a trailer, can fail the write),
// checks the declared size and md5, and makes the body durable, inline in
// memory or in a data file. Nothing of a failed ingest remains.
// hdr names the write in the data file's header (bucket, key, upload, part).
func (s *Store) ingest(ctx context.Context, r io.Reader, size int64, wantMD5 []byte, hdr dataHeader) (in ingested, err error) {
	seq, err := s.nextSeq()
	if err != nil {
		return in, err
	}
	in.Seq = seq
	var head []byte
	if size < 0 || size <= int64(s.inline) {
		in.bufp = s.inlinePool.Get().(*[]byte)
		buf := (*in.bufp)[:s.inline+1]
		n, eof, err := store.ReadFull(ctx, r, buf)
		if err != nil {
			s.done(&in)
			return in, err
		}
		head = buf[:n]
		if eof && n <= s.inline {
			in.Inline, in.Size, in.data = n > 0, int64(n), head
			if err := checkBody(in.Size, size); err != nil {
				s.done(&in)
				return in, err
			}
			in.md5 = md5.Sum(head)
			if err := checkMD5(in.md5[:], wantMD5); err != nil {
				s.done(&in)
				return in, err
			}
			if n == 0 {
				s.done(&in)
			}
			return in, nil
		}
	}
	defer func() {
		if err != nil {
			s.done(&in)
		}
	}()
	hdr.Seq = seq
	h := md5.New()
	n, err := s.writeFile(ctx, &hdr, head, r, size, h)
	if err != nil {
		return in, err
	}
	s.done(&in)
	in.Size, in.Format = n, dataFormat
	h.Sum(in.md5[:0])
	if err := checkMD5(in.md5[:], wantMD5); err != nil {
		s.removeFile(seq)
		return in, err
	}
	return in, nil
}

// writeFile streams head and the rest of r into a temporary file as a
// header and checksummed blocks, syncs it and renames it into the data
// directory, which it syncs too.
func (s *Store) writeFile(ctx context.Context, hdr *dataHeader, head []byte, r io.Reader, size int64, h io.Writer) (n int64, err error) {
	tmp := s.tmpPath(hdr.Seq)
	f, err := s.createData(tmp, size)
	if err != nil {
		return 0, fmt.Errorf("local: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			s.fs.Remove(tmp)
		}
	}()
	wb := &writeback{f: f, file: f}
	if _, err := wb.Write(hdr.encode()); err != nil {
		return 0, fmt.Errorf("local: %w", err)
	}
	blockp := s.blockPool.Get().(*[]byte)
	defer s.blockPool.Put(blockp)
	bw := &blockWriter{w: wb, buf: *blockp}
	if n, err = s.copyBody(ctx, bw, h, head, r, size); err != nil {
		return n, err
	}
	if err := bw.Close(); err != nil {
		return n, fmt.Errorf("local: %w", err)
	}
	if err := f.Sync(); err != nil {
		return n, fmt.Errorf("local: %w", err)
	}
	if err := f.Close(); err != nil {
		return n, fmt.Errorf("local: %w", err)
	}
	final := s.dataPath(hdr.Seq)
	if err := s.fs.Rename(tmp, final); err != nil {
		return n, fmt.Errorf("local: %w", err)
	}
	if err := s.syncDir(filepath.Dir(final)); err != nil {
		s.fs.Remove(final)
		return n, err
	}
	return n, nil
}

// copyBody writes head and the rest of r to w and hashes them into h,
// checking the declared size. The hash runs on its own goroutine
// (hashPipe) while the next buffer is received and written.
func (s *Store) copyBody(ctx context.Context, w, h io.Writer, head []byte, r io.Reader, size int64) (n int64, err error) {
	hp := newHashPipe(h)
	var bufs [2]*[]byte
	for i := range bufs {
		bufs[i] = s.copyPool.Get().(*[]byte)
	}
	defer func() {
		hp.close() // nothing reads head or the buffers after this
		for _, b := range bufs {
			s.copyPool.Put(b)
		}
	}()
	if len(head) > 0 {
		if _, err := w.Write(head); err != nil {
			return 0, fmt.Errorf("local: %w", err)
		}
		hp.send(head)
		n = int64(len(head))
		if size >= 0 && n > size {
			return n, checkBody(n, size)
		}
	}
	for i := 0; ; i++ {
		hp.reuse()
		buf := *bufs[i%2]
		m, eof, err := store.ReadFull(ctx, r, buf)
		if err != nil {
			return n, err
		}
		if m > 0 {
			if _, err := w.Write(buf[:m]); err != nil {
				return n, fmt.Errorf("local: %w", err)
			}
			hp.send(buf[:m])
			n += int64(m)
			if size >= 0 && n > size {
				return n, checkBody(n, size)
			}
		}
		if eof {
			break
		}
	}
	return n, checkBody(n, size)
}

func checkBody(got, declared int64) error {
	switch {
	case declared < 0 || got == declared:
		return nil
	case got < declared:
		return fmt.Errorf("%w: got %d of %d bytes", store.ErrIncompleteBody, got, declared)
	default:
		return fmt.Errorf("%w: body longer than the declared %d bytes", store.ErrIncompleteBody, declared)
	}
}

func checkMD5(got, want []byte) error {
	if want != nil && !bytes.Equal(got, want) {
		return store.ErrBadDigest
	}
	return nil
}

func (s *Store) removeFile(seq uint64) {
	if err := s.fs.Remove(s.dataPath(seq)); err != nil && !os.IsNotExist(err) {
		s.log.Warn("remove data file", "seq", seq, "err", err)
	}
}

func (s *Store) syncDir(dir string) error {
	if err := s.fs.SyncDir(dir); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	return nil
}

// hazards keeps the data files of versions being read alive: a file whose
// version was deleted while a reader has it pinned is removed when the last
// such reader closes. A reader pins a version and then re-reads its record;
// a deleter commits and then releases. Either the reader sees the deletion
// and retries, or the deleter sees the pin and defers the removal.
type hazards struct {
	mu      sync.Mutex
	inuse   map[uint64]int
	pending map[uint64][]blob
}

func (h *hazards) init() {
	h.inuse = make(map[uint64]int)
	h.pending = make(map[uint64][]blob)
}

func (s *Store) pin(version uint64) {
	s.hz.mu.Lock()
	s.hz.inuse[version]++
	s.hz.mu.Unlock()
}

func (s *Store) unpin(version uint64) {
	s.hz.mu.Lock()
	n := s.hz.inuse[version] - 1
	var blobs []blob
	if n == 0 {
		delete(s.hz.inuse, version)
		blobs = s.hz.pending[version]
		delete(s.hz.pending, version)
	} else {
		s.hz.inuse[version] = n
	}
	s.hz.mu.Unlock()
	s.removeBlobs(blobs)
}

// release removes the data files of a version whose deletion committed,
// now or when its last reader closes.
func (s *Store) release(version uint64, blobs []blob) {
	s.hz.mu.Lock()
	if s.hz.inuse[version] > 0 {
		s.hz.pending[version] = append(s.hz.pending[version], blobs...)
		s.hz.mu.Unlock()
		return
	}
	s.hz.mu.Unlock()
	s.removeBlobs(blobs)
}

func (s *Store) removeBlobs(blobs []blob) {
	for _, b := range blobs {
		if !b.Inline && b.Size > 0 {
			s.removeFile(b.Seq)
		}
	}
}

// segment is the part of one blob a read covers.
type segment struct {
	blob
	off, n int64
	data   []byte // inline bytes, already read
}

// objectReader streams a version's selected range across its blobs.
type objectReader struct {
	s       *Store
	ctx     context.Context
	ref     blobRef // names the object in integrity errors
	segs    []segment
	cur     io.Reader
	f       File
	bufp    *[]byte // block buffer of checksummed files, from blockPool
	version uint64
	pinned  bool
	closed  bool
}

func (r *objectReader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, os.ErrClosed
	}
	for {
		if err := r.ctx.Err(); err != nil {
			return 0, err
		}
		if r.cur == nil {
			if len(r.segs) == 0 {
				return 0, io.EOF
			}
			if err := r.next(); err != nil {
				return 0, err
			}
		}
		n, err := r.cur.Read(p)
		if err == io.EOF {
			r.closeFile()
			r.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// WriteTo streams the rest of the range to w, which io.Copy prefers to
// Read: verified blocks go to w from where they were read, without a copy
// into the caller's buffer.
func (r *objectReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if r.closed {
			return total, os.ErrClosed
		}
		if err := r.ctx.Err(); err != nil {
			return total, err
		}
		if r.cur == nil {
			if len(r.segs) == 0 {
				return total, nil
			}
			if err := r.next(); err != nil {
				return total, err
			}
		}
		var n int64
		var err error
		if br, ok := r.cur.(*blockReader); ok {
			n, err = br.writeTo(w)
		} else {
			n, err = io.Copy(w, r.cur)
		}
		total += n
		if err != nil {
			return total, err
		}
		r.closeFile()
		r.cur = nil
	}
}

func (r *objectReader) next() error {
	seg := r.segs[0]
	r.segs = r.segs[1:]
	if seg.Inline || seg.Size == 0 {
		r.cur = bytes.NewReader(seg.data)
		return nil
	}
	if r.bufp == nil {
		r.bufp = r.s.blockPool.Get().(*[]byte)
	}
	f, rd, err := r.s.openBlob(seg.blob, r.ref, seg.off, seg.n, *r.bufp)
	if err != nil {
		return err
	}
	r.f, r.cur = f, rd
	return nil
}

// prime reads the first bytes before the caller commits to a status line,
// so that damage at the start of a body is answered with an error rather
// than a cut connection. The bytes read stay buffered in the reader.
func (r *objectReader) prime() error {
	if len(r.segs) == 0 {
		return nil
	}
	if err := r.next(); err != nil {
		return err
	}
	if br, ok := r.cur.(*blockReader); ok && br.pos < br.end {
		br.err = br.fill()
		return br.err
	}
	return nil
}

func (r *objectReader) closeFile() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

func (r *objectReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.closeFile()
	if r.bufp != nil {
		r.s.blockPool.Put(r.bufp)
		r.bufp = nil
	}
	if r.pinned {
		r.s.unpin(r.version)
	}
	return nil
}

// overrideMD5 records the md5 the caller computed (PutOptions.MD5,
// PartOptions.MD5) instead of the md5 of the stored bytes.
func (in *ingested) overrideMD5(fn func() []byte) {
	if fn == nil {
		return
	}
	if sum := fn(); len(sum) == len(in.md5) {
		copy(in.md5[:], sum)
	}
}
