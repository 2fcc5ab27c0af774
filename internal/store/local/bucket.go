package local

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble"

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
	s.buckets.Lock()
	defer s.buckets.Unlock()
	if _, ok, err := (reader{db: s.db}).get(bucketKey(b.Name)); err != nil {
		return fmt.Errorf("local: %w", err)
	} else if ok {
		return fmt.Errorf("%w: %s", store.ErrBucketExists, b.Name)
	}
	if b.Created.IsZero() {
		b.Created = time.Now().UTC()
	}
	return s.writeBucket(ctx, b)
}

func (s *Store) writeBucket(ctx context.Context, b store.Bucket) error {
	t := s.newTxn(ctx)
	defer t.close()
	if err := t.setJSON(bucketKey(b.Name), b); err != nil {
		return err
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
	s.buckets.Lock()
	defer s.buckets.Unlock()
	r := reader{db: s.db}
	if _, err := s.readBucket(r, name); err != nil {
		return err
	}
	for _, tag := range [][]byte{tagObject, tagUpload} {
		_, _, ok, err := r.first(tablePrefix(tag, name))
		if err != nil {
			return fmt.Errorf("local: %w", err)
		}
		if ok {
			return fmt.Errorf("%w: %s", store.ErrBucketNotEmpty, name)
		}
	}
	t := s.newTxn(ctx)
	defer t.close()
	if err := t.b.Delete(bucketKey(name), nil); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	return t.commit()
}

// UpdateBucket applies fn to a bucket's record atomically. The name cannot
// change.
func (s *Store) UpdateBucket(ctx context.Context, name string, fn func(*store.Bucket) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.buckets.Lock()
	defer s.buckets.Unlock()
	b, err := s.readBucket(reader{db: s.db}, name)
	if err != nil {
		return err
	}
	if err := fn(&b); err != nil {
		return err
	}
	b.Name = name
	return s.writeBucket(ctx, b)
}
