//go:build rados

package pubsub

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// A shard holder reads a pass of drafts (k's PUT), then stalls: its lease
// lapses and its successor moves that PUT, then k's DELETE. The stale
// holder, resuming, must not move the PUT again behind the DELETE (k
// would read as created last), though only its draft removal is fenced
// by the shard's epoch.
func TestMoveShardStaleHolderKeepsObjectOrder(t *testing.T) {
	ctx := t.Context()
	a := openSharedGateway(t, radostest.Pool(t, radostest.Conn(t)))
	sub := a.subscribedBucket(t, "s3:ObjectCreated:*", "s3:ObjectRemoved:Delete")
	if _, err := a.st.PutObject(ctx, "mv", "k", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
	oids, err := a.st.ShardOIDs(ctx)
	if err != nil || len(oids) != 1 {
		t.Fatalf("shards %v, %v: want the bucket's one", oids, err)
	}
	stale, err := a.st.AcquireShardLease(ctx, oids[0], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	shard := &injectingShard{Store: stale.KV(), inject: func() {
		stale.Release() // as a lapse would
		next, err := a.st.AcquireShardLease(ctx, oids[0], time.Minute)
		if err != nil {
			t.Errorf("successor's lease: %v", err)
			return
		}
		defer next.Release()
		if err := a.svc.MoveShard(ctx, next.KV()); err != nil {
			t.Errorf("successor's move of the PUT: %v", err)
		}
		if _, err := a.st.DeleteObject(ctx, "mv", "k", store.DeleteOptions{}); err != nil {
			t.Errorf("DELETE k: %v", err)
		}
		if err := a.svc.MoveShard(ctx, next.KV()); err != nil {
			t.Errorf("successor's move of the DELETE: %v", err)
		}
	}}
	err = a.svc.MoveShard(ctx, shard)
	if !shard.fired {
		t.Fatal("the successor never ran")
	}
	page, perr := a.svc.Log().Pull(ctx, sub.LogName(), PullOptions{Max: MaxEntries})
	if perr != nil {
		t.Fatal(perr)
	}
	var events []string
	for _, e := range page.Events {
		var ev pullEvent
		if err := json.Unmarshal(e.Body, &ev); err != nil {
			t.Fatalf("event %s: %v", e.ID, err)
		}
		events = append(events, ev.Event)
	}
	if want := []string{"OBJECT_CREATE", "OBJECT_DELETE"}; fmt.Sprint(events) != fmt.Sprint(want) {
		t.Fatalf("events of k in the log: %v, want %v (the stale holder's move returned %v)", events, want, err)
	}
	if err == nil {
		t.Fatal("the stale holder's move succeeded")
	}
}

// Fence forwards the shard's fence, as the drainer's shard store has one.
func (s *injectingShard) Fence() (string, uint64) { return s.Store.(fencer).Fence() }
