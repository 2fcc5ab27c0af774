package local

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/cairn-s3/cairn/internal/store"
)

const maxPartNumber = 10000

// partRec is the record of one uploaded part.
type partRec struct {
	Number    int               `json:"n"`
	Size      int64             `json:"size"`
	MD5       []byte            `json:"md5"`
	Modified  time.Time         `json:"mod"`
	Checksums map[string]string `json:"ck,omitempty"`
	SSENonce  string            `json:"sse,omitempty"`
	Blob      blob              `json:"blob"`
}

func (p *partRec) etag() string { return hex.EncodeToString(p.MD5) }

func (p *partRec) blobs() []blob {
	if p.Size == 0 {
		return nil
	}
	return []blob{p.Blob}
}

func (p *partRec) info() store.PartInfo {
	return store.PartInfo{Number: p.Number, Size: p.Size, ETag: p.etag(), LastModified: p.Modified, Checksums: p.Checksums}
}

// Upload ids start with the hex sequence number, so a key's uploads sort by
// initiation as ListMultipartUploads wants; the random tail makes them
// unguessable.
func newUploadID(seq uint64) string {
	var r [8]byte
	rand.Read(r[:])
	return fmt.Sprintf("%016x%s", seq, hex.EncodeToString(r[:]))
}

// CreateMultipartUpload starts an upload of key.
func (s *Store) CreateMultipartUpload(ctx context.Context, bucket, key string, opts store.PutOptions) (store.Upload, error) {
	if err := store.CheckKey(key); err != nil {
		return store.Upload{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Upload{}, err
	}
	bl := s.bucketLock(bucket)
	bl.RLock()
	defer bl.RUnlock()
	if _, err := s.readBucket(reader{db: s.db}, bucket); err != nil {
		return store.Upload{}, err
	}
	// An upload started on a full disk could not receive its parts.
	if err := s.space.check(0); err != nil {
		return store.Upload{}, err
	}
	seq, err := s.nextSeq()
	if err != nil {
		return store.Upload{}, err
	}
	up := store.Upload{
		Bucket: bucket, Key: key, UploadID: newUploadID(seq),
		Initiated: time.Now().UTC(), Owner: opts.Owner, Meta: opts.Meta,
	}
	t := s.newTxn(ctx)
	defer t.close()
	if err := t.setJSON(uploadKey(bucket, key, up.UploadID), up); err != nil {
		return store.Upload{}, err
	}
	if err := t.b.Set(uploadIDKey(up.UploadID), []byte(bucket+"\x00"+key), nil); err != nil {
		return store.Upload{}, err
	}
	if err := t.commit(); err != nil {
		return store.Upload{}, err
	}
	return up, nil
}

// upload reads an upload's record, checking that it belongs to bucket/key.
func (s *Store) upload(r reader, bucket, key, uploadID string) (store.Upload, error) {
	owner, ok, err := r.get(uploadIDKey(uploadID))
	if err != nil {
		return store.Upload{}, fmt.Errorf("local: %w", err)
	}
	if !ok {
		return store.Upload{}, fmt.Errorf("%w: %s", store.ErrNoSuchUpload, uploadID)
	}
	if string(owner) != bucket+"\x00"+key {
		return store.Upload{}, fmt.Errorf("%w: %w: %s", store.ErrNoSuchUpload, store.ErrUploadBucketMismatch, uploadID)
	}
	data, ok, err := r.get(uploadKey(bucket, key, uploadID))
	if err != nil {
		return store.Upload{}, fmt.Errorf("local: %w", err)
	}
	if !ok {
		return store.Upload{}, fmt.Errorf("%w: %s", store.ErrNoSuchUpload, uploadID)
	}
	var up store.Upload
	if err := json.Unmarshal(data, &up); err != nil {
		return store.Upload{}, fmt.Errorf("local: corrupt upload record: %w", err)
	}
	return up, nil
}

// UploadPart stores one part; a part with the same number is replaced.
func (s *Store) UploadPart(ctx context.Context, bucket, key, uploadID string, number int, body io.Reader, opts store.PartOptions) (store.PartInfo, error) {
	if number < 1 || number > maxPartNumber {
		return store.PartInfo{}, fmt.Errorf("%w: %d", store.ErrInvalidPartNumber, number)
	}
	if _, err := s.upload(reader{db: s.db}, bucket, key, uploadID); err != nil {
		return store.PartInfo{}, err
	}
	in, err := s.receive(ctx, body, opts.Size, opts.ContentMD5,
		dataHeader{Bucket: bucket, Key: key, UploadID: uploadID, Part: number})
	if err != nil {
		return store.PartInfo{}, err
	}
	defer s.done(&in)
	in.overrideMD5(opts.MD5)
	p := &partRec{Number: number, Size: in.Size, MD5: in.md5[:], Modified: time.Now().UTC(), Blob: in.blob, SSENonce: opts.SSENonce}
	if opts.Checksums != nil {
		p.Checksums = opts.Checksums()
	}
	old, err := s.commitPart(ctx, bucket, key, uploadID, p, &in)
	if err != nil {
		s.discard(&in)
		return store.PartInfo{}, err
	}
	if old != nil {
		s.removeBlobs(old.blobs())
	}
	return p.info(), nil
}

// commitPart records a part, returning the part it replaced.
func (s *Store) commitPart(ctx context.Context, bucket, key, uploadID string, p *partRec, in *ingested) (*partRec, error) {
	// Parts of one upload commit concurrently; completion and abort exclude
	// them. Commits of the same part number serialise on a key stripe.
	ul := s.uploadLock(uploadID)
	ul.RLock()
	defer ul.RUnlock()
	pl := s.keyLock("\x00part", uploadID+"\x00"+strconv.Itoa(p.Number))
	pl.Lock()
	defer pl.Unlock()
	r := reader{db: s.db}
	if _, err := s.upload(r, bucket, key, uploadID); err != nil {
		return nil, err
	}
	t := s.newTxn(ctx)
	defer t.close()
	var old *partRec
	if data, ok, err := r.get(partKey(uploadID, p.Number)); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	} else if ok {
		old = new(partRec)
		if err := json.Unmarshal(data, old); err != nil {
			return nil, fmt.Errorf("local: corrupt part record: %w", err)
		}
		t.dropBlobs(old.blobs())
	}
	if err := t.setJSON(partKey(uploadID, p.Number), p); err != nil {
		return nil, err
	}
	if err := in.stage(t.b); err != nil {
		return nil, err
	}
	return old, t.commit()
}

// parts reads every part record of an upload, in part order.
func (s *Store) parts(uploadID string) ([]*partRec, error) {
	p := partPrefix(uploadID)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	defer it.Close()
	var out []*partRec
	for ok := it.First(); ok; ok = it.Next() {
		pr := new(partRec)
		if err := json.Unmarshal(it.Value(), pr); err != nil {
			return nil, fmt.Errorf("local: corrupt part record: %w", err)
		}
		out = append(out, pr)
	}
	return out, it.Error()
}

// dropUpload deletes an upload's rows, its parts' rows and the rows of the
// blobs of parts not in keep; it returns those blobs for removal.
func (t *txn) dropUpload(up store.Upload, parts []*partRec, keep map[int]bool) []blob {
	var garbage []blob
	for _, p := range parts {
		t.b.Delete(partKey(up.UploadID, p.Number), nil)
		if !keep[p.Number] {
			t.dropBlobs(p.blobs())
			garbage = append(garbage, p.blobs()...)
		}
	}
	t.b.Delete(uploadKey(up.Bucket, up.Key, up.UploadID), nil)
	t.b.Delete(uploadIDKey(up.UploadID), nil)
	return garbage
}

// CompleteMultipartUpload checks the listed parts and commits the object.
// The object's blobs are the parts' blobs: nothing is copied.
func (s *Store) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, list []store.CompletePart, opts store.CompleteOptions) (store.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return store.ObjectInfo{}, err
	}
	if err := store.CheckCompleteList(list); err != nil {
		return store.ObjectInfo{}, err
	}
	t := s.newTxn(ctx)
	defer t.close()
	bl := s.bucketLock(bucket)
	bl.RLock()
	defer bl.RUnlock()
	ul := s.uploadLock(uploadID)
	ul.Lock()
	defer ul.Unlock()
	up, err := s.upload(reader{db: s.db}, bucket, key, uploadID)
	if errors.Is(err, store.ErrNoSuchUpload) && !errors.Is(err, store.ErrUploadBucketMismatch) {
		if oi, ok := s.completedUpload(bucket, key, uploadID); ok {
			return oi, nil
		}
	}
	if err != nil {
		return store.ObjectInfo{}, err
	}
	all, err := s.parts(uploadID)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	byNum := make(map[int]*partRec, len(all))
	for _, p := range all {
		byNum[p.Number] = p
	}
	keep := make(map[int]bool, len(list))
	h := md5.New()
	nv := newVersion{kind: store.ChangeCompleteMultipart, meta: up.Meta, owner: up.Owner,
		check: store.Preconditions(opts.IfMatch, opts.IfNoneMatch)}
	for i, cp := range list {
		p := byNum[cp.Number]
		if p == nil || !store.ETagsEqual(cp.ETag, p.etag()) {
			return store.ObjectInfo{}, fmt.Errorf("%w: part %d", store.ErrInvalidPart, cp.Number)
		}
		if i < len(list)-1 && p.Size < store.MinPartSize {
			return store.ObjectInfo{}, fmt.Errorf("%w: part %d is %d bytes", store.ErrEntityTooSmall, cp.Number, p.Size)
		}
		keep[cp.Number] = true
		h.Write(p.MD5)
		nv.size += p.Size
		nv.blobs = append(nv.blobs, p.blobs()...)
		nv.parts = append(nv.parts, store.Part{Number: p.Number, Size: p.Size, ETag: p.etag(), Checksums: p.Checksums, SSENonce: p.SSENonce})
	}
	nv.etag = hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(list))
	if opts.Checksums != nil {
		sums, typ, err := opts.Checksums(up, nv.parts)
		if err != nil {
			return store.ObjectInfo{}, err
		}
		nv.meta.Checksums, nv.meta.ChecksumType = sums, typ
	}
	nv.stage = func(t *txn, seq uint64) error {
		done, err := json.Marshal(completedUpload{Bucket: bucket, Key: key, Seq: seq})
		if err != nil {
			return err
		}
		t.b.Set(completedUploadKey(uploadID), done, nil)
		garbage := t.dropUpload(up, all, keep)
		t.onCommit(func() { s.removeBlobs(garbage) })
		return nil
	}
	return s.commitVersion(t, bucket, key, nv)
}

// AbortMultipartUpload discards an upload and its parts.
func (s *Store) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ul := s.uploadLock(uploadID)
	ul.Lock()
	defer ul.Unlock()
	up, err := s.upload(reader{db: s.db}, bucket, key, uploadID)
	if err != nil {
		return err
	}
	all, err := s.parts(uploadID)
	if err != nil {
		return err
	}
	t := s.newTxn(ctx)
	defer t.close()
	garbage := t.dropUpload(up, all, nil)
	aborted := store.ObjectInfo{Bucket: bucket, Key: key, LastModified: time.Now().UTC(), Owner: up.Owner, Meta: up.Meta}
	if err := s.reportUpdate(t, reader{db: s.db}, bucket, aborted, store.ChangeAbortUpload); err != nil {
		return err
	}
	if err := t.commit(); err != nil {
		return err
	}
	s.removeBlobs(garbage)
	return nil
}

// ListParts pages through an upload's parts.
func (s *Store) ListParts(ctx context.Context, bucket, key, uploadID string, opts store.ListPartsOptions) (store.ListPartsResult, error) {
	var res store.ListPartsResult
	if err := ctx.Err(); err != nil {
		return res, err
	}
	up, err := s.upload(reader{db: s.db}, bucket, key, uploadID)
	if err != nil {
		return res, err
	}
	res.Upload = up
	p := partPrefix(uploadID)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return res, fmt.Errorf("local: %w", err)
	}
	defer it.Close()
	max := maxOr(opts.MaxParts)
	start := p
	if opts.PartNumberMarker > 0 {
		start = partKey(uploadID, opts.PartNumberMarker+1)
	}
	for ok := it.SeekGE(start); ok; ok = it.Next() {
		if len(res.Parts) == max {
			res.IsTruncated = true
			break
		}
		var pr partRec
		if err := json.Unmarshal(it.Value(), &pr); err != nil {
			return res, fmt.Errorf("local: corrupt part record: %w", err)
		}
		res.Parts = append(res.Parts, pr.info())
		res.NextPartNumberMarker = pr.Number
	}
	return res, it.Error()
}

// ListMultipartUploads pages through a bucket's uploads by key, then by
// initiation.
func (s *Store) ListMultipartUploads(ctx context.Context, bucket string, opts store.ListUploadsOptions) (store.ListUploadsResult, error) {
	var res store.ListUploadsResult
	if _, err := s.readBucket(reader{db: s.db}, bucket); err != nil {
		return res, err
	}
	sc, err := s.newScanner(tagUpload, bucket, opts.Prefix, opts.Delimiter)
	if err != nil {
		return res, err
	}
	defer sc.close()
	max := maxOr(opts.MaxUploads)
	sc.seek(keyPrefix(tagUpload, bucket, opts.Prefix, true))
	if opts.KeyMarker != "" && opts.KeyMarker >= opts.Prefix {
		if opts.UploadIDMarker != "" {
			sc.seek(append(uploadKey(bucket, opts.KeyMarker, opts.UploadIDMarker), 0))
		} else {
			sc.seekAfterKey(opts.KeyMarker)
		}
	}
	res.IsTruncated, err = sc.page(ctx, opts.KeyMarker, max, func(cp string) {
		res.CommonPrefixes = append(res.CommonPrefixes, cp)
		res.NextKeyMarker, res.NextUploadIDMarker = cp, ""
	}, func(_ string, full bool) (bool, error) {
		if full {
			return true, nil
		}
		var up store.Upload
		if err := json.Unmarshal(sc.it.Value(), &up); err != nil {
			return false, fmt.Errorf("local: corrupt upload record: %w", err)
		}
		res.Uploads = append(res.Uploads, up)
		res.NextKeyMarker, res.NextUploadIDMarker = up.Key, up.UploadID
		sc.valid = sc.it.Next()
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

// completedUpload is what a finished upload became.
type completedUpload struct {
	Bucket, Key string
	Seq         uint64
}

// completedUpload returns the object version a finished upload produced,
// while that version still exists.
func (s *Store) completedUpload(bucket, key, uploadID string) (store.ObjectInfo, bool) {
	data, ok, err := reader{db: s.db}.get(completedUploadKey(uploadID))
	if err != nil || !ok {
		return store.ObjectInfo{}, false
	}
	var done completedUpload
	if json.Unmarshal(data, &done) != nil || done.Bucket != bucket || done.Key != key {
		return store.ObjectInfo{}, false
	}
	r := reader{db: s.db}
	b, err := s.readBucket(r, bucket)
	if err != nil {
		return store.ObjectInfo{}, false
	}
	v, err := s.versionBySeq(r, bucket, key, done.Seq)
	if err != nil || v == nil {
		return store.ObjectInfo{}, false
	}
	latest, err := s.latest(r, bucket, key)
	return v.info(bucket, key, b.Versioning, err == nil && latest != nil && latest.Seq == v.Seq), true
}
