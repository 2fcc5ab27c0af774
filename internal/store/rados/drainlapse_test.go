//go:build rados

package rados

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// A consumer whose lease this gateway has not renewed for a while is
// stopped before the lease can lapse, even if the drain pass that would
// renew it is held up (here by the slow stop of other consumers): else it
// delivers on while another gateway took the shard over, and one object's
// events go out twice out of order.
func TestDrainConsumerStopsBeforeItsLeaseLapses(t *testing.T) {
	a, b := twoGateways(t, recordsOf("b1"))
	ctx := context.Background()
	if err := a.CreateBucket(ctx, store.Bucket{Name: "b1", Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutObject(ctx, "b1", "k", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
	oids := drainOIDs(t, a)
	const ttl = 1500 * time.Millisecond
	unblock := make(chan struct{})
	var unblockOnce sync.Once
	release := func() { unblockOnce.Do(func() { close(unblock) }) }
	defer release()
	w := &drainWatch{holders: map[string][]string{}}
	// a's consumers of b1's shards take long to stop (a slow flush).
	slow := w.runWith("a", func(ctx context.Context, sh DrainShard) {
		<-ctx.Done()
		if sh.Lease.oid != metaOID {
			select {
			case <-unblock:
			case <-time.After(20 * time.Second):
			}
		}
	})
	actx, stopA := context.WithCancel(ctx)
	bctx, stopB := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { release(); stopA(); stopB(); wg.Wait() }()
	wg.Add(1)
	go func() { defer wg.Done(); _ = a.Drain(actx, DrainOptions{TTL: ttl, Run: slow}) }()
	waitFor(t, "a holds every shard", func() bool { return w.held("a", oids) == len(oids) })

	// b1 goes: a's next pass stops its consumers, each slowly, and renews
	// nothing meanwhile.
	if _, err := a.DeleteObject(ctx, "b1", "k", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteBucket(ctx, "b1"); err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = b.Drain(bctx, DrainOptions{TTL: ttl, Run: w.run("b")}) }()
	waitFor(t, "b takes the metadata object over", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, gw := range w.holders[metaOID] {
			if gw == "b" {
				return true
			}
		}
		return false
	})
	w.mu.Lock()
	overlap := w.overlap
	w.mu.Unlock()
	if overlap != 0 {
		t.Fatalf("a's consumer of the metadata object still ran when b took it over (its lease lapsed unrenewed)")
	}
}
