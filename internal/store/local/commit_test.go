package local

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
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

// TestDeleteObjectsOneCommit: the deletes of one DeleteObjects call are one
// commit: every key's hook runs before any key's AfterCommit callback (a
// commit per key would run each key's callbacks before the next key's
// hook).
func TestDeleteObjectsOneCommit(t *testing.T) {
	var mu sync.Mutex
	var order []string
	hook := func(_ context.Context, c store.Change, w store.RecordWriter) error {
		mu.Lock()
		order = append(order, "hook "+c.Object.Key)
		mu.Unlock()
		w.AfterCommit(func() {
			mu.Lock()
			order = append(order, "commit "+c.Object.Key)
			mu.Unlock()
		})
		return nil
	}
	s := openTest(t, Options{Hook: hook})
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	const n = 50
	var entries []store.DeleteEntry
	for i := range n {
		key := fmt.Sprintf("k%02d", i)
		if _, err := s.PutObject(ctx, "b", key, bytes.NewReader([]byte(key)), store.PutOptions{Size: 3}); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, store.DeleteEntry{Key: key})
	}
	mu.Lock()
	order = nil
	mu.Unlock()
	for i, o := range s.DeleteObjects(ctx, "b", entries) {
		if o.Err != nil {
			t.Fatalf("entry %d: %v", i, o.Err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 2*n {
		t.Fatalf("%d hook and commit calls, want %d", len(order), 2*n)
	}
	for i, step := range order {
		if isHook := strings.HasPrefix(step, "hook "); isHook != (i < n) {
			t.Fatalf("step %d is %q: the deletes were not one commit (%v)", i, step, order)
		}
	}
}

// TestChangeSequenceGrowsAcrossRestarts: the sequence a change reports
// (event ids and sequencers derive from it) keeps growing for an object
// after a restart, so no id of an earlier run is ever handed out again.
func TestChangeSequenceGrowsAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	var seqs []uint64
	hook := func(_ context.Context, c store.Change, _ store.RecordWriter) error {
		seqs = append(seqs, c.Sequence)
		return nil
	}
	ctx := context.Background()
	for run := range 3 {
		s, err := Open(dir, Options{Hook: hook})
		if err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			if _, err := s.PutObject(ctx, "b", "k", bytes.NewReader([]byte("same")), store.PutOptions{Size: 4}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("sequences %v do not grow across restarts", seqs)
		}
	}
}
