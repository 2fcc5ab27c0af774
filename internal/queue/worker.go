package queue

import (
	"container/heap"
	"context"
	"errors"
	"github.com/cairn-s3/cairn/internal/binrec"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
)

// item is one loaded event.
type item struct {
	ev          Event
	size        int64 // bytes accounted in topic.bytes
	lastAttempt time.Time
	due         time.Time // not sent before
	kq          *keyQ
}

// keyQ holds the loaded events of one ordering Key: at most one in flight,
// the others waiting in sequence order.
type keyQ struct {
	key      string
	items    []*item // waiting, sorted by Seq
	inflight *item
	idx      int // index in the ready heap, -1 when not in it
}

// readyHeap holds the keys whose first waiting event may be sent (no event
// of the key in flight), earliest due first, then oldest.
type readyHeap []*keyQ

func (h readyHeap) Len() int { return len(h) }
func (h readyHeap) Less(i, j int) bool {
	a, b := h[i].items[0], h[j].items[0]
	if !a.due.Equal(b.due) {
		return a.due.Before(b.due)
	}
	return a.ev.Seq < b.ev.Seq
}
func (h readyHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *readyHeap) Push(x any) {
	k := x.(*keyQ)
	k.idx = len(*h)
	*h = append(*h, k)
}
func (h *readyHeap) Pop() any {
	old := *h
	k := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	k.idx = -1
	return k
}

type result struct {
	it  *item
	err error
}

// worker delivers one topic's events. Its fields are owned by its goroutine.
type worker struct {
	q *Queue
	t *topic

	loaded map[uint64]*item
	keys   map[string]*keyQ
	ready  readyHeap
	gone   map[uint64]struct{} // removal written but not yet durable
	flight int

	results chan result

	// pending writes, applied by one flush at a time
	batch    kv.Batch
	effects  []func()
	goneSeqs []uint64
	removing int64 // bytes of queued records whose removal is pending

	flushing  bool
	flushDone chan error
	inFlush   flushSet
	retryAt   time.Time

	held      bool      // the topic is unknown: send nothing
	lateRetry time.Time // after a failed read-back, not before
	oldestAt  time.Time
	pageFull  bool // a Shared worker's last page was full (fillShared)
}

type flushSet struct {
	b        kv.Batch
	effects  []func()
	goneSeqs []uint64
	removing int64
}

func newWorker(q *Queue, t *topic) *worker {
	return &worker{
		q:         q,
		t:         t,
		loaded:    make(map[uint64]*item),
		keys:      make(map[string]*keyQ),
		gone:      make(map[uint64]struct{}),
		results:   make(chan result, q.window),
		flushDone: make(chan error, 1),
	}
}

func (w *worker) run(ctx context.Context) {
	defer w.shutdown()
	poll := time.NewTicker(w.q.poll)
	defer poll.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		w.step(ctx)
		var timerC <-chan time.Time
		if at, ok := w.nextWake(); ok {
			timer.Reset(max(at.Sub(w.q.now()), 0))
			timerC = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-w.t.wakeCh:
		case r := <-w.results:
			w.complete(ctx, r)
			w.drainResults(ctx)
		case err := <-w.flushDone:
			w.flushed(err)
		case <-timerC:
		case <-poll.C:
			w.t.mu.Lock()
			w.t.more = true
			if len(w.loaded) == 0 && w.flight == 0 {
				w.t.cursor = 0 // idle: rescan from the head, belt and braces
			}
			w.t.mu.Unlock()
		}
	}
}

func (w *worker) drainResults(ctx context.Context) {
	for {
		select {
		case r := <-w.results:
			w.complete(ctx, r)
		default:
			return
		}
	}
}

// step does everything that can be done now without waiting.
func (w *worker) step(ctx context.Context) {
	w.t.mu.Lock()
	late, trim := w.t.late, w.t.trim
	w.t.late, w.t.trim = nil, false
	w.t.mu.Unlock()
	if len(late) > 0 {
		if w.q.now().Before(w.lateRetry) {
			w.t.mu.Lock()
			w.t.late = append(w.t.late, late...)
			w.t.mu.Unlock()
		} else {
			w.loadLate(ctx, late)
		}
	}
	w.fill(ctx)
	if trim {
		w.trimOldest(ctx)
	}
	w.dispatch(ctx)
	w.flush(context.WithoutCancel(ctx))
	w.publishOldest()
}

// budget is how many more events may be loaded.
func (w *worker) budget() int {
	return w.q.buffer - len(w.loaded) - len(w.gone)
}

// fill loads events from the cursor on, in key order, up to the budget.
func (w *worker) fill(ctx context.Context) {
	if ps, ok := w.q.kv.(PageScanner); ok && w.q.shared {
		w.fillShared(ctx, ps)
		return
	}
	budget := w.budget()
	t := w.t
	t.mu.Lock()
	if !t.more || budget <= 0 {
		t.mu.Unlock()
		return
	}
	t.more, t.scanning = false, true
	start := t.cursor
	if w.q.shared {
		start = 0 // other gateways' commits land anywhere, unnoticed
	}
	t.mu.Unlock()

	next, exhausted, n := start, true, 0
	for p, err := range w.q.kv.Scan(ctx, t.qprefix, seqKey(t.qprefix, start)) {
		if err != nil {
			if ctx.Err() == nil {
				w.q.log.Error("queue: scan", "topic", t.name, "err", err)
			}
			exhausted = false
			break
		}
		if n >= budget {
			exhausted = false
			break
		}
		seq, err := keySeq(p.Key)
		if err != nil {
			continue
		}
		next = seq + 1
		if w.known(seq) {
			continue
		}
		if w.load(seq, p.Value) {
			n++
		}
	}

	t.mu.Lock()
	t.scanning = false
	t.cursor = max(t.cursor, next)
	if !exhausted {
		t.more = true
	}
	t.mu.Unlock()
}

func (w *worker) known(seq uint64) bool {
	if _, ok := w.loaded[seq]; ok {
		return true
	}
	_, ok := w.gone[seq]
	return ok
}

// loadLate reads back events committed below the cursor or during a scan.
func (w *worker) loadLate(ctx context.Context, late []uint64) {
	slices.Sort(late)
	late = slices.Compact(late)
	w.t.mu.Lock()
	cursor := w.t.cursor
	w.t.mu.Unlock()
	var retry []uint64
	for _, seq := range late {
		if seq >= cursor {
			w.t.mu.Lock()
			w.t.more = true
			w.t.mu.Unlock()
			continue
		}
		if w.known(seq) {
			continue
		}
		val, err := w.q.kv.Get(ctx, seqKey(w.t.qprefix, seq))
		switch {
		case errors.Is(err, kv.ErrNotFound):
			// already delivered and removed
		case err != nil:
			if ctx.Err() == nil {
				w.q.log.Error("queue: read event", "topic", w.t.name, "seq", seq, "err", err)
			}
			retry = append(retry, seq)
		default:
			w.load(seq, val)
		}
	}
	if len(retry) > 0 {
		// Keep them late: later events stay gated until they are read.
		w.lateRetry = w.q.now().Add(w.q.bmin)
		w.t.mu.Lock()
		w.t.late = append(w.t.late, retry...)
		w.t.mu.Unlock()
	}
}

// load decodes a stored event and queues it behind its Key.
func (w *worker) load(seq uint64, val []byte) bool {
	ev, last, err := decode(val)
	if err != nil {
		w.q.log.Error("queue: corrupt event left in place", "topic", w.t.name, "seq", seq)
		return false
	}
	ev.Seq = seq
	it := &item{ev: ev, size: int64(len(val)), lastAttempt: last}
	if ev.Attempts > 0 && !last.IsZero() {
		p, _ := w.q.policy(w.t.name)
		it.due = last.Add(w.backoff(p, ev.Attempts))
	}
	w.loaded[seq] = it
	kq := w.keys[ev.Key]
	if kq == nil {
		kq = &keyQ{key: ev.Key, idx: -1}
		w.keys[ev.Key] = kq
	}
	it.kq = kq
	i, _ := slices.BinarySearchFunc(kq.items, seq, func(a *item, s uint64) int {
		switch {
		case a.ev.Seq < s:
			return -1
		case a.ev.Seq > s:
			return 1
		}
		return 0
	})
	if kq.inflight != nil && kq.inflight.ev.Seq > seq {
		w.q.log.Warn("queue: event loaded behind a later one in flight", "topic", w.t.name, "seq", seq)
	}
	kq.items = slices.Insert(kq.items, i, it)
	w.fix(kq)
	return true
}

// fix restores kq's place in the ready heap after a change.
func (w *worker) fix(kq *keyQ) {
	in := len(kq.items) > 0 && kq.inflight == nil
	switch {
	case in && kq.idx < 0:
		heap.Push(&w.ready, kq)
	case in:
		heap.Fix(&w.ready, kq.idx)
	case kq.idx >= 0:
		heap.Remove(&w.ready, kq.idx)
	}
	if len(kq.items) == 0 && kq.inflight == nil {
		delete(w.keys, kq.key)
	}
}

// dispatch starts every send that is due, up to the window.
func (w *worker) dispatch(ctx context.Context) {
	if len(w.ready) == 0 || w.flight >= w.q.window {
		return
	}
	p, ok := w.q.policy(w.t.name)
	w.held = !ok
	if !ok {
		return
	}
	// An event committed late is read back before any later event is sent:
	// it may precede one of them with the same Key.
	gate := ^uint64(0)
	w.t.mu.Lock()
	for _, s := range w.t.late {
		gate = min(gate, s)
	}
	w.t.mu.Unlock()
	now := w.q.now()
	for w.flight < w.q.window && len(w.ready) > 0 {
		kq := w.ready[0]
		it := kq.items[0]
		if it.due.After(now) || it.ev.Seq >= gate {
			return
		}
		kq.items[0] = nil
		kq.items = kq.items[1:]
		switch {
		case p.TTL > 0 && now.Sub(it.ev.Enqueued) > p.TTL:
			w.deadLetter(it, "time to live expired")
			w.fix(kq)
			continue
		case p.MaxRetries > 0 && it.ev.Attempts > p.MaxRetries:
			w.deadLetter(it, "max retries reached")
			w.fix(kq)
			continue
		}
		kq.inflight = it
		w.fix(kq)
		w.flight++
		w.t.flight.Add(1)
		w.q.pending.Add(1)
		ev := it.ev
		go func() {
			sctx, cancel := context.WithTimeout(ctx, w.q.timeout)
			err := w.q.send.Send(sctx, ev)
			cancel()
			w.results <- result{it: it, err: err}
		}()
	}
}

// complete handles the result of one send.
func (w *worker) complete(ctx context.Context, r result) {
	it, kq := r.it, r.it.kq
	kq.inflight = nil
	w.flight--
	w.t.flight.Add(-1)
	w.q.pending.Add(-1)
	switch {
	case r.err == nil:
		w.t.delivered.Add(1)
		w.q.delivered.Add(1)
		if w.q.onAck != nil {
			w.q.onAck(w.t.name, w.q.now().Sub(it.ev.Enqueued))
		}
		w.remove(it, nil)
	case ctx.Err() != nil:
		// Stopping: not the endpoint's fault; the event simply stays.
		kq.items = slices.Insert(kq.items, 0, it)
	default:
		w.t.failed.Add(1)
		w.q.failed.Add(1)
		now := w.q.now()
		it.ev.Attempts++
		it.ev.LastError = truncate(r.err.Error(), maxErrorLen)
		it.lastAttempt = now
		p, ok := w.q.policy(w.t.name)
		if ok && p.MaxRetries > 0 && it.ev.Attempts > p.MaxRetries {
			w.deadLetter(it, "max retries reached")
			break
		}
		it.due = now.Add(w.backoff(p, it.ev.Attempts))
		if ok && p.TTL > 0 {
			if exp := it.ev.Enqueued.Add(p.TTL); exp.Before(it.due) {
				it.due = exp.Add(time.Millisecond)
			}
		}
		kq.items = slices.Insert(kq.items, 0, it)
		// Keep the attempt count across restarts (MaxRetries, DeadLetters).
		w.batch.Put(seqKey(w.t.qprefix, it.ev.Seq), encode(&it.ev, it.lastAttempt))
		w.q.log.Debug("queue: send failed", "topic", w.t.name, "id", it.ev.ID, "attempts", it.ev.Attempts, "err", r.err)
	}
	w.fix(kq)
}

// backoff is the delay before attempt n+1 after n failures: exponential
// from BackoffMin, capped at BackoffMax, with equal jitter, and never less
// than the topic's RetrySleep.
func (w *worker) backoff(p Policy, n int) time.Duration {
	d := w.q.bmin
	for i := 1; i < n && d < w.q.bmax; i++ {
		d *= 2
	}
	d = min(d, w.q.bmax)
	d = d/2 + rand.N(d/2+1)
	return max(d, p.RetrySleep)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// deadLetter moves a loaded event (not waiting in its keyQ) to the dead
// letters.
func (w *worker) deadLetter(it *item, reason string) {
	w.q.log.Warn("queue: event dead-lettered", "topic", w.t.name, "id", it.ev.ID,
		"attempts", it.ev.Attempts, "reason", reason, "last_error", it.ev.LastError)
	w.batch.Put(seqKey(w.t.dprefix, it.ev.Seq), encode(&it.ev, it.lastAttempt))
	t, q := w.t, w.q
	w.remove(it, func() {
		t.dlqDepth.Add(1)
		t.dead.Add(1)
		q.dead.Add(1)
	})
}

// remove drops a loaded event (not waiting in its keyQ) from memory and
// writes its removal; effect runs once that is durable.
func (w *worker) remove(it *item, effect func()) {
	delete(w.loaded, it.ev.Seq)
	w.removeKey(it.ev.Seq, it.size, effect)
}

func (w *worker) removeKey(seq uint64, size int64, effect func()) {
	w.gone[seq] = struct{}{}
	w.goneSeqs = append(w.goneSeqs, seq)
	w.removing += size
	w.batch.Delete(seqKey(w.t.qprefix, seq))
	t := w.t
	w.effects = append(w.effects, func() {
		t.depth.Add(-1)
		t.bytes.Add(-size)
		if effect != nil {
			effect()
		}
	})
}

// flush starts applying the pending writes unless a flush runs; acks are
// batched while one is in progress.
func (w *worker) flush(ctx context.Context) {
	if w.flushing || len(w.batch.Ops) == 0 || w.q.now().Before(w.retryAt) {
		return
	}
	w.inFlush = flushSet{b: w.batch, effects: w.effects, goneSeqs: w.goneSeqs, removing: w.removing}
	w.batch, w.effects, w.goneSeqs, w.removing = kv.Batch{}, nil, nil, 0
	w.flushing = true
	b := &w.inFlush.b
	go func() {
		w.flushDone <- w.q.kv.Apply(ctx, b)
	}()
}

// flushed handles the end of a flush.
func (w *worker) flushed(err error) {
	w.flushing = false
	f := w.inFlush
	w.inFlush = flushSet{}
	if err != nil {
		w.q.log.Error("queue: write acks", "topic", w.t.name, "err", err)
		// Put the writes back in front of newer ones and retry later.
		w.batch.Ops = append(f.b.Ops, w.batch.Ops...)
		w.effects = append(f.effects, w.effects...)
		w.goneSeqs = append(f.goneSeqs, w.goneSeqs...)
		w.removing += f.removing
		w.retryAt = w.q.now().Add(w.q.bmin)
		return
	}
	for _, fn := range f.effects {
		fn()
	}
	for _, s := range f.goneSeqs {
		delete(w.gone, s)
	}
	if w.q.shared && w.pageFull && len(f.goneSeqs) > 0 {
		// Removals free room in the full page a shared worker loads
		// from. (A page with room held every event then; new ones wake
		// the worker: a rescan after every removal would double the
		// reads, and hold up the worker.)
		w.t.mu.Lock()
		w.t.more = true
		w.t.mu.Unlock()
	}
}

// trimOldest drops the oldest events not in flight until the topic is
// within its capacity (DropOldest).
func (w *worker) trimOldest(ctx context.Context) {
	p, ok := w.q.policy(w.t.name)
	if !ok || p.Overflow != DropOldest || p.capacity() < 0 {
		return
	}
	pendingRemoval := w.removing
	if w.flushing {
		pendingRemoval += w.inFlush.removing
	}
	over := w.t.bytes.Load() - pendingRemoval - p.capacity()
	if over <= 0 {
		return
	}
	t, q := w.t, w.q
	dropped := func() {
		t.dropped.Add(1)
		q.dropped.Add(1)
	}
	for pr, err := range w.q.kv.Scan(ctx, w.t.qprefix, nil) {
		if err != nil {
			w.q.log.Error("queue: trim", "topic", w.t.name, "err", err)
			return
		}
		seq, err := keySeq(pr.Key)
		if err != nil {
			continue
		}
		if _, ok := w.gone[seq]; ok {
			continue
		}
		size := int64(len(pr.Value))
		if it, ok := w.loaded[seq]; ok {
			kq := it.kq
			if kq.inflight == it {
				continue
			}
			i := slices.Index(kq.items, it)
			kq.items = slices.Delete(kq.items, i, i+1)
			w.fix(kq)
			size = it.size
			w.remove(it, dropped)
		} else {
			w.removeKey(seq, size, dropped)
		}
		over -= size
		if over <= 0 {
			return
		}
	}
}

// nextWake is when a timer should wake the worker: the first retry due, or
// a flush retry.
func (w *worker) nextWake() (time.Time, bool) {
	var at time.Time
	ok := false
	if len(w.ready) > 0 && w.flight < w.q.window && !w.held {
		at, ok = w.ready[0].items[0].due, true
		if at.Before(w.lateRetry) {
			at = w.lateRetry // gated behind a read-back that failed
		}
	}
	if !w.flushing && len(w.batch.Ops) > 0 && (!ok || w.retryAt.Before(at)) {
		at, ok = w.retryAt, true
	}
	return at, ok
}

// publishOldest refreshes the topic's oldest-event time, at most every
// 100 ms.
func (w *worker) publishOldest() {
	now := w.q.now()
	if now.Sub(w.oldestAt) < 100*time.Millisecond {
		return
	}
	w.oldestAt = now
	if len(w.loaded) == 0 && w.budget() > 0 {
		w.t.oldest.Store(0) // nothing queued; the next commit sets it
		return
	}
	var oldest int64
	for _, it := range w.loaded {
		if e := binrec.UnixNano(it.ev.Enqueued); oldest == 0 || e < oldest {
			oldest = e
		}
	}
	if oldest != 0 {
		w.t.oldest.Store(oldest)
	}
}

// shutdown waits for sends in flight and makes the last acks durable.
func (w *worker) shutdown() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // complete sees a stopping worker: no attempt is counted
	for w.flight > 0 {
		w.complete(ctx, <-w.results)
	}
	if w.flushing {
		w.flushed(<-w.flushDone)
	}
	if len(w.batch.Ops) > 0 {
		fctx, fcancel := context.WithTimeout(context.Background(), 10*time.Second)
		w.retryAt = time.Time{}
		w.flush(fctx)
		w.flushed(<-w.flushDone)
		fcancel()
	}
	w.t.mu.Lock()
	w.t.running, w.t.late, w.t.scanning = false, nil, false
	w.t.mu.Unlock()
}
