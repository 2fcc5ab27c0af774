package sse

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"io"
)

// ErrSegments reports segment sizes that do not cover the data read.
var ErrSegments = errors.New("sse: data extends past the encrypted segments")

// newCTR returns the key stream of a segment positioned at offset.
func newCTR(key, nonce []byte, offset int64) (cipher.Stream, error) {
	if len(nonce) != NonceSize {
		return nil, ErrBadEncoded
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	var iv [aes.BlockSize]byte
	copy(iv[:], nonce)
	binary.BigEndian.PutUint32(iv[NonceSize:], uint32(offset/aes.BlockSize))
	s := cipher.NewCTR(b, iv[:])
	if skip := int(offset % aes.BlockSize); skip > 0 {
		var scratch [aes.BlockSize]byte
		s.XORKeyStream(scratch[:skip], scratch[:skip])
	}
	return s, nil
}

// NewReader returns a reader that encrypts (or, CTR being symmetric,
// decrypts) r, whose first byte is byte offset of the segment with the
// given key and nonce.
func NewReader(r io.Reader, key, nonce []byte, offset int64) (io.Reader, error) {
	s, err := newCTR(key, nonce, offset)
	if err != nil {
		return nil, err
	}
	return &cipher.StreamReader{S: s, R: r}, nil
}

// Segment is one independently encrypted run of bytes: a part of a
// multipart object, or a whole single-PUT object.
type Segment struct {
	Size  int64
	Nonce []byte
}

// NewSegmentsReader decrypts r, which holds the bytes of an object made of
// segs starting at byte offset of the whole object, switching key streams
// at every segment boundary.
func NewSegmentsReader(r io.Reader, key []byte, segs []Segment, offset int64) (io.Reader, error) {
	if _, err := aes.NewCipher(key); err != nil {
		return nil, err
	}
	i := 0
	for i < len(segs) && offset >= segs[i].Size {
		offset -= segs[i].Size
		i++
	}
	return &segmentsReader{r: r, key: key, segs: segs, i: i, off: offset}, nil
}

type segmentsReader struct {
	r    io.Reader
	key  []byte
	segs []Segment
	i    int   // current segment
	off  int64 // offset within it
	s    cipher.Stream
}

func (d *segmentsReader) Read(p []byte) (int, error) {
	for d.i < len(d.segs) && d.off >= d.segs[d.i].Size {
		d.i, d.off, d.s = d.i+1, 0, nil
	}
	if d.i >= len(d.segs) {
		n, err := d.r.Read(p[:min(len(p), 1)])
		if n > 0 {
			return 0, ErrSegments
		}
		return 0, err
	}
	if d.s == nil {
		s, err := newCTR(d.key, d.segs[d.i].Nonce, d.off)
		if err != nil {
			return 0, err
		}
		d.s = s
	}
	if rest := d.segs[d.i].Size - d.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := d.r.Read(p)
	d.s.XORKeyStream(p[:n], p[:n])
	d.off += int64(n)
	return n, err
}
