//go:build rados

package rados

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ceph/go-ceph/rados"

	"github.com/cairn-s3/cairn/internal/store"
)

func putString(t *testing.T, s *Store, bucket, key, body string) store.ObjectInfo {
	t.Helper()
	info, err := s.PutObject(context.Background(), bucket, key, strings.NewReader(body), store.PutOptions{Size: int64(len(body))})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return info
}

func getString(t *testing.T, s *Store, bucket, key string) string {
	t.Helper()
	_, rc, err := s.GetObject(context.Background(), bucket, key, store.GetOptions{})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return string(b)
}

// Versioning enabled through gateway A applies to the very next PUT
// through gateway B, although B had the bucket's record cached: A's
// UpdateBucket returns only once B dropped it.
func TestBucketCacheVersioningSeenByOtherGateway(t *testing.T) {
	a, b := twoGateways(t, nil)
	ctx := context.Background()
	if err := a.CreateBucket(ctx, store.Bucket{Name: "b", Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	putString(t, b, "b", "k", "one") // B caches the unversioned record
	if info := putString(t, b, "b", "k", "two"); info.VersionID != "" {
		t.Fatalf("unversioned PUT got version id %q", info.VersionID)
	}
	if err := a.UpdateBucket(ctx, "b", func(bk *store.Bucket) error {
		bk.Versioning = store.Enabled
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	info := putString(t, b, "b", "k", "three")
	if info.VersionID == "" || info.VersionID == store.NullVersion {
		t.Fatalf("PUT through B after versioning was enabled through A: version id %q, want a new version", info.VersionID)
	}
	got, err := b.GetBucket(ctx, "b")
	if err != nil || got.Versioning != store.Enabled {
		t.Fatalf("B's bucket record: %+v %v", got, err)
	}
}

// A bucket deleted through A is gone for B at once.
func TestBucketCacheDeletionSeenByOtherGateway(t *testing.T) {
	a, b := twoGateways(t, nil)
	ctx := context.Background()
	if err := a.CreateBucket(ctx, store.Bucket{Name: "b", Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetBucket(ctx, "b"); err != nil { // B caches it
		t.Fatal(err)
	}
	if err := a.DeleteBucket(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetBucket(ctx, "b"); !errors.Is(err, store.ErrNoSuchBucket) {
		t.Fatalf("B's GetBucket of a bucket deleted through A: %v, want ErrNoSuchBucket", err)
	}
	body := "x"
	if _, err := b.PutObject(ctx, "b", "k", strings.NewReader(body), store.PutOptions{Size: 1}); !errors.Is(err, store.ErrNoSuchBucket) {
		t.Fatalf("B's PUT into a bucket deleted through A: %v, want ErrNoSuchBucket", err)
	}
}

// A bucket deleted and created again through A: B's writes, small and
// striped, land in the new bucket, and B lists the new bucket's objects.
func TestBucketCacheRecreationSeenByOtherGateway(t *testing.T) {
	a, b := twoGateways(t, nil)
	recreateBehindB(t, a, b)
}

// recreateBehindB has B cache bucket "b", deletes and recreates it through
// A, then checks that B writes into and reads from the new one.
func recreateBehindB(t *testing.T, a, b *Store) {
	t.Helper()
	ctx := context.Background()
	if err := a.CreateBucket(ctx, store.Bucket{Name: "b", Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	putString(t, b, "b", "old", "old") // B caches the first bucket's record
	if _, err := a.DeleteObject(ctx, "b", "old", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteBucket(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateBucket(ctx, store.Bucket{Name: "b", Owner: "o2"}); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("s"), 64<<10) // past the inline threshold: stripes and an intent row
	if _, err := b.PutObject(ctx, "b", "big", bytes.NewReader(big), store.PutOptions{Size: int64(len(big))}); err != nil {
		t.Fatalf("B's striped PUT into the recreated bucket: %v", err)
	}
	putString(t, b, "b", "small", "new")
	if got := getString(t, a, "b", "small"); got != "new" {
		t.Fatalf("A reads %q from the recreated bucket", got)
	}
	if got := getString(t, a, "b", "big"); got != string(big) {
		t.Fatalf("A reads %d bytes of the striped object", len(got))
	}
	if got := getErr(b, "b", "old"); !errors.Is(got, store.ErrNoSuchKey) {
		t.Fatalf("B's GET of an object of the deleted bucket: %v, want ErrNoSuchKey", got)
	}
	res, err := b.ListObjects(ctx, "b", store.ListOptions{})
	if err != nil || len(res.Objects) != 2 {
		t.Fatalf("B lists the recreated bucket: %+v %v", res.Objects, err)
	}
	got, err := b.GetBucket(ctx, "b")
	if err != nil || got.Owner != "o2" {
		t.Fatalf("B's record of the recreated bucket: %+v %v", got, err)
	}
}

func getErr(s *Store, bucket, key string) error {
	_, rc, err := s.GetObject(context.Background(), bucket, key, store.GetOptions{})
	if err == nil {
		rc.Close()
	}
	return err
}

// A writer that dies between its write of a record and its notify leaves
// B a stale entry; B's next use of the bucket's index finds the old shards
// gone and reads the record again, so B's writes still land in the new
// bucket and no object is lost.
func TestBucketCacheStaleEntryAfterLostNotify(t *testing.T) {
	a, b := twoGateways(t, nil)
	a.quiet = true
	recreateBehindB(t, a, b)

	// A deletion without notify: B's GET answers NoSuchBucket, not
	// NoSuchKey, as its first look at the missing shard refreshes.
	ctx := context.Background()
	for _, k := range []string{"small", "big"} {
		if _, err := a.DeleteObject(ctx, "b", k, store.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.DeleteBucket(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if got := getErr(b, "b", "small"); !errors.Is(got, store.ErrNoSuchBucket) {
		t.Fatalf("B's GET in a bucket deleted without notify: %v, want ErrNoSuchBucket", got)
	}

	// So does a part of an upload B started (not NoSuchUpload).
	if err := a.CreateBucket(ctx, store.Bucket{Name: "b", Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	up, err := b.CreateMultipartUpload(ctx, "b", "mp", store.PutOptions{}) // B caches the record
	if err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteBucket(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	_, err = b.UploadPart(ctx, "b", "mp", up.UploadID, 1, strings.NewReader("p"), store.PartOptions{Size: 1})
	if !errors.Is(err, store.ErrNoSuchBucket) {
		t.Fatalf("B's part of an upload in a bucket deleted without notify: %v, want ErrNoSuchBucket", err)
	}
}

// In a steady state a gateway reads no bucket record from the cluster:
// PUTs (inline and striped), GETs, HEADs and lists are served from the
// cache. Without the cache every one of them read the metadata object.
func TestBucketCacheSteadyStateReadsNoRecord(t *testing.T) {
	s := openFresh(t, nil)
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b", Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	putString(t, s, "b", "warm", "up")
	before := s.bucketReads.Load()
	big := bytes.Repeat([]byte("s"), 64<<10)
	for i := range 10 {
		putString(t, s, "b", "k", strings.Repeat("v", 4<<10))
		if _, err := s.PutObject(ctx, "b", "big", bytes.NewReader(big), store.PutOptions{Size: int64(len(big))}); err != nil {
			t.Fatal(err)
		}
		if got := getString(t, s, "b", "k"); len(got) != 4<<10 {
			t.Fatalf("round %d: got %d bytes", i, len(got))
		}
		if _, err := s.HeadObject(ctx, "b", "big", store.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ListObjects(ctx, "b", store.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetBucket(ctx, "b"); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.bucketReads.Load() - before; n != 0 {
		t.Fatalf("%d reads of the bucket record in a steady state, want 0", n)
	}
}

// With the cache disabled every request reads the record (the counter the
// steady-state test relies on counts).
func TestBucketCacheDisabledReadsEveryTime(t *testing.T) {
	a := openFresh(t, nil)
	pool, err := a.io.GetPoolName()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), Options{Conn: testConn(t), Pool: pool, Shards: 3, BucketCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateBucket(context.Background(), store.Bucket{Name: "b", Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	before := s.bucketReads.Load()
	putString(t, s, "b", "k", "v")
	if n := s.bucketReads.Load() - before; n == 0 {
		t.Fatal("a PUT without the cache read no bucket record")
	}
}

// The cache's own rules, without a cluster: expiry, a lost watch, and a
// fill that raced an invalidation.
func TestBucketCacheRules(t *testing.T) {
	now := time.Now()
	rec := &bucketRecord{Bucket: store.Bucket{Name: "b", Config: map[string][]byte{"policy": []byte("p")}}, ID: "id"}
	c := newBucketCache(10 * time.Second)
	c.fill(rec, 10, c.generation(), now)
	if _, ok := c.get("b", now); ok {
		t.Fatal("served before the watch was established")
	}
	c.setLive(true)
	c.fill(rec, 10, c.generation(), now)
	got, ok := c.get("b", now.Add(9*time.Second))
	if !ok || got.ID != "id" {
		t.Fatalf("fresh entry: %+v %v", got, ok)
	}
	delete(got.Bucket.Config, "policy")
	if again, _ := c.get("b", now); again.Bucket.Config["policy"] == nil {
		t.Fatal("a caller's change of Config reached the cache")
	}
	if _, ok := c.get("b", now.Add(10*time.Second)); ok {
		t.Fatal("served past its age bound")
	}

	gen := c.generation()
	c.invalidate("other")
	c.fill(rec, 10, gen, now)
	if _, ok := c.get("b", now); !ok {
		t.Fatal("the entry filled before went with another bucket's invalidation")
	}
	c.invalidate("b")
	c.fill(rec, 10, gen, now) // read before the invalidation: maybe older
	if _, ok := c.get("b", now); ok {
		t.Fatal("a fill that raced an invalidation was kept")
	}

	c.fill(rec, 10, c.generation(), now)
	gen = c.generation()
	c.setLive(false) // watch lost
	if _, ok := c.get("b", now); ok {
		t.Fatal("served while the watch was lost")
	}
	c.fill(rec, 10, c.generation(), now)
	c.setLive(true)
	if _, ok := c.get("b", now); ok {
		t.Fatal("an entry filled while the watch was lost survived its return")
	}
	c.fill(rec, 10, gen, now)
	if _, ok := c.get("b", now); ok {
		t.Fatal("a fill that started before the watch was lost was kept")
	}
}

// A lost watch (here: its object deleted, which ends every watch on it)
// empties the cache and bypasses it, so every request reads the record,
// until the watch is back.
func TestBucketCacheBypassedWhileWatchLost(t *testing.T) {
	s := openFresh(t, nil)
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b", Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	putString(t, s, "b", "k", "v")
	reads := func() uint64 {
		before := s.bucketReads.Load()
		if _, err := s.GetBucket(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		return s.bucketReads.Load() - before
	}
	if n := reads(); n != 0 {
		t.Fatalf("%d reads with the watch up", n)
	}
	if err := s.io.Delete(bucketsOID); err != nil {
		t.Fatal(err)
	}
	waitLive(t, s, false)
	for range 3 {
		if n := reads(); n != 1 {
			t.Fatalf("%d reads of the record while the watch is lost, want 1 per request", n)
		}
	}
	if err := s.io.Create(bucketsOID, rados.CreateIdempotent); err != nil {
		t.Fatal(err)
	}
	waitLive(t, s, true)
	reads() // fills
	if n := reads(); n != 0 {
		t.Fatalf("%d reads once the watch is back", n)
	}
}

// waitLive waits (bounded) until the cache's watch state is live.
func waitLive(t *testing.T, s *Store, live bool) {
	t.Helper()
	for range 300 {
		s.buckets.mu.RLock()
		got := s.buckets.live
		s.buckets.mu.RUnlock()
		if got == live {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the bucket cache's watch never became live=%v", live)
}
