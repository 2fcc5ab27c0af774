//go:build rados

package rados

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
)

// bucket returns a bucket's record, from the cache if it holds it. Its
// row's bytes are not returned: a write guarded by them reads the record
// fresh (readBucket), since a cached copy may be stale by the time its
// guard runs.
func (s *Store) bucket(name string) (*bucketRecord, error) {
	if rec, ok := s.buckets.get(name, time.Now()); ok {
		return rec, nil
	}
	return s.fillBucket(name)
}

// refreshBucket is bucket reading the cluster: for a caller that met a
// sign that its record is stale (a commit's guard failed, the index shard
// is gone or closed).
func (s *Store) refreshBucket(name string) (*bucketRecord, error) {
	s.buckets.forget(name)
	return s.fillBucket(name)
}

// bucketFor is bucket for attempt of a commit: a retry refreshes it.
func (s *Store) bucketFor(name string, attempt int) (*bucketRecord, error) {
	if attempt > 0 {
		return s.refreshBucket(name)
	}
	return s.bucket(name)
}

// fillBucket reads a bucket's record from the cluster into the cache.
func (s *Store) fillBucket(name string) (*bucketRecord, error) {
	gen, started := s.buckets.generation(), time.Now()
	rec, raw, err := s.readBucket(name)
	if err != nil {
		return nil, err
	}
	s.buckets.fill(rec, len(raw), gen, started)
	return rec, nil
}

// readBucket returns a bucket's record and its row as stored (the bytes a
// guard compares), read from the cluster.
func (s *Store) readBucket(name string) (*bucketRecord, []byte, error) {
	if name == "" {
		return nil, nil, fmt.Errorf("%w: empty name", store.ErrNoSuchBucket)
	}
	s.bucketReads.Add(1)
	raw, err := getRow(s.io, metaOID, rowBucket+name)
	if err != nil {
		return nil, nil, err
	}
	if raw == nil {
		return nil, nil, fmt.Errorf("%w: %s", store.ErrNoSuchBucket, name)
	}
	rec, err := decodeBucket(raw)
	return rec, raw, err
}

func decodeBucket(raw []byte) (*bucketRecord, error) {
	data, err := unwrap(raw)
	if err != nil {
		return nil, err
	}
	rec := new(bucketRecord)
	if err := json.Unmarshal(data, rec); err != nil {
		return nil, fmt.Errorf("rados: corrupt bucket record: %w", err)
	}
	return rec, nil
}

// CreateBucket creates the bucket's index shards, then publishes its record
// under an omap guard that the name is free: of concurrent creations of
// one name exactly one succeeds, on any number of gateways.
func (s *Store) CreateBucket(ctx context.Context, b store.Bucket) error {
	if b.Name == "" {
		return fmt.Errorf("%w: empty name", store.ErrNoSuchBucket)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.Created.IsZero() {
		b.Created = time.Now().UTC()
	}
	rec := bucketRecord{Bucket: b, ID: newID(), Shards: s.shards}
	for n := range rec.Shards {
		op := newWriteOp()
		op.create(true)
		err := op.operate(s.io, shardOID(rec.ID, n))
		op.release()
		if err != nil {
			s.removeShards(&rec)
			return err
		}
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("rados: encode: %w", err)
	}
	op := newWriteOp()
	defer op.release()
	op.omapEqual(rowBucket+b.Name, nil)
	op.omapSet(map[string][]byte{rowBucket + b.Name: wrap(data)})
	if err := op.operate(s.io, metaOID); err != nil {
		s.removeShards(&rec)
		if errors.Is(err, errConflict) {
			return fmt.Errorf("%w: %s", store.ErrBucketExists, b.Name)
		}
		return err
	}
	// No gateway caches an absent record, but one may still hold the
	// record of an earlier bucket of this name whose deleter died before
	// its notify.
	s.bucketsChanged(b.Name)
	return nil
}

func (s *Store) removeShards(rec *bucketRecord) {
	for n := range rec.Shards {
		if err := s.remove(shardOID(rec.ID, n)); err != nil && !isNotFound(err) {
			s.log.Warn("rados: remove index shard", "object", shardOID(rec.ID, n), "err", err)
		}
	}
}

// GetBucket returns a bucket's record.
func (s *Store) GetBucket(ctx context.Context, name string) (store.Bucket, error) {
	if err := ctx.Err(); err != nil {
		return store.Bucket{}, err
	}
	rec, err := s.bucket(name)
	if err != nil {
		return store.Bucket{}, err
	}
	return rec.Bucket, nil
}

// ListBuckets returns every bucket, sorted by name.
func (s *Store) ListBuckets(ctx context.Context) ([]store.Bucket, error) {
	var out []store.Bucket
	err := s.eachBucket(ctx, func(rec *bucketRecord, _ []byte) { out = append(out, rec.Bucket) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachBucket calls fn with every bucket record and its row as stored, in
// name order.
func (s *Store) eachBucket(ctx context.Context, fn func(rec *bucketRecord, raw []byte)) error {
	s.bucketWalks.Add(1)
	c := newCursor(s.io, metaOID, rowBucket, "")
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, ok, err := c.peek()
		if err != nil || !ok {
			return err
		}
		c.next()
		rec, err := decodeBucket(r.Value)
		if err != nil {
			return err
		}
		fn(rec, r.Value)
	}
}

// UpdateBucket applies fn to the bucket atomically.
func (s *Store) UpdateBucket(ctx context.Context, name string, fn func(*store.Bucket) error) error {
	return s.UpdateBucketRecords(ctx, name, func(b *store.Bucket, _ *kv.Batch) error { return fn(b) })
}

// UpdateBucketRecords applies fn and commits the bucket record with the
// kv writes fn adds in one write of the metadata object, guarded by the
// record being what fn saw (fn runs again if it changed meanwhile).
func (s *Store) UpdateBucketRecords(ctx context.Context, name string, fn func(b *store.Bucket, w *kv.Batch) error) error {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, raw, err := s.readBucket(name)
		if err != nil {
			return err
		}
		var batch kv.Batch
		if err := fn(&rec.Bucket, &batch); err != nil {
			return err
		}
		rec.Bucket.Name = name
		data, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("rados: encode: %w", err)
		}
		op := newWriteOp()
		op.omapEqual(rowBucket+name, raw)
		if err := addKVOps(op, batch.Ops, map[string][]byte{rowBucket + name: wrap(data)}); err != nil {
			op.release()
			return err
		}
		err = op.operate(s.io, metaOID)
		op.release()
		if !errors.Is(err, errConflict) {
			// An error may still have applied the write (a timeout).
			s.bucketsChanged(name)
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
	return fmt.Errorf("rados: update bucket %s: %w", name, errConflict)
}

// DeleteBucket closes the bucket's shards (every commit to a shard is
// guarded by it being open), checks that they hold no version, aborts the
// uploads, and removes the record under a guard that it is unchanged.
// A bucket found not empty is reopened.
func (s *Store) DeleteBucket(ctx context.Context, name string) error {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, raw, err := s.readBucket(name)
		if err != nil {
			return err
		}
		if err := s.setClosed(rec, true); err != nil {
			return err
		}
		empty, err := s.shardsEmpty(rec)
		if err != nil || !empty {
			if rerr := s.setClosed(rec, false); rerr != nil {
				s.log.Warn("rados: reopen bucket", "bucket", name, "err", rerr)
			}
			if err != nil {
				return err
			}
			return fmt.Errorf("%w: %s", store.ErrBucketNotEmpty, name)
		}
		if err := s.keepRecords(ctx, rec); err != nil {
			if rerr := s.setClosed(rec, false); rerr != nil {
				s.log.Warn("rados: reopen bucket", "bucket", name, "err", rerr)
			}
			return err
		}
		op := newWriteOp()
		op.omapEqual(rowBucket+name, raw)
		op.omapRm([]string{rowBucket + name, rowEvented + rec.ID})
		err = op.operate(s.io, metaOID)
		op.release()
		if !errors.Is(err, errConflict) {
			s.bucketsChanged(name)
		}
		if errors.Is(err, errConflict) {
			if rerr := s.setClosed(rec, false); rerr != nil {
				return rerr
			}
			continue
		}
		if err != nil {
			return err
		}
		s.dropShards(ctx, rec)
		return nil
	}
	return fmt.Errorf("rados: delete bucket %s: %w", name, errConflict)
}

// closeTTL is how long a bucket deletion may keep its shards closed; a
// closure older than that is a dead gateway's, and the next writer resumes
// the deletion (resumeDelete).
const closeTTL = 30 * time.Second

// resumeDelete finishes or undoes the deletion of a bucket whose shards a
// gateway closed and left closed (it died). While every shard is closed no
// write lands, so whichever gateways look, the dead one included if it was
// only slow, see the same shards and decide alike: empty buckets are
// deleted, others reopened.
func (s *Store) resumeDelete(ctx context.Context, name string) {
	rec, raw, err := s.readBucket(name)
	if err != nil {
		return
	}
	s.log.Warn("rados: resuming a bucket deletion left unfinished", "bucket", name)
	if err := s.setClosed(rec, true); err != nil {
		return
	}
	empty, err := s.shardsEmpty(rec)
	if err == nil && empty {
		err = s.keepRecords(ctx, rec)
	}
	if err == nil && empty {
		op := newWriteOp()
		op.omapEqual(rowBucket+name, raw)
		op.omapRm([]string{rowBucket + name, rowEvented + rec.ID})
		err = op.operate(s.io, metaOID)
		op.release()
		if !errors.Is(err, errConflict) {
			s.bucketsChanged(name)
		}
		if err == nil {
			s.dropShards(ctx, rec)
			return
		}
	}
	if err := s.setClosed(rec, false); err != nil {
		s.log.Warn("rados: reopen bucket", "bucket", name, "err", err)
	}
}

// staleClosure reports whether a shard's closed row (as stored) is older
// than closeTTL.
func staleClosure(raw []byte) bool {
	v, err := unwrap(raw)
	if err != nil {
		return true
	}
	at, err := time.Parse(time.RFC3339Nano, string(v))
	return err != nil || time.Since(at) > closeTTL
}

func (s *Store) setClosed(rec *bucketRecord, closed bool) error {
	for n := range rec.Shards {
		op := newWriteOp()
		op.assertExists()
		if closed {
			op.omapSet(map[string][]byte{rowClosed: wrap([]byte(time.Now().UTC().Format(time.RFC3339Nano)))})
		} else {
			op.omapRm([]string{rowClosed})
		}
		err := op.operate(s.io, shardOID(rec.ID, n))
		op.release()
		if err != nil {
			return err
		}
	}
	return nil
}

// shardsEmpty reports whether no shard holds a version of any key.
func (s *Store) shardsEmpty(rec *bucketRecord) (bool, error) {
	for n := range rec.Shards {
		rows, _, err := rangeRows(s.io, shardOID(rec.ID, n), "", rowVersion, 1)
		if err != nil || len(rows) > 0 {
			return false, err
		}
	}
	return true, nil
}

// keepRecords copies the event records still in a deleted bucket's shards
// (undelivered events of acknowledged changes, subscription drafts not yet
// moved) into the metadata object, which is always drained, under the same
// keys. It runs while the shards are closed and before the bucket's record
// goes, so a crash at any point leaves the records in a drained place; a
// record also delivered by the shard's holder meanwhile, or copied by a
// deletion that then fails, is delivered twice (at least once, never lost).
func (s *Store) keepRecords(ctx context.Context, rec *bucketRecord) error {
	for n := range rec.Shards {
		c := newCursor(s.io, shardOID(rec.ID, n), rowRecord, "")
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			set := map[string][]byte{}
			for len(set) < cursorPage {
				r, ok, err := c.peek()
				if err != nil {
					return err
				}
				if !ok {
					break
				}
				c.next()
				set[rowKV+r.Key[len(rowRecord):]] = r.Value
			}
			if len(set) == 0 {
				break
			}
			op := newWriteOp()
			op.freesSpace()
			op.omapSet(set)
			err := op.operate(s.io, metaOID)
			op.release()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// dropShards removes a deleted bucket's shards with the data their uploads
// and garbage rows still reference.
func (s *Store) dropShards(ctx context.Context, rec *bucketRecord) {
	for n := range rec.Shards {
		oid := shardOID(rec.ID, n)
		for _, prefix := range []string{rowPart, rowGarbage} {
			c := newCursor(s.io, oid, prefix, "")
			for ctx.Err() == nil {
				r, ok, err := c.peek()
				if err != nil || !ok {
					break
				}
				c.next()
				if segs, err := decodeSegments(r.Value); err == nil {
					s.removeSegments(segs...)
				}
			}
		}
	}
	s.removeShards(rec)
}
