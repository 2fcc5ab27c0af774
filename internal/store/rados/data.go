//go:build rados

package rados

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"syscall"

	"github.com/cairn-s3/cairn/internal/store"
)

// A body is stored in fixed stripes, so a large object spreads over
// placement groups; it is written and read in chunks, so memory does not
// grow with its size. chunkSize divides stripeSize.
const (
	stripeSize = 4 << 20
	chunkSize  = 1 << 20
)

// received is a body written to its stripes, not yet committed.
type received struct {
	seg    segment
	md5    []byte
	oid    string // the index shard holding its intent row
	intent string // the intent row; the commit that uses the body removes it
}

// receive streams body into new stripes, checking the declared size and
// md5. An intent row in the key's shard (oid), written before the first
// stripe, names the body until a commit takes it over, so the garbage
// collector finds the stripes of a gateway that died mid-write. On error,
// nothing it wrote remains.
func (s *Store) receive(ctx context.Context, oid string, body io.Reader, size int64, wantMD5 []byte) (received, error) {
	if s.poolFull() {
		return received{}, store.ErrStorageFull
	}
	in := received{seg: segment{ID: newID()}, oid: oid}
	in.intent = timedRow(rowIntent, in.seg.ID)
	if err := s.writeIntent(oid, in.intent, in.seg); err != nil {
		return received{}, err
	}
	h := md5.New()
	err := s.writeStripes(ctx, body, size, &in.seg, h)
	in.md5 = h.Sum(nil)
	if err == nil && wantMD5 != nil && !bytes.Equal(in.md5, wantMD5) {
		err = store.ErrBadDigest
	}
	if err != nil {
		s.discard(in)
		return received{}, err
	}
	return in, nil
}

// receiveInline reads a small body of declared size into nv (no stripes,
// no intent: the commit writes it), checking size and md5.
func (s *Store) receiveInline(ctx context.Context, body io.Reader, size int64, wantMD5 []byte, nv *newVersion) error {
	if s.poolFull() {
		return store.ErrStorageFull
	}
	buf := make([]byte, size+1) // one more byte to see a body longer than declared
	n, _, err := store.ReadFull(ctx, body, buf)
	if err != nil {
		return err
	}
	if int64(n) > size {
		return fmt.Errorf("%w: body longer than the declared %d bytes", store.ErrIncompleteBody, size)
	}
	if int64(n) < size {
		return fmt.Errorf("%w: got %d of %d bytes", store.ErrIncompleteBody, n, size)
	}
	sum := md5.Sum(buf[:n])
	if wantMD5 != nil && !bytes.Equal(sum[:], wantMD5) {
		return store.ErrBadDigest
	}
	nv.inline, nv.size, nv.etag = buf[:n:n], int64(n), hex.EncodeToString(sum[:])
	if nv.inline == nil {
		nv.inline = []byte{}
	}
	return nil
}

// errIndexGone is writeIntent's error when the shard does not exist.
var errIndexGone = fmt.Errorf("%w: its index is gone", store.ErrNoSuchBucket)

// writeIntent records that stripes of seg may exist. Its size is the
// largest the body may reach, so that removal covers every stripe.
func (s *Store) writeIntent(oid, row string, seg segment) error {
	seg.Size = maxBodySize
	data, err := json.Marshal(segmentsRow{Data: []segment{seg}})
	if err != nil {
		return fmt.Errorf("rados: encode: %w", err)
	}
	op := newWriteOp()
	defer op.release()
	op.assertExists()
	op.omapSet(map[string][]byte{row: wrap(data)})
	if err := op.operate(s.io, oid); err != nil {
		if isNotFound(err) {
			return errIndexGone
		}
		return err
	}
	return nil
}

// discard removes an uncommitted body and its intent row.
func (s *Store) discard(in received) {
	s.removeSegments(in.seg)
	op := newWriteOp()
	defer op.release()
	op.freesSpace()
	op.omapRm([]string{in.intent})
	if err := op.operate(s.io, in.oid); err != nil && !isNotFound(err) {
		s.log.Warn("rados: remove intent row", "object", in.oid, "err", err)
	}
}

func (s *Store) writeStripes(ctx context.Context, body io.Reader, size int64, seg *segment, h hash.Hash) error {
	buf := make([]byte, chunkSize)
	if size >= 0 && size < chunkSize {
		buf = make([]byte, size+1) // one more byte to see a body longer than declared
	}
	for {
		n, eof, err := store.ReadFull(ctx, body, buf)
		if err != nil {
			seg.Size += int64(n) // so that removal covers what was written
			return err
		}
		if n > 0 {
			if size >= 0 && seg.Size+int64(n) > size {
				return fmt.Errorf("%w: body longer than the declared %d bytes", store.ErrIncompleteBody, size)
			}
			h.Write(buf[:n])
			chunk := buf[:n]
			stripe, off := seg.Size/stripeSize, seg.Size%stripeSize
			for len(chunk) > 0 {
				m := min(int64(len(chunk)), stripeSize-off)
				if err := s.writeData(stripeOID(seg.ID, stripe), chunk[:m], off); err != nil {
					return err
				}
				seg.Size += m
				chunk = chunk[m:]
				stripe, off = stripe+1, 0
			}
		}
		if eof {
			break
		}
	}
	switch {
	case size < 0 || seg.Size == size:
		return nil
	case seg.Size < size:
		return fmt.Errorf("%w: got %d of %d bytes", store.ErrIncompleteBody, seg.Size, size)
	}
	return nil
}

// remove deletes an object, also on a full pool (librados' own remove
// would wait for space like any write).
func (s *Store) remove(oid string) error {
	op := newWriteOp()
	defer op.release()
	op.freesSpace()
	op.remove()
	return op.operate(s.io, oid)
}

// poolFull reports whether the pool was full at the last check.
func (s *Store) poolFull() bool { return s.fullness != nil && s.fullness.full.Load() }

// writeData writes b at off of a stripe object through a write operation,
// whose flags (unlike io.Write's) make a full pool refuse at once.
func (s *Store) writeData(oid string, b []byte, off int64) error {
	op := newWriteOp()
	defer op.release()
	op.write(b, off)
	if err := op.operate(s.io, oid); err != nil {
		if s.fullness != nil && (errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.ENOSPC)) {
			// Known before the next check: inline bodies are refused too.
			s.fullness.full.Store(true)
		}
		return fmt.Errorf("rados: write data: %w", err)
	}
	return nil
}

// maxBodySize bounds one body (object or part), as S3 does (5 TiB).
const maxBodySize = 5 << 40

// removeSegments deletes the stripes of bodies; missing ones are fine.
// A segment of unknown size (an intent's) is removed up to its first
// missing stripe: stripes are written in order.
func (s *Store) removeSegments(segs ...segment) {
	for _, seg := range segs {
		stripes := (seg.Size + stripeSize - 1) / stripeSize
		for i := range max(stripes, 1) {
			err := s.remove(stripeOID(seg.ID, i))
			if isNotFound(err) && seg.Size == maxBodySize {
				break
			}
			if err != nil && !isNotFound(err) {
				s.log.Warn("rados: remove data", "object", stripeOID(seg.ID, i), "err", err)
			}
		}
	}
}

// dataReader reads a byte range of a version's segments, a chunk at a time.
type dataReader struct {
	s    *Store
	ctx  context.Context
	segs []segment
	off  int64 // offset in the current segment
	left int64
}

func (s *Store) newDataReader(ctx context.Context, segs []segment, rng store.Range) *dataReader {
	r := &dataReader{s: s, ctx: ctx, off: rng.Offset, left: rng.Length}
	for _, seg := range segs {
		if r.off >= seg.Size && len(r.segs) == 0 {
			r.off -= seg.Size
			continue
		}
		r.segs = append(r.segs, seg)
	}
	return r
}

func (r *dataReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	for len(r.segs) > 0 && r.off >= r.segs[0].Size {
		r.off -= r.segs[0].Size
		r.segs = r.segs[1:]
	}
	if len(r.segs) == 0 {
		return 0, fmt.Errorf("%w: data shorter than its record", store.ErrDataCorrupt)
	}
	seg := r.segs[0]
	stripe, in := r.off/stripeSize, r.off%stripeSize
	n := min(int64(len(p)), r.left, stripeSize-in, seg.Size-r.off, chunkSize)
	got, err := r.s.io.Read(stripeOID(seg.ID, stripe), p[:n], uint64(in))
	if err != nil {
		if isNotFound(err) {
			return 0, fmt.Errorf("%w: stripe %s missing", store.ErrDataCorrupt, stripeOID(seg.ID, stripe))
		}
		return 0, fmt.Errorf("rados: read data: %w", err)
	}
	if got == 0 {
		return 0, fmt.Errorf("%w: stripe %s short", store.ErrDataCorrupt, stripeOID(seg.ID, stripe))
	}
	r.off += int64(got)
	r.left -= int64(got)
	return got, nil
}

func (r *dataReader) Close() error { r.left = 0; return nil }
