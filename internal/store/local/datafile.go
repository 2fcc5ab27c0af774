package local

// Data file format (format 1).
//
//	header: magic "CAIRNDAT" | format u16 | flags u16 | header length u32 |
//	        block size u32 | seq u64 | part u32 |
//	        bucket (u16 length + bytes) | key (u16 + bytes) | upload id (u16 + bytes) |
//	        CRC32C of everything before it, u32
//	blocks: data (block size bytes, the last one shorter) | CRC32C of that data, u32
//	        ... repeated; all integers big-endian
//
// The checksum of each block follows the block (interleaved) rather than
// sitting in a trailer or a side table: a ranged read fetches each block it
// touches together with its checksum in one read, the writer streams with
// one block of state and never seeks back, and a file is self-describing
// for scrub and fsck. The cost is that a byte's position in the file is not
// its position in the body, which only the reader below needs to know.
//
// 64 KiB blocks keep the checksum overhead at 4 bytes in 65,536 (0.006 %),
// cost CRC32C (hardware-accelerated) a few microseconds each, and bound the
// extra bytes a small ranged read must read to verify to less than 128 KiB
// (two blocks when the range crosses a boundary).
//
// The header names the write: bucket, key, and for a multipart part its
// upload id and part number. The version id is not in it: a version's
// sequence number is taken inside the metadata commit, after the file is
// durable, so that commits of one key stay ordered; the file's own sequence
// number (its name) is the blob reference the version record holds, which
// is how scrub names the version.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

const (
	dataMagic      = "CAIRNDAT"
	dataFormat     = 1
	dataBlockSize  = 64 << 10
	crcSize        = 4
	headerFixedLen = 8 + 2 + 2 + 4 + 4 + 8 + 4
	// readBlocks is how many blocks one read or write covers: one, so that
	// every stream holds one block-sized buffer (64 KiB, like the HTTP
	// server's copy buffer) and memory stays bounded by the number of
	// streams, not their size.
	readBlocks = 1
	// blockBufSize holds readBlocks blocks with their checksums.
	blockBufSize = readBlocks * (dataBlockSize + crcSize)
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// dataHeader is what a data file says about itself.
type dataHeader struct {
	Format    uint16
	BlockSize uint32
	Len       int // bytes the header takes in the file
	Seq       uint64
	Part      int
	Bucket    string
	Key       string
	UploadID  string
}

func (h *dataHeader) encode() []byte {
	total := headerFixedLen + 6 + len(h.Bucket) + len(h.Key) + len(h.UploadID) + crcSize
	b := make([]byte, 0, total)
	b = append(b, dataMagic...)
	b = binary.BigEndian.AppendUint16(b, dataFormat)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(total))
	b = binary.BigEndian.AppendUint32(b, dataBlockSize)
	b = binary.BigEndian.AppendUint64(b, h.Seq)
	b = binary.BigEndian.AppendUint32(b, uint32(h.Part))
	for _, s := range []string{h.Bucket, h.Key, h.UploadID} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

var errNotDataFile = errors.New("not a Cairn data file (no header)")

// parsePrefix reads the fixed part of a header: enough to locate blocks.
func parsePrefix(b []byte) (dataHeader, error) {
	var h dataHeader
	if len(b) < headerFixedLen || string(b[:8]) != dataMagic {
		return h, errNotDataFile
	}
	h.Format = binary.BigEndian.Uint16(b[8:])
	h.Len = int(binary.BigEndian.Uint32(b[12:]))
	h.BlockSize = binary.BigEndian.Uint32(b[16:])
	h.Seq = binary.BigEndian.Uint64(b[20:])
	h.Part = int(binary.BigEndian.Uint32(b[28:]))
	if h.Format != dataFormat {
		return h, fmt.Errorf("data file format %d, this Cairn reads format %d", h.Format, dataFormat)
	}
	if h.BlockSize != dataBlockSize || h.Len < headerFixedLen+6+crcSize || h.Len > 4096 {
		return h, fmt.Errorf("data file header: block size %d, length %d", h.BlockSize, h.Len)
	}
	return h, nil
}

// parseHeader decodes and verifies a whole header.
func parseHeader(b []byte) (dataHeader, error) {
	h, err := parsePrefix(b)
	if err != nil {
		return h, err
	}
	if len(b) < h.Len {
		return h, fmt.Errorf("data file header: %d of %d bytes", len(b), h.Len)
	}
	b = b[:h.Len]
	body, sum := b[:h.Len-crcSize], binary.BigEndian.Uint32(b[h.Len-crcSize:])
	if crc32.Checksum(body, castagnoli) != sum {
		return h, errors.New("data file header: checksum mismatch")
	}
	rest := body[headerFixedLen:]
	var fields [3]string
	for i := range fields {
		if len(rest) < 2 || len(rest) < 2+int(binary.BigEndian.Uint16(rest)) {
			return h, errors.New("data file header: truncated field")
		}
		n := int(binary.BigEndian.Uint16(rest))
		fields[i], rest = string(rest[2:2+n]), rest[2+n:]
	}
	h.Bucket, h.Key, h.UploadID = fields[0], fields[1], fields[2]
	return h, nil
}

// physicalSize is the size of the file holding a body of size bytes.
func physicalSize(headerLen int, size int64) int64 {
	blocks := (size + dataBlockSize - 1) / dataBlockSize
	return int64(headerLen) + size + blocks*crcSize
}

// blockWriter writes a body as checksummed blocks, readBlocks at a time.
type blockWriter struct {
	w   io.Writer
	buf []byte // blockBufSize
	n   int    // bytes of buf in use
	blk int    // body bytes in the current block
}

func (bw *blockWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		m := copy(bw.buf[bw.n:bw.n+dataBlockSize-bw.blk], p)
		bw.n += m
		bw.blk += m
		p = p[m:]
		written += m
		if bw.blk == dataBlockSize {
			bw.seal()
			if bw.n == len(bw.buf) {
				if err := bw.flush(); err != nil {
					return written, err
				}
			}
		}
	}
	return written, nil
}

// seal appends the checksum of the current block.
func (bw *blockWriter) seal() {
	data := bw.buf[bw.n-bw.blk : bw.n]
	binary.BigEndian.PutUint32(bw.buf[bw.n:], crc32.Checksum(data, castagnoli))
	bw.n += crcSize
	bw.blk = 0
}

func (bw *blockWriter) flush() error {
	if bw.n == 0 {
		return nil
	}
	_, err := bw.w.Write(bw.buf[:bw.n])
	bw.n = 0
	return err
}

// Close seals the last, short block and writes what is buffered.
func (bw *blockWriter) Close() error {
	if bw.blk > 0 {
		bw.seal()
	}
	return bw.flush()
}
