//go:build rados

package rados

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// drainWatch records which gateway runs a consumer on which shard.
type drainWatch struct {
	mu      sync.Mutex
	holders map[string][]string // shard → gateways running on it now
	overlap int                 // times two ran on one shard at once
}

func (d *drainWatch) run(gw string) func(context.Context, DrainShard) {
	return d.runWith(gw, func(ctx context.Context, _ DrainShard) { <-ctx.Done() })
}

// runWith records the holding of each shard body runs on.
func (d *drainWatch) runWith(gw string, body func(context.Context, DrainShard)) func(context.Context, DrainShard) {
	return func(ctx context.Context, sh DrainShard) {
		oid := sh.Lease.oid
		d.mu.Lock()
		d.holders[oid] = append(d.holders[oid], gw)
		if len(d.holders[oid]) > 1 {
			d.overlap++
		}
		d.mu.Unlock()
		body(ctx, sh)
		d.mu.Lock()
		defer d.mu.Unlock()
		hs := d.holders[oid]
		for i, h := range hs {
			if h == gw {
				d.holders[oid] = append(hs[:i:i], hs[i+1:]...)
				break
			}
		}
	}
}

// held returns how many of oids gw holds alone.
func (d *drainWatch) held(gw string, oids []string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, oid := range oids {
		if hs := d.holders[oid]; len(hs) == 1 && hs[0] == gw {
			n++
		}
	}
	return n
}

// Two gateways draining one pool: every shard (and the metadata object)
// is consumed by exactly one of them; when one stops, the other takes its
// shards at its next pass.
func TestDrainOneHolderPerShard(t *testing.T) {
	// Changes to b1 write records, to b2 none (a bucket without
	// notifications): only b1's shards and the metadata object are drained.
	a, b := twoGateways(t, recordsOf("b1"))
	ctx := context.Background()
	for _, name := range []string{"b1", "b2"} {
		if err := a.CreateBucket(ctx, store.Bucket{Name: name, Owner: "o"}); err != nil {
			t.Fatal(err)
		}
	}
	units, err := a.drainUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 1 {
		t.Fatalf("drain units before any record: %v, want the metadata object only", units)
	}
	for _, name := range []string{"b1", "b2"} {
		if _, err := b.PutObject(ctx, name, "k", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if units, err = a.drainUnits(ctx); err != nil {
		t.Fatal(err)
	}
	rec, _, err := a.readBucket("b1")
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 1+rec.Shards {
		t.Fatalf("drain units after records in b1 only: %v, want the metadata object and b1's %d shards", units, rec.Shards)
	}
	for n := range rec.Shards {
		if units[shardOID(rec.ID, n)] == 0 {
			t.Fatalf("b1's shard %d is not drained: %v", n, units)
		}
	}
	var oids []string
	for oid := range units {
		oids = append(oids, oid)
	}
	w := &drainWatch{holders: map[string][]string{}}
	const ttl = 1500 * time.Millisecond
	actx, stopA := context.WithCancel(ctx)
	bctx, stopB := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = a.Drain(actx, DrainOptions{TTL: ttl, Run: w.run("a")}) }()
	go func() { defer wg.Done(); _ = b.Drain(bctx, DrainOptions{TTL: ttl, Run: w.run("b")}) }()
	defer func() { stopA(); stopB(); wg.Wait() }()

	waitFor(t, "every shard held", func() bool { return w.held("a", oids)+w.held("b", oids) == len(oids) })
	// Through several renewals, no shard gets a second consumer.
	time.Sleep(2 * ttl)
	if w.held("a", oids)+w.held("b", oids) != len(oids) {
		t.Fatalf("shards held after renewals: a %d, b %d of %d", w.held("a", oids), w.held("b", oids), len(oids))
	}
	stopA()
	waitFor(t, "b holds every shard", func() bool { return w.held("b", oids) == len(oids) })
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.overlap != 0 {
		t.Fatalf("%d times two gateways consumed one shard at once", w.overlap)
	}
}

// waitFor polls cond for at most 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 300 {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting: %s", what)
}

// everyChange is a change hook writing a record under prefix for every
// change, keyed by object and sequence.
func everyChange(prefix string) store.ChangeHook {
	return func(_ context.Context, c store.Change, w store.RecordWriter) error {
		return w.Put(fmt.Appendf(nil, "%s%s/%020d", prefix, c.Object.Key, c.Sequence), []byte("event"))
	}
}

// recordsOf is a change hook writing a record for every change to bucket
// (and none for other buckets', which are then never drained).
func recordsOf(bucket string) store.ChangeHook {
	return func(_ context.Context, c store.Change, w store.RecordWriter) error {
		if c.Bucket.Name != bucket {
			return nil
		}
		return w.Put([]byte("q/test/"+c.Object.Key), []byte("event"))
	}
}
