package queue_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/queue"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// sharedEnv is a Shared queue (as a drainer runs over one shard of a store
// several gateways share) on a real local store: commits write their
// records through a SharedWriter and, like the drainer after a commit's
// wake, the test calls Kick. The KV counts and can hold up page reads.
type sharedEnv struct {
	st   *local.Store
	q    *queue.Queue
	kv   *pageKV
	seq  atomic.Uint64
	sent chan string // object keys as the sender gets them
	held chan string // object keys whose send waits at a gate
	// gate, if set for a key, holds its sends until closed.
	gates sync.Map // key → chan struct{}
}

func newSharedEnv(t *testing.T) *sharedEnv {
	t.Helper()
	e := newStoppedSharedEnv(t)
	e.run(t)
	return e
}

// newStoppedSharedEnv is a sharedEnv whose queue does not run yet.
func newStoppedSharedEnv(t *testing.T) *sharedEnv {
	t.Helper()
	e := &sharedEnv{sent: make(chan string, 1000), held: make(chan string, 1000)}
	st, err := local.Open(t.TempDir(), local.Options{Hook: e.hook})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	if err := st.CreateBucket(t.Context(), store.Bucket{Name: testBucket}); err != nil {
		t.Fatal(err)
	}
	e.kv = &pageKV{Store: st.KV()}
	cfg := testConfig()
	cfg.PollInterval = time.Hour // only wakes make the worker look
	cfg.KV, cfg.Shared, cfg.Sender = e.kv, true, e
	cfg.Policy = func(topic string) (queue.Policy, bool) { return queue.Policy{}, topic == testTopic }
	if e.q, err = queue.New(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// run runs the queue until the test ends.
func (e *sharedEnv) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.q.Run(ctx) }()
	t.Cleanup(func() {
		e.gates.Range(func(_, g any) bool { closeOnce(g.(chan struct{})); return true })
		e.kv.release()
		cancel()
		<-done
	})
}

func (e *sharedEnv) hook(_ context.Context, c store.Change, w store.RecordWriter) error {
	return e.q.Enqueue(&sharedWriter{RecordWriter: w, seq: &e.seq}, queue.Event{
		Topic: testTopic, Key: c.Object.Key, Body: []byte(c.Object.Key),
	})
}

func (e *sharedEnv) Send(ctx context.Context, ev queue.Event) error {
	if g, ok := e.gates.Load(ev.Key); ok {
		e.held <- ev.Key
		select {
		case <-g.(chan struct{}):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e.sent <- ev.Key
	return nil
}

// put commits key (and so its event), then kicks the queue as the drainer
// does when a commit wakes it.
func (e *sharedEnv) put(t *testing.T, key string) {
	t.Helper()
	if _, err := e.st.PutObject(t.Context(), testBucket, key, strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
}

func (e *sharedEnv) kick(t *testing.T) {
	if err := e.q.Kick(t.Context()); err != nil {
		t.Error(err)
	}
}

// queued counts the records in the queue's KV.
func (e *sharedEnv) queued(t *testing.T) int {
	n := 0
	for _, err := range e.st.KV().Scan(t.Context(), []byte("queue/"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// next is the key of the next event sent, failing after a generous bound.
func (e *sharedEnv) next(t *testing.T) string {
	t.Helper()
	select {
	case k := <-e.sent:
		return k
	case <-time.After(10 * time.Second):
		t.Fatal("no event sent within 10 s")
		return ""
	}
}

// sharedWriter numbers records as a shared store's commit does.
type sharedWriter struct {
	store.RecordWriter
	seq *atomic.Uint64
}

func (w *sharedWriter) RecordSequence() (uint64, error)    { return w.seq.Add(1), nil }
func (w *sharedWriter) RecordsFull(_ []byte) (bool, error) { return false, nil }

// pageKV is a kv.Store and queue.PageScanner counting the page reads of
// the workers; while held, discovery's page reads (one key each) wait.
type pageKV struct {
	kv.Store
	fills atomic.Int64
	mu    sync.Mutex
	hold  chan struct{}
}

func (k *pageKV) ScanPage(ctx context.Context, prefix, after []byte, max int) ([]kv.Pair, error) {
	if max == 1 { // discovery
		k.mu.Lock()
		hold := k.hold
		k.mu.Unlock()
		if hold != nil {
			<-hold
		}
	} else {
		k.fills.Add(1)
	}
	var out []kv.Pair
	for p, err := range k.Scan(ctx, prefix, nil) {
		if err != nil {
			return nil, err
		}
		if after != nil && bytes.Compare(p.Key, after) <= 0 {
			continue
		}
		if out = append(out, p); len(out) == max {
			break
		}
	}
	return out, nil
}

func (k *pageKV) holdDiscovery() {
	k.mu.Lock()
	k.hold = make(chan struct{})
	k.mu.Unlock()
}

func (k *pageKV) release() {
	k.mu.Lock()
	if k.hold != nil {
		close(k.hold)
		k.hold = nil
	}
	k.mu.Unlock()
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// A kick wakes the running workers before discovering topics, and does
// not wait for the discovery: a new event of a topic being delivered is
// not held up by discovery's reads. Before, Kick discovered first (two
// reads on RADOS before the event was even looked for, and the drainer's
// next wake waited for them too).
func TestSharedKickWakesBeforeDiscovery(t *testing.T) {
	e := newSharedEnv(t)
	// k1 starts the topic's worker; its send is held, so that no flush
	// (and no look after it) wakes the worker later.
	gate := make(chan struct{})
	e.gates.Store("k1", gate)
	e.put(t, "k1")
	e.kick(t)
	select {
	case <-e.held:
	case <-time.After(10 * time.Second):
		t.Fatal("k1 not sent within 10 s")
	}
	e.kv.holdDiscovery()
	e.put(t, "k2")
	kicked := make(chan struct{})
	go func() { defer close(kicked); _ = e.q.Kick(context.Background()) }()
	if k := e.next(t); k != "k2" {
		t.Fatalf("sent %s first, want k2 (k1 is held)", k)
	}
	// Nor does the kicker (the drainer, whose next wakes wait meanwhile).
	select {
	case <-kicked:
	case <-time.After(10 * time.Second):
		t.Fatal("Kick waits for the discovery")
	}
	e.kv.release()
	close(gate)
	if k := e.next(t); k != "k1" {
		t.Fatalf("sent %s, want k1", k)
	}
}

// A kick before the queue runs is not lost: Run discovers the topics
// first. Before, a drainer's kick that came before Run left the event
// until the next Refresh (and a test putting at once waited in vain).
func TestSharedKickBeforeRunIsKept(t *testing.T) {
	e := newStoppedSharedEnv(t)
	e.put(t, "k1")
	e.kick(t)
	e.run(t)
	if k := e.next(t); k != "k1" {
		t.Fatalf("sent %s, want k1", k)
	}
}

// Delivering events one at a time reads one page per event: a worker whose
// page had room does not read again after each removal (which doubled the
// reads on RADOS and held the worker up meanwhile).
func TestSharedOnePageReadPerEvent(t *testing.T) {
	e := newSharedEnv(t)
	const n = 20
	for i := range n {
		key := fmt.Sprintf("k%02d", i)
		e.put(t, key)
		e.kick(t)
		if k := e.next(t); k != key {
			t.Fatalf("sent %s, want %s", k, key)
		}
		waitFor(t, 10*time.Second, "the removal of "+key, func() bool { return e.queued(t) == 0 })
	}
	if fills := e.kv.fills.Load(); fills > n+1 {
		t.Fatalf("%d page reads for %d events delivered one at a time, want at most %d", fills, n, n+1)
	}
}
