//go:build rados

package rados

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// A shard's records are drained by one lease holder at a time; when its
// lease lapses another gateway takes the shard over, and the former
// holder's removals are refused by the fencing epoch.
func TestShardLeaseTakeover(t *testing.T) {
	hook := func(_ context.Context, c store.Change, w store.RecordWriter) error {
		return w.Put(fmt.Appendf(nil, "q/%020d", c.Sequence), []byte(c.Object.Key))
	}
	a, b := twoGateways(t, hook)
	ctx := context.Background()
	if err := a.CreateBucket(ctx, store.Bucket{Name: "bk"}); err != nil {
		t.Fatal(err)
	}
	rec, _, err := a.readBucket("bk")
	if err != nil {
		t.Fatal(err)
	}
	// Two changes of one key: their records are in the key's shard.
	for range 2 {
		if _, err := a.PutObject(ctx, "bk", "k", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	oid := rec.shardOID("k")
	const ttl = 2 * time.Second
	la, err := a.AcquireShardLease(ctx, oid, ttl)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.AcquireShardLease(ctx, oid, ttl); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("second gateway's acquire: %v, want ErrLeaseHeld", err)
	}
	pending, err := la.Pending(ctx, []byte("q/"), nil, 10)
	if err != nil || len(pending) != 2 || string(pending[0].Value) != "k" {
		t.Fatalf("pending = %q, %v; want the 2 records of k", pending, err)
	}
	if err := la.Remove(ctx, pending[0].Key); err != nil {
		t.Fatal(err)
	}
	// a stops renewing (a dead gateway); b takes over once the lease lapses.
	var lb *ShardLease
	for i := 0; lb == nil; i++ {
		if i == 300 {
			t.Fatal("the lapsed lease was never taken over")
		}
		time.Sleep(100 * time.Millisecond)
		lb, err = b.AcquireShardLease(ctx, oid, ttl)
		if err != nil && !errors.Is(err, ErrLeaseHeld) {
			t.Fatal(err)
		}
	}
	defer lb.Release()
	if lb.Epoch <= la.Epoch {
		t.Errorf("epochs: successor %d, predecessor %d", lb.Epoch, la.Epoch)
	}
	if err := la.Remove(ctx, pending[1].Key); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("removal by the former holder: %v, want ErrLeaseLost", err)
	}
	if err := la.Renew(ctx); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("renewal by the former holder: %v, want ErrLeaseLost", err)
	}
	left, err := lb.Pending(ctx, []byte("q/"), nil, 10)
	if err != nil || len(left) != 1 || string(left[0].Key) != string(pending[1].Key) {
		t.Fatalf("successor's pending = %q, %v; want the one unacknowledged record", left, err)
	}
	if err := lb.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lb.Remove(ctx, left[0].Key); err != nil {
		t.Fatal(err)
	}
	for p, err := range a.KV().Scan(ctx, []byte("q/"), nil) {
		t.Errorf("record left after draining: %q, %v", p.Key, err)
	}
}

// Taking or renewing the lease of a shard that is gone (its bucket was
// deleted) fails and leaves no object behind: a lock must not recreate an
// index shard that commits would then pass their existence guard on.
func TestShardLeaseOfMissingShard(t *testing.T) {
	a := openFresh(t, nil)
	ctx := context.Background()
	const oid = "idx.gone.0"
	if _, err := a.AcquireShardLease(ctx, oid, time.Second); err == nil {
		t.Error("lease of a missing shard taken")
	}
	if _, err := a.io.Stat(oid); !isNotFound(err) {
		t.Fatalf("after a lease attempt the missing shard is there: %v", err)
	}
}
