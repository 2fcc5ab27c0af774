//go:build rados

package rados

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

const maxPartNumber = 10000

// rowDone records what a completed upload became: "m/<upload>".
const rowDone = "m/"

// partRec is the record of one uploaded part; its body is its own stripes.
type partRec struct {
	Number    int               `json:"n"`
	Size      int64             `json:"size"`
	MD5       []byte            `json:"md5"`
	Modified  time.Time         `json:"mod"`
	Checksums map[string]string `json:"ck,omitempty"`
	SSENonce  string            `json:"sse,omitempty"`
	Data      []segment         `json:"data"`
}

func (p *partRec) etag() string { return hex.EncodeToString(p.MD5) }

func (p *partRec) info() store.PartInfo {
	return store.PartInfo{Number: p.Number, Size: p.Size, ETag: p.etag(), LastModified: p.Modified, Checksums: p.Checksums}
}

// completed is what a finished upload became.
type completed struct {
	Key string `json:"key"`
	Seq uint64 `json:"seq"`
}

// uploadState is an upload as read from its key's shard.
type uploadState struct {
	rec *bucketRecord
	oid string
	up  store.Upload
	raw []byte
}

// upload reads an upload's record from its key's shard: an upload id used
// with another key or bucket is not found there. A missing shard means the
// record (cached) may be stale: it is read again, once.
func (s *Store) upload(bucket, key, uploadID string) (*uploadState, error) {
	rec, err := s.bucket(bucket)
	if err != nil {
		return nil, err
	}
	st, exists, err := s.readUpload(rec, key, uploadID)
	if err == nil && !exists {
		if rec, err = s.refreshBucket(bucket); err != nil {
			return nil, err
		}
		st, _, err = s.readUpload(rec, key, uploadID)
	}
	if err != nil {
		return nil, err
	}
	if st.raw == nil {
		return nil, fmt.Errorf("%w: %s", store.ErrNoSuchUpload, uploadID)
	}
	return st, decodeRow(st.raw, &st.up)
}

// readUpload reads an upload's row from key's shard of rec, telling
// whether the shard exists.
func (s *Store) readUpload(rec *bucketRecord, key, uploadID string) (*uploadState, bool, error) {
	st := &uploadState{rec: rec, oid: rec.shardOID(key)}
	row := uploadRow(key, uploadID)
	rows, exists, err := getRowsOf(s.io, st.oid, row)
	st.raw = rows[row]
	return st, exists, err
}

// CreateMultipartUpload starts an upload of key: a row of its shard.
func (s *Store) CreateMultipartUpload(ctx context.Context, bucket, key string, opts store.PutOptions) (store.Upload, error) {
	if err := store.CheckKey(key); err != nil {
		return store.Upload{}, err
	}
	seq, err := s.seq.next(0)
	if err != nil {
		return store.Upload{}, err
	}
	// Upload ids start with the sequence, so a key's uploads sort by
	// initiation; the random tail makes them unguessable.
	up := store.Upload{Bucket: bucket, Key: key, UploadID: fmt.Sprintf("%016x%s", seq, newID()[:16]),
		Initiated: time.Now().UTC(), Owner: opts.Owner, Meta: opts.Meta}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		// A shard closed by a bucket deletion in progress fails the guard:
		// the bucket is then gone, or reopened for the retry.
		rec, err := s.bucketFor(bucket, attempt)
		if err != nil {
			return store.Upload{}, err
		}
		t := s.newTxn(ctx, rec.shardOID(key), map[string][]byte{uploadRow(key, up.UploadID): nil})
		err = t.setJSON(uploadRow(key, up.UploadID), up)
		if err == nil {
			err = t.commit()
		}
		t.close()
		if !errors.Is(err, errConflict) {
			return up, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return store.Upload{}, err
		}
	}
	return store.Upload{}, fmt.Errorf("rados: create upload %s/%s: %w", bucket, key, errConflict)
}

// UploadPart stores one part; a part with the same number is replaced.
func (s *Store) UploadPart(ctx context.Context, bucket, key, uploadID string, number int, body io.Reader, opts store.PartOptions) (store.PartInfo, error) {
	if number < 1 || number > maxPartNumber {
		return store.PartInfo{}, fmt.Errorf("%w: %d", store.ErrInvalidPartNumber, number)
	}
	st, err := s.upload(bucket, key, uploadID)
	if err != nil {
		return store.PartInfo{}, err
	}
	in, err := s.receive(ctx, st.oid, body, opts.Size, opts.ContentMD5)
	if err != nil {
		return store.PartInfo{}, err
	}
	if opts.MD5 != nil {
		in.md5 = opts.MD5()
	}
	p := &partRec{Number: number, Size: in.seg.Size, MD5: in.md5, Modified: time.Now().UTC(),
		SSENonce: opts.SSENonce, Data: []segment{in.seg}}
	if opts.Checksums != nil {
		p.Checksums = opts.Checksums()
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		err = s.commitPart(ctx, bucket, key, uploadID, p, in.intent)
		if !errors.Is(err, errConflict) {
			break
		}
		if err = backoff(ctx, attempt); err != nil {
			break
		}
	}
	if err != nil {
		s.discard(in)
		return store.PartInfo{}, err
	}
	return p.info(), nil
}

// commitPart records a part under guards that the upload still exists and
// that the part it replaces is the one read; the replaced body becomes
// garbage in the same write.
func (s *Store) commitPart(ctx context.Context, bucket, key, uploadID string, p *partRec, intent string) error {
	st, err := s.upload(bucket, key, uploadID)
	if err != nil {
		return err
	}
	rows, err := getRows(s.io, st.oid, partRow(uploadID, p.Number), intent)
	if err != nil {
		return err
	}
	oldRaw := rows[partRow(uploadID, p.Number)]
	t := s.newTxn(ctx, st.oid, map[string][]byte{uploadRow(key, uploadID): st.raw, partRow(uploadID, p.Number): oldRaw})
	defer t.close()
	if err := takeIntents(t, &keyState{rows: rows}, []string{intent}); err != nil {
		return err
	}
	if oldRaw != nil {
		var old partRec
		if err := decodeRow(oldRaw, &old); err != nil {
			return err
		}
		if err := t.garbage(old.Data); err != nil {
			return err
		}
	}
	if err := t.setJSON(partRow(uploadID, p.Number), p); err != nil {
		return err
	}
	return t.commit()
}

// parts reads every part record of an upload, in part order, with the
// rows as stored (for guards).
func (s *Store) parts(ctx context.Context, oid, uploadID string, after int) ([]*partRec, map[string][]byte, error) {
	var out []*partRec
	raws := map[string][]byte{}
	start := ""
	if after > 0 {
		start = partRow(uploadID, after)
	}
	c := newCursor(s.io, oid, rowPart+uploadID+"/", start)
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		r, ok, err := c.peek()
		if err != nil || !ok {
			return out, raws, err
		}
		c.next()
		p := new(partRec)
		if err := decodeRow(r.Value, p); err != nil {
			return nil, nil, err
		}
		out = append(out, p)
		raws[r.Key] = r.Value
	}
}

// CompleteMultipartUpload checks the listed parts and commits the object in
// one guarded write of the key's shard: the version, the removal of the
// upload and its part rows (guarded to be the ones read), the garbage rows
// of unused parts and the hook's records. The object's data are the parts'
// stripes: nothing is copied.
func (s *Store) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, list []store.CompletePart, opts store.CompleteOptions) (store.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return store.ObjectInfo{}, err
	}
	if err := store.CheckCompleteList(list); err != nil {
		return store.ObjectInfo{}, err
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		info, err := s.tryComplete(ctx, bucket, key, uploadID, list, opts)
		if !errors.Is(err, errConflict) {
			return info, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return store.ObjectInfo{}, err
		}
	}
	return store.ObjectInfo{}, fmt.Errorf("rados: complete %s/%s: %w", bucket, key, errConflict)
}

func (s *Store) tryComplete(ctx context.Context, bucket, key, uploadID string, list []store.CompletePart, opts store.CompleteOptions) (store.ObjectInfo, error) {
	st, err := s.upload(bucket, key, uploadID)
	if errors.Is(err, store.ErrNoSuchUpload) {
		if oi, ok := s.completedUpload(bucket, key, uploadID); ok {
			return oi, nil
		}
	}
	if err != nil {
		return store.ObjectInfo{}, err
	}
	all, raws, err := s.parts(ctx, st.oid, uploadID, 0)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	nv, err := assemble(st.up, all, list, opts)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	keep := map[int]bool{}
	for _, p := range nv.parts {
		keep[p.Number] = true
	}
	nv.extra = []string{uploadRow(key, uploadID)}
	nv.stage = func(t *txn, ks *keyState) error {
		t.op.omapEqual(uploadRow(key, uploadID), st.raw)
		for k, v := range raws {
			t.op.omapEqual(k, v)
			t.rmRow(k)
		}
		t.rmRow(uploadRow(key, uploadID))
		for _, p := range all {
			if !keep[p.Number] {
				if err := t.garbage(p.Data); err != nil {
					return err
				}
			}
		}
		return t.setJSON(rowDone+uploadID, completed{Key: key, Seq: t.seq})
	}
	return s.commitVersion(ctx, bucket, key, nv)
}

// assemble checks the listed parts against the stored ones and describes
// the object they make.
func assemble(up store.Upload, all []*partRec, list []store.CompletePart, opts store.CompleteOptions) (newVersion, error) {
	byNum := make(map[int]*partRec, len(all))
	for _, p := range all {
		byNum[p.Number] = p
	}
	h := md5.New()
	nv := newVersion{kind: store.ChangeCompleteMultipart, meta: up.Meta, owner: up.Owner,
		check: store.Preconditions(opts.IfMatch, opts.IfNoneMatch)}
	for i, cp := range list {
		p := byNum[cp.Number]
		if p == nil || !store.ETagsEqual(cp.ETag, p.etag()) {
			return nv, fmt.Errorf("%w: part %d", store.ErrInvalidPart, cp.Number)
		}
		if i < len(list)-1 && p.Size < store.MinPartSize {
			return nv, fmt.Errorf("%w: part %d is %d bytes", store.ErrEntityTooSmall, cp.Number, p.Size)
		}
		h.Write(p.MD5)
		nv.size += p.Size
		nv.data = append(nv.data, p.Data...)
		nv.parts = append(nv.parts, store.Part{Number: p.Number, Size: p.Size, ETag: p.etag(), Checksums: p.Checksums, SSENonce: p.SSENonce})
	}
	nv.etag = hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(list))
	if opts.Checksums != nil {
		sums, typ, err := opts.Checksums(up, nv.parts)
		if err != nil {
			return nv, err
		}
		nv.meta.Checksums, nv.meta.ChecksumType = sums, typ
	}
	return nv, nil
}

// completedUpload returns the object version a finished upload produced,
// while that version still exists.
func (s *Store) completedUpload(bucket, key, uploadID string) (store.ObjectInfo, bool) {
	ks, err := s.loadKey(bucket, key, rowDone+uploadID)
	if err != nil || ks.rows[rowDone+uploadID] == nil {
		return store.ObjectInfo{}, false
	}
	var done completed
	if decodeRow(ks.rows[rowDone+uploadID], &done) != nil || done.Key != key {
		return store.ObjectInfo{}, false
	}
	v, err := s.byID(ks, key, versionID(done.Seq))
	if err != nil || v == nil {
		return store.ObjectInfo{}, false
	}
	l := ks.latest()
	return v.info(bucket, key, ks.rec.Bucket.Versioning, l != nil && l.Seq == v.Seq), true
}

// AbortMultipartUpload discards an upload and its parts in one guarded
// write; the parts' bodies become garbage rows of the same write.
func (s *Store) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		err := s.tryAbort(ctx, bucket, key, uploadID)
		if !errors.Is(err, errConflict) {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
	return fmt.Errorf("rados: abort %s: %w", uploadID, errConflict)
}

func (s *Store) tryAbort(ctx context.Context, bucket, key, uploadID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := s.upload(bucket, key, uploadID)
	if err != nil {
		return err
	}
	all, raws, err := s.parts(ctx, st.oid, uploadID, 0)
	if err != nil {
		return err
	}
	t := s.newTxn(ctx, st.oid, map[string][]byte{uploadRow(key, uploadID): st.raw})
	defer t.close()
	t.freesSpace()
	for k, v := range raws {
		t.op.omapEqual(k, v)
		t.rmRow(k)
	}
	t.rmRow(uploadRow(key, uploadID))
	for _, p := range all {
		if err := t.garbage(p.Data); err != nil {
			return err
		}
	}
	seq, err := s.seq.next(0)
	if err != nil {
		return err
	}
	aborted := store.ObjectInfo{Bucket: bucket, Key: key, LastModified: time.Now().UTC(), Owner: st.up.Owner, Meta: st.up.Meta}
	if err := t.change(store.ChangeAbortUpload, st.rec.Bucket, aborted, nil, seq); err != nil {
		return err
	}
	return t.commit()
}

// ListParts pages through an upload's parts.
func (s *Store) ListParts(ctx context.Context, bucket, key, uploadID string, opts store.ListPartsOptions) (store.ListPartsResult, error) {
	var res store.ListPartsResult
	if err := ctx.Err(); err != nil {
		return res, err
	}
	st, err := s.upload(bucket, key, uploadID)
	if err != nil {
		return res, err
	}
	res.Upload = st.up
	max := maxOr(opts.MaxParts)
	c := newCursor(s.io, st.oid, rowPart+uploadID+"/", "")
	if opts.PartNumberMarker > 0 {
		c.seek(partRow(uploadID, opts.PartNumberMarker))
	}
	for {
		r, ok, err := c.peek()
		if err != nil || !ok {
			return res, err
		}
		if len(res.Parts) == max {
			res.IsTruncated = true
			return res, nil
		}
		c.next()
		var p partRec
		if err := decodeRow(r.Value, &p); err != nil {
			return res, err
		}
		res.Parts = append(res.Parts, p.info())
		res.NextPartNumberMarker = p.Number
	}
}

// ListMultipartUploads pages through a bucket's uploads by key, then by
// initiation, merging the upload rows of its shards.
func (s *Store) ListMultipartUploads(ctx context.Context, bucket string, opts store.ListUploadsOptions) (store.ListUploadsResult, error) {
	var res store.ListUploadsResult
	rec, err := s.bucket(bucket)
	if err != nil {
		return res, err
	}
	sc := s.newScanner(rec, rowUpload, opts.Prefix, opts.Delimiter)
	if opts.KeyMarker != "" && opts.KeyMarker >= opts.Prefix {
		if opts.UploadIDMarker != "" && !strings.Contains(opts.UploadIDMarker, "\x00") {
			sc.m.seek(uploadRow(opts.KeyMarker, opts.UploadIDMarker))
		} else {
			sc.seekAfterKey(opts.KeyMarker)
		}
	}
	res.IsTruncated, err = sc.page(ctx, opts.KeyMarker, maxOr(opts.MaxUploads), func(cp string) {
		res.CommonPrefixes = append(res.CommonPrefixes, cp)
		res.NextKeyMarker, res.NextUploadIDMarker = cp, ""
	}, func(r row, _ string, full bool) (bool, error) {
		if full {
			return true, nil
		}
		var up store.Upload
		if err := json.Unmarshal(mustUnwrap(r.Value), &up); err != nil {
			return false, fmt.Errorf("rados: corrupt upload record: %w", err)
		}
		res.Uploads = append(res.Uploads, up)
		res.NextKeyMarker, res.NextUploadIDMarker = up.Key, up.UploadID
		sc.advance()
		return true, nil
	})
	if err != nil {
		return res, err
	}
	if !res.IsTruncated {
		res.NextKeyMarker, res.NextUploadIDMarker = "", ""
	}
	return res, nil
}

func mustUnwrap(v []byte) []byte {
	d, err := unwrap(v)
	if err != nil {
		return nil
	}
	return d
}
