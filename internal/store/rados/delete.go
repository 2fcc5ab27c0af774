//go:build rados

package rados

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// DeleteObject removes a version, or adds a delete marker, in one guarded
// write of the key's shard.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string, opts store.DeleteOptions) (store.DeleteResult, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return store.DeleteResult{}, err
		}
		res, err := s.tryDelete(ctx, bucket, key, opts)
		if !errors.Is(err, errConflict) {
			return res, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return store.DeleteResult{}, err
		}
	}
	return store.DeleteResult{}, fmt.Errorf("rados: delete %s/%s: %w", bucket, key, errConflict)
}

// DeleteObjects deletes each entry on its own: entries of one bucket live
// in different shards, and each is atomic by itself.
func (s *Store) DeleteObjects(ctx context.Context, bucket string, entries []store.DeleteEntry) []store.DeleteOutcome {
	out := make([]store.DeleteOutcome, len(entries))
	for i, e := range entries {
		out[i].Result, out[i].Err = s.DeleteObject(ctx, bucket, e.Key, e.Options)
	}
	return out
}

func (s *Store) tryDelete(ctx context.Context, bucket, key string, opts store.DeleteOptions) (store.DeleteResult, error) {
	ks, err := s.loadKey(bucket, key)
	if err != nil {
		return store.DeleteResult{}, err
	}
	if opts.VersionID != "" || ks.rec.Bucket.Versioning == store.Unversioned {
		return s.tryVersionDelete(ctx, ks, bucket, key, opts)
	}
	b := ks.rec.Bucket
	if opts.CheckHidden != nil {
		// The commit is guarded by the head row read here, so what is
		// checked is what the marker hides.
		var hi *store.ObjectInfo
		if l := ks.latest(); l != nil {
			info := l.info(bucket, key, b.Versioning, true)
			hi = &info
		}
		if err := opts.CheckHidden(hi); err != nil {
			return store.DeleteResult{}, err
		}
	}
	seq, err := s.seq.next(ks.lastSeq())
	if err != nil {
		return store.DeleteResult{}, err
	}
	dm := &version{Seq: seq, Null: b.Versioning == store.Suspended, DeleteMarker: true,
		Modified: time.Now().UTC(), Owner: opts.Owner}
	t := s.newTxn(ctx, ks.oid, map[string][]byte{headRow(key): ks.raw})
	defer t.close()
	t.freesSpace()
	var hidden *store.ObjectInfo
	if l := ks.latest(); l != nil {
		hi := l.info(bucket, key, b.Versioning, false)
		hidden = &hi
	}
	if err := s.putVersion(t, ks, key, dm); err != nil {
		return store.DeleteResult{}, err
	}
	info := dm.info(bucket, key, b.Versioning, true)
	if err := t.change(store.ChangeDeleteMarkerCreated, b, info, hidden, seq); err != nil {
		return store.DeleteResult{}, err
	}
	if err := t.commit(); err != nil {
		return store.DeleteResult{}, err
	}
	return store.DeleteResult{VersionID: info.VersionID, DeleteMarker: true}, nil
}

// tryVersionDelete removes one version (the null version in an
// unversioned bucket); removing the latest promotes the next newest.
func (s *Store) tryVersionDelete(ctx context.Context, ks *keyState, bucket, key string, opts store.DeleteOptions) (store.DeleteResult, error) {
	id := opts.VersionID
	if id == "" {
		id = store.NullVersion
	}
	v, err := s.byID(ks, key, id)
	if err != nil {
		return store.DeleteResult{}, err
	}
	if v == nil {
		return store.DeleteResult{VersionID: opts.VersionID}, nil
	}
	// Check judges this content: an update of the version's metadata (a
	// legal hold) leaves the head alone, so the row itself is guarded.
	v, raw, err := s.readVersionRaw(ks.oid, key, v.Seq)
	if err != nil {
		return store.DeleteResult{}, err
	}
	if v == nil {
		return store.DeleteResult{}, errConflict
	}
	b := ks.rec.Bucket
	isLatest := ks.latest().Seq == v.Seq
	info := v.info(bucket, key, b.Versioning, isLatest)
	if opts.Check != nil {
		if err := opts.Check(info); err != nil {
			return store.DeleteResult{}, err
		}
	}
	seq, err := s.seq.next(ks.lastSeq())
	if err != nil {
		return store.DeleteResult{}, err
	}
	t := s.newTxn(ctx, ks.oid, map[string][]byte{headRow(key): ks.raw, versionRow(key, v.Seq): raw})
	defer t.close()
	t.freesSpace()
	t.rmRow(versionRow(key, v.Seq))
	if err := t.garbage(v.Data); err != nil {
		return store.DeleteResult{}, err
	}
	h := *ks.head
	h.Seq = seq // every change rewrites the head: concurrent deletes conflict
	if v.Null {
		h.NullSeq = 0
	}
	if isLatest {
		next, err := s.nextOlder(ks.oid, key, v.Seq)
		if err != nil {
			return store.DeleteResult{}, err
		}
		h.Latest = headCopy(next)
	}
	// A key without versions keeps its head (Latest nil) so that its next
	// change still gets a sequence past this one, from any gateway.
	if err := t.setJSON(headRow(key), h); err != nil {
		return store.DeleteResult{}, err
	}
	if err := t.change(store.ChangeDelete, b, info, nil, seq); err != nil {
		return store.DeleteResult{}, err
	}
	if err := t.commit(); err != nil {
		return store.DeleteResult{}, err
	}
	return store.DeleteResult{VersionID: opts.VersionID, DeleteMarker: v.DeleteMarker}, nil
}

// nextOlder returns key's newest version older than seq, nil if none.
func (s *Store) nextOlder(oid, key string, seq uint64) (*version, error) {
	rows, _, err := rangeRows(s.io, oid, versionRow(key, seq), versionRowsOf(key), 1)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	v := new(version)
	return v, decodeRow(rows[0].Value, v)
}
