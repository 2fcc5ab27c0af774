//go:build rados

package pubsub

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/rados"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// sharedGateway is one gateway of a shared pool: its store and the
// PubSub service whose hook writes drafts into its commits.
type sharedGateway struct {
	st  *rados.Store
	svc *Service
}

// openSharedGateway opens a gateway on pool with its own connection, as a
// separate process would.
func openSharedGateway(t *testing.T, pool string) *sharedGateway {
	t.Helper()
	return openSharedGatewayWith(t, pool, Options{})
}

// openSharedGatewayWith is openSharedGateway with the service's options
// (Shared is set).
func openSharedGatewayWith(t *testing.T, pool string, opts Options) *sharedGateway {
	t.Helper()
	g := &sharedGateway{}
	hook := func(ctx context.Context, c store.Change, w store.RecordWriter) error { return g.svc.Hook(ctx, c, w) }
	st, err := rados.Open(t.Context(), rados.Options{Conn: radostest.Conn(t), Pool: pool, Shards: 1, Hook: hook})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g.st = st
	opts.Shared = true
	if g.svc, err = NewService(st.KV(), nil, opts); err != nil {
		t.Fatal(err)
	}
	return g
}

// subscribedBucket creates bucket "mv" of owner "o" through g, notifying
// topic "t" of events, and subscription "s" of that topic.
func (g *sharedGateway) subscribedBucket(t *testing.T, events ...string) *Subscription {
	t.Helper()
	ctx := t.Context()
	ns, err := EncodeBucketNotifications([]BucketNotification{{Topic: "t", Events: events}})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.st.CreateBucket(ctx, store.Bucket{Name: "mv", Owner: "o", Config: map[string][]byte{ConfigKey: ns}}); err != nil {
		t.Fatal(err)
	}
	sub := &Subscription{Owner: "o", Name: "s", Topic: "t"}
	if err := g.svc.Subscriptions().Put(ctx, sub); err != nil {
		t.Fatal(err)
	}
	return sub
}

// injectingShard is a shard's kv.Store that runs inject once in the middle
// of MoveShard's read of a pass: after the first page of a Scan (whose
// cursor then reads the rest of the drafts in later pages), or right after
// a one-read ScanPage.
type injectingShard struct {
	kv.Store
	once   sync.Once
	inject func()
	fired  bool
}

func (s *injectingShard) fire() {
	s.once.Do(func() { s.inject(); s.fired = true })
}

func (s *injectingShard) Scan(ctx context.Context, prefix, start []byte) iter.Seq2[kv.Pair, error] {
	return func(yield func(kv.Pair, error) bool) {
		n := 0
		for p, err := range s.Store.Scan(ctx, prefix, start) {
			if n++; n == 2 {
				s.fire()
			}
			if !yield(p, err) {
				return
			}
		}
	}
}

func (s *injectingShard) ScanPage(ctx context.Context, prefix, after []byte, max int) ([]kv.Pair, error) {
	ps, ok := s.Store.(interface {
		ScanPage(ctx context.Context, prefix, after []byte, max int) ([]kv.Pair, error)
	})
	if !ok {
		return nil, fmt.Errorf("the shard's store %T reads no atomic pages", s.Store)
	}
	page, err := ps.ScanPage(ctx, prefix, after, max)
	if err == nil {
		s.fire()
	}
	return page, err
}

// A PUT of k through gateway A (a low commit sequence: A leased its block
// first) lands while the shard holder reads the drafts of a pass, then a
// DELETE of k through gateway B (a high sequence, from B's later block).
// More drafts than one omap page precede them, so a paged read passes the
// PUT's place before it lands and reaches the DELETE's after: the log must
// still hold k's events in commit order, PUT then DELETE.
func TestMoveShardKeepsObjectOrderAcrossGateways(t *testing.T) {
	ctx := t.Context()
	conn := radostest.Conn(t)
	pool := radostest.Pool(t, conn)
	a := openSharedGateway(t, pool)
	if _, err := a.st.RecordSequence(); err != nil { // A's block comes first
		t.Fatal(err)
	}
	b := openSharedGateway(t, pool)

	sub := a.subscribedBucket(t, "s3:ObjectCreated:*", "s3:ObjectRemoved:Delete")
	const others = 300 // more than one page of the omap cursor (256)
	putObjects(t, b.st, others)

	oids, err := a.st.ShardOIDs(ctx)
	if err != nil || len(oids) != 1 {
		t.Fatalf("shards %v, %v: want the bucket's one", oids, err)
	}
	lease, err := a.st.AcquireShardLease(ctx, oids[0], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	shard := &injectingShard{Store: lease.KV(), inject: func() {
		if _, err := a.st.PutObject(ctx, "mv", "k", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
			t.Errorf("PUT k through A: %v", err)
		}
		if _, err := b.st.DeleteObject(ctx, "mv", "k", store.DeleteOptions{}); err != nil {
			t.Errorf("DELETE k through B: %v", err)
		}
	}}
	for range 3 { // the drafts that landed during the first pass wait for the next
		if err := a.svc.MoveShard(ctx, shard); err != nil {
			t.Fatal(err)
		}
	}
	if !shard.fired {
		t.Fatal("the commits of k were never injected into a pass")
	}
	for p, err := range lease.KV().Scan(ctx, []byte(draftRoot), nil) {
		t.Fatalf("draft %q (%v) left after the moves", p.Key, err)
	}

	page, err := a.svc.Log().Pull(ctx, sub.LogName(), PullOptions{Max: MaxEntries})
	if err != nil {
		t.Fatal(err)
	}
	var ofK []string
	for _, e := range page.Events {
		var ev pullEvent
		if err := json.Unmarshal(e.Body, &ev); err != nil {
			t.Fatalf("event %s: %v", e.ID, err)
		}
		if ev.Info.Key.Name == "k" {
			ofK = append(ofK, ev.Event)
		}
	}
	if len(page.Events) != others+2 {
		t.Errorf("%d events in the log, want %d", len(page.Events), others+2)
	}
	if want := []string{"OBJECT_CREATE", "OBJECT_DELETE"}; fmt.Sprint(ofK) != fmt.Sprint(want) {
		t.Fatalf("events of k in the log: %v, want %v (its commits' order)", ofK, want)
	}
}

// putObjects PUTs n objects "o<i>" through st, eight at a time.
func putObjects(t *testing.T, st *rados.Store, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if _, err := st.PutObject(t.Context(), "mv", fmt.Sprintf("o%03d", i), strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
