package local

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/cockroachdb/pebble/vfs"
)

// This file reads Pebble's record logs (the WAL and the MANIFEST) without
// Pebble. Pebble v1 treats the first unreadable chunk of its newest WAL, and
// of the MANIFEST, as the end of the log, because a crash leaves a torn tail
// there. A flipped byte in the middle of the log looks the same to it, and
// everything after the flip is dropped without a word. The scan tells the two
// apart: after the point where Pebble stops reading, a torn tail holds
// nothing intact of this log, while mid-log damage leaves intact chunks
// behind it.
//
// The format (record/record.go in the pebble module, v1.1.5): the file is
// cut into 32 KiB blocks; a chunk never crosses a block boundary, so every
// block starts with a chunk header. A legacy header is CRC (4 bytes), length
// (2), type (1); a recyclable header adds the low 32 bits of the log number
// (4), which tells this log's chunks from those of an older log whose file
// was recycled, and from the end-of-log trailer (log number + 1) that a
// closed log ends with. The CRC covers the type, the log number and the
// payload.

const (
	logBlockSize        = 32 << 10
	legacyChunkHeader   = 7
	recycleChunkHeader  = 11
	chunkFull           = 1
	chunkFirst          = 2
	chunkMiddle         = 3
	chunkLast           = 4
	chunkRecycleOffset  = 4 // recyclable types are the legacy ones + 4
	maxRecordsKeptAfter = 1 << 16
)

// pebbleCRC is Pebble's masked CRC-32C (internal/crc).
func pebbleCRC(b []byte) uint32 {
	c := crc32.Update(0, castagnoli, b)
	return (c>>15 | c<<17) + 0xa282ead8
}

// chunk is one chunk of a record log, checksum verified.
type chunk struct {
	off        int64 // file offset of its header
	typ        byte  // chunkFull..chunkLast
	recyclable bool
	logNum     uint32
	payload    []byte
	next       int // block offset after it
}

type chunkStatus int

const (
	chunkOK      chunkStatus = iota
	chunkPadding             // too few bytes left in the block for a header: the writer's padding
	chunkZeroed              // an all-zero header: preallocated or never written
	chunkBad                 // a bad type, length or checksum
)

// parseChunk parses the chunk at block[pos:] as Pebble's reader does.
func parseChunk(block []byte, blockOff int64, pos int) (chunk, chunkStatus) {
	n := len(block)
	if pos+legacyChunkHeader > n {
		return chunk{}, chunkPadding
	}
	sum := binary.LittleEndian.Uint32(block[pos:])
	length := int(binary.LittleEndian.Uint16(block[pos+4:]))
	typ := block[pos+6]
	if sum == 0 && length == 0 && typ == 0 {
		if pos+recycleChunkHeader > n {
			return chunk{}, chunkPadding
		}
		return chunk{}, chunkZeroed
	}
	c := chunk{off: blockOff + int64(pos), typ: typ}
	hdr := legacyChunkHeader
	if typ > chunkRecycleOffset && typ <= chunkLast+chunkRecycleOffset {
		hdr = recycleChunkHeader
		if pos+hdr > n {
			return chunk{}, chunkBad
		}
		c.recyclable = true
		c.logNum = binary.LittleEndian.Uint32(block[pos+7:])
		c.typ -= chunkRecycleOffset
	}
	// A bad chunk keeps its parsed header: a recyclable chunk of another
	// log ends the log before its length or checksum matter.
	if c.typ < chunkFull || c.typ > chunkLast || pos+hdr+length > n {
		return c, chunkBad
	}
	if pebbleCRC(block[pos+6:pos+hdr+length]) != sum {
		return c, chunkBad
	}
	c.payload = block[pos+hdr : pos+hdr+length]
	c.next = pos + hdr + length
	return c, chunkOK
}

// stopTrailer is the stop reason of a log that ends as Pebble closes its
// logs, or where a recycled log's older content begins.
const stopTrailer = "end-of-log trailer or a chunk of another log"

// logScan is what a scan found in one log file.
type logScan struct {
	Path    string
	Size    int64
	Records int // records read before the stop
	// StopAt is the offset of the record where Pebble's reader stops
	// (a torn tail, a trailer or damage); -1 if it reads to the end.
	StopAt int64
	// StopWhy says why the reader stops there.
	StopWhy string
	// IntactAt is the offset of the first intact chunk of this log after
	// StopAt; -1 if none. When set, the log is damaged in the middle:
	// Pebble would drop records that are still there.
	IntactAt int64
	// After holds the complete records found after StopAt (when asked).
	After []offsetRecord
}

// Damaged reports mid-log damage.
func (s *logScan) Damaged() bool { return s.IntactAt >= 0 }

type offsetRecord struct {
	Off  int64
	Data []byte
}

// scanLog reads the log at path. logNum is the log's number for a WAL
// (recyclable chunks must carry its low 32 bits); a MANIFEST passes 0 and
// legacy set. keepAfter asks for the records after the stop point.
func scanLog(vfsys vfs.FS, path string, logNum uint64, legacy, keepAfter bool, before func(int64, []byte)) (*logScan, error) {
	f, err := vfsys.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	ls := &logScan{Path: path, Size: fi.Size(), StopAt: -1, IntactAt: -1}
	r := &logReader{scan: ls, want: uint32(logNum), legacy: legacy, keep: keepAfter, before: before}
	buf := make([]byte, logBlockSize)
	for blockOff := int64(0); ; blockOff += logBlockSize {
		n, err := io.ReadFull(f, buf)
		if n == 0 && (err == io.EOF || err == nil) {
			r.eof(blockOff)
			return ls, nil
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if done := r.block(buf[:n], blockOff); done {
			return ls, nil
		}
		if n < logBlockSize {
			r.eof(blockOff + int64(n))
			return ls, nil
		}
	}
}

// logReader is the state of one scan.
type logReader struct {
	scan   *logScan
	want   uint32
	legacy bool
	keep   bool

	// before, if set, receives each record read before the stop point.
	before func(off int64, rec []byte)

	stopped  bool
	inRecord bool
	recStart int64
	cur      []byte
	curAt    int64
	// assembly of a record after the stop point
	partial    []byte
	partialAt  int64
	assembling bool
}

// block processes one block; it reports true when the scan can end early.
func (r *logReader) block(b []byte, blockOff int64) bool {
	pos := 0
	if !r.stopped {
		pos = r.readUntilStop(b, blockOff)
		if !r.stopped {
			return false
		}
	}
	r.afterStop(b, blockOff, pos)
	// Naming lost records needs the whole file; detection needs one chunk.
	return r.scan.Damaged() && !r.keep
}

// readUntilStop follows the chunks of b as Pebble's reader does and returns
// where it stopped within b (len(b) if it did not).
func (r *logReader) readUntilStop(b []byte, blockOff int64) int {
	pos := 0
	for {
		c, st := parseChunk(b, blockOff, pos)
		// Pebble compares the log number before the length and checksum:
		// the end-of-log trailer has neither.
		if (st == chunkOK || st == chunkBad) && c.recyclable && c.logNum != r.want {
			why := stopTrailer
			if r.inRecord {
				why = "chunk of another log inside a record"
			}
			r.stop(c.off, why)
			return pos
		}
		switch st {
		case chunkPadding:
			if len(b) < logBlockSize && (r.inRecord || pos != len(b)) {
				r.stop(blockOff+int64(pos), "torn chunk at the end of the file")
				return pos
			}
			return len(b)
		case chunkZeroed:
			r.stop(blockOff+int64(pos), "zeroed chunk")
			return pos
		case chunkBad:
			r.stop(blockOff+int64(pos), "chunk with a bad checksum, type or length")
			return pos
		}
		pos = c.next
		switch {
		case !r.inRecord && c.typ == chunkFirst:
			r.inRecord, r.recStart = true, c.off
			r.cur, r.curAt = append(r.cur[:0], c.payload...), c.off
		case !r.inRecord && c.typ == chunkFull:
			r.cur, r.curAt = append(r.cur[:0], c.payload...), c.off
			r.record()
		case r.inRecord:
			r.cur = append(r.cur, c.payload...)
			if c.typ == chunkFull || c.typ == chunkLast {
				r.inRecord = false
				r.record()
			}
		}
	}
}

// record counts a complete record read before the stop point.
func (r *logReader) record() {
	r.scan.Records++
	if r.before != nil {
		r.before(r.curAt, r.cur)
	}
}

func (r *logReader) stop(at int64, why string) {
	r.stopped = true
	r.scan.StopWhy = why
	r.scan.StopAt = at
	if r.inRecord {
		r.scan.StopAt = r.recStart
	}
}

func (r *logReader) eof(at int64) {
	if !r.stopped && r.inRecord {
		r.stop(at, "record cut off by the end of the file")
	}
}

// afterStop looks for intact chunks of this log in b after the stop point:
// first chunk by chunk from pos, and where the chain breaks, byte by byte.
func (r *logReader) afterStop(b []byte, blockOff int64, pos int) {
	aligned := true
	for pos < len(b) {
		if aligned {
			c, st := parseChunk(b, blockOff, pos)
			switch {
			case st == chunkOK && r.ours(c):
				r.found(c)
				pos = c.next
			case st == chunkOK:
				r.assembling = false
				pos = c.next
			case st == chunkPadding:
				return
			default:
				r.assembling = false
				aligned = false
				pos++
			}
			continue
		}
		p := r.findChunk(b, pos)
		if p < 0 {
			return
		}
		pos, aligned = p, true
	}
}

// ours reports whether an intact chunk belongs to the log being scanned.
func (r *logReader) ours(c chunk) bool {
	if r.legacy {
		return !c.recyclable
	}
	return c.recyclable && c.logNum == r.want
}

// findChunk returns the offset of the next intact chunk of this log in b at
// or after pos, or -1. Cheap tests of the type and log number come before
// the checksum, so a scan of old or random bytes stays fast.
func (r *logReader) findChunk(b []byte, pos int) int {
	var want [4]byte
	binary.LittleEndian.PutUint32(want[:], r.want)
	for p := pos; p+legacyChunkHeader <= len(b); p++ {
		t := b[p+6]
		if r.legacy {
			if t < chunkFull || t > chunkLast {
				continue
			}
		} else if t <= chunkRecycleOffset || t > chunkLast+chunkRecycleOffset ||
			p+recycleChunkHeader > len(b) || [4]byte(b[p+7:p+11]) != want {
			continue
		}
		if c, st := parseChunk(b, 0, p); st == chunkOK && r.ours(c) {
			return p
		}
	}
	return -1
}

// found records an intact chunk after the stop point and assembles the
// records it belongs to.
func (r *logReader) found(c chunk) {
	if r.scan.IntactAt < 0 {
		r.scan.IntactAt = c.off
	}
	if !r.keep {
		return
	}
	switch c.typ {
	case chunkFull:
		r.assembling = false
		r.keepRecord(c.off, c.payload)
	case chunkFirst:
		r.assembling, r.partialAt = true, c.off
		r.partial = append(r.partial[:0], c.payload...)
	case chunkMiddle, chunkLast:
		if !r.assembling {
			return
		}
		r.partial = append(r.partial, c.payload...)
		if c.typ == chunkLast {
			r.assembling = false
			r.keepRecord(r.partialAt, r.partial)
		}
	}
}

func (r *logReader) keepRecord(off int64, data []byte) {
	if len(r.scan.After) < maxRecordsKeptAfter {
		r.scan.After = append(r.scan.After, offsetRecord{Off: off, Data: append([]byte(nil), data...)})
	}
}
