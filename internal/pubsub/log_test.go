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
	// gate, if set, is called by the hook after the append (to hold a
	// commit open).
	gate func(key string)
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
		key := c.Object.Key
		if _, err := lg.Append(w, sub, "0badf00d", func(id string, _ time.Time) ([]byte, error) {
			return []byte(key), nil
		}); err != nil {
			return err
		}
		if e.gate != nil {
			e.gate(key)
		}
		return nil
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	lg, err = New(st.KV(), time.Hour, e.clk.Now)
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

func (e *env) pull(o PullOptions) Page {
	e.t.Helper()
	p, err := e.log.Pull(context.Background(), sub, o)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// pullAll pages through the log with markers.
func (e *env) pullAll(max int) []Event {
	e.t.Helper()
	var all []Event
	marker := ""
	for range 100_000 {
		p := e.pull(PullOptions{Marker: marker, Max: max})
		all = append(all, p.Events...)
		if !p.Truncated {
			return all
		}
		marker = "sub1/" + p.Events[len(p.Events)-1].ID
	}
	e.t.Fatal("paging did not end")
	return nil
}

func keys(evs []Event) string {
	var b strings.Builder
	for i, ev := range evs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(ev.Body)
	}
	return b.String()
}

func TestAccumulateAndSurviveRestart(t *testing.T) {
	e := newEnv(t)
	for i := range 20 {
		e.put(fmt.Sprintf("k%02d", i))
	}
	if d := e.log.Stats(t.Context(), sub).Depth; d != 20 {
		t.Fatalf("depth %d", d)
	}
	if ok, failed := e.log.StoreCounts(); ok != 20 || failed != 0 {
		t.Fatalf("store counts %d %d", ok, failed)
	}
	e.close()
	e.open()
	st := e.log.Stats(t.Context(), sub)
	if st.Depth != 20 || !st.Oldest.Equal(e.clk.Now()) {
		t.Fatalf("after restart %+v", st)
	}
	evs := e.pullAll(7)
	if len(evs) != 20 || string(evs[0].Body) != "k00" || string(evs[19].Body) != "k19" {
		t.Fatalf("after restart: %s", keys(evs))
	}
	// Positions stay unique and increasing across the restart even though
	// the clock did not move.
	e.put("after")
	evs = e.pullAll(100)
	if len(evs) != 21 || string(evs[20].Body) != "after" || evs[20].ID <= evs[19].ID {
		t.Fatalf("after a restart: %s, ids %s %s", keys(evs), evs[19].ID, evs[20].ID)
	}
}

func TestIDs(t *testing.T) {
	e := newEnv(t)
	e.put("a")
	e.put("b")
	evs := e.pullAll(10)
	// RGW's format: <10-digit sec>.<6-digit usec>.<hash>; unique within the
	// log even in the same microsecond.
	if evs[0].ID != "1700000000.000000.0badf00d" || evs[1].ID != "1700000000.000001.0badf00d" {
		t.Fatalf("ids %s %s", evs[0].ID, evs[1].ID)
	}
	for _, bad := range []string{"x", "12", "1.2.3", "a.000001", "1.0000011", "sub/1."} {
		if _, err := ParseMarker(bad); !errors.Is(err, ErrBadMarker) {
			t.Errorf("marker %q: %v", bad, err)
		}
	}
	if _, err := e.log.Pull(t.Context(), sub, PullOptions{Marker: "garbage"}); !errors.Is(err, ErrBadMarker) {
		t.Fatalf("bad marker: %v", err)
	}
}

func TestPaging10000(t *testing.T) {
	e := newEnv(t)
	const n = 10_000
	for i := range n {
		e.put(fmt.Sprintf("k%05d", i))
	}
	evs := e.pullAll(1000)
	if len(evs) != n {
		t.Fatalf("paged %d events, want %d", len(evs), n)
	}
	for i, ev := range evs {
		if want := fmt.Sprintf("k%05d", i); string(ev.Body) != want {
			t.Fatalf("event %d is %s, want %s", i, ev.Body, want)
		}
	}
	// Max is capped.
	if p := e.pull(PullOptions{Max: 5000}); len(p.Events) != MaxEntries || !p.Truncated {
		t.Fatalf("max 5000 returned %d", len(p.Events))
	}
}

func TestAckVisibilityNack(t *testing.T) {
	e := newEnv(t)
	for _, k := range []string{"a", "b", "c"} {
		e.put(k)
	}
	vis := PullOptions{Visibility: 30 * time.Second}
	p := e.pull(vis)
	if keys(p.Events) != "a,b,c" || p.Events[0].Deliveries != 1 {
		t.Fatalf("first pull %s %+v", keys(p.Events), p.Events[0])
	}
	// In flight: hidden from the next pull; RGW-style pulls (no visibility
	// timeout) still see them.
	if p := e.pull(vis); len(p.Events) != 0 {
		t.Fatalf("in-flight events pulled again: %s", keys(p.Events))
	}
	if p := e.pull(PullOptions{}); keys(p.Events) != "a,b,c" {
		t.Fatalf("plain pull %s", keys(p.Events))
	}
	ids := []string{p.Events[0].ID, p.Events[1].ID, p.Events[2].ID}
	if n, err := e.log.Ack(t.Context(), sub, ids[0], ids[0], "1700000000.999999.ffffffff"); err != nil || n != 1 {
		t.Fatalf("ack: %d %v", n, err)
	}
	if n, err := e.log.Nack(t.Context(), sub, ids[1]); err != nil || n != 1 {
		t.Fatalf("nack: %d %v", n, err)
	}
	if p := e.pull(vis); keys(p.Events) != "b" || p.Events[0].Deliveries != 2 {
		t.Fatalf("after nack: %s %+v", keys(p.Events), p.Events)
	}
	e.clk.Add(31 * time.Second)
	p = e.pull(vis)
	if keys(p.Events) != "b,c" || p.Events[0].Deliveries != 3 || p.Events[1].Deliveries != 2 {
		t.Fatalf("after the visibility timeout: %s %+v", keys(p.Events), p.Events)
	}
	// Deliveries are durable.
	e.close()
	e.open()
	e.clk.Add(31 * time.Second)
	if p := e.pull(vis); p.Events[1].Deliveries != 3 {
		t.Fatalf("after restart: %+v", p.Events)
	}
	if n, _ := e.log.Ack(t.Context(), sub, ids...); n != 2 || e.log.Stats(t.Context(), sub).Depth != 0 {
		t.Fatalf("acked %d", n)
	}
	if p := e.pull(PullOptions{}); len(p.Events) != 0 {
		t.Fatalf("acked events pulled: %s", keys(p.Events))
	}
}

func TestReplaySince(t *testing.T) {
	e := newEnv(t)
	e.put("old")
	e.clk.Add(time.Minute)
	from := e.clk.Now()
	e.put("new1")
	e.put("new2")
	if p := e.pull(PullOptions{Since: from}); keys(p.Events) != "new1,new2" {
		t.Fatalf("since: %s", keys(p.Events))
	}
	if p := e.pull(PullOptions{Since: from.Add(time.Hour)}); len(p.Events) != 0 {
		t.Fatalf("since the future: %s", keys(p.Events))
	}
}

func TestRetentionGap(t *testing.T) {
	e := newEnv(t)
	e.put("a")
	e.put("b")
	e.put("c")
	p := e.pull(PullOptions{Max: 1})
	marker := p.Events[0].ID // a reader that stopped after "a"
	e.clk.Add(30 * time.Minute)
	e.put("d")
	e.clk.Add(31 * time.Minute) // a, b, c are older than the hour
	n, err := e.log.Expire(t.Context())
	if err != nil || n != 3 {
		t.Fatalf("expired %d, %v", n, err)
	}
	if _, err := e.log.Pull(t.Context(), sub, PullOptions{Marker: marker}); !errors.Is(err, ErrGap) {
		t.Fatalf("reader behind retention: %v", err)
	}
	// The gap is durable, and a reader from the start gets what is left.
	e.close()
	e.open()
	if _, err := e.log.Pull(t.Context(), sub, PullOptions{Marker: marker}); !errors.Is(err, ErrGap) {
		t.Fatalf("after restart: %v", err)
	}
	if p := e.pull(PullOptions{}); keys(p.Events) != "d" {
		t.Fatalf("from the start: %s", keys(p.Events))
	}
	st := e.log.Stats(t.Context(), sub)
	if st.Depth != 1 || st.Expired.IsZero() {
		t.Fatalf("stats %+v", st)
	}
}

type failReader struct{ n int }

func (r *failReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	k := min(len(p), r.n)
	r.n -= k
	return k, nil
}

func TestFailedWriteLeavesNoEvent(t *testing.T) {
	e := newEnv(t)
	_, err := e.st.PutObject(t.Context(), "b1", "k", &failReader{n: 10}, store.PutOptions{Size: 100})
	if err == nil {
		t.Fatal("short body accepted")
	}
	e.put("ok")
	if p := e.pull(PullOptions{}); keys(p.Events) != "ok" {
		t.Fatalf("events %s", keys(p.Events))
	}
}

// A reader paging with markers must not pass an event whose commit lands
// after a later one: positions are taken before commit.
func TestLateCommitNotSkipped(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	held := make(chan struct{})
	e.gate = func(key string) {
		if key == "slow" {
			close(held)
			<-release
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.st.PutObject(context.Background(), "b1", "slow", strings.NewReader("x"), store.PutOptions{Size: 1})
		done <- err
	}()
	<-held
	e.put("fast") // later position, committed first
	changed := e.log.Changed(sub)
	if p := e.pull(PullOptions{}); len(p.Events) != 0 {
		t.Fatalf("an event after an unsettled one is visible: %s", keys(p.Events))
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-changed // the slow commit settled
	if p := e.pull(PullOptions{}); keys(p.Events) != "slow,fast" {
		t.Fatalf("after the slow commit: %s", keys(p.Events))
	}
}

// An aborted commit releases its position, so later events are not held
// back behind it.
func TestAbortedCommitReleasesPosition(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	e.gate = func(key string) {
		if key == "cancelled" {
			cancel() // the commit is abandoned after the hook ran
		}
	}
	if _, err := e.st.PutObject(ctx, "b1", "cancelled", strings.NewReader("x"), store.PutOptions{Size: 1}); err == nil {
		t.Fatal("cancelled put succeeded")
	}
	e.gate = nil
	e.put("next")
	if p := e.pull(PullOptions{}); keys(p.Events) != "next" {
		t.Fatalf("events %s", keys(p.Events))
	}
	if _, failed := e.log.StoreCounts(); failed != 0 {
		t.Fatalf("an abandoned commit counted as a failed store: %d", failed)
	}
}

// Concurrent writers and a reader paging with markers: the reader sees
// every event exactly once, in position order.
func TestConcurrentWritersReaderMissesNothing(t *testing.T) {
	e := newEnv(t)
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e.put(fmt.Sprintf("w%d-%03d", w, i))
				e.clk.Add(time.Microsecond)
			}
		}()
	}
	seen := map[string]bool{}
	marker := ""
	deadline := time.Now().Add(time.Minute)
	for len(seen) < writers*each && time.Now().Before(deadline) {
		p := e.pull(PullOptions{Marker: marker, Max: 50})
		for _, ev := range p.Events {
			if seen[string(ev.Body)] {
				t.Fatalf("%s seen twice", ev.Body)
			}
			seen[string(ev.Body)] = true
			marker = ev.ID
		}
		if len(p.Events) == 0 {
			select {
			case <-e.log.Changed(sub):
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	wg.Wait()
	if len(seen) != writers*each {
		t.Fatalf("reader saw %d of %d events", len(seen), writers*each)
	}
}

func FuzzParseMarker(f *testing.F) {
	for _, s := range []string{"", "sub1/1700000000.000001.0badf00d", "1.000000", "9999999999.999999.x.y", "/", "a/b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, m string) {
		pos, err := ParseMarker(m)
		if err != nil {
			return
		}
		if back, err := ParseMarker(formatID(pos, "0badf00d")); err != nil || back != pos {
			t.Fatalf("%q: position %d renders as an id that parses to %d, %v", m, pos, back, err)
		}
	})
}
