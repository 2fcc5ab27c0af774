package local

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"

	"github.com/cairn-s3/cairn/internal/store"
)

// CorruptError reports stored data that failed verification: a block
// whose checksum does not match, a damaged header, a truncated or missing
// file. It wraps store.ErrDataCorrupt.
type CorruptError struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"version_id"`
	// Part is the multipart part number the file holds (0: none).
	Part int `json:"part,omitempty"`
	// File is the data file's path relative to the store directory.
	File string `json:"file"`
	// Block is the index of the first bad 64 KiB block of the body; -1
	// when the file as a whole is unusable (missing, bad header).
	Block  int64  `json:"block"`
	Reason string `json:"reason"`
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("local: corrupt data: bucket %q key %q version %q file %s block %d: %s",
		e.Bucket, e.Key, e.VersionID, e.File, e.Block, e.Reason)
}

func (e *CorruptError) Unwrap() error { return store.ErrDataCorrupt }

// blobRef names a blob for error reports.
type blobRef struct {
	bucket, key, versionID string
	part                   int
}

// openBlob opens a blob's data file for reading a range and returns a
// reader of [off, off+n) of its body that verifies every block it touches.
// Files written before format 1 (blob.Format 0) are read unverified.
func (s *Store) openBlob(b blob, ref blobRef, off, n int64, buf []byte) (File, io.Reader, error) {
	f, err := s.fs.Open(s.dataPath(b.Seq))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, s.corrupt(b, ref, -1, "data file missing")
		}
		return nil, nil, fmt.Errorf("local: open data: %w", err)
	}
	if b.Format == 0 {
		return f, io.NewSectionReader(f, off, n), nil
	}
	var pre [headerFixedLen]byte
	if _, err := f.ReadAt(pre[:], 0); err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, nil, fmt.Errorf("local: read data header: %w", err)
	}
	h, err := parsePrefix(pre[:])
	if err == nil && h.Seq != b.Seq {
		err = fmt.Errorf("header names file %016x", h.Seq)
	}
	if err != nil {
		f.Close()
		return nil, nil, s.corrupt(b, ref, -1, err.Error())
	}
	br := &blockReader{f: f, hdr: int64(h.Len), size: b.Size, pos: off, end: off + n, buf: buf,
		bad: func(block int64, reason string) error { return s.corrupt(b, ref, block, reason) }}
	return f, br, nil
}

// corrupt builds, logs and counts one integrity error.
func (s *Store) corrupt(b blob, ref blobRef, block int64, reason string) error {
	e := &CorruptError{Bucket: ref.bucket, Key: ref.key, VersionID: ref.versionID, Part: ref.part,
		File: s.relDataPath(b.Seq), Block: block, Reason: reason}
	s.log.Error("integrity error: stored data failed verification", "bucket", e.Bucket, "key", e.Key,
		"version_id", e.VersionID, "part", e.Part, "file", e.File, "block", e.Block, "reason", e.Reason)
	if s.onCorrupt != nil {
		s.onCorrupt(e)
	}
	return e
}

// blockReader reads [pos, end) of a checksummed body, a few blocks at a
// time, and hands out only bytes of blocks whose checksum matched. Verified
// blocks stay where they were read, checksums and all, so that serving
// them costs one copy, as reading the file directly did.
type blockReader struct {
	f        File
	hdr      int64 // header length: where block 0 starts
	size     int64 // body size
	pos, end int64 // body offsets still to read
	buf      []byte
	loaded   []byte // verified blocks with their checksums, from block first
	first    int64
	count    int64
	bad      func(block int64, reason string) error
	err      error // sticky: a reader that failed once fails again, unlogged
}

func (r *blockReader) Read(p []byte) (int, error) {
	if r.pos >= r.end {
		return 0, io.EOF
	}
	w := r.window()
	if w == nil {
		if r.err != nil {
			return 0, r.err
		}
		if n, ok := r.readDirect(p); ok {
			return n, r.err
		}
		if r.err = r.fill(); r.err != nil {
			return 0, r.err
		}
		w = r.window()
	}
	n := copy(p, w)
	r.pos += int64(n)
	return n, nil
}

// writeTo writes the rest of the range to w, a verified block at a time.
func (r *blockReader) writeTo(w io.Writer) (int64, error) {
	var total int64
	for r.pos < r.end {
		win := r.window()
		if win == nil {
			if r.err == nil {
				r.err = r.fill()
			}
			if r.err != nil {
				return total, r.err
			}
			continue
		}
		n, err := w.Write(win)
		r.pos += int64(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// window returns the verified bytes from pos to the end of its block (or
// of the range), or nil if that block is not loaded.
func (r *blockReader) window() []byte {
	const B = dataBlockSize
	i := r.pos / B
	if r.loaded == nil || i < r.first || i >= r.first+r.count {
		return nil
	}
	at := (i - r.first) * (B + crcSize)
	return r.loaded[at+r.pos-i*B : at+min(B, r.end-i*B)]
}

// fill reads and verifies the blocks from the one holding pos, at most
// readBlocks of them, into buf.
func (r *blockReader) fill() error {
	first := r.pos / dataBlockSize
	last := min((r.end-1)/dataBlockSize, first+readBlocks-1)
	r.loaded = nil
	buf, err := r.load(r.buf, first, last)
	if err != nil {
		return err
	}
	r.loaded, r.first, r.count = buf, first, last-first+1
	return nil
}

// load reads blocks first..last with their checksums into the front of
// buf and verifies them.
func (r *blockReader) load(buf []byte, first, last int64) ([]byte, error) {
	const B = dataBlockSize
	lastLen := min(B, r.size-last*B)
	buf = buf[:(last-first)*(B+crcSize)+lastLen+crcSize]
	n, err := r.f.ReadAt(buf, r.hdr+first*(B+crcSize))
	if n < len(buf) {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("local: read data: %w", err)
		}
		return nil, r.bad(first+int64(n)/(B+crcSize), "data file truncated")
	}
	for i := first; i <= last; i++ {
		bl := min(B, r.size-i*B)
		at := (i - first) * (B + crcSize)
		if crc32.Checksum(buf[at:at+bl], castagnoli) != binary.BigEndian.Uint32(buf[at+bl:]) {
			return nil, r.bad(i, "block checksum mismatch")
		}
	}
	return buf, nil
}

// readDirect reads the block at pos straight into p, using p's tail as
// scratch for the checksum, when the range wants all of the block and p
// can hold it: one copy, as reading an unchecksummed file was.
func (r *blockReader) readDirect(p []byte) (n int, ok bool) {
	const B = dataBlockSize
	i := r.pos / B
	bl := min(B, r.size-i*B)
	if r.pos%B != 0 || r.pos+bl > r.end || int64(len(p)) < bl+crcSize {
		return 0, false
	}
	if _, r.err = r.load(p, i, i); r.err != nil {
		return 0, true
	}
	r.pos += bl
	return int(bl), true
}
