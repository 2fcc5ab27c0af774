package pubsub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/local"
)

const sub = "sub1"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t   *testing.T
	dir string
	st  *local.Store
	log *Log
	clk *clock
}

// open opens (or reopens) the real local store in e.dir with a hook that
// appends every put's key to sub's log.
func (e *env) open() {
	e.t.Helper()
	var lg *Log
	st, err := local.Open(e.dir, local.Options{Hook: func(_ context.Context, c store.Change, w store.RecordWriter) error {
		if c.Kind != store.ChangePut {
			return nil
		}
		return lg.Append(w, sub, []byte(c.Object.Key), "")
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	lg, err = New(st.KV(), Options{Now: e.clk.Now, Retention: time.Hour, VisibilityTimeout: 30 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	e.st, e.log = st, lg
}

func (e *env) close() {
	e.t.Helper()
	if err := e.st.Close(); err != nil {
		e.t.Fatal(err)
	}
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, dir: t.TempDir(), clk: &clock{t: time.Unix(1_700_000_000, 0)}}
	e.open()
	t.Cleanup(func() { e.st.Close() })
	if err := e.st.CreateBucket(context.Background(), store.Bucket{Name: "b1", Owner: "u"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) put(key string) {
	e.t.Helper()
	if _, err := e.st.PutObject(context.Background(), "b1", key, strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) pullAll(max int) []Event {
	e.t.Helper()
	var all []Event
	marker := ""
	for {
		evs, next, trunc, err := e.log.Pull(context.Background(), sub, marker, max)
		if err != nil {
			e.t.Fatal(err)
		}
		all = append(all, evs...)
		if !trunc {
			return all
		}
		marker = next
	}
}

func TestAccumulateAndSurviveRestart(t *testing.T) {
	e := newEnv(t)
	for i := range 20 {
		e.put(fmt.Sprintf("k%02d", i))
	}
	if d := e.log.Stats(sub).Depth; d != 20 {
		t.Fatalf("depth %d", d)
	}
	if c := e.log.Counters(); c.StoreOK != 20 || c.StoreFail != 0 {
		t.Fatalf("counters %+v", c)
	}
	e.close()
	e.open()
	st := e.log.Stats(sub)
	if st.Depth != 20 || st.LastSeq != 20 || st.Oldest.IsZero() {
		t.Fatalf("after restart %+v", st)
	}
	evs := e.pullAll(7)
	if len(evs) != 20 {
		t.Fatalf("got %d events", len(evs))
	}
	for i, ev := range evs {
		if string(ev.Body) != fmt.Sprintf("k%02d", i) || ev.Seq != uint64(i+1) || ev.Deliveries != 1 {
			t.Fatalf("event %d: %+v", i, ev)
		}
	}
	// Ack everything, restart: sequences continue.
	for _, ev := range evs {
		if err := e.log.Ack(context.Background(), sub, ev.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.close()
	e.open()
	e.put("after")
	evs = e.pullAll(10)
	if len(evs) != 1 || evs[0].Seq != 21 {
		t.Fatalf("after ack+restart: %+v", evs)
	}
}

func TestPaging10000(t *testing.T) {
	e := newEnv(t)
	const n = 10000
	// Append in batches of 100 through the KV-backed writer (the hook path
	// is covered elsewhere; 10,000 object PUTs would dominate the run).
	for i := 0; i < n; i += 100 {
		var bw batchWriter
		for j := i; j < i+100; j++ {
			if err := e.log.Append(&bw, sub, []byte(fmt.Sprint(j)), ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.st.KV().Apply(context.Background(), &bw.b); err != nil {
			t.Fatal(err)
		}
		for _, fn := range bw.after {
			fn()
		}
	}
	evs := e.pullAll(100)
	if len(evs) != n {
		t.Fatalf("got %d", len(evs))
	}
	ids := map[string]bool{}
	for i, ev := range evs {
		if string(ev.Body) != fmt.Sprint(i) || ids[ev.ID] {
			t.Fatalf("event %d: %q id %s", i, ev.Body, ev.ID)
		}
		ids[ev.ID] = true
	}
	// All in flight now: nothing visible.
	if evs, _, _, _ := e.log.Pull(context.Background(), sub, "", 100); len(evs) != 0 {
		t.Fatalf("in-flight events returned: %d", len(evs))
	}
}

func TestAckVisibilityNack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put("a")
	e.put("b")
	e.put("c")
	evs := e.pullAll(10)
	if len(evs) != 3 {
		t.Fatal(len(evs))
	}
	if err := e.log.Ack(ctx, sub, evs[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := e.log.Ack(ctx, sub, evs[0].ID); !errors.Is(err, ErrNoSuchEvent) {
		t.Fatalf("second ack: %v", err)
	}
	if err := e.log.Ack(ctx, sub, "nope"); !errors.Is(err, ErrNoSuchEvent) {
		t.Fatalf("unknown ack: %v", err)
	}
	if err := e.log.Nack(ctx, sub, evs[2].ID); err != nil {
		t.Fatal(err)
	}
	got := e.pullAll(10)
	if len(got) != 1 || string(got[0].Body) != "c" || got[0].Deliveries != 2 {
		t.Fatalf("after nack: %+v", got)
	}
	e.clk.Add(31 * time.Second)
	got = e.pullAll(10)
	if len(got) != 2 || string(got[0].Body) != "b" || got[0].Deliveries != 2 || got[1].Deliveries != 3 {
		t.Fatalf("after visibility timeout: %+v", got)
	}
	// Deliveries are durable.
	e.close()
	e.open()
	e.clk.Add(31 * time.Second)
	got = e.pullAll(10)
	if len(got) != 2 || got[0].Deliveries != 3 {
		t.Fatalf("after restart: %+v", got)
	}
	if d := e.log.Stats(sub).Depth; d != 2 {
		t.Fatalf("depth %d", d)
	}
}

func TestRetentionGap(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put("old1")
	e.put("old2")
	first, next, _, err := e.log.Pull(ctx, sub, "", 1)
	if err != nil || len(first) != 1 {
		t.Fatal(err)
	}
	e.clk.Add(2 * time.Hour)
	e.put("new")
	n, err := e.log.Expire(ctx)
	if err != nil || n != 2 {
		t.Fatalf("expire %d %v", n, err)
	}
	if _, _, _, err := e.log.Pull(ctx, sub, next, 10); !errors.Is(err, ErrGap) {
		t.Fatalf("reader behind retention: %v", err)
	}
	if err := e.log.Ack(ctx, sub, first[0].ID); !errors.Is(err, ErrNoSuchEvent) {
		t.Fatalf("ack expired: %v", err)
	}
	// The gap survives a restart; a fresh reader sees the new event.
	e.close()
	e.open()
	if _, _, _, err := e.log.Pull(ctx, sub, next, 10); !errors.Is(err, ErrGap) {
		t.Fatalf("after restart: %v", err)
	}
	evs := e.pullAll(10)
	if len(evs) != 1 || string(evs[0].Body) != "new" || evs[0].Seq != 3 {
		t.Fatalf("fresh reader: %+v", evs)
	}
	// A marker at or after the last expired event is no gap.
	if _, _, _, err := e.log.Pull(ctx, sub, markerOf(2), 10); err != nil {
		t.Fatal(err)
	}
}

type failReader struct{ n int }

func (r *failReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		r.n--
		p[0] = 'x'
		return 1, nil
	}
	return 0, errors.New("client went away")
}

func TestFailedWriteLeavesNoEvent(t *testing.T) {
	e := newEnv(t)
	_, err := e.st.PutObject(context.Background(), "b1", "k", io.Reader(&failReader{n: 3}), store.PutOptions{Size: 10})
	if err == nil {
		t.Fatal("put succeeded")
	}
	if evs := e.pullAll(10); len(evs) != 0 {
		t.Fatalf("events for a failed write: %+v", evs)
	}
	if st := e.log.Stats(sub); st.Depth != 0 {
		t.Fatalf("%+v", st)
	}
}

func TestWaitWakesOnCommit(t *testing.T) {
	e := newEnv(t)
	e.put("a")
	evs := e.pullAll(10)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// An event already after "" returns at once.
	if err := e.log.Wait(ctx, sub, ""); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.log.Wait(ctx, sub, evs[0].Marker) }()
	select {
	case err := <-done:
		t.Fatalf("returned early: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	e.put("b")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not woken")
	}
	short, c2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer c2()
	if err := e.log.Wait(short, sub, markerOf(2)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait with nothing new: %v", err)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	e.put("a")
	e.put("b")
	if err := e.log.Delete(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	if evs := e.pullAll(10); len(evs) != 0 || e.log.Stats(sub).Depth != 0 {
		t.Fatalf("after delete: %d", len(evs))
	}
}

type batchWriter struct {
	b     kv.Batch
	after []func()
}

func (w *batchWriter) Put(k, v []byte) error { w.b.Put(k, v); return nil }
func (w *batchWriter) AfterCommit(fn func()) { w.after = append(w.after, fn) }
