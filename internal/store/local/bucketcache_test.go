package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/cairn-s3/cairn/internal/store"
)

// TestBucketCacheSeesEveryUpdate: once UpdateBucket, DeleteBucket or
// CreateBucket returns, every read (GetBucket, and the record a commit
// uses) sees the change, while other goroutines keep reading (and so
// filling the cache) concurrently.
func TestBucketCacheSeesEveryUpdate(t *testing.T) {
	s := openTest(t, Options{})
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b", Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = s.GetBucket(ctx, "b")
				_, _ = s.HeadObject(ctx, "b", "k", store.GetOptions{})
			}
		}()
	}
	defer func() { close(stop); readers.Wait() }()

	for i := range 40 {
		vs := []store.Versioning{store.Enabled, store.Suspended}[i%2]
		if err := s.UpdateBucket(ctx, "b", func(b *store.Bucket) error {
			b.Versioning = vs
			if b.Config == nil {
				b.Config = map[string][]byte{}
			}
			b.Config["n"] = []byte(strconv.Itoa(i))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetBucket(ctx, "b")
		if err != nil || got.Versioning != vs || string(got.Config["n"]) != strconv.Itoa(i) {
			t.Fatalf("update %d: GetBucket = %+v, %v; want versioning %v, n=%d", i, got, err, vs, i)
		}
		// The commit of a PUT reads the record too: its version id
		// follows the versioning state just set.
		info, err := s.PutObject(ctx, "b", "k", bytes.NewReader([]byte("x")), store.PutOptions{Size: 1})
		if err != nil {
			t.Fatal(err)
		}
		if isNull := info.VersionID == store.NullVersion; isNull != (vs == store.Suspended) {
			t.Fatalf("update %d: PUT under %v got version id %q", i, vs, info.VersionID)
		}
	}

	// A bucket deleted and created again is the new one.
	if _, err := s.DeleteObject(ctx, "b", "k", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := purgeVersions(ctx, s, "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBucket(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetBucket(ctx, "b"); !errors.Is(err, store.ErrNoSuchBucket) {
		t.Fatalf("GetBucket after DeleteBucket: %v", err)
	}
	if _, err := s.PutObject(ctx, "b", "k", bytes.NewReader(nil), store.PutOptions{}); !errors.Is(err, store.ErrNoSuchBucket) {
		t.Fatalf("PutObject after DeleteBucket: %v", err)
	}
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b", Owner: "bob"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetBucket(ctx, "b"); err != nil || got.Owner != "bob" || got.Versioning != store.Unversioned || got.Config != nil {
		t.Fatalf("GetBucket of the new bucket = %+v, %v", got, err)
	}
}

// purgeVersions deletes every version and delete marker of a bucket.
func purgeVersions(ctx context.Context, s *Store, bucket string) error {
	page, err := s.ListObjectVersions(ctx, bucket, store.ListVersionsOptions{})
	if err != nil {
		return err
	}
	for _, v := range page.Versions {
		if _, err := s.DeleteObject(ctx, bucket, v.Key, store.DeleteOptions{VersionID: v.VersionID}); err != nil {
			return err
		}
	}
	if page.IsTruncated {
		return fmt.Errorf("more than one page of versions")
	}
	return nil
}

// TestBucketCacheReturnsCopies: a caller changing the Config of a record it
// read, or a failed UpdateBucket, changes nothing the next reader sees.
func TestBucketCacheReturnsCopies(t *testing.T) {
	s := openTest(t, Options{})
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b", Config: map[string][]byte{"policy": []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetBucket(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	got.Config["tagging"] = []byte("<x/>")
	delete(got.Config, "policy")
	errNo := errors.New("no")
	if err := s.UpdateBucket(ctx, "b", func(b *store.Bucket) error {
		b.Config["cors"] = []byte("<y/>")
		b.Versioning = store.Enabled
		return errNo
	}); !errors.Is(err, errNo) {
		t.Fatalf("UpdateBucket: %v", err)
	}
	got, err = s.GetBucket(ctx, "b")
	if err != nil || len(got.Config) != 1 || string(got.Config["policy"]) != "{}" || got.Versioning != store.Unversioned {
		t.Fatalf("GetBucket = %+v, %v; want the record as created", got, err)
	}
}

// TestBucketCacheBounds: the cache holds at most bucketCacheEntries records
// and bucketCacheBytes bytes, and drops a fill that raced an invalidation.
func TestBucketCacheBounds(t *testing.T) {
	c := newBucketCache()
	for i := range bucketCacheEntries + 100 {
		c.fill(store.Bucket{Name: fmt.Sprint("b", i)}, 100, c.generation())
	}
	if len(c.entries) != bucketCacheEntries || c.bytes != 100*bucketCacheEntries {
		t.Errorf("%d entries, %d bytes; want %d, %d", len(c.entries), c.bytes, bucketCacheEntries, 100*bucketCacheEntries)
	}
	c.fill(store.Bucket{Name: "big"}, bucketCacheBytes/2+1, c.generation())
	c.fill(store.Bucket{Name: "big2"}, bucketCacheBytes/2+1, c.generation())
	if c.bytes > bucketCacheBytes {
		t.Errorf("%d bytes cached, bound %d", c.bytes, bucketCacheBytes)
	}
	if _, ok := c.get("big2"); !ok {
		t.Errorf("the latest fill was evicted")
	}
	c.fill(store.Bucket{Name: "huge"}, bucketCacheBytes+1, c.generation())
	if _, ok := c.get("huge"); ok {
		t.Errorf("a record over the byte bound was cached")
	}
	gen := c.generation()
	c.invalidate("unrelated")
	c.fill(store.Bucket{Name: "stale"}, 1, gen)
	if _, ok := c.get("stale"); ok {
		t.Errorf("a fill that began before an invalidation was cached")
	}
}
