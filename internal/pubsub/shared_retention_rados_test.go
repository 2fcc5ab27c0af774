//go:build rados

package pubsub

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// retentionPair is two gateways on one pool, with one clock and a retention
// of an hour, whose log "o/s" holds events of the clock's start (old) and
// two of two hours later (young). B read the log before the
// retention ran anywhere.
type retentionPair struct {
	pool       string
	opts       Options
	a, b       *sharedGateway
	log        string
	old, young []Event // as B pulled them
}

func newRetentionPair(t *testing.T, olds int) *retentionPair {
	t.Helper()
	clk := &clock{t: time.Now().UTC()}
	p := &retentionPair{pool: radostest.Pool(t, radostest.Conn(t)), opts: Options{Retention: time.Hour, Now: clk.Now}}
	p.a = openSharedGatewayWith(t, p.pool, p.opts)
	p.b = openSharedGatewayWith(t, p.pool, p.opts)
	sub := p.a.subscribedBucket(t, "s3:ObjectCreated:*")
	p.log = sub.LogName()
	var keys []string
	for i := range olds {
		keys = append(keys, fmt.Sprintf("old%03d", i))
	}
	p.old = p.putAndPull(t, keys...)
	clk.Add(2 * time.Hour)
	p.young = p.putAndPull(t, "young1", "young2")
	return p
}

// putAndPull PUTs keys through A, moves their drafts in through A and
// returns their events as B pulls them.
func (p *retentionPair) putAndPull(t *testing.T, keys ...string) []Event {
	t.Helper()
	ctx := t.Context()
	var marker string
	if len(p.old) > 0 {
		marker = p.old[len(p.old)-1].ID
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(keys); i += 8 {
				if _, err := p.a.st.PutObject(ctx, "mv", keys[i], strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	if wg.Wait(); t.Failed() {
		t.FailNow()
	}
	oids, err := p.a.st.ShardOIDs(ctx)
	if err != nil || len(oids) != 1 {
		t.Fatalf("shards %v, %v: want the bucket's one", oids, err)
	}
	lease, err := p.a.st.AcquireShardLease(ctx, oids[0], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	if err := p.a.svc.MoveShard(ctx, lease.KV()); err != nil {
		t.Fatal(err)
	}
	page, err := p.b.svc.Log().Pull(ctx, p.log, PullOptions{Marker: marker, Max: MaxEntries})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != len(keys) {
		t.Fatalf("B pulled %d events after %q, want %d", len(page.Events), marker, len(keys))
	}
	return page.Events
}

// expireThroughA runs retention on A and checks it removed the old events.
func (p *retentionPair) expireThroughA(t *testing.T) {
	t.Helper()
	if n, err := p.a.svc.Log().Expire(t.Context()); err != nil || n != len(p.old) {
		t.Fatalf("A expired %d events, %v; want %d", n, err, len(p.old))
	}
}

// A reader whose marker is before the events retention removed through
// gateway A gets the gap through gateway B too, not the events after it.
func TestSharedPullThroughOtherGatewayReportsGap(t *testing.T) {
	p := newRetentionPair(t, 3)
	p.expireThroughA(t)
	page, err := p.b.svc.Log().Pull(t.Context(), p.log, PullOptions{Marker: p.old[0].ID})
	if !errors.Is(err, ErrGap) {
		t.Fatalf("B pulled %d events after the expired %s (err %v), want ErrGap", len(page.Events), p.old[0].ID, err)
	}
	// A reader past the expired events goes on.
	page, err = p.b.svc.Log().Pull(t.Context(), p.log, PullOptions{Marker: p.old[len(p.old)-1].ID})
	if err != nil || len(page.Events) != len(p.young) {
		t.Fatalf("B pulled %d events after the last expired one, %v; want %d", len(page.Events), err, len(p.young))
	}
}

// An ack through gateway B, which never saw the retention A ran, keeps
// the highest expired position in the meta record, across B's restart.
func TestSharedAckKeepsExpiredOfOtherGateway(t *testing.T) {
	ctx := t.Context()
	p := newRetentionPair(t, 3)
	p.expireThroughA(t)
	want, err := ParseMarker(p.old[len(p.old)-1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := p.b.svc.Log().Ack(ctx, p.log, p.young[0].ID); err != nil || n != 1 {
		t.Fatalf("B acked %d, %v", n, err)
	}
	raw, err := p.b.st.KV().Get(ctx, metaKey(p.log))
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeMeta(raw)
	if err != nil || m.Expired != want {
		t.Fatalf("meta after B's ack: %+v, %v; want Expired %d", m, err, want)
	}

	restarted := openSharedGatewayWith(t, p.pool, p.opts) // B's store opened again
	if _, err := restarted.svc.Log().Pull(ctx, p.log, PullOptions{Marker: p.old[0].ID}); !errors.Is(err, ErrGap) {
		t.Fatalf("pull through B restarted from the expired %s: %v, want ErrGap", p.old[0].ID, err)
	}
	if st := restarted.svc.Log().Stats(ctx, p.log); !st.Expired.Equal(posTime(want)) {
		t.Fatalf("B restarted: Expired %v, want %v", st.Expired, posTime(want))
	}
}

// expiringKV is a kv.Store whose Scan runs expire, once it is set, after
// the first pair: retention through another gateway lands while a pull
// reads its events.
type expiringKV struct {
	kv.Store
	mu     sync.Mutex
	expire func()
}

func (s *expiringKV) Scan(ctx context.Context, prefix, start []byte) iter.Seq2[kv.Pair, error] {
	return func(yield func(kv.Pair, error) bool) {
		first := true
		for p, err := range s.Store.Scan(ctx, prefix, start) {
			if !yield(p, err) {
				return
			}
			if first {
				first = false
				s.mu.Lock()
				expire := s.expire
				s.expire = nil
				s.mu.Unlock()
				if expire != nil {
					expire()
				}
			}
		}
	}
}

// Retention through A lands while B's pull reads the events after the
// reader's marker, in more than one omap page: the pages read after it
// start past the expired events, so B must report the gap rather than
// return the first page's events followed by the young ones.
func TestSharedPullReportsGapOfRetentionDuringScan(t *testing.T) {
	const olds = 300 // more than one page of the omap cursor (256)
	p := newRetentionPair(t, olds)
	scan := &expiringKV{Store: p.b.st.KV()}
	b, err := New(scan, p.opts.Retention, p.opts.Now)
	if err != nil {
		t.Fatal(err)
	}
	b.shared = true
	scan.mu.Lock()
	scan.expire = func() {
		if n, err := p.a.svc.Log().Expire(t.Context()); err != nil || n != olds {
			t.Errorf("A expired %d events, %v; want %d", n, err, olds)
		}
	}
	scan.mu.Unlock()
	page, err := b.Pull(t.Context(), p.log, PullOptions{Marker: p.old[0].ID, Max: MaxEntries})
	scan.mu.Lock()
	ran := scan.expire == nil
	scan.mu.Unlock()
	if !ran {
		t.Fatal("retention never ran during the pull")
	}
	if !errors.Is(err, ErrGap) {
		t.Fatalf("B pulled %d events after %s while A expired them (err %v), want ErrGap", len(page.Events), p.old[0].ID, err)
	}
}

// racingKV is a kv.Store whose next write (Apply or CompareAndApply)
// first runs race, once it is set: another gateway writes between this
// one's reads and its write.
type racingKV struct {
	kv.Store
	mu   sync.Mutex
	race func()
}

func (s *racingKV) runRace() {
	s.mu.Lock()
	race := s.race
	s.race = nil
	s.mu.Unlock()
	if race != nil {
		race()
	}
}

func (s *racingKV) Apply(ctx context.Context, b *kv.Batch) error {
	s.runRace()
	return s.Store.Apply(ctx, b)
}

func (s *racingKV) CompareAndApply(ctx context.Context, key, old []byte, b *kv.Batch) (bool, error) {
	s.runRace()
	return s.Store.(compareApplier).CompareAndApply(ctx, key, old, b)
}

// Retention through B, whose clock is behind A's, reads the meta record,
// then A's retention removes more and raises it: B's write must not lower
// it back to what B removed.
func TestSharedExpireKeepsOtherGatewaysHigherExpired(t *testing.T) {
	ctx := t.Context()
	p := newRetentionPair(t, 3)
	first, err := ParseMarker(p.old[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParseMarker(p.old[len(p.old)-1].ID)
	if err != nil {
		t.Fatal(err)
	}
	behind := func() time.Time { return posTime(first + 1).Add(p.opts.Retention) } // B expires old[0] only
	race := &racingKV{Store: p.b.st.KV()}
	b, err := New(race, p.opts.Retention, behind)
	if err != nil {
		t.Fatal(err)
	}
	b.shared = true
	race.mu.Lock()
	race.race = func() { p.expireThroughA(t) }
	race.mu.Unlock()
	if _, err := b.Expire(ctx); err != nil {
		t.Fatal(err)
	}
	race.mu.Lock()
	raced := race.race == nil
	race.mu.Unlock()
	if !raced {
		t.Fatal("B's retention wrote nothing")
	}
	raw, err := p.b.st.KV().Get(ctx, metaKey(p.log))
	if err != nil {
		t.Fatal(err)
	}
	if m, err := decodeMeta(raw); err != nil || m.Expired != want {
		t.Fatalf("meta after both retentions: %+v, %v; want Expired %d (A's)", m, err, want)
	}
}
