package queue

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/cairn-s3/cairn/internal/binrec"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
)

// Errors returned by the queue.
var (
	// ErrQueueFull is returned by Enqueue when the topic's queue is at its
	// capacity and its overflow policy is Reject; the S3 adapter answers 503
	// SlowDown, as RGW does.
	ErrQueueFull = errors.New("queue: full")
	// ErrUnknownTopic is returned by Enqueue when Config.Policy does not know
	// the topic (it was deleted).
	ErrUnknownTopic = errors.New("queue: unknown topic")
	// ErrRunning is returned by Run when the queue is already running.
	ErrRunning = errors.New("queue: already running")
)

// DefaultCapacity is a topic's capacity when Policy.Capacity is zero: 128
// MiB of stored records, RGW's default.
const DefaultCapacity = 128 << 20

// Defaults for zero Config fields.
const (
	DefaultWindow       = 64
	DefaultBuffer       = 1024
	DefaultSendTimeout  = 30 * time.Second
	DefaultBackoffMin   = 100 * time.Millisecond
	DefaultBackoffMax   = 30 * time.Second
	DefaultPollInterval = time.Second
)

// OverflowPolicy says what Enqueue does when a topic's queue is full.
type OverflowPolicy int

// Overflow policies.
const (
	// Reject fails Enqueue with ErrQueueFull, so the change that caused the
	// event fails (RGW: 503 SlowDown).
	Reject OverflowPolicy = iota
	// DropOldest accepts the event and then drops the oldest queued events
	// that are not in flight until the queue is within capacity again.
	DropOldest
	// DropNewest accepts the change but not its event.
	DropNewest
)

func (o OverflowPolicy) String() string {
	switch o {
	case Reject:
		return "reject"
	case DropOldest:
		return "drop-oldest"
	case DropNewest:
		return "drop-newest"
	}
	return fmt.Sprintf("OverflowPolicy(%d)", int(o))
}

// Event is one queued event. The queue treats Body as opaque.
type Event struct {
	// ID is the stable identity consumers dedupe on; Enqueue fills a random
	// one if it is empty.
	ID    string
	Topic string
	// Key orders delivery: events with the same Key are delivered in
	// Enqueue order (for example "bucket/object").
	Key  string
	Body []byte
	// Enqueued is when the event was queued; Enqueue sets it if zero. TTL
	// counts from it.
	Enqueued time.Time
	// Attempts counts failed delivery attempts; LastError is the latest
	// failure.
	Attempts  int
	LastError string
	// Seq is the event's position in the queue, assigned by Enqueue.
	Seq uint64
}

// Policy is a topic's delivery and capacity settings. It is read again
// before every attempt, so changes apply to queued events.
type Policy struct {
	// TTL moves an event to the dead letters once it is older; 0 keeps
	// retrying forever.
	TTL time.Duration
	// MaxRetries moves an event to the dead letters after MaxRetries+1
	// failed attempts (RGW counts "tries > max_retries"); 0 is unlimited.
	MaxRetries int
	// RetrySleep is the least time between two attempts of one event; 0
	// leaves it to the backoff.
	RetrySleep time.Duration
	// Capacity bounds the bytes of stored records (body and metadata) of
	// the topic's queue: 0 means DefaultCapacity, negative is unlimited. It
	// is checked against committed events, so concurrent commits may
	// overshoot it by their own size.
	Capacity int64
	// Overflow is what Enqueue does when the queue is full.
	Overflow OverflowPolicy
}

func (p Policy) capacity() int64 {
	if p.Capacity == 0 {
		return DefaultCapacity
	}
	return p.Capacity
}

// Sender delivers one event. A nil error is a positive acknowledgement at
// the topic's ack level; anything else (including a timeout or a cancelled
// ctx) is a failure and the event is retried. Send must honour ctx and must
// not modify ev.Body.
type Sender interface {
	Send(ctx context.Context, ev Event) error
}

// Config holds what New needs. KV, Sender and Policy are required.
type Config struct {
	KV     kv.Store
	Sender Sender
	// Policy returns a topic's current settings, or false if the topic no
	// longer exists: Enqueue then fails with ErrUnknownTopic and queued
	// events are held (not sent, not dropped) until the topic returns or
	// DeleteQueue removes them.
	Policy func(topic string) (Policy, bool)
	// Window is the most events of one topic in flight at once
	// (DefaultWindow if zero).
	Window int
	// Buffer is the most events of one topic loaded in memory at once
	// (DefaultBuffer if zero; at least Window).
	Buffer int
	// SendTimeout bounds one Send (DefaultSendTimeout if zero).
	SendTimeout time.Duration
	// BackoffMin and BackoffMax bound the exponential retry backoff
	// (DefaultBackoffMin, DefaultBackoffMax if zero).
	BackoffMin, BackoffMax time.Duration
	// PollInterval is the fallback rescan period; workers are otherwise
	// woken by commits (DefaultPollInterval if zero).
	PollInterval time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
	// Sequence, if set, numbers the events written outside a commit of a
	// store several gateways share (EnqueueDirect, Replay): unique in the
	// cluster, where the in-memory counter is only unique in this process.
	Sequence func() (uint64, error)
	// Shared marks the queue of one shard of a store shared by several
	// gateways (see SharedWriter): other gateways' commits add events
	// without notice, so workers load from the head of the topic's keys
	// every time (one atomic page if KV is a PageScanner) and Refresh
	// recounts. Enqueue is not called on it.
	Shared bool
	// OnDelivered, if set, is called after each positive acknowledgement
	// with the time from the event's Enqueued (its commit, or its replay)
	// to the ack. It runs on the topic's worker and must be quick.
	OnDelivered func(topic string, latency time.Duration)
}

// Stats describe one topic's queue.
type Stats struct {
	Depth     int64         // events queued (persistent_topic_len)
	Bytes     int64         // bytes of queued records (persistent_topic_size)
	OldestAge time.Duration // age of the oldest queued event, as last observed
	Delivered int64         // positive acks since start
	Failed    int64         // failed attempts since start
	Dropped   int64         // events dropped by the overflow policy since start
	// DeadLettered counts events moved to the dead letters since start;
	// DeadLetterDepth is how many are there now.
	DeadLettered    int64
	DeadLetterDepth int64
	Pending         int64 // sends in flight, awaiting their result
}

// Counters are totals over every topic since start.
type Counters struct {
	Delivered    int64 // pubsub_push_ok (persistent part)
	Failed       int64 // failed attempts
	Dropped      int64
	DeadLettered int64
	Pending      int64 // pubsub_push_pending (persistent part)
}

// Queue is the set of persistent topic queues. Its methods are safe for
// concurrent use.
type Queue struct {
	kv        kv.Store
	send      Sender
	policy    func(string) (Policy, bool)
	window    int
	buffer    int
	timeout   time.Duration
	bmin      time.Duration
	bmax      time.Duration
	poll      time.Duration
	log       *slog.Logger
	now       func() time.Time
	onAck     func(topic string, latency time.Duration)
	shared    bool
	nextSeqFn func() (uint64, error) // Config.Sequence
	// A queue delivering through attached Shared queues (delegate.go),
	// under mu: parts non-nil once one was attached.
	parts  map[*Queue]struct{}
	counts map[string]counted

	seq atomic.Uint64 // last sequence handed out

	mu      sync.Mutex
	topics  map[string]*topic
	running bool
	runCtx  context.Context
	wg      sync.WaitGroup
	// A Shared queue's discovery runs (Kick), and another is due.
	discovering, rediscover bool
	// A Shared queue was kicked before Run: Run discovers first.
	kickedEarly bool

	delivered, failed, dropped, dead, pending atomic.Int64
}

// topic is the shared state of one topic's queue. Counters are atomics; the
// fields under mu are how commits talk to the worker.
type topic struct {
	name    string
	qprefix []byte
	dprefix []byte

	admin sync.Mutex // serialises DeleteQueue and Replay

	depth, bytes, dlqDepth                   atomic.Int64
	delivered, failed, dropped, dead, flight atomic.Int64
	oldest                                   atomic.Int64 // unix ns of the oldest event seen, 0 unknown

	wakeCh chan struct{}

	mu       sync.Mutex
	running  bool   // a worker goroutine owns this topic
	cursor   uint64 // the worker scans from here
	scanning bool
	more     bool     // there may be events at or above cursor to load
	late     []uint64 // committed below cursor or during a scan
	trim     bool     // DropOldest: over capacity
	cancel   context.CancelFunc
	done     chan struct{}
}

// New opens the queues stored in cfg.KV: it recomputes depth counters and
// the sequence counter with one scan, without loading events.
func New(cfg Config) (*Queue, error) {
	if cfg.KV == nil || cfg.Sender == nil || cfg.Policy == nil {
		return nil, errors.New("queue: KV, Sender and Policy are required")
	}
	q := &Queue{
		kv:        cfg.KV,
		send:      cfg.Sender,
		policy:    cfg.Policy,
		window:    cmp0(cfg.Window, DefaultWindow),
		buffer:    cmp0(cfg.Buffer, DefaultBuffer),
		timeout:   cmp0(cfg.SendTimeout, DefaultSendTimeout),
		bmin:      cmp0(cfg.BackoffMin, DefaultBackoffMin),
		bmax:      cmp0(cfg.BackoffMax, DefaultBackoffMax),
		poll:      cmp0(cfg.PollInterval, DefaultPollInterval),
		log:       cfg.Logger,
		now:       cfg.Now,
		onAck:     cfg.OnDelivered,
		shared:    cfg.Shared,
		nextSeqFn: cfg.Sequence,
		topics:    make(map[string]*topic),
	}
	q.buffer = max(q.buffer, q.window)
	q.bmax = max(q.bmax, q.bmin)
	if q.log == nil {
		q.log = slog.New(slog.DiscardHandler)
	}
	if q.now == nil {
		q.now = time.Now
	}
	if err := q.load(context.Background()); err != nil {
		return nil, err
	}
	return q, nil
}

func cmp0[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// load recomputes counters and the sequence from the stored keys.
func (q *Queue) load(ctx context.Context) error {
	var maxSeq uint64
	for _, root := range []string{queueRoot, dlqRoot} {
		var cur *topic
		for p, err := range q.kv.Scan(ctx, []byte(root), nil) {
			if err != nil {
				return fmt.Errorf("queue: load: %w", err)
			}
			name, seq, err := parseKey(p.Key[len(root):])
			if err != nil {
				q.log.Error("queue: skipping malformed key", "key", string(p.Key))
				continue
			}
			maxSeq = max(maxSeq, seq)
			if cur == nil || cur.name != name {
				cur = q.topicLocked(name)
				if root == queueRoot {
					if ev, _, err := decode(p.Value); err == nil {
						cur.oldest.Store(binrec.UnixNano(ev.Enqueued))
					}
				}
			}
			if root == queueRoot {
				cur.depth.Add(1)
				cur.bytes.Add(int64(len(p.Value)))
			} else {
				cur.dlqDepth.Add(1)
			}
		}
	}
	q.seq.Store(maxSeq)
	return nil
}

// topicLocked returns the topic's state, creating it; q.mu is held or q is
// not shared yet.
func (q *Queue) topicLocked(name string) *topic {
	t := q.topics[name]
	if t == nil {
		t = &topic{
			name:    name,
			qprefix: topicPrefix(queueRoot, name),
			dprefix: topicPrefix(dlqRoot, name),
			wakeCh:  make(chan struct{}, 1),
		}
		q.topics[name] = t
	}
	return t
}

func (q *Queue) topic(name string) *topic {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.topicLocked(name)
}

func (q *Queue) lookup(name string) *topic {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.topics[name]
}

// Enqueue queues ev inside the commit w belongs to: the record is written
// through w, so it exists iff the commit does, and the topic's worker is
// woken when the commit is durable. It applies the topic's overflow policy
// and returns ErrQueueFull (Reject) or ErrUnknownTopic; on any error w has
// not been written to.
func (q *Queue) Enqueue(w store.RecordWriter, ev Event) error {
	if ev.Topic == "" {
		return errors.New("queue: event without topic")
	}
	p, ok := q.policy(ev.Topic)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownTopic, ev.Topic)
	}
	if ev.ID == "" {
		ev.ID = newID()
	}
	if ev.Enqueued.IsZero() {
		ev.Enqueued = q.now()
	}
	ev.Attempts, ev.LastError = 0, ""
	t := q.topic(ev.Topic)
	if sw, ok := w.(SharedWriter); ok {
		return q.enqueueShared(sw, ev, p, t)
	}
	seq, err := q.nextSeq()
	if err != nil {
		return fmt.Errorf("queue: enqueue: %w", err)
	}
	ev.Seq = seq
	val := encode(&ev, time.Time{})
	size := int64(len(val))
	trim := false
	if c := p.capacity(); c > 0 && t.bytes.Load()+size > c {
		switch p.Overflow {
		case DropNewest:
			t.dropped.Add(1)
			q.dropped.Add(1)
			return nil
		case DropOldest:
			trim = true
		default:
			return fmt.Errorf("%w: topic %q holds %d bytes of %d", ErrQueueFull, ev.Topic, t.bytes.Load(), c)
		}
	}
	if err := w.Put(seqKey(t.qprefix, ev.Seq), val); err != nil {
		return fmt.Errorf("queue: enqueue: %w", err)
	}
	name, seq, enq := ev.Topic, ev.Seq, binrec.UnixNano(ev.Enqueued)
	w.AfterCommit(func() { q.committed(name, seq, size, enq, trim) })
	return nil
}

// nextSeq numbers an event written outside a shared store's commit.
func (q *Queue) nextSeq() (uint64, error) {
	if q.nextSeqFn != nil {
		return q.nextSeqFn()
	}
	return q.seq.Add(1), nil
}

// EnqueueDirect queues ev in a commit of its own (test events, tools).
func (q *Queue) EnqueueDirect(ctx context.Context, ev Event) error {
	var bw batchWriter
	if err := q.Enqueue(&bw, ev); err != nil {
		return err
	}
	if len(bw.b.Ops) == 0 {
		return nil // dropped by DropNewest
	}
	if err := q.kv.Apply(ctx, &bw.b); err != nil {
		return fmt.Errorf("queue: enqueue: %w", err)
	}
	for _, fn := range bw.after {
		fn()
	}
	return nil
}

// batchWriter is a store.RecordWriter over a kv.Batch.
type batchWriter struct {
	b     kv.Batch
	after []func()
}

func (w *batchWriter) Put(key, value []byte) error {
	w.b.Put(key, value)
	return nil
}

func (w *batchWriter) AfterCommit(fn func()) { w.after = append(w.after, fn) }

// AfterAbort implements store.RecordWriter; EnqueueDirect's batch either
// commits or returns the error to a caller that registered nothing.
func (w *batchWriter) AfterAbort(func()) {}

var _ store.RecordWriter = (*batchWriter)(nil)

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// committed accounts for a durable event and tells the topic's worker.
func (q *Queue) committed(name string, seq uint64, size, enq int64, trim bool) {
	q.mu.Lock()
	t := q.topicLocked(name)
	t.depth.Add(1)
	t.bytes.Add(size)
	t.oldest.CompareAndSwap(0, enq)
	if q.running {
		q.startLocked(t)
	}
	q.mu.Unlock()

	t.mu.Lock()
	if t.running {
		if t.scanning || seq < t.cursor {
			t.late = append(t.late, seq)
		} else {
			t.more = true
		}
		t.trim = t.trim || trim
	}
	t.mu.Unlock()
	t.wake()
}

func (t *topic) wake() {
	select {
	case t.wakeCh <- struct{}{}:
	default:
	}
}

// Run delivers events until ctx is done, resuming what is stored. Events in
// flight when it stops stay queued. It returns nil after a clean stop.
func (q *Queue) Run(ctx context.Context) error {
	q.mu.Lock()
	if q.running {
		q.mu.Unlock()
		return ErrRunning
	}
	q.running, q.runCtx = true, ctx
	for _, t := range q.topics {
		if t.depth.Load() > 0 {
			q.startLocked(t)
		}
	}
	if q.kickedEarly {
		q.kickedEarly = false
		q.discoverLocked()
	}
	q.mu.Unlock()

	<-ctx.Done()
	q.mu.Lock()
	q.running, q.runCtx = false, nil
	q.mu.Unlock()
	q.wg.Wait()
	return nil
}

// startLocked starts t's worker unless it runs; q.mu is held and Run runs.
func (q *Queue) startLocked(t *topic) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running {
		return
	}
	ctx, cancel := context.WithCancel(q.runCtx)
	t.running, t.cancel, t.done = true, cancel, make(chan struct{})
	t.cursor, t.more, t.scanning, t.late, t.trim = 0, true, false, nil, true
	w := newWorker(q, t)
	done := t.done
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		defer close(done)
		defer cancel()
		w.run(ctx)
	}()
}

// stop stops t's worker and waits for it.
func (t *topic) stop(ctx context.Context) error {
	t.mu.Lock()
	cancel, done := t.cancel, t.done
	running := t.running
	t.mu.Unlock()
	if !running {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the topic's statistics (zero for an unknown topic).
func (q *Queue) Stats(name string) Stats {
	if parts, ok := q.delegated(); ok {
		return q.delegatedStats(name, parts)
	}
	t := q.lookup(name)
	if t == nil {
		return Stats{}
	}
	s := Stats{
		Depth:           t.depth.Load(),
		Bytes:           t.bytes.Load(),
		Delivered:       t.delivered.Load(),
		Failed:          t.failed.Load(),
		Dropped:         t.dropped.Load(),
		DeadLettered:    t.dead.Load(),
		DeadLetterDepth: t.dlqDepth.Load(),
		Pending:         t.flight.Load(),
	}
	if o := t.oldest.Load(); o != 0 && s.Depth > 0 {
		s.OldestAge = max(q.now().Sub(time.Unix(0, o)), 0)
	}
	return s
}

// Topics returns the names of the topics the queue knows, sorted.
func (q *Queue) Topics() []string {
	if parts, ok := q.delegated(); ok {
		return q.delegatedTopics(parts)
	}
	q.mu.Lock()
	names := make([]string, 0, len(q.topics))
	for n := range q.topics {
		names = append(names, n)
	}
	q.mu.Unlock()
	sort.Strings(names)
	return names
}

// Counters returns totals over every topic.
func (q *Queue) Counters() Counters {
	c := Counters{
		Delivered:    q.delivered.Load(),
		Failed:       q.failed.Load(),
		Dropped:      q.dropped.Load(),
		DeadLettered: q.dead.Load(),
		Pending:      q.pending.Load(),
	}
	parts, _ := q.delegated()
	for _, p := range parts {
		pc := p.Counters()
		c.Delivered += pc.Delivered
		c.Failed += pc.Failed
		c.Dropped += pc.Dropped
		c.DeadLettered += pc.DeadLettered
		c.Pending += pc.Pending
	}
	return c
}

// pageSize is how many keys one administrative batch handles.
const pageSize = 512

// DeleteQueue removes a topic's queue and dead letters (RGW removes the
// queue with its topic). Call it after the topic is gone, so Enqueue rejects
// new events; an event committed concurrently may survive it.
func (q *Queue) DeleteQueue(ctx context.Context, name string) error {
	t := q.topic(name)
	t.admin.Lock()
	defer t.admin.Unlock()
	if err := t.stop(ctx); err != nil {
		return err
	}
	for _, prefix := range [][]byte{t.qprefix, t.dprefix} {
		if err := q.deletePrefix(ctx, prefix); err != nil {
			return err
		}
	}
	q.mu.Lock()
	if q.topics[name] == t {
		delete(q.topics, name)
	}
	q.mu.Unlock()
	return nil
}

func (q *Queue) deletePrefix(ctx context.Context, prefix []byte) error {
	for {
		var b kv.Batch
		for p, err := range q.kv.Scan(ctx, prefix, nil) {
			if err != nil {
				return fmt.Errorf("queue: delete: %w", err)
			}
			b.Delete(bytes.Clone(p.Key))
			if len(b.Ops) == pageSize {
				break
			}
		}
		if len(b.Ops) == 0 {
			return nil
		}
		if err := q.kv.Apply(ctx, &b); err != nil {
			return fmt.Errorf("queue: delete: %w", err)
		}
	}
}

// DeadLetters returns up to limit (1000 if not positive) of the topic's dead
// letters, oldest first.
func (q *Queue) DeadLetters(ctx context.Context, name string, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = 1000
	}
	var out []Event
	for p, err := range q.kv.Scan(ctx, topicPrefix(dlqRoot, name), nil) {
		if err != nil {
			return out, fmt.Errorf("queue: dead letters: %w", err)
		}
		ev, _, err := decode(p.Value)
		if err != nil {
			q.log.Error("queue: corrupt dead letter", "key", string(p.Key))
			continue
		}
		ev.Seq, _ = keySeq(p.Key)
		out = append(out, ev)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// Replay moves the topic's dead letters with the given ids (all of them if
// none is given) back into its queue and returns how many it moved. They
// queue behind the events already there, with Attempts reset and Enqueued
// set to now (so TTL counts afresh).
func (q *Queue) Replay(ctx context.Context, name string, ids ...string) (int, error) {
	t := q.topic(name)
	t.admin.Lock()
	defer t.admin.Unlock()
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	moved := 0
	var start []byte
	for {
		var b kv.Batch
		var after []func()
		var last []byte
		cut := false
		for p, err := range q.kv.Scan(ctx, t.dprefix, start) {
			if err != nil {
				return moved, fmt.Errorf("queue: replay: %w", err)
			}
			if len(b.Ops) >= 2*pageSize {
				cut = true
				break
			}
			last = bytes.Clone(p.Key)
			ev, _, err := decode(p.Value)
			if err != nil || (len(want) > 0 && !want[ev.ID]) {
				continue
			}
			ev.Attempts, ev.LastError, ev.Enqueued = 0, "", q.now()
			if ev.Seq, err = q.nextSeq(); err != nil {
				return moved, fmt.Errorf("queue: replay: %w", err)
			}
			val := encode(&ev, time.Time{})
			b.Delete(last)
			b.Put(seqKey(t.qprefix, ev.Seq), val)
			seq, size, enq := ev.Seq, int64(len(val)), binrec.UnixNano(ev.Enqueued)
			after = append(after, func() { q.committed(name, seq, size, enq, false) })
		}
		if len(b.Ops) > 0 {
			if err := q.kv.Apply(ctx, &b); err != nil {
				return moved, fmt.Errorf("queue: replay: %w", err)
			}
			t.dlqDepth.Add(-int64(len(after)))
			moved += len(after)
			for _, fn := range after {
				fn()
			}
		}
		if !cut {
			return moved, nil
		}
		start = append(last, 0)
	}
}
