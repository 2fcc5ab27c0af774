package queue_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/queue"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/local"
)

const (
	testTopic  = "t1"
	testBucket = "b"
)

// env is a real local store with a ChangeHook that queues one event per
// object change, and a queue on the store's KV.
type env struct {
	t      testing.TB
	dir    string
	st     *local.Store
	q      *queue.Queue
	policy atomic.Pointer[queue.Policy]
	// hookErr, when set, makes the hook fail after it enqueued.
	hookErr atomic.Pointer[error]
	// afterEnqueue, when set, runs in the hook after Enqueue (before the
	// commit), with the object key.
	afterEnqueue atomic.Pointer[func(key string)]
	// onCommit, when set, runs when a change's commit is durable, just
	// before the queue is told (benchmarks time commit -> send with it).
	onCommit atomic.Pointer[func(id string)]

	cancel context.CancelFunc
	done   chan error
}

func testConfig() queue.Config {
	return queue.Config{
		BackoffMin:   2 * time.Millisecond,
		BackoffMax:   40 * time.Millisecond,
		PollInterval: 200 * time.Millisecond,
	}
}

func newEnv(t testing.TB, dir string, cfg queue.Config, p queue.Policy, s queue.Sender) *env {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	e := &env{t: t, dir: dir}
	e.policy.Store(&p)
	st, err := local.Open(dir, local.Options{Hook: e.hook})
	if err != nil {
		t.Fatalf("local.Open: %v", err)
	}
	e.st = st
	if _, err := st.GetBucket(context.Background(), testBucket); errors.Is(err, store.ErrNoSuchBucket) {
		if err := st.CreateBucket(context.Background(), store.Bucket{Name: testBucket}); err != nil {
			t.Fatalf("CreateBucket: %v", err)
		}
	}
	cfg.KV = st.KV()
	cfg.Sender = s
	cfg.Policy = func(topic string) (queue.Policy, bool) {
		if topic != testTopic {
			return queue.Policy{}, false
		}
		return *e.policy.Load(), true
	}
	q, err := queue.New(cfg)
	if err != nil {
		t.Fatalf("queue.New: %v", err)
	}
	e.q = q
	t.Cleanup(e.close)
	return e
}

// hook queues one event per change. The body is "<key> <store sequence>",
// so tests can check per-key order.
func (e *env) hook(ctx context.Context, c store.Change, w store.RecordWriter) error {
	ev := queue.Event{
		ID:    strconv.FormatUint(c.Sequence, 10),
		Topic: testTopic,
		Key:   c.Object.Bucket + "/" + c.Object.Key,
		Body:  fmt.Appendf(nil, "%s %d", c.Object.Key, c.Sequence),
	}
	if fn := e.onCommit.Load(); fn != nil {
		w.AfterCommit(func() { (*fn)(ev.ID) })
	}
	if err := e.q.Enqueue(w, ev); err != nil {
		return err
	}
	if fn := e.afterEnqueue.Load(); fn != nil {
		(*fn)(c.Object.Key)
	}
	if p := e.hookErr.Load(); p != nil {
		return *p
	}
	return nil
}

func (e *env) put(key string) error {
	_, err := e.st.PutObject(context.Background(), testBucket, key, strings.NewReader("x"), store.PutOptions{Size: 1})
	return err
}

func (e *env) run() {
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- e.q.Run(ctx) }()
}

// stop stops Run and waits for it.
func (e *env) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Errorf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		e.t.Fatal("Run did not stop")
	}
	e.cancel = nil
}

func (e *env) close() {
	e.stop()
	if e.st != nil {
		e.st.Close()
		e.st = nil
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// recSender records what it receives and fails on demand. It checks that
// no two events of one Key are in flight at once and that each Key's events
// arrive in order (a re-send of the same event is allowed: at least once).
type recSender struct {
	mu       sync.Mutex
	received map[string]int    // id -> times received (including failed sends that reached it)
	acked    map[string]int    // id -> times acknowledged
	lastSeq  map[string]uint64 // key -> order value of the last event received
	lastID   map[string]string
	inKey    map[string]int
	errs     []string

	inflight, maxInflight atomic.Int64
	sends                 atomic.Int64

	// fail decides a send's fate: nil delivers; an error with delivered
	// true models a lost ack (the receiver got it).
	fail atomic.Pointer[func(ev queue.Event) (delivered bool, err error)]
	// delay, if set, is how long each send takes.
	delay atomic.Int64
	// block, if set, makes sends wait until ctx is done (then fail).
	block atomic.Bool
	// order extracts the per-key order value of an event.
	order func(ev queue.Event) uint64
}

func newRecSender() *recSender {
	return &recSender{
		received: map[string]int{},
		acked:    map[string]int{},
		lastSeq:  map[string]uint64{},
		lastID:   map[string]string{},
		inKey:    map[string]int{},
		order:    bodySeq,
	}
}

// bodySeq parses the number after the last space of the body.
func bodySeq(ev queue.Event) uint64 {
	b := string(ev.Body)
	n, _ := strconv.ParseUint(b[strings.LastIndexByte(b, ' ')+1:], 10, 64)
	return n
}

func (s *recSender) setFail(fn func(ev queue.Event) (bool, error)) { s.fail.Store(&fn) }

func (s *recSender) Send(ctx context.Context, ev queue.Event) error {
	s.sends.Add(1)
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for {
		m := s.maxInflight.Load()
		if n <= m || s.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	s.mu.Lock()
	s.inKey[ev.Key]++
	if s.inKey[ev.Key] > 1 {
		s.errs = append(s.errs, fmt.Sprintf("key %s: two events in flight", ev.Key))
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inKey[ev.Key]--
		s.mu.Unlock()
	}()

	if s.block.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	if d := s.delay.Load(); d > 0 {
		select {
		case <-time.After(time.Duration(d)):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	delivered, err := true, error(nil)
	if fn := s.fail.Load(); fn != nil && *fn != nil {
		delivered, err = (*fn)(ev)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if delivered {
		o := s.order(ev)
		if last, ok := s.lastSeq[ev.Key]; ok && (o < last || (o == last && s.lastID[ev.Key] != ev.ID)) {
			s.errs = append(s.errs, fmt.Sprintf("key %s: %d received after %d", ev.Key, o, last))
		}
		s.lastSeq[ev.Key], s.lastID[ev.Key] = o, ev.ID
		s.received[ev.ID]++
	}
	if err == nil {
		s.acked[ev.ID]++
	}
	return err
}

func (s *recSender) ackedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acked)
}

func (s *recSender) ackedTimes(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked[id]
}

// check reports order violations and returns how many events were received
// more than once.
func (s *recSender) check(t *testing.T) (dups int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range s.errs {
		if i == 10 {
			t.Errorf("... %d more", len(s.errs)-10)
			break
		}
		t.Error(e)
	}
	for _, n := range s.received {
		if n > 1 {
			dups += n - 1
		}
	}
	return dups
}
