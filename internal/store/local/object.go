package local

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/cairn-s3/cairn/internal/store"
)

// version is the record of one object version or delete marker, stored
// under its index key (which holds bucket, key and sequence number).
type version struct {
	Seq          uint64         `json:"seq"`
	Null         bool           `json:"null,omitempty"`
	DeleteMarker bool           `json:"dm,omitempty"`
	Size         int64          `json:"size"`
	ETag         string         `json:"etag,omitempty"`
	Modified     time.Time      `json:"mod"`
	Owner        string         `json:"owner,omitempty"`
	Meta         store.Metadata `json:"meta"`
	Parts        []store.Part   `json:"parts,omitempty"`
	Blobs        []blob         `json:"blobs,omitempty"`
}

func decodeVersion(data []byte) (*version, error) {
	v := new(version)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("local: corrupt version record: %w", err)
	}
	return v, nil
}

func (v *version) id(vs store.Versioning) string {
	return store.ShownVersionID(v.Null, versionID(v.Seq), vs)
}

func (v *version) info(bucket, key string, vs store.Versioning, latest bool) store.ObjectInfo {
	return store.ObjectInfo{
		Bucket:       bucket,
		Key:          key,
		VersionID:    v.id(vs),
		IsLatest:     latest,
		DeleteMarker: v.DeleteMarker,
		Size:         v.Size,
		ETag:         v.ETag,
		LastModified: v.Modified,
		Owner:        v.Owner,
		Meta:         v.Meta,
		Parts:        v.Parts,
	}
}

// reader is what lookups read from: the DB, or an iterator pinned to one
// consistent view of it.
type reader struct {
	db *pebble.DB
	it *pebble.Iterator
}

func (r reader) get(key []byte) ([]byte, bool, error) {
	if r.it != nil {
		if r.it.SeekGE(key) && bytes.Equal(r.it.Key(), key) {
			v, err := r.it.ValueAndErr()
			return append([]byte(nil), v...), true, err
		}
		return nil, false, r.it.Error()
	}
	v, closer, err := r.db.Get(key)
	if isNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append([]byte(nil), v...)
	closer.Close()
	return out, true, nil
}

// first returns the first row with prefix p.
func (r reader) first(p []byte) (k, v []byte, ok bool, err error) {
	it := r.it
	if it == nil {
		it, err = r.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
		if err != nil {
			return nil, nil, false, err
		}
		defer it.Close()
	}
	if !it.SeekGE(p) || !bytes.HasPrefix(it.Key(), p) {
		return nil, nil, false, it.Error()
	}
	val, err := it.ValueAndErr()
	return append([]byte(nil), it.Key()...), append([]byte(nil), val...), true, err
}

// readBucket returns a bucket's record, from the cache when it is there.
// A cached record may be newer than r's view, never older than the last
// commit. On a miss the record is read through r, and cached only if r
// reads the DB itself (a pinned view may be older than the last commit).
func (s *Store) readBucket(r reader, name string) (store.Bucket, error) {
	if b, ok := s.bcache.get(name); ok {
		return b, nil
	}
	gen := s.bcache.generation()
	b, size, err := s.readBucketRecord(r, name)
	if err == nil && r.it == nil {
		s.bcache.fill(b, size, gen)
	}
	return b, err
}

// readBucketRecord decodes a bucket's record as r sees it, bypassing the
// cache; it also returns the record's encoded size.
func (s *Store) readBucketRecord(r reader, name string) (store.Bucket, int, error) {
	data, ok, err := r.get(bucketKey(name))
	if err != nil {
		return store.Bucket{}, 0, fmt.Errorf("local: %w", err)
	}
	if !ok {
		return store.Bucket{}, 0, fmt.Errorf("%w: %s", store.ErrNoSuchBucket, name)
	}
	var b store.Bucket
	if err := json.Unmarshal(data, &b); err != nil {
		return store.Bucket{}, 0, fmt.Errorf("local: corrupt bucket record %s: %w", name, err)
	}
	return b, len(data), nil
}

// latest returns the newest version or delete marker of key, or nil.
func (s *Store) latest(r reader, bucket, key string) (*version, error) {
	_, data, ok, err := r.first(keyPrefix(tagObject, bucket, key, false))
	if err != nil || !ok {
		return nil, err
	}
	return decodeVersion(data)
}

// versionBySeq returns the version of key with sequence seq, or nil.
func (s *Store) versionBySeq(r reader, bucket, key string, seq uint64) (*version, error) {
	data, ok, err := r.get(versionKey(bucket, key, seq))
	if err != nil || !ok {
		return nil, err
	}
	return decodeVersion(data)
}

// nullSeq returns the sequence number of key's null version, if any.
func (s *Store) nullSeq(r reader, bucket, key string) (uint64, bool, error) {
	data, ok, err := r.get(nullKey(bucket, key))
	if err != nil || !ok || len(data) != 8 {
		return 0, false, err
	}
	return binary.BigEndian.Uint64(data), true, nil
}

// byID returns the version of key named by a version id, or nil.
func (s *Store) byID(r reader, bucket, key, id string) (*version, error) {
	if id == store.NullVersion {
		seq, ok, err := s.nullSeq(r, bucket, key)
		if err != nil || !ok {
			return nil, err
		}
		return s.versionBySeq(r, bucket, key, seq)
	}
	seq, err := parseVersionID(id)
	if err != nil {
		return nil, err
	}
	return s.versionBySeq(r, bucket, key, seq)
}

// find resolves a read of key at versionID ("" for the latest), applying
// the delete-marker rules of GetObject.
func (s *Store) find(r reader, bucket, key, versionID string) (store.Bucket, *version, store.ObjectInfo, error) {
	b, err := s.readBucket(r, bucket)
	if err != nil {
		return b, nil, store.ObjectInfo{}, err
	}
	if versionID == "" {
		v, err := s.latest(r, bucket, key)
		if err != nil {
			return b, nil, store.ObjectInfo{}, fmt.Errorf("local: %w", err)
		}
		if v == nil {
			return b, nil, store.ObjectInfo{}, fmt.Errorf("%w: %s", store.ErrNoSuchKey, key)
		}
		info := v.info(bucket, key, b.Versioning, true)
		if v.DeleteMarker {
			return b, v, info, fmt.Errorf("%w: %s", store.ErrNoSuchKey, key)
		}
		return b, v, info, nil
	}
	v, err := s.byID(r, bucket, key, versionID)
	if err != nil {
		return b, nil, store.ObjectInfo{}, err
	}
	if v == nil {
		return b, nil, store.ObjectInfo{}, fmt.Errorf("%w: %s %s", store.ErrNoSuchVersion, key, versionID)
	}
	lv, err := s.latest(r, bucket, key)
	if err != nil {
		return b, nil, store.ObjectInfo{}, fmt.Errorf("local: %w", err)
	}
	info := v.info(bucket, key, b.Versioning, lv != nil && lv.Seq == v.Seq)
	if v.DeleteMarker {
		return b, v, info, fmt.Errorf("%w: %s %s", store.ErrMethodNotAllowed, key, versionID)
	}
	return b, v, info, nil
}

// HeadObject returns a version's info.
func (s *Store) HeadObject(ctx context.Context, bucket, key string, opts store.GetOptions) (store.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return store.ObjectInfo{}, err
	}
	_, v, info, err := s.find(reader{db: s.db}, bucket, key, opts.VersionID)
	if err != nil {
		return info, err
	}
	// The same part and range checks as GetObject, so that HEAD answers
	// what GET would.
	_, err = store.SelectRange(v.Size, v.Parts, info, opts)
	return info, err
}

// errStale means the version read was deleted before its files were pinned.
var errStale = errors.New("local: version changed during read")

// GetObject returns a version's info and a reader of the selected range.
func (s *Store) GetObject(ctx context.Context, bucket, key string, opts store.GetOptions) (store.ObjectInfo, io.ReadCloser, error) {
	for attempt := 0; ; attempt++ {
		info, rc, err := s.getObject(ctx, bucket, key, opts)
		if errors.Is(err, errStale) && attempt < 10 {
			continue
		}
		return info, rc, err
	}
}

func (s *Store) getObject(ctx context.Context, bucket, key string, opts store.GetOptions) (store.ObjectInfo, io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return store.ObjectInfo{}, nil, err
	}
	// One iterator gives one consistent view of the record and its inline
	// bytes.
	it, err := s.db.NewIter(nil)
	if err != nil {
		return store.ObjectInfo{}, nil, fmt.Errorf("local: %w", err)
	}
	defer it.Close()
	r := reader{db: s.db, it: it}
	_, v, info, err := s.find(r, bucket, key, opts.VersionID)
	if err != nil {
		return info, nil, err
	}
	rng, err := store.SelectRange(v.Size, v.Parts, info, opts)
	if err != nil {
		return info, nil, err
	}
	segs, hasFiles, err := s.segments(r, v.Blobs, rng)
	if err != nil {
		return info, nil, err
	}
	rd := &objectReader{s: s, ctx: ctx, segs: segs, version: v.Seq,
		ref: blobRef{bucket: bucket, key: key, versionID: info.VersionID}}
	if hasFiles {
		s.pin(v.Seq)
		rd.pinned = true
		// The files stay until unpinned only if the version still exists
		// now that it is pinned; otherwise read again.
		if _, ok, err := (reader{db: s.db}).get(versionKey(bucket, key, v.Seq)); err != nil || !ok {
			rd.Close()
			if err != nil {
				return info, nil, fmt.Errorf("local: %w", err)
			}
			return info, nil, errStale
		}
	}
	if err := rd.prime(); err != nil {
		rd.Close()
		return info, nil, err
	}
	return info, rd, nil
}

// segments maps a range onto blobs, reading the inline ones.
func (s *Store) segments(r reader, blobs []blob, rng store.Range) ([]segment, bool, error) {
	var segs []segment
	hasFiles := false
	off, left := rng.Offset, rng.Length
	for _, b := range blobs {
		if left <= 0 {
			break
		}
		if off >= b.Size {
			off -= b.Size
			continue
		}
		n := min(b.Size-off, left)
		seg := segment{blob: b, off: off, n: n}
		if b.Inline {
			data, ok, err := r.get(seqKey(tagInline, b.Seq))
			if err != nil {
				return nil, false, fmt.Errorf("local: %w", err)
			}
			if !ok || int64(len(data)) != b.Size {
				return nil, false, fmt.Errorf("local: inline body %d missing", b.Seq)
			}
			seg.data = data[off : off+n]
		} else {
			hasFiles = true
		}
		segs = append(segs, seg)
		off, left = 0, left-n
	}
	return segs, hasFiles, nil
}

// newVersion describes a version to commit.
type newVersion struct {
	kind  store.ChangeKind
	meta  store.Metadata
	owner string
	size  int64
	etag  string
	parts []store.Part
	blobs []blob
	// check, if set, vets the current latest version (preconditions).
	check store.Precondition
	// stage, if set, adds rows to the commit (body, upload cleanup); seq
	// is the new version's sequence number.
	stage func(t *txn, seq uint64) error
}

// commitVersion makes nv the latest version of key in t. The caller holds
// the bucket's lock (bucketLock) for reading and closes t after releasing it.
func (s *Store) commitVersion(t *txn, bucket, key string, nv newVersion) (store.ObjectInfo, error) {
	r := reader{db: s.db}
	b, err := s.readBucket(r, bucket)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	mu := s.keyLock(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	if nv.check != nil {
		cur, err := s.latest(r, bucket, key)
		if err != nil {
			return store.ObjectInfo{}, fmt.Errorf("local: %w", err)
		}
		if cur == nil || cur.DeleteMarker {
			err = nv.check(false, "")
		} else {
			err = nv.check(true, cur.ETag)
		}
		if err != nil {
			return store.ObjectInfo{}, err
		}
	}
	seq, err := s.nextSeq()
	if err != nil {
		return store.ObjectInfo{}, err
	}
	v := &version{
		Seq:      seq,
		Null:     b.Versioning != store.Enabled,
		Size:     nv.size,
		ETag:     nv.etag,
		Modified: time.Now().UTC(),
		Owner:    nv.owner,
		Meta:     nv.meta,
		Parts:    nv.parts,
		Blobs:    nv.blobs,
	}
	if v.Null {
		if err := s.replaceNull(t, r, bucket, key, seq); err != nil {
			return store.ObjectInfo{}, err
		}
	}
	if err := t.setJSON(versionKey(bucket, key, seq), v); err != nil {
		return store.ObjectInfo{}, err
	}
	if nv.stage != nil {
		if err := nv.stage(t, seq); err != nil {
			return store.ObjectInfo{}, err
		}
	}
	info := v.info(bucket, key, b.Versioning, true)
	if err := t.change(nv.kind, b, info, seq); err != nil {
		return store.ObjectInfo{}, err
	}
	if err := t.commit(); err != nil {
		return store.ObjectInfo{}, err
	}
	return info, nil
}

// replaceNull drops key's null version, if any, and points the null row at
// seq: a key has at most one null version.
func (s *Store) replaceNull(t *txn, r reader, bucket, key string, seq uint64) error {
	old, ok, err := s.nullSeq(r, bucket, key)
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	if ok {
		ov, err := s.versionBySeq(r, bucket, key, old)
		if err != nil {
			return fmt.Errorf("local: %w", err)
		}
		if ov != nil {
			t.dropVersion(bucket, key, ov)
		}
	}
	return t.b.Set(nullKey(bucket, key), be64(seq), nil)
}

// PutObject stores a new version of key from body.
func (s *Store) PutObject(ctx context.Context, bucket, key string, body io.Reader, opts store.PutOptions) (store.ObjectInfo, error) {
	if err := store.CheckKey(key); err != nil {
		return store.ObjectInfo{}, err
	}
	// Fail before reading a body that could not be stored.
	if _, err := s.readBucket(reader{db: s.db}, bucket); err != nil {
		return store.ObjectInfo{}, err
	}
	in, err := s.receive(ctx, body, opts.Size, opts.ContentMD5, dataHeader{Bucket: bucket, Key: key})
	if err != nil {
		return store.ObjectInfo{}, err
	}
	in.overrideMD5(opts.MD5)
	meta := opts.Meta
	if opts.Checksums != nil {
		meta.Checksums = store.MergeChecksums(meta.Checksums, opts.Checksums())
	}
	return s.commitBody(ctx, bucket, key, &in, newVersion{
		kind:  store.ChangePut,
		meta:  meta,
		owner: opts.Owner,
		check: store.Preconditions(opts.IfMatch, opts.IfNoneMatch),
	})
}

// commitBody commits a received body as a new version, or removes it.
func (s *Store) commitBody(ctx context.Context, bucket, key string, in *ingested, nv newVersion) (store.ObjectInfo, error) {
	defer s.done(in)
	nv.size = in.Size
	nv.etag = hex.EncodeToString(in.md5[:])
	if in.Size > 0 {
		nv.blobs = []blob{in.blob}
	}
	nv.stage = func(t *txn, _ uint64) error { return in.stage(t.b) }
	t := s.newTxn(ctx)
	defer t.close()
	bl := s.bucketLock(bucket)
	bl.RLock()
	info, err := s.commitVersion(t, bucket, key, nv)
	bl.RUnlock()
	if err != nil {
		s.discard(in)
		return store.ObjectInfo{}, err
	}
	return info, nil
}

// DeleteObject removes a version, or adds a delete marker, as S3 does.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string, opts store.DeleteOptions) (store.DeleteResult, error) {
	if err := ctx.Err(); err != nil {
		return store.DeleteResult{}, err
	}
	t := s.newTxn(ctx)
	defer t.close()
	bl := s.bucketLock(bucket)
	bl.RLock()
	defer bl.RUnlock()
	r := reader{db: s.db}
	b, err := s.readBucket(r, bucket)
	if err != nil {
		return store.DeleteResult{}, err
	}
	mu := s.keyLock(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	res, changed, err := s.stageDelete(t, r, b, key, opts)
	if err != nil || !changed {
		return res, err
	}
	if err := t.commit(); err != nil {
		return store.DeleteResult{}, err
	}
	return res, nil
}

// stageDelete adds the delete of key to t and reports whether it changes
// anything: deleting what is not there succeeds and changes nothing, so no
// change is reported. The caller holds the bucket's lock for reading and
// key's lock.
func (s *Store) stageDelete(t *txn, r reader, b store.Bucket, key string, opts store.DeleteOptions) (store.DeleteResult, bool, error) {
	if opts.VersionID != "" || b.Versioning == store.Unversioned {
		return s.stageVersionDelete(t, r, b, key, opts)
	}
	hidden, err := s.latest(r, b.Name, key)
	if err != nil {
		return store.DeleteResult{}, false, fmt.Errorf("local: %w", err)
	}
	if opts.CheckHidden != nil {
		var hi *store.ObjectInfo
		if hidden != nil {
			info := hidden.info(b.Name, key, b.Versioning, true)
			hi = &info
		}
		if err := opts.CheckHidden(hi); err != nil {
			return store.DeleteResult{}, false, err
		}
	}
	seq, err := s.nextSeq()
	if err != nil {
		return store.DeleteResult{}, false, err
	}
	dm := &version{
		Seq:          seq,
		Null:         b.Versioning == store.Suspended,
		DeleteMarker: true,
		Modified:     time.Now().UTC(),
		Owner:        opts.Owner,
	}
	if dm.Null {
		if err := s.replaceNull(t, r, b.Name, key, seq); err != nil {
			return store.DeleteResult{}, false, err
		}
	}
	if err := t.setJSON(versionKey(b.Name, key, seq), dm); err != nil {
		return store.DeleteResult{}, false, err
	}
	info := dm.info(b.Name, key, b.Versioning, true)
	var hiddenInfo *store.ObjectInfo
	if hidden != nil {
		hi := hidden.info(b.Name, key, b.Versioning, false)
		hiddenInfo = &hi
	}
	if err := t.changeHiding(store.ChangeDeleteMarkerCreated, b, info, hiddenInfo, seq); err != nil {
		return store.DeleteResult{}, false, err
	}
	return store.DeleteResult{VersionID: info.VersionID, DeleteMarker: true}, true, nil
}

// stageVersionDelete adds the removal of one version (the null version in
// an unversioned bucket) to t.
func (s *Store) stageVersionDelete(t *txn, r reader, b store.Bucket, key string, opts store.DeleteOptions) (store.DeleteResult, bool, error) {
	id := opts.VersionID
	if id == "" {
		id = store.NullVersion
	}
	v, err := s.byID(r, b.Name, key, id)
	if err != nil {
		return store.DeleteResult{}, false, fmt.Errorf("local: %w", err)
	}
	if v == nil {
		return store.DeleteResult{VersionID: opts.VersionID}, false, nil
	}
	lv, err := s.latest(r, b.Name, key)
	if err != nil {
		return store.DeleteResult{}, false, fmt.Errorf("local: %w", err)
	}
	info := v.info(b.Name, key, b.Versioning, lv != nil && lv.Seq == v.Seq)
	if opts.Check != nil {
		if err := opts.Check(info); err != nil {
			return store.DeleteResult{}, false, err
		}
	}
	t.dropVersion(b.Name, key, v)
	seq, err := s.nextSeq()
	if err != nil {
		return store.DeleteResult{}, false, err
	}
	if err := t.change(store.ChangeDelete, b, info, seq); err != nil {
		return store.DeleteResult{}, false, err
	}
	return store.DeleteResult{VersionID: opts.VersionID, DeleteMarker: v.DeleteMarker}, true, nil
}

// CopyObject copies a version's body and metadata to a new version. The
// body is streamed through a new blob, so source and destination never share
// files and deleting one cannot affect the other.
func (s *Store) CopyObject(ctx context.Context, src store.CopySource, dstBucket, dstKey string, opts store.CopyOptions) (store.ObjectInfo, error) {
	if err := store.CheckKey(dstKey); err != nil {
		return store.ObjectInfo{}, err
	}
	if _, err := s.readBucket(reader{db: s.db}, dstBucket); err != nil {
		return store.ObjectInfo{}, err
	}
	sinfo, rc, err := store.OpenCopySource(ctx, s, src, opts.Check)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	defer rc.Close()
	meta := store.CopyMeta(sinfo.Meta, opts)
	in, err := s.receive(ctx, rc, sinfo.Size, nil, dataHeader{Bucket: dstBucket, Key: dstKey})
	rc.Close()
	if err != nil {
		return store.ObjectInfo{}, err
	}
	return s.commitBody(ctx, dstBucket, dstKey, &in, newVersion{kind: store.ChangeCopy, meta: meta, owner: opts.Owner})
}

// UpdateObject applies fn to a version's metadata in place.
func (s *Store) UpdateObject(ctx context.Context, bucket, key, versionID string, fn func(*store.ObjectInfo) error) (store.ObjectInfo, error) {
	return s.update(ctx, bucket, key, versionID, fn, 0)
}

// TransitionObject relabels a version's storage class, reporting the
// change to the hook.
func (s *Store) TransitionObject(ctx context.Context, bucket, key, versionID, class string, check func(store.ObjectInfo) error) (store.ObjectInfo, error) {
	return s.update(ctx, bucket, key, versionID, store.Relabel(class, check), store.ChangeTransition)
}

// update applies fn to a version's metadata in place, in one commit that
// reports kind to the hook (none if 0).
func (s *Store) update(ctx context.Context, bucket, key, versionID string, fn func(*store.ObjectInfo) error, kind store.ChangeKind) (store.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return store.ObjectInfo{}, err
	}
	bl := s.bucketLock(bucket)
	bl.RLock()
	defer bl.RUnlock()
	mu := s.keyLock(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	r := reader{db: s.db}
	_, v, info, err := s.find(r, bucket, key, versionID)
	if err != nil {
		return info, err
	}
	if err := fn(&info); err != nil {
		return info, err
	}
	v.Meta = info.Meta
	v.Owner = info.Owner
	t := s.newTxn(ctx)
	defer t.close()
	if err := t.setJSON(versionKey(bucket, key, v.Seq), v); err != nil {
		return store.ObjectInfo{}, err
	}
	if kind != 0 {
		if err := s.reportUpdate(t, r, bucket, info, kind); err != nil {
			return store.ObjectInfo{}, err
		}
	}
	if err := t.commit(); err != nil {
		return store.ObjectInfo{}, err
	}
	return info, nil
}

// reportUpdate runs the hook for a change that writes no new version.
func (s *Store) reportUpdate(t *txn, r reader, bucket string, info store.ObjectInfo, kind store.ChangeKind) error {
	b, err := s.readBucket(r, bucket)
	if err != nil {
		return err
	}
	seq, err := s.nextSeq()
	if err != nil {
		return err
	}
	return t.change(kind, b, info, seq)
}
