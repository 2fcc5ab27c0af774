package local

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// otherStripe returns a bucket name whose lock is not name's.
func otherStripe(t *testing.T, s *Store, name string) string {
	t.Helper()
	for i := range 1000 {
		other := fmt.Sprintf("other-%d", i)
		if s.bucketLock(other) != s.bucketLock(name) {
			return other
		}
	}
	t.Fatal("no bucket name outside the first bucket's lock stripe")
	return ""
}

// TestBucketChangeDoesNotBlockOtherBuckets: while a bucket change holds
// its bucket's lock (and would fsync under it), writes to another bucket
// commit: no lock that every bucket's writes need is held by a bucket
// change. UpdateBucket's callback runs under that lock, so it waits there
// for a PUT to another bucket; the wait is bounded so that a regression
// fails instead of hanging.
func TestBucketChangeDoesNotBlockOtherBuckets(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := context.Background()
	other := otherStripe(t, s, "busy")
	for _, name := range []string{"busy", other} {
		if err := s.CreateBucket(ctx, store.Bucket{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	put := make(chan error, 1)
	err := s.UpdateBucket(ctx, "busy", func(*store.Bucket) error {
		go func() {
			_, err := s.PutObject(ctx, other, "k", bytes.NewReader([]byte("x")), store.PutOptions{Size: 1})
			put <- err
		}()
		select {
		case err := <-put:
			return err
		case <-time.After(10 * time.Second):
			return fmt.Errorf("a PUT to bucket %q waited for an UpdateBucket of bucket busy", other)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}
