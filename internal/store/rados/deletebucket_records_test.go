//go:build rados

package rados

import (
	"context"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/store"
)

// A bucket emptied and deleted while its shards still hold undelivered
// event records (an endpoint down, a subscription not yet moved) keeps
// those records: they are events of acknowledged changes, so they move to
// the metadata object, which is always drained, instead of going with the
// shards.
func TestDeleteBucketKeepsPendingRecords(t *testing.T) {
	a, b := twoGateways(t, everyChange("q/test/"))
	ctx := context.Background()
	if err := a.CreateBucket(ctx, store.Bucket{Name: "gone", Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	keys := []string{"k1", "k2", "k3", "k4"}
	for _, k := range keys {
		if _, err := a.PutObject(ctx, "gone", k, strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.DeleteObject(ctx, "gone", k, store.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.DeleteBucket(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range a.KV().Scan(ctx, []byte("q/test/"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2*len(keys) {
		t.Fatalf("records after deleting the bucket: %d, want %d (a PUT and a DELETE event per key)", n, 2*len(keys))
	}
	// They are in a unit some gateway drains.
	units, err := a.drainUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if units[metaOID] == 0 {
		t.Fatalf("the metadata object is not drained: %v", units)
	}
}
