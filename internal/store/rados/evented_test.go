//go:build rados

package rados

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/store"
)

// The ids of Evented buckets a gateway remembers (to skip the mark's read
// on later commits) are forgotten once their buckets are gone: a gateway
// serving short-lived buckets with notifications must not grow forever.
func TestEventedBucketsForgottenWhenDeleted(t *testing.T) {
	hook := func(_ context.Context, c store.Change, w store.RecordWriter) error {
		return w.Put(fmt.Appendf(nil, "q/t/%s/%020d", c.Object.Key, c.Sequence), []byte("event"))
	}
	s := openFresh(t, hook)
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
