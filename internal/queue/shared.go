package queue

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/cairn-s3/cairn/internal/binrec"
	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
)

// Shared queues: a store shared by several gateways (RADOS) keeps each
// commit's records in the index shard of the changed object, and each
// shard's records are delivered by the one gateway holding its lease. Such
// a store's RecordWriter is a SharedWriter: it numbers the records (no
// gateway's counter is involved) and tells whether the shard's share of a
// topic's capacity is used up. Its drainer runs one Queue with
// Config.Shared over each shard it holds.

// SharedWriter is the RecordWriter of a commit to a store shared by
// several gateways.
type SharedWriter interface {
	store.RecordWriter
	// RecordSequence numbers one record of this commit: unique in the
	// cluster and growing with the commits of one object, so that key
	// order is per-object commit order.
	RecordSequence() (uint64, error)
	// RecordsFull reports whether the holder of the commit's shard marked
	// the records under prefix full (the shard's share of the capacity is
	// used). Should the mark change before the commit, the commit fails its
	// guard and is retried, asking again.
	RecordsFull(prefix []byte) (bool, error)
}

// PageScanner is a kv.Store that reads a page of keys in one atomic read.
// A Shared queue loads events with it, so that a page holding an event
// also holds every earlier pending event of the same object (commits of one
// object happen in key order): per-object order without a commit's notice.
type PageScanner interface {
	// ScanPage returns up to max pairs with prefix whose keys are after
	// after (nil: from the first).
	ScanPage(ctx context.Context, prefix, after []byte, max int) ([]kv.Pair, error)
}

// enqueueShared writes ev through a shared store's writer: the record is
// numbered by the commit and delivered by the shard's lease holder (which
// counts it), so nothing is accounted here.
func (q *Queue) enqueueShared(w SharedWriter, ev Event, p Policy, t *topic) error {
	seq, err := w.RecordSequence()
	if err != nil {
		return fmt.Errorf("queue: enqueue: %w", err)
	}
	ev.Seq = seq
	if p.capacity() > 0 {
		full, err := w.RecordsFull(t.qprefix)
		if err != nil {
			return fmt.Errorf("queue: enqueue: %w", err)
		}
		if full {
			switch p.Overflow {
			case DropNewest:
				t.dropped.Add(1)
				q.dropped.Add(1)
				return nil
			case Reject:
				return fmt.Errorf("%w: topic %q: this shard's share of its capacity is used", ErrQueueFull, ev.Topic)
			}
			// DropOldest: the shard's holder trims.
		}
	}
	if err := w.Put(seqKey(t.qprefix, ev.Seq), encode(&ev, time.Time{})); err != nil {
		return fmt.Errorf("queue: enqueue: %w", err)
	}
	return nil
}

// Refresh recounts a Shared queue's events from its KV (other gateways'
// commits add to it unnoticed), starts a worker for each topic with events
// and has every worker look again. It returns the key prefixes of the
// topics at or over their capacity (Policy: the shard's share), which the
// drainer marks for commits to see (SharedWriter.RecordsFull). The drainer
// calls it periodically.
func (q *Queue) Refresh(ctx context.Context) (map[string]bool, error) {
	type count struct{ depth, bytes, oldest int64 }
	counts := map[string]*count{}
	for p, err := range q.kv.Scan(ctx, []byte(queueRoot), nil) {
		if err != nil {
			return nil, fmt.Errorf("queue: refresh: %w", err)
		}
		name, _, err := parseKey(p.Key[len(queueRoot):])
		if err != nil {
			continue
		}
		c := counts[name]
		if c == nil {
			c = &count{}
			counts[name] = c
			if ev, _, err := decode(p.Value); err == nil {
				c.oldest = binrec.UnixNano(ev.Enqueued)
			}
		}
		c.depth++
		c.bytes += int64(len(p.Value))
	}
	full := map[string]bool{}
	q.mu.Lock()
	for name := range counts {
		q.topicLocked(name)
	}
	for name, t := range q.topics {
		c := counts[name]
		if c == nil {
			c = &count{}
		}
		if p, ok := q.policy(name); ok && p.capacity() > 0 && c.bytes >= p.capacity() {
			full[string(t.qprefix)] = true
		}
		t.depth.Store(c.depth)
		t.bytes.Store(c.bytes)
		t.oldest.Store(c.oldest)
		if c.depth > 0 && q.running {
			q.startLocked(t)
		}
		t.kick(true)
	}
	q.mu.Unlock()
	return full, nil
}

// Kick has the workers of a Shared queue look for new events (a commit
// wrote some): it wakes every running worker, then has the topics with
// events discovered (if KV is a PageScanner: one read per topic) and a
// worker started for each, in the background, one discovery at a time
// (kicks meanwhile make one more). The running workers go first and the
// caller does not wait for the discovery: the new event most likely is a
// running worker's, and the reads would delay it (and the next wakes).
// Errors of the discovery are logged; Refresh starts the workers too. A
// kick before Run is kept: Run discovers first.
func (q *Queue) Kick(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, t := range q.topics {
		t.kick(false)
	}
	if q.running {
		q.discoverLocked()
	} else {
		// Not lost: the commit's event waits for Run, which discovers.
		q.kickedEarly = true
	}
	return nil
}

// discoverLocked starts a discovery, or asks the running one for another;
// q.mu is held and Run runs.
func (q *Queue) discoverLocked() {
	ps, ok := q.kv.(PageScanner)
	switch {
	case !ok:
	case q.discovering:
		q.rediscover = true
	default:
		q.discovering = true
		q.wg.Add(1)
		go q.discoverLoop(q.runCtx, ps)
	}
}

// discoverLoop discovers until no kick asked for another discovery.
func (q *Queue) discoverLoop(ctx context.Context, ps PageScanner) {
	defer q.wg.Done()
	for {
		if err := q.discover(ctx, ps); err != nil && ctx.Err() == nil {
			q.log.Warn("queue: look for topics with new events", "err", err)
		}
		q.mu.Lock()
		if !q.rediscover || ctx.Err() != nil {
			q.discovering, q.rediscover = false, false
			q.mu.Unlock()
			return
		}
		q.rediscover = false
		q.mu.Unlock()
	}
}

// discover starts the workers of the topics with events.
func (q *Queue) discover(ctx context.Context, ps PageScanner) error {
	var after []byte
	for range 1 << 16 {
		page, err := ps.ScanPage(ctx, []byte(queueRoot), after, 1)
		if err != nil {
			return fmt.Errorf("queue: kick: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		name, _, err := parseKey(page[0].Key[len(queueRoot):])
		if err != nil {
			after = page[0].Key // a malformed key: look on
			continue
		}
		q.mu.Lock()
		t := q.topicLocked(name)
		if q.running {
			q.startLocked(t)
		}
		q.mu.Unlock()
		// Past every key of the topic: they end in hex digits.
		after = append(bytes.Clone(t.qprefix), 0xff)
	}
	return nil
}

// SharePolicy is policy with each topic's capacity split among shares
// shards (a Shared queue's Policy).
func SharePolicy(policy func(string) (Policy, bool), shares int) func(string) (Policy, bool) {
	return func(topic string) (Policy, bool) {
		p, ok := policy(topic)
		if ok && shares > 1 && p.capacity() > 0 {
			p.Capacity = max(p.capacity()/int64(shares), 1)
		}
		return p, ok
	}
}

// kick marks t's events as worth a new look (and over capacity worth a
// trim, if trim) and wakes its worker.
func (t *topic) kick(trim bool) {
	t.mu.Lock()
	if t.running {
		t.more = true
		t.trim = t.trim || trim
	}
	t.mu.Unlock()
	t.wake()
}

// fillShared loads a Shared queue's events: one atomic page from the head
// of the topic's keys (see PageScanner), skipping the ones already loaded
// or being removed.
func (w *worker) fillShared(ctx context.Context, ps PageScanner) {
	budget := w.budget()
	t := w.t
	t.mu.Lock()
	if !t.more || budget <= 0 {
		t.mu.Unlock()
		return
	}
	t.more = false
	t.mu.Unlock()
	max := len(w.loaded) + len(w.gone) + budget
	page, err := ps.ScanPage(ctx, t.qprefix, nil, max)
	if err != nil {
		if ctx.Err() == nil {
			w.q.log.Error("queue: scan", "topic", t.name, "err", err)
		}
		t.mu.Lock()
		t.more = true
		t.mu.Unlock()
		return
	}
	n := 0
	for _, p := range page {
		seq, err := keySeq(p.Key)
		if err != nil || w.known(seq) {
			continue
		}
		if n >= budget {
			break
		}
		if w.load(seq, p.Value) {
			n++
		}
	}
	// A full page may hide more events: look again now if some were
	// loaded, or once removals free room in the page (flushed).
	w.pageFull = len(page) == max
	if w.pageFull && n > 0 {
		t.mu.Lock()
		t.more = true
		t.mu.Unlock()
	}
}
