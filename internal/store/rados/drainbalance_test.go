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

// recordSink is a consumer that removes a shard's records "q/..." as it
// finds them, counting each delivery (at least once: a handover may repeat).
type recordSink struct {
	mu  sync.Mutex
	got map[string]int
}

func (r *recordSink) consume(ctx context.Context, sh DrainShard) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		for range 100 {
			recs, err := sh.Lease.Pending(ctx, []byte("q/"), nil, 50)
			if err != nil || len(recs) == 0 {
				break
			}
			keys := make([][]byte, len(recs))
			r.mu.Lock()
			for i, p := range recs {
				keys[i] = p.Key
				r.got[string(p.Key)]++
			}
			r.mu.Unlock()
			if err := sh.Lease.Remove(ctx, keys...); err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-sh.Wake:
		case <-tick.C:
		}
	}
}

func (r *recordSink) missing(want []string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, k := range want {
		if r.got[k] == 0 {
			out = append(out, k)
		}
	}
	return out
}

// Two gateways share 19 drained shards fairly (each holds 6..10 within a
// few passes, where the first would otherwise keep them all), with no
// lease probe per shard once balanced (the directory tells who holds
// what), every record delivered; when one stops, the other takes all.
func TestDrainBalancedWithoutProbes(t *testing.T) {
	hook := func(_ context.Context, c store.Change, w store.RecordWriter) error {
		return w.Put(fmt.Appendf(nil, "q/%s/%s/%020d", c.Bucket.Name, c.Object.Key, c.Sequence), []byte("event"))
	}
	a, b := twoGateways(t, hook)
	ctx := context.Background()
	var want []string
	put := func(gw *Store, bucket, key string) {
		t.Helper()
		if _, err := gw.PutObject(ctx, bucket, key, strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
			t.Fatal(err)
		}
		for p, err := range gw.KV().Scan(ctx, []byte("q/"+bucket+"/"+key+"/"), nil) {
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, string(p.Key))
		}
	}
	// 6 buckets of 3 shards and the metadata object: 19 shards to drain,
	// an odd count, so that one gateway holds fewer than its fair share
	// (10) and would look for more at every pass.
	const buckets = 6
	for i := range buckets {
		name := fmt.Sprint("ev", i)
		if err := a.CreateBucket(ctx, store.Bucket{Name: name, Owner: "o"}); err != nil {
			t.Fatal(err)
		}
		put(a, name, "first")
	}
	units, err := a.drainUnits(ctx)
	if err != nil || len(units) != 3*buckets+1 {
		t.Fatalf("drain units = %d, %v; want %d", len(units), err, 3*buckets+1)
	}
	var oids []string
	for oid := range units {
		oids = append(oids, oid)
	}
	w := &drainWatch{holders: map[string][]string{}}
	sink := &recordSink{got: map[string]int{}}
	const ttl = 1500 * time.Millisecond
	actx, stopA := context.WithCancel(ctx)
	bctx, stopB := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stopA(); stopB(); wg.Wait() }()
	wg.Add(1)
	go func() { defer wg.Done(); _ = a.Drain(actx, DrainOptions{TTL: ttl, Run: w.runWith("a", sink.consume)}) }()
	waitFor(t, "a alone holds every shard", func() bool { return w.held("a", oids) == len(oids) })

	wg.Add(1)
	go func() { defer wg.Done(); _ = b.Drain(bctx, DrainOptions{TTL: ttl, Run: w.runWith("b", sink.consume)}) }()
	balanced := func() bool {
		na, nb := w.held("a", oids), w.held("b", oids)
		return na+nb == len(oids) && na >= 6 && na <= 10 && nb >= 6 && nb <= 10
	}
	waitFor(t, "the shards shared 6..10 each", balanced)

	// Steady state: several passes, no probe, no move.
	pa, pb := a.drains.probes.Load(), b.drains.probes.Load()
	na := w.held("a", oids)
	time.Sleep(2 * ttl) // six passes of each gateway
	if da, db := a.drains.probes.Load()-pa, b.drains.probes.Load()-pb; da != 0 || db != 0 {
		t.Errorf("lease probes in steady state over six passes: a %d, b %d; want none", da, db)
	}
	if !balanced() || w.held("a", oids) != na {
		t.Errorf("holdings moved in steady state: a %d (was %d), b %d", w.held("a", oids), na, w.held("b", oids))
	}

	// Events of commits through both gateways are all delivered.
	for i := range 40 {
		put([]*Store{a, b}[i%2], fmt.Sprint("ev", i%buckets), fmt.Sprint("k", i))
	}
	waitFor(t, "every record delivered", func() bool { return len(sink.missing(want)) == 0 })
	waitFor(t, "no record left", func() bool {
		for range a.KV().Scan(ctx, []byte("q/"), nil) {
			return false
		}
		return true
	})

	stopA()
	waitFor(t, "b holds every shard", func() bool { return w.held("b", oids) == len(oids) })
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.overlap != 0 {
		t.Fatalf("%d times two gateways consumed one shard at once", w.overlap)
	}
}

// A live gateway that takes no shard (its membership renewed, its probes
// failing) does not leave its fair share undrained: the other takes the
// shards it has seen free for a whole TTL, past its own share, and keeps
// them (no handing back and forth while the live set stays).
func TestDrainOrphansTakenPastFairShare(t *testing.T) {
	a, b := twoGateways(t, everyChange("q/"))
	ctx := context.Background()
	for i := range 3 {
		name := fmt.Sprint("ev", i)
		if err := a.CreateBucket(ctx, store.Bucket{Name: name, Owner: "o"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.PutObject(ctx, name, "k", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	oids := drainOIDs(t, a)
	const ttl = 1500 * time.Millisecond
	// b is a member of the drainers that never takes a shard.
	stuck := drainDir{s: b, cookie: newID(), ttl: ttl}
	if err := stuck.renew(ctx); err != nil {
		t.Fatal(err)
	}
	sctx, stopStuck := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stopStuck(); wg.Wait() }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-sctx.Done():
				stuck.leave()
				return
			case <-tick.C:
				_ = stuck.renew(sctx)
			}
		}
	}()
	w := &drainWatch{holders: map[string][]string{}}
	actx, stopA := context.WithCancel(ctx)
	defer stopA()
	wg.Add(1)
	go func() { defer wg.Done(); _ = a.Drain(actx, DrainOptions{TTL: ttl, Run: w.run("a")}) }()
	waitFor(t, "a holds every shard, the stuck member's share too", func() bool { return w.held("a", oids) == len(oids) })
	view, err := stuck.read(ctx)
	if err != nil || !view.live[stuck.cookie] || len(view.live) != 2 {
		t.Fatalf("live drainers while a holds all: %v, %v; want a and the stuck member", view, err)
	}
	time.Sleep(2 * ttl) // six passes
	if n := w.held("a", oids); n != len(oids) {
		t.Fatalf("a holds %d of %d shards after six more passes: it handed orphans back", n, len(oids))
	}
}

// When a bucket's shards become drained, every gateway takes its share at
// once (a nudge through the directory's watch), not at its next pass: a
// third of a lease, here 30 s, of delay for the events of the shards past
// the committing gateway's share.
func TestDrainNewBucketSharedAtOnce(t *testing.T) {
	a, b := twoGateways(t, everyChange("q/"))
	ctx := context.Background()
	w := &drainWatch{holders: map[string][]string{}}
	const ttl = 90 * time.Second
	dctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	for gw, st := range map[string]*Store{"a": a, "b": b} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = st.Drain(dctx, DrainOptions{TTL: ttl, Run: w.run(gw)}) }()
	}
	meta := []string{metaOID}
	waitFor(t, "the metadata object held", func() bool { return w.held("a", meta)+w.held("b", meta) == 1 })
	waitFor(t, "both gateways are drainers", func() bool {
		v, err := (&drainDir{s: a}).read(ctx)
		return err == nil && len(v.live) == 2
	})
	if err := a.CreateBucket(ctx, store.Bucket{Name: "late", Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutObject(ctx, "late", "k", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
	units, err := a.drainUnits(ctx)
	if err != nil || len(units) != 4 {
		t.Fatalf("drain units = %v, %v; want the metadata object and 3 shards", units, err)
	}
	var oids []string
	for oid := range units {
		oids = append(oids, oid)
	}
	// Well before either gateway's next pass (every 30 s).
	for range 100 {
		if w.held("a", oids)+w.held("b", oids) == len(oids) {
			if w.held("a", oids) != 2 || w.held("b", oids) != 2 {
				t.Errorf("shares: a %d, b %d; want 2 each", w.held("a", oids), w.held("b", oids))
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("10 s after the bucket's first event, %d of its %d shards are held", w.held("a", oids)+w.held("b", oids), len(oids))
}

// drainOIDs lists the shards s would drain now.
func drainOIDs(t *testing.T, s *Store) []string {
	t.Helper()
	units, err := s.drainUnits(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var oids []string
	for oid := range units {
		oids = append(oids, oid)
	}
	return oids
}
