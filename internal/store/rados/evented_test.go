//go:build rados

package rados

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// The ids of Evented buckets a gateway remembers (to skip the mark's read
// on later commits) are forgotten once their buckets are gone: a gateway
// serving short-lived buckets with notifications must not grow forever.
func TestEventedBucketsForgottenWhenDeleted(t *testing.T) {
	s := openFresh(t, everyChange("q/t/"))
	ctx := context.Background()
	for i := range 3 {
		name := fmt.Sprint("tmp", i)
		if err := s.CreateBucket(ctx, store.Bucket{Name: name, Owner: "o"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutObject(ctx, name, "k", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeleteObject(ctx, name, "k", store.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteBucket(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.drainUnits(ctx); err != nil { // a drain pass
		t.Fatal(err)
	}
	var left []any
	s.evented.Range(func(id, _ any) bool { left = append(left, id); return true })
	if len(left) != 0 {
		t.Fatalf("ids of deleted buckets still remembered as Evented after a drain pass: %v", left)
	}
}

// The index of Evented buckets follows their records: the commit that
// marks a bucket indexes it, its deletion removes the row, and drain
// passes read the index only — a pass does not walk every bucket record
// (it did, every TTL/3 on every gateway), except to mend the index at its
// first pass.
func TestEventedIndexFollowsRecords(t *testing.T) {
	s := openFresh(t, recordsOf("ev"))
	ctx := context.Background()
	for _, name := range []string{"ev", "quiet"} {
		if err := s.CreateBucket(ctx, store.Bucket{Name: name, Owner: "o"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutObject(ctx, name, "k", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	ev, _, err := s.readBucket("ev")
	if err != nil {
		t.Fatal(err)
	}
	index, err := s.eventedIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(index) != 1 || index[ev.ID] != ev.Shards {
		t.Fatalf("Evented index %v, want only ev (%s) with %d shards", index, ev.ID, ev.Shards)
	}

	w := &drainWatch{holders: map[string][]string{}}
	dctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	walks := s.bucketWalks.Load()
	go func() {
		defer close(done)
		_ = s.Drain(dctx, DrainOptions{TTL: 600 * time.Millisecond, Run: w.run("a")})
	}()
	oids := []string{metaOID}
	for n := range ev.Shards {
		oids = append(oids, shardOID(ev.ID, n))
	}
	waitFor(t, "ev's shards held", func() bool { return w.held("a", oids) == len(oids) })
	time.Sleep(time.Second) // five more passes
	if n := s.bucketWalks.Load() - walks; n != 1 {
		t.Errorf("drain passes walked every bucket record %d times over some five passes, want once (the first pass's mending)", n)
	}

	// Deleting the bucket removes its row; its shards are let go.
	if _, err := s.DeleteObject(ctx, "ev", "k", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBucket(ctx, "ev"); err != nil {
		t.Fatal(err)
	}
	if index, err = s.eventedIndex(ctx); err != nil || len(index) != 0 {
		t.Fatalf("Evented index after deleting ev: %v, %v; want empty", index, err)
	}
	waitFor(t, "ev's shards let go", func() bool { return w.held("a", oids[1:]) == 0 })
	stop()
	<-done
}

// A gateway from before the index marks buckets without indexing them and
// deletes buckets without removing their rows: a newer gateway's first
// drain pass mends the index, so that it drains such a bucket's records
// and does not take shards of a deleted one.
func TestEventedIndexMendedForOlderGateways(t *testing.T) {
	s := openFresh(t, recordsOf("old"))
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "old", Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, "old", "k", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
	rec, _, err := s.readBucket("old")
	if err != nil {
		t.Fatal(err)
	}
	// As the older gateways left it: no row for "old", a row for a bucket
	// they deleted.
	op := newWriteOp()
	op.omapRm([]string{rowEvented + rec.ID})
	op.omapSet(map[string][]byte{rowEvented + "gone0000": eventedRow(2)})
	err = op.operate(s.io, metaOID)
	op.release()
	if err != nil {
		t.Fatal(err)
	}
	units, err := s.drainUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if units[shardOID(rec.ID, 0)] != 0 || units[shardOID("gone0000", 0)] == 0 {
		t.Fatalf("drain units before mending: %v; the set-up is not what older gateways leave", units)
	}

	w := &drainWatch{holders: map[string][]string{}}
	dctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Drain(dctx, DrainOptions{TTL: time.Second, Run: w.run("a")}) }()
	defer func() { stop(); <-done }()
	oids := []string{metaOID}
	for n := range rec.Shards {
		oids = append(oids, shardOID(rec.ID, n))
	}
	waitFor(t, "old's shards held", func() bool { return w.held("a", oids) == len(oids) })
	index, err := s.eventedIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(index) != 1 || index[rec.ID] != rec.Shards {
		t.Fatalf("Evented index after the first pass: %v, want only old (%s) with %d shards", index, rec.ID, rec.Shards)
	}
	if n := w.held("a", []string{shardOID("gone0000", 0), shardOID("gone0000", 1)}); n != 0 {
		t.Fatalf("%d shards of a deleted bucket taken", n)
	}
}
