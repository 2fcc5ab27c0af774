package queue

import (
	"context"
	"sort"
	"time"

	"github.com/cairn-s3/cairn/internal/binrec"
)

// A queue whose events are delivered by Shared queues (one per shard a
// gateway holds, see SharedWriter) only writes events into commits; its
// figures come from them: Attach registers each, and Stats, Counters and
// Topics then count its KV (which holds every shard's events) and sum the
// attached queues' counters (this gateway's deliveries since start).

// countTTL is how long a counted topic's depth is reused: Stats is read at
// every metrics scrape, and counting reads every queued event.
const countTTL = 2 * time.Second

// counted is one topic's depth as last counted.
type counted struct {
	at                time.Time
	depth, bytes, dlq int64
	oldest            int64 // unix ns, 0 if none
}

// Attach makes p's counters part of q's figures; the returned func
// detaches it, keeping its counts in q's (counters never go down). From
// the first call on (p may be nil), q's depths are counted from its KV.
func (q *Queue) Attach(p *Queue) (detach func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.parts == nil {
		q.parts = map[*Queue]struct{}{}
	}
	if p == nil {
		return func() {}
	}
	q.parts[p] = struct{}{}
	return func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		delete(q.parts, p)
		q.absorb(p)
	}
}

// absorb adds p's counters to q's; q.mu is held.
func (q *Queue) absorb(p *Queue) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, pt := range p.topics {
		t := q.topicLocked(name)
		t.delivered.Add(pt.delivered.Load())
		t.failed.Add(pt.failed.Load())
		t.dropped.Add(pt.dropped.Load())
		t.dead.Add(pt.dead.Load())
	}
	q.delivered.Add(p.delivered.Load())
	q.failed.Add(p.failed.Load())
	q.dropped.Add(p.dropped.Load())
	q.dead.Add(p.dead.Load())
}

// delegated reports whether q's figures come from attached queues, and
// returns them.
func (q *Queue) delegated() ([]*Queue, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.parts == nil {
		return nil, false
	}
	out := make([]*Queue, 0, len(q.parts))
	for p := range q.parts {
		out = append(out, p)
	}
	return out, true
}

// delegatedStats is Stats of a delegating queue.
func (q *Queue) delegatedStats(name string, parts []*Queue) Stats {
	c := q.count(name)
	s := Stats{Depth: c.depth, Bytes: c.bytes, DeadLetterDepth: c.dlq}
	if c.oldest != 0 && c.depth > 0 {
		s.OldestAge = max(q.now().Sub(time.Unix(0, c.oldest)), 0)
	}
	for _, p := range parts {
		ps := p.Stats(name)
		s.Delivered += ps.Delivered
		s.Failed += ps.Failed
		s.Dropped += ps.Dropped
		s.DeadLettered += ps.DeadLettered
		s.Pending += ps.Pending
	}
	if t := q.lookup(name); t != nil { // DropNewest at Enqueue, detached parts
		s.Delivered += t.delivered.Load()
		s.Failed += t.failed.Load()
		s.Dropped += t.dropped.Load()
		s.DeadLettered += t.dead.Load()
	}
	return s
}

// count counts name's queued events and dead letters, at most every
// countTTL.
func (q *Queue) count(name string) counted {
	q.mu.Lock()
	c, ok := q.counts[name]
	q.mu.Unlock()
	if ok && q.now().Sub(c.at) < countTTL {
		return c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c = counted{at: q.now()}
	for p, err := range q.kv.Scan(ctx, topicPrefix(queueRoot, name), nil) {
		if err != nil {
			q.log.Warn("queue: count", "topic", name, "err", err)
			break
		}
		c.depth++
		c.bytes += int64(len(p.Value))
		if ev, _, err := decode(p.Value); err == nil {
			if e := binrec.UnixNano(ev.Enqueued); c.oldest == 0 || e < c.oldest {
				c.oldest = e
			}
		}
	}
	for _, err := range q.kv.Scan(ctx, topicPrefix(dlqRoot, name), nil) {
		if err != nil {
			break
		}
		c.dlq++
	}
	q.mu.Lock()
	if q.counts == nil {
		q.counts = map[string]counted{}
	}
	q.counts[name] = c
	q.mu.Unlock()
	return c
}

// delegatedTopics is Topics of a delegating queue: its own and the
// attached queues'.
func (q *Queue) delegatedTopics(parts []*Queue) []string {
	seen := map[string]bool{}
	q.mu.Lock()
	for n := range q.topics {
		seen[n] = true
	}
	q.mu.Unlock()
	for _, p := range parts {
		p.mu.Lock()
		for n := range p.topics {
			seen[n] = true
		}
		p.mu.Unlock()
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
