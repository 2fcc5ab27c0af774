package queue_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/queue"
	"github.com/cairn-s3/cairn/internal/store"
)

// putAll writes n objects spread over keys, from workers goroutines (each
// owning some keys), and returns the ids queued.
func putAll(t *testing.T, e *env, n, keys, workers int) {
	t.Helper()
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				k := (i / workers * workers % keys) + w%keys
				if err := e.put(fmt.Sprintf("k%03d", k%keys)); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatalf("put: %v", err)
	}
}

// TestOutageRecovery: 2,000 events while the endpoint is down for a bounded
// time (some failures are lost acks: the endpoint got the event), then
// recovers. Every event is delivered, per-key order holds, the queue drains.
func TestOutageRecovery(t *testing.T) {
	s := newRecSender()
	var down atomic.Bool
	down.Store(true)
	var lostAcks atomic.Int64
	s.setFail(func(ev queue.Event) (bool, error) {
		if !down.Load() {
			return true, nil
		}
		if rand.IntN(10) == 0 {
			lostAcks.Add(1)
			return true, errors.New("ack lost")
		}
		return false, errors.New("connection refused")
	})
	e := newEnv(t, "", testConfig(), queue.Policy{}, s)
	e.run()

	const n = 2000
	start := time.Now()
	go func() {
		time.Sleep(300 * time.Millisecond) // the outage's length, not an assertion
		down.Store(false)
	}()
	putAll(t, e, n, 97, 8)
	waitFor(t, 30*time.Second, "all events acked", func() bool { return s.ackedCount() == n })
	waitFor(t, 5*time.Second, "queue drained", func() bool { return e.q.Stats(testTopic).Depth == 0 })

	dups := s.check(t)
	c := e.q.Counters()
	st := e.q.Stats(testTopic)
	if c.Delivered != n {
		t.Errorf("Counters().Delivered = %d, want %d", c.Delivered, n)
	}
	if c.Failed == 0 {
		t.Error("no failed attempts counted during the outage")
	}
	if st.Bytes != 0 || st.Pending != 0 {
		t.Errorf("Stats after drain = %+v, want no bytes and nothing pending", st)
	}
	t.Logf("%d events in %v: %d failed attempts, %d lost acks, %d duplicates received, %d sends",
		n, time.Since(start).Round(time.Millisecond), c.Failed, lostAcks.Load(), dups, s.sends.Load())
	if int64(dups) < lostAcks.Load() {
		t.Errorf("duplicates = %d, want at least the %d lost acks (each is re-sent)", dups, lostAcks.Load())
	}
}

// TestRestartBeforeDelivery: events queued while nothing runs survive a
// close and are all delivered by a new Queue on the same store.
func TestRestartBeforeDelivery(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, testConfig(), queue.Policy{}, newRecSender())
	const n = 300
	putAll(t, e, n, 20, 4)
	if got := e.q.Stats(testTopic).Depth; got != n {
		t.Fatalf("Depth = %d, want %d", got, n)
	}
	e.close()

	s := newRecSender()
	e2 := newEnv(t, dir, testConfig(), queue.Policy{}, s)
	st := e2.q.Stats(testTopic)
	if st.Depth != n || st.Bytes == 0 || st.OldestAge <= 0 {
		t.Fatalf("Stats after reopen = %+v, want Depth %d, bytes and an age", st, n)
	}
	e2.run()
	waitFor(t, 20*time.Second, "all delivered", func() bool { return s.ackedCount() == n })
	waitFor(t, 5*time.Second, "queue drained", func() bool { return e2.q.Stats(testTopic).Depth == 0 })
	s.check(t)
}

// TestRestartMidDelivery: Run stops while sends are in flight and some
// events are delivered; after reopening, every event is delivered.
func TestRestartMidDelivery(t *testing.T) {
	dir := t.TempDir()
	s := newRecSender()
	// The first 100 sends succeed, then the endpoint hangs.
	var ok atomic.Int64
	e := newEnv(t, dir, testConfig(), queue.Policy{}, s)
	const n = 400
	putAll(t, e, n, 40, 4)
	s.setFail(func(ev queue.Event) (bool, error) {
		if ok.Add(1) > 100 {
			s.block.Store(true)
		}
		return true, nil
	})
	e.run()
	waitFor(t, 10*time.Second, "sends hanging", func() bool { return e.q.Counters().Pending > 0 && s.block.Load() })
	e.close()
	first := s.ackedCount()
	if first == 0 || first == n {
		t.Fatalf("acked before restart = %d, want some but not all", first)
	}

	s.block.Store(false)
	s.setFail(nil)
	e2 := newEnv(t, dir, testConfig(), queue.Policy{}, s)
	if got := e2.q.Stats(testTopic).Depth; got > int64(n-first) {
		t.Errorf("Depth after reopen = %d, want at most %d (acks before the stop are durable)", got, n-first)
	}
	e2.run()
	waitFor(t, 20*time.Second, "all delivered", func() bool { return s.ackedCount() == n })
	waitFor(t, 5*time.Second, "queue drained", func() bool { return e2.q.Stats(testTopic).Depth == 0 })
	dups := s.check(t)
	t.Logf("acked before restart: %d; duplicates: %d", first, dups)
}

// TestAtomicity: an event exists iff the change that queued it committed.
func TestAtomicity(t *testing.T) {
	s := newRecSender()
	e := newEnv(t, "", testConfig(), queue.Policy{}, s)
	ctx := context.Background()

	hookFail := errors.New("later hook step failed")
	e.hookErr.Store(&hookFail)
	if err := e.put("failed-hook"); !errors.Is(err, hookFail) {
		t.Fatalf("put with failing hook: err = %v, want %v", err, hookFail)
	}
	e.hookErr.Store(nil)

	_, err := e.st.PutObject(ctx, testBucket, "bad-md5", strings.NewReader("x"),
		store.PutOptions{Size: 1, ContentMD5: make([]byte, 16)})
	if !errors.Is(err, store.ErrBadDigest) {
		t.Fatalf("put with bad md5: err = %v, want ErrBadDigest", err)
	}
	_, err = e.st.PutObject(ctx, testBucket, "short", strings.NewReader("x"), store.PutOptions{Size: 10})
	if !errors.Is(err, store.ErrIncompleteBody) {
		t.Fatalf("put with short body: err = %v, want ErrIncompleteBody", err)
	}
	for p, err := range e.st.KV().Scan(ctx, []byte("queue/"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		t.Errorf("event record %q exists for a failed change", p.Key)
	}
	if st := e.q.Stats(testTopic); st.Depth != 0 {
		t.Errorf("Depth = %d after failed changes, want 0", st.Depth)
	}

	if err := e.put("good"); err != nil {
		t.Fatal(err)
	}
	if st := e.q.Stats(testTopic); st.Depth != 1 {
		t.Errorf("Depth = %d after one change, want 1", st.Depth)
	}
	e.run()
	waitFor(t, 5*time.Second, "good event delivered", func() bool { return e.q.Stats(testTopic).Depth == 0 })
	if got := e.q.Counters().Delivered; got != 1 {
		t.Errorf("Delivered = %d, want 1 (only the committed change)", got)
	}
}

// TestMaxRetriesAndReplay: with MaxRetries 3 an always-failing event is
// tried 4 times (RGW: tries > max_retries), then dead-lettered; Replay
// after the endpoint is fixed delivers it exactly once.
func TestMaxRetriesAndReplay(t *testing.T) {
	s := newRecSender()
	s.setFail(func(ev queue.Event) (bool, error) { return false, errors.New("HTTP 500") })
	e := newEnv(t, "", testConfig(), queue.Policy{MaxRetries: 3}, s)
	e.run()
	ctx := context.Background()
	if err := e.q.EnqueueDirect(ctx, queue.Event{ID: "ev1", Topic: testTopic, Key: "k", Body: []byte("k 1")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "dead letter", func() bool { return e.q.Stats(testTopic).DeadLetterDepth == 1 })
	dl, err := e.q.DeadLetters(ctx, testTopic, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dl) != 1 || dl[0].ID != "ev1" || dl[0].Attempts != 4 || dl[0].LastError != "HTTP 500" {
		t.Fatalf("DeadLetters = %+v, want ev1 after 4 attempts with its last error", dl)
	}
	st := e.q.Stats(testTopic)
	if st.Depth != 0 || st.DeadLettered != 1 || st.Failed != 4 || st.Delivered != 0 {
		t.Errorf("Stats = %+v, want depth 0, 1 dead-lettered, 4 failed", st)
	}

	s.setFail(nil)
	n, err := e.q.Replay(ctx, testTopic, "ev1")
	if err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v; want 1, nil", n, err)
	}
	waitFor(t, 5*time.Second, "replayed event delivered", func() bool { return e.q.Stats(testTopic).Depth == 0 })
	if got := s.ackedTimes("ev1"); got != 1 {
		t.Errorf("ev1 acked %d times, want 1", got)
	}
	if st := e.q.Stats(testTopic); st.DeadLetterDepth != 0 {
		t.Errorf("DeadLetterDepth = %d after replay, want 0", st.DeadLetterDepth)
	}
	if dl, _ := e.q.DeadLetters(ctx, testTopic, 0); len(dl) != 0 {
		t.Errorf("DeadLetters after replay = %+v, want none", dl)
	}
}

// TestTTLExpiry: an event that cannot be delivered within its TTL is
// dead-lettered.
func TestTTLExpiry(t *testing.T) {
	s := newRecSender()
	s.setFail(func(ev queue.Event) (bool, error) { return false, errors.New("broker down") })
	e := newEnv(t, "", testConfig(), queue.Policy{TTL: 100 * time.Millisecond}, s)
	e.run()
	ctx := context.Background()
	if err := e.q.EnqueueDirect(ctx, queue.Event{ID: "old", Topic: testTopic, Key: "k", Body: []byte("k 1")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "dead letter", func() bool { return e.q.Stats(testTopic).DeadLetterDepth == 1 })
	dl, err := e.q.DeadLetters(ctx, testTopic, 10)
	if err != nil || len(dl) != 1 || dl[0].ID != "old" || dl[0].Attempts == 0 {
		t.Fatalf("DeadLetters = %+v, %v; want the event with its attempts", dl, err)
	}
	if got := e.q.Stats(testTopic).Depth; got != 0 {
		t.Errorf("Depth = %d, want 0", got)
	}
}

// recordSize is the stored size of the events the overflow tests queue.
func overflowEvent(i int) queue.Event {
	return queue.Event{ID: fmt.Sprintf("e%d", i), Topic: testTopic, Key: fmt.Sprintf("k%d", i),
		Body: fmt.Appendf(nil, "k %d", i), Enqueued: time.Unix(1e9, 0)}
}

func TestOverflow(t *testing.T) {
	ctx := context.Background()
	// The size of one record, to set a capacity of exactly three.
	probe := newEnv(t, "", testConfig(), queue.Policy{}, newRecSender())
	if err := probe.q.EnqueueDirect(ctx, overflowEvent(1)); err != nil {
		t.Fatal(err)
	}
	size := probe.q.Stats(testTopic).Bytes
	probe.close()

	t.Run("Reject", func(t *testing.T) {
		e := newEnv(t, "", testConfig(), queue.Policy{Capacity: 3 * size}, newRecSender())
		for i := 1; i <= 3; i++ {
			if err := e.q.EnqueueDirect(ctx, overflowEvent(i)); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
		if err := e.q.EnqueueDirect(ctx, overflowEvent(4)); !errors.Is(err, queue.ErrQueueFull) {
			t.Fatalf("4th event: err = %v, want ErrQueueFull", err)
		}
		// Through the store, the change fails and nothing is written.
		if err := e.put("obj"); !errors.Is(err, queue.ErrQueueFull) {
			t.Fatalf("put into a full queue: err = %v, want ErrQueueFull", err)
		}
		if _, err := e.st.HeadObject(ctx, testBucket, "obj", store.GetOptions{}); !errors.Is(err, store.ErrNoSuchKey) {
			t.Errorf("HeadObject after rejected put: err = %v, want ErrNoSuchKey", err)
		}
		if st := e.q.Stats(testTopic); st.Depth != 3 || st.Dropped != 0 {
			t.Errorf("Stats = %+v, want depth 3, none dropped", st)
		}
	})

	t.Run("DropNewest", func(t *testing.T) {
		s := newRecSender()
		e := newEnv(t, "", testConfig(), queue.Policy{Capacity: 3 * size, Overflow: queue.DropNewest}, s)
		for i := 1; i <= 5; i++ {
			if err := e.q.EnqueueDirect(ctx, overflowEvent(i)); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
		if st := e.q.Stats(testTopic); st.Depth != 3 || st.Dropped != 2 || e.q.Counters().Dropped != 2 {
			t.Errorf("Stats = %+v, want depth 3, 2 dropped", st)
		}
		e.run()
		waitFor(t, 5*time.Second, "delivery", func() bool { return e.q.Stats(testTopic).Depth == 0 })
		for i, want := range []int{1, 1, 1, 0, 0} {
			if got := s.ackedTimes(fmt.Sprintf("e%d", i+1)); got != want {
				t.Errorf("e%d acked %d times, want %d", i+1, got, want)
			}
		}
	})

	t.Run("DropOldest", func(t *testing.T) {
		s := newRecSender()
		e := newEnv(t, "", testConfig(), queue.Policy{Capacity: 3 * size, Overflow: queue.DropOldest}, s)
		for i := 1; i <= 5; i++ {
			if err := e.q.EnqueueDirect(ctx, overflowEvent(i)); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
		if st := e.q.Stats(testTopic); st.Depth != 5 {
			t.Errorf("Depth before the worker trims = %d, want 5", st.Depth)
		}
		e.run()
		waitFor(t, 5*time.Second, "delivery", func() bool {
			st := e.q.Stats(testTopic)
			return st.Depth == 0 && st.Delivered == 3
		})
		if st := e.q.Stats(testTopic); st.Dropped != 2 {
			t.Errorf("Dropped = %d, want 2", st.Dropped)
		}
		for i, want := range []int{0, 0, 1, 1, 1} {
			if got := s.ackedTimes(fmt.Sprintf("e%d", i+1)); got != want {
				t.Errorf("e%d acked %d times, want %d", i+1, got, want)
			}
		}
	})
}

// TestWindowOrdering: many keys interleaved from concurrent producers;
// sends overlap (more than one in flight) but never two of one key, and
// each key's events arrive in order.
func TestWindowOrdering(t *testing.T) {
	s := newRecSender()
	s.delay.Store(int64(500 * time.Microsecond))
	cfg := testConfig()
	cfg.Window = 16
	cfg.Buffer = 64 // smaller than the queue: exercises paging
	e := newEnv(t, "", cfg, queue.Policy{}, s)
	e.run()
	const producers, keysPer, perKey = 8, 8, 25
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perKey {
				for k := range keysPer {
					key := fmt.Sprintf("p%d-k%d", p, k)
					ev := queue.Event{Topic: testTopic, Key: key, Body: fmt.Appendf(nil, "%s %d", key, i)}
					if err := e.q.EnqueueDirect(context.Background(), ev); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	const n = producers * keysPer * perKey
	waitFor(t, 30*time.Second, "all delivered", func() bool { return s.ackedCount() == n })
	s.check(t)
	if m := s.maxInflight.Load(); m <= 1 || m > int64(cfg.Window) {
		t.Errorf("max sends in flight = %d, want 2..%d", m, cfg.Window)
	}
	t.Logf("max in flight: %d of window %d", s.maxInflight.Load(), cfg.Window)
}

// TestDeleteQueue removes events and dead letters.
func TestDeleteQueue(t *testing.T) {
	e := newEnv(t, "", testConfig(), queue.Policy{}, newRecSender())
	ctx := context.Background()
	for i := range 10 {
		if err := e.q.EnqueueDirect(ctx, queue.Event{Topic: testTopic, Key: strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.q.DeleteQueue(ctx, testTopic); err != nil {
		t.Fatal(err)
	}
	if st := e.q.Stats(testTopic); st.Depth != 0 {
		t.Errorf("Depth after DeleteQueue = %d, want 0", st.Depth)
	}
	for p := range e.st.KV().Scan(ctx, []byte("queue/"), nil) {
		t.Errorf("key %q left after DeleteQueue", p.Key)
	}
}

// TestLateCommit: a commit that allocated its sequence first but finishes
// after later commits were already delivered (so it lands below the
// worker's cursor) is still delivered at once, without the fallback poll,
// and before the next event of its key.
func TestLateCommit(t *testing.T) {
	s := newRecSender()
	cfg := testConfig()
	cfg.PollInterval = time.Hour // only commit wake-ups may find events
	e := newEnv(t, "", cfg, queue.Policy{}, s)
	e.run()

	release := make(chan struct{})
	entered := make(chan struct{})
	hold := func(key string) {
		if key == "slow" {
			close(entered)
			<-release
		}
	}
	e.afterEnqueue.Store(&hold)
	slowDone := make(chan error, 1)
	go func() { slowDone <- e.put("slow") }()
	<-entered // "slow" holds its sequence, uncommitted

	for i := range 5 {
		if err := e.put(fmt.Sprintf("fast%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "later commits delivered", func() bool { return s.ackedCount() == 5 })

	close(release)
	if err := <-slowDone; err != nil {
		t.Fatal(err)
	}
	e.afterEnqueue.Store(nil)
	if err := e.put("slow"); err != nil { // the next event of the same key
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "late commit delivered", func() bool { return s.ackedCount() == 7 })
	s.check(t)
}

// TestAttemptsSurviveRestart: failed attempts are stored with the event, so
// MaxRetries counts attempts made before a restart.
func TestAttemptsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	s := newRecSender()
	s.setFail(func(ev queue.Event) (bool, error) { return false, errors.New("down") })
	e := newEnv(t, dir, testConfig(), queue.Policy{}, s)
	e.run()
	ctx := context.Background()
	if err := e.q.EnqueueDirect(ctx, queue.Event{ID: "x", Topic: testTopic, Key: "k", Body: []byte("k 1")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "three failed attempts", func() bool { return e.q.Stats(testTopic).Failed >= 3 })
	e.close()
	before := s.sends.Load()

	e2 := newEnv(t, dir, testConfig(), queue.Policy{MaxRetries: 2}, s)
	e2.run()
	waitFor(t, 5*time.Second, "dead letter", func() bool { return e2.q.Stats(testTopic).DeadLetterDepth == 1 })
	if got := s.sends.Load() - before; got != 0 {
		t.Errorf("%d sends after restart, want 0: the stored attempts already exceed MaxRetries", got)
	}
	dl, err := e2.q.DeadLetters(ctx, testTopic, 1)
	if err != nil || len(dl) != 1 || dl[0].Attempts < 3 || dl[0].LastError != "down" {
		t.Fatalf("DeadLetters = %+v, %v; want x with >= 3 attempts", dl, err)
	}
}
