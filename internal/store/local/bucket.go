package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
)

// CreateBucket creates a bucket; the name must be free.
func (s *Store) CreateBucket(ctx context.Context, b store.Bucket) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.Name == "" {
		return fmt.Errorf("%w: empty name", store.ErrNoSuchBucket)
	}
	bl := s.bucketLock(b.Name)
	bl.Lock()
	defer bl.Unlock()
	if _, ok, err := (reader{db: s.db}).get(bucketKey(b.Name)); err != nil {
		return fmt.Errorf("local: %w", err)
	} else if ok {
		return fmt.Errorf("%w: %s", store.ErrBucketExists, b.Name)
	}
	if b.Created.IsZero() {
		b.Created = time.Now().UTC()
	}
	return s.writeBucket(ctx, b, nil)
}

// writeBucket commits a bucket record and the system records of w (if
// any) in one batch.
func (s *Store) writeBucket(ctx context.Context, b store.Bucket, w *kv.Batch) error {
	t := s.newTxn(ctx)
	defer t.close()
	if err := t.setJSON(bucketKey(b.Name), b); err != nil {
		return err
	}
	// Invalidated even if the commit fails (it may have reached the log),
	// and before the caller releases the bucket lock: see bucketCache.
	defer s.bcache.invalidate(b.Name)
	if w != nil {
		for _, op := range w.Ops {
			if err := t.kvOp(op); err != nil {
				return err
			}
		}
	}
	return t.commit()
}

// GetBucket returns a bucket's record.
func (s *Store) GetBucket(ctx context.Context, name string) (store.Bucket, error) {
	if err := ctx.Err(); err != nil {
		return store.Bucket{}, err
	}
	return s.readBucket(reader{db: s.db}, name)
}

// ListBuckets returns every bucket, sorted by name.
func (s *Store) ListBuckets(ctx context.Context) ([]store.Bucket, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: tagBucket, UpperBound: prefixEnd(tagBucket)})
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	defer it.Close()
	var out []store.Bucket
	for ok := it.First(); ok; ok = it.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var b store.Bucket
		if err := json.Unmarshal(it.Value(), &b); err != nil {
			return nil, fmt.Errorf("local: corrupt bucket record %q: %w", it.Key(), err)
		}
		out = append(out, b)
	}
	return out, it.Error()
}

// DeleteBucket removes an empty bucket: no version, delete marker or
// upload may remain.
func (s *Store) DeleteBucket(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bl := s.bucketLock(name)
	bl.Lock()
	defer bl.Unlock()
	r := reader{db: s.db}
	if _, _, err := s.readBucketRecord(r, name); err != nil {
		return err
	}
	_, _, ok, err := r.first(tablePrefix(tagObject, name))
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	if ok {
		return fmt.Errorf("%w: %s", store.ErrBucketNotEmpty, name)
	}
	// Holding the bucket lock keeps new uploads out while the open ones
	// are aborted; each abort is durable on its own, so a crash part way
	// leaves a bucket with fewer uploads, never a half-removed one.
	if err := s.abortUploads(ctx, name); err != nil {
		return err
	}
	t := s.newTxn(ctx)
	defer t.close()
	if err := t.b.Delete(bucketKey(name), nil); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	defer s.bcache.invalidate(name)
	return t.commit()
}

// UpdateBucket applies fn to a bucket's record atomically. The name cannot
// change.
func (s *Store) UpdateBucket(ctx context.Context, name string, fn func(*store.Bucket) error) error {
	return s.UpdateBucketRecords(ctx, name, func(b *store.Bucket, _ *kv.Batch) error { return fn(b) })
}

// UpdateBucketRecords applies fn to a bucket's record and commits it with
// the system records fn adds to w, in one batch.
func (s *Store) UpdateBucketRecords(ctx context.Context, name string, fn func(*store.Bucket, *kv.Batch) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bl := s.bucketLock(name)
	bl.Lock()
	defer bl.Unlock()
	// Read-modify-write reads the DB, not the cache, so it stays exact
	// whatever the cache's invariant.
	b, _, err := s.readBucketRecord(reader{db: s.db}, name)
	if err != nil {
		return err
	}
	var w kv.Batch
	if err := fn(&b, &w); err != nil {
		return err
	}
	b.Name = name
	return s.writeBucket(ctx, b, &w)
}

// abortUploads aborts every in-progress upload of a bucket: as in S3 and
// RGW, open uploads do not keep a bucket from being deleted.
func (s *Store) abortUploads(ctx context.Context, bucket string) error {
	var opts store.ListUploadsOptions
	for {
		page, err := s.ListMultipartUploads(ctx, bucket, opts)
		if err != nil {
			return err
		}
		for _, up := range page.Uploads {
			if err := s.AbortMultipartUpload(ctx, bucket, up.Key, up.UploadID); err != nil && !errors.Is(err, store.ErrNoSuchUpload) {
				return err
			}
		}
		if !page.IsTruncated {
			return nil
		}
		opts.KeyMarker, opts.UploadIDMarker = page.NextKeyMarker, page.NextUploadIDMarker
	}
}
