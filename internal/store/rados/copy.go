//go:build rados

package rados

import (
	"context"
	"errors"
	"fmt"

	"github.com/cairn-s3/cairn/internal/store"
)

// CopyObject copies a version's body and metadata to a new version. The
// body is streamed into new stripes, so source and destination never share
// data and deleting one cannot affect the other.
func (s *Store) CopyObject(ctx context.Context, src store.CopySource, dstBucket, dstKey string, opts store.CopyOptions) (store.ObjectInfo, error) {
	if err := store.CheckKey(dstKey); err != nil {
		return store.ObjectInfo{}, err
	}
	rec, err := s.bucket(dstBucket)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	sinfo, rc, err := store.OpenCopySource(ctx, s, src, opts.Check)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	defer rc.Close()
	meta := store.CopyMeta(sinfo.Meta, opts)
	nv := newVersion{kind: store.ChangeCopy, meta: meta, owner: opts.Owner, rec: rec}
	if sinfo.Size <= int64(s.inline) {
		if err := s.receiveInline(ctx, rc, sinfo.Size, nil, &nv); err != nil {
			return store.ObjectInfo{}, err
		}
		return s.commitVersion(ctx, dstBucket, dstKey, nv)
	}
	in, rec, err := s.receiveFor(ctx, rec, dstBucket, dstKey, rc, sinfo.Size, nil)
	nv.rec = rec
	rc.Close()
	if err != nil {
		return store.ObjectInfo{}, err
	}
	return s.commitBody(ctx, dstBucket, dstKey, in, nv)
}

// UpdateObject applies fn to a version's metadata in place, in one guarded
// write of the key's shard. It is not an object change: no hook runs.
func (s *Store) UpdateObject(ctx context.Context, bucket, key, versionID string, fn func(*store.ObjectInfo) error) (store.ObjectInfo, error) {
	return s.update(ctx, bucket, key, versionID, fn, 0)
}

// TransitionObject relabels a version's storage class in the same way,
// reporting the change to the hook in the same write.
func (s *Store) TransitionObject(ctx context.Context, bucket, key, versionID, class string, check func(store.ObjectInfo) error) (store.ObjectInfo, error) {
	return s.update(ctx, bucket, key, versionID, store.Relabel(class, check), store.ChangeTransition)
}

// update applies fn to a version's metadata, retrying conflicts; kind,
// if not 0, is reported to the hook.
func (s *Store) update(ctx context.Context, bucket, key, versionID string, fn func(*store.ObjectInfo) error, kind store.ChangeKind) (store.ObjectInfo, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return store.ObjectInfo{}, err
		}
		info, err := s.tryUpdate(ctx, bucket, key, versionID, fn, kind)
		if !errors.Is(err, errConflict) {
			return info, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return store.ObjectInfo{}, err
		}
	}
	return store.ObjectInfo{}, fmt.Errorf("rados: update %s/%s: %w", bucket, key, errConflict)
}

func (s *Store) tryUpdate(ctx context.Context, bucket, key, versionID string, fn func(*store.ObjectInfo) error, kind store.ChangeKind) (store.ObjectInfo, error) {
	ks, err := s.loadKey(bucket, key)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	v := ks.latest()
	if versionID != "" {
		if v, err = s.byID(ks, key, versionID); err != nil {
			return store.ObjectInfo{}, err
		}
	}
	if v == nil {
		if versionID != "" {
			return store.ObjectInfo{}, fmt.Errorf("%w: %s %s", store.ErrNoSuchVersion, key, versionID)
		}
		return store.ObjectInfo{}, fmt.Errorf("%w: %s", store.ErrNoSuchKey, key)
	}
	v, raw, err := s.readVersionRaw(ks.oid, key, v.Seq)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	if v == nil {
		return store.ObjectInfo{}, errConflict
	}
	vs := ks.rec.Bucket.Versioning
	isLatest := ks.latest().Seq == v.Seq
	info := v.info(bucket, key, vs, isLatest)
	if v.DeleteMarker {
		if versionID == "" {
			return info, fmt.Errorf("%w: %s", store.ErrNoSuchKey, key)
		}
		return info, fmt.Errorf("%w: %s %s", store.ErrMethodNotAllowed, key, versionID)
	}
	if err := fn(&info); err != nil {
		return info, err
	}
	v.Meta, v.Owner = info.Meta, info.Owner
	t := s.newTxn(ctx, ks.oid, map[string][]byte{headRow(key): ks.raw, versionRow(key, v.Seq): raw})
	defer t.close()
	if err := t.setJSON(versionRow(key, v.Seq), v); err != nil {
		return store.ObjectInfo{}, err
	}
	h := *ks.head
	if isLatest {
		h.Latest = headCopy(v)
	}
	if err := t.setJSON(headRow(key), h); err != nil {
		return store.ObjectInfo{}, err
	}
	if kind != 0 {
		seq, err := s.seq.next(ks.lastSeq())
		if err != nil {
			return store.ObjectInfo{}, err
		}
		if err := t.change(kind, ks.rec.Bucket, info, nil, seq); err != nil {
			return store.ObjectInfo{}, err
		}
	}
	return info, t.commit()
}
