//go:build rados

package rados

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// markedByOlder makes bucket name Evented with records in its shards, as
// a gateway from before the Evented index leaves it: the record marked, no
// index row.
func markedByOlder(t *testing.T, s *Store, name string) *bucketRecord {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: name, Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, name, "k", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
	rec, _, err := s.readBucket(name)
	if err != nil {
		t.Fatal(err)
	}
	op := newWriteOp()
	op.omapRm([]string{rowEvented + rec.ID})
	err = op.operate(s.io, metaOID)
	op.release()
	if err != nil {
		t.Fatal(err)
	}
	if index, err := s.eventedIndex(ctx); err != nil || len(index) != 0 {
		t.Fatalf("Evented index after the older gateway's mark: %v, %v; want empty", index, err)
	}
	return rec
}

// A newer gateway committing to a bucket an older gateway marked Evented
// indexes it: otherwise its records (this commit's too) wait for a
// reconciliation, up to eventedReconcileEvery, once no older gateway is
// left to drain them (a rolling upgrade that also scales down), and every
// commit after each drain pass reads the record again (the pass forgets
// the unindexed mark).
func TestEventedIndexWrittenByCommitToOlderMark(t *testing.T) {
	a, b := twoGateways(t, recordsOf("old"))
	ctx := context.Background()
	rec := markedByOlder(t, a, "old")
	if _, err := b.PutObject(ctx, "old", "k2", strings.NewReader("y"), store.PutOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
	index, err := b.eventedIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if index[rec.ID] != rec.Shards {
		t.Fatalf("Evented index after a newer gateway's commit to a bucket an older one marked: %v, want %s with %d shards", index, rec.ID, rec.Shards)
	}
	units, err := b.drainUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for n := range rec.Shards {
		if units[shardOID(rec.ID, n)] == 0 {
			t.Fatalf("shard %d of the marked bucket is not drained: %v", n, units)
		}
	}
}

// A row of the Evented index that a gateway from before the index left
// (it deleted the bucket without removing the row) costs one probe of each
// of the bucket's shards, found missing, not one every pass until the
// next reconciliation (up to eventedReconcileEvery): a steady state makes
// no probe (DrainProbes).
func TestEventedIndexStaleRowProbedOnce(t *testing.T) {
	s := openFresh(t, nil)
	ctx := context.Background()
	w := &drainWatch{holders: map[string][]string{}}
	dctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Drain(dctx, DrainOptions{TTL: 600 * time.Millisecond, Run: w.run("a")})
	}()
	defer func() { stop(); <-done }()
	waitFor(t, "the metadata object held", func() bool { return w.held("a", []string{metaOID}) == 1 })

	// After the first pass's reconciliation: the row an older gateway
	// leaves when it deletes an Evented bucket.
	op := newWriteOp()
	op.omapSet(map[string][]byte{rowEvented + "gone0000": eventedRow(2)})
	err := op.operate(s.io, metaOID)
	op.release()
	if err != nil {
		t.Fatal(err)
	}
	probes, passes := s.DrainProbes(), s.drains.passes.Load()
	waitFor(t, "ten more drain passes", func() bool { return s.drains.passes.Load() >= passes+10 })
	if n := s.DrainProbes() - probes; n > 2 {
		t.Fatalf("%d probes over ten passes for the 2 missing shards of a deleted bucket's stale index row, want at most 2", n)
	}
}

// A corrupt row of the Evented index does not stop the drain: it is
// logged and skipped, and the first pass's reconciliation rewrites it from
// the bucket's record. Before, the row failed every read of the index, so
// no pass took any shard.
func TestEventedIndexCorruptRowMended(t *testing.T) {
	s := openFresh(t, recordsOf("ev"))
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "ev", Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, "ev", "k", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
	rec, _, err := s.readBucket("ev")
	if err != nil {
		t.Fatal(err)
	}
	op := newWriteOp()
	op.omapSet(map[string][]byte{rowEvented + rec.ID: wrap([]byte("x"))})
	err = op.operate(s.io, metaOID)
	op.release()
	if err != nil {
		t.Fatal(err)
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
	waitFor(t, "ev's shards held", func() bool { return w.held("a", oids) == len(oids) })
	index, err := s.eventedIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if index[rec.ID] != rec.Shards {
		t.Fatalf("Evented index row of ev after the first pass: %d shards, want %d", index[rec.ID], rec.Shards)
	}
}
