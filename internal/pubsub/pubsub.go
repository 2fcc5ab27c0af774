package pubsub

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
)

// Errors.
var (
	// ErrNoSuchEvent is returned by Ack and Nack for an id not in the log.
	ErrNoSuchEvent = errors.New("pubsub: no such event")
	// ErrGap is returned by Pull when retention removed an event after the
	// marker: the reader is behind the oldest retained event.
	ErrGap = errors.New("pubsub: events after the marker expired")
)

// Defaults of Options.
const (
	DefaultRetention         = 7 * 24 * time.Hour
	DefaultVisibilityTimeout = 30 * time.Second
	DefaultMaxEntries        = 100  // Pull with max <= 0
	MaxEntries               = 1000 // Pull never returns more
	chunk                    = 1000 // keys per removal batch
)

// Event is one stored event as pulled.
type Event struct {
	ID           string
	Subscription string
	Body         []byte
	Time         time.Time // when it was stored
	Seq          uint64    // position in the subscription's log
	Deliveries   int       // times it was pulled, this pull included
	// Marker is the marker that resumes a pull just after this event.
	Marker string
}

// Options configure a Log.
type Options struct {
	Now               func() time.Time
	Retention         time.Duration // default DefaultRetention
	VisibilityTimeout time.Duration // default DefaultVisibilityTimeout
}

// Stats describe one subscription's log.
type Stats struct {
	Depth   int64     // events stored (visible or in flight)
	Oldest  time.Time // time of the oldest stored event; zero if none
	LastSeq uint64    // the last sequence allocated
	Expired uint64    // the highest sequence removed by retention
}

// Counters are the spec §9 counters the log maintains.
type Counters struct {
	StoreOK        uint64 // pubsub_store_ok
	StoreFail      uint64 // pubsub_store_fail
	EventTriggered uint64 // pubsub_event_triggered
	EventLost      uint64 // pubsub_event_lost
}

// Log is the set of pull-subscription event logs over one kv.Store. Its
// methods are safe for concurrent use.
type Log struct {
	kv   kv.Store
	now  func() time.Time
	ret  time.Duration
	vis  time.Duration
	mu   sync.Mutex // subs, subState.seq, subState.wake
	subs map[string]*subState

	storeOK, storeFail, triggered, lost atomic.Uint64
}

type subState struct {
	op      sync.Mutex // serialises Pull, Ack, Nack, Expire, Delete of the sub
	seq     uint64     // last allocated (Log.mu)
	wake    chan struct{}
	depth   atomic.Int64
	expired uint64 // op
}

// New opens the logs stored in kv, recomputing sequences and depths with
// one paged scan.
func New(s kv.Store, opts Options) (*Log, error) {
	if s == nil {
		return nil, errors.New("pubsub: nil kv store")
	}
	l := &Log{kv: s, now: opts.Now, ret: opts.Retention, vis: opts.VisibilityTimeout, subs: map[string]*subState{}}
	if l.now == nil {
		l.now = time.Now
	}
	if l.ret <= 0 {
		l.ret = DefaultRetention
	}
	if l.vis <= 0 {
		l.vis = DefaultVisibilityTimeout
	}
	if err := l.load(context.Background()); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Log) load(ctx context.Context) error {
	for p, err := range l.kv.Scan(ctx, []byte(root), nil) {
		if err != nil {
			return fmt.Errorf("pubsub: load: %w", err)
		}
		rest := p.Key[len(root):]
		i := bytes.IndexByte(rest, '/')
		if i < 0 {
			return fmt.Errorf("pubsub: malformed key %q", p.Key)
		}
		name, err := url.PathUnescape(string(rest[:i]))
		if err != nil {
			return fmt.Errorf("pubsub: malformed key %q", p.Key)
		}
		s := l.state(name)
		switch tail := rest[i+1:]; {
		case bytes.HasPrefix(tail, []byte("e/")):
			seq, err := keySeq(p.Key)
			if err != nil {
				return err
			}
			s.seq = max(s.seq, seq)
			s.depth.Add(1)
		case bytes.Equal(tail, []byte("m")):
			m, err := decodeMeta(p.Value)
			if err != nil {
				return fmt.Errorf("pubsub: meta of %q: %w", name, err)
			}
			s.seq = max(s.seq, m.High)
			s.expired = m.Expired
		}
	}
	return nil
}

// state returns the state of sub, creating it. l.mu must be held, or l not
// yet shared.
func (l *Log) state(sub string) *subState {
	s := l.subs[sub]
	if s == nil {
		s = &subState{wake: make(chan struct{})}
		l.subs[sub] = s
	}
	return s
}

func (l *Log) lookup(sub string) *subState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state(sub)
}

// Append stores an event for sub inside the commit w belongs to (a store
// ChangeHook's RecordWriter): it exists iff that commit does. An empty id is
// generated (RGW style: zero-padded timestamp, so lexical order is time
// order); an id already stored gets a disambiguating suffix (spec §10).
func (l *Log) Append(w store.RecordWriter, sub string, body []byte, id string) error {
	l.mu.Lock()
	s := l.state(sub)
	s.seq++
	seq := s.seq
	now := l.now()
	l.mu.Unlock()
	if id == "" {
		id = newID(now)
	}
	if _, err := l.kv.Get(context.Background(), indexKey(sub, id)); err == nil {
		id = fmt.Sprintf("%s.%s", id, hexSeq(seq))
	} else if !errors.Is(err, kv.ErrNotFound) && !errors.Is(err, store.ErrNotFound) {
		l.storeFail.Add(1)
		return fmt.Errorf("pubsub: append: %w", err)
	}
	rec := record{ID: id, Time: now, Body: body}
	if err := w.Put(eventKey(sub, seq), rec.encode()); err != nil {
		l.storeFail.Add(1)
		return fmt.Errorf("pubsub: append: %w", err)
	}
	if err := w.Put(indexKey(sub, id), []byte(hexSeq(seq))); err != nil {
		l.storeFail.Add(1)
		return fmt.Errorf("pubsub: append: %w", err)
	}
	w.AfterCommit(func() {
		l.storeOK.Add(1)
		s.depth.Add(1)
		l.mu.Lock()
		close(s.wake)
		s.wake = make(chan struct{})
		l.mu.Unlock()
	})
	return nil
}

func newID(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%010d.%06d.%08x", t.Unix(), t.Nanosecond()/1000, binary.BigEndian.Uint32(b[:]))
}

// Pull returns up to max (default DefaultMaxEntries, at most MaxEntries)
// visible events of sub strictly after marker ("" = from the oldest),
// oldest first. Returned events become invisible for the visibility
// timeout and their Deliveries grow by one (durably, before Pull returns);
// an event not acked by then is returned again. next is the marker after
// the last event returned (marker itself if none); truncated tells that
// more visible events follow. ErrGap: retention removed events after
// marker.
func (l *Log) Pull(ctx context.Context, sub, marker string, max int) (events []Event, next string, truncated bool, err error) {
	after, err := parseMarker(marker)
	if err != nil {
		return nil, "", false, err
	}
	if max <= 0 {
		max = DefaultMaxEntries
	}
	max = min(max, MaxEntries)
	s := l.lookup(sub)
	s.op.Lock()
	defer s.op.Unlock()
	if after > 0 && s.expired > after {
		return nil, "", false, fmt.Errorf("%w: marker %s is before sequence %d", ErrGap, marker, s.expired)
	}
	now := l.now()
	var b kv.Batch
	for p, err := range l.kv.Scan(ctx, eventPrefix(sub), eventKey(sub, after+1)) {
		if err != nil {
			return nil, "", false, fmt.Errorf("pubsub: pull: %w", err)
		}
		rec, err := decodeRecord(p.Value)
		if err != nil {
			return nil, "", false, fmt.Errorf("pubsub: pull %q: %w", p.Key, err)
		}
		if rec.InvisibleUntil.After(now) {
			continue
		}
		if len(events) == max {
			truncated = true
			break
		}
		seq, err := keySeq(p.Key)
		if err != nil {
			return nil, "", false, err
		}
		rec.Deliveries++
		rec.InvisibleUntil = now.Add(l.vis)
		b.Put(bytes.Clone(p.Key), rec.encode())
		events = append(events, Event{ID: rec.ID, Subscription: sub, Body: rec.Body, Time: rec.Time,
			Seq: seq, Deliveries: rec.Deliveries, Marker: markerOf(seq)})
	}
	if len(b.Ops) > 0 {
		if err := l.kv.Apply(ctx, &b); err != nil {
			return nil, "", false, fmt.Errorf("pubsub: pull: %w", err)
		}
	}
	next = marker
	if len(events) > 0 {
		next = events[len(events)-1].Marker
	}
	return events, next, truncated, nil
}

// seqOf reads the sequence of event id from the index.
func (l *Log) seqOf(ctx context.Context, sub, id string) (uint64, error) {
	v, err := l.kv.Get(ctx, indexKey(sub, id))
	if errors.Is(err, kv.ErrNotFound) || errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("%w: %q", ErrNoSuchEvent, id)
	}
	if err != nil {
		return 0, fmt.Errorf("pubsub: %w", err)
	}
	return keySeq(v)
}

func (l *Log) metaNow(sub string, s *subState) []byte {
	l.mu.Lock()
	high := s.seq
	l.mu.Unlock()
	return meta{High: high, Expired: s.expired}.encode()
}

// Ack removes event id of sub, durably. Unknown id: ErrNoSuchEvent.
func (l *Log) Ack(ctx context.Context, sub, eventID string) error {
	s := l.lookup(sub)
	s.op.Lock()
	defer s.op.Unlock()
	seq, err := l.seqOf(ctx, sub, eventID)
	if err != nil {
		return err
	}
	var b kv.Batch
	b.Delete(eventKey(sub, seq))
	b.Delete(indexKey(sub, eventID))
	b.Put(metaKey(sub), l.metaNow(sub, s))
	if err := l.kv.Apply(ctx, &b); err != nil {
		return fmt.Errorf("pubsub: ack: %w", err)
	}
	s.depth.Add(-1)
	return nil
}

// Nack makes event id of sub visible again now. Unknown id: ErrNoSuchEvent.
func (l *Log) Nack(ctx context.Context, sub, eventID string) error {
	s := l.lookup(sub)
	s.op.Lock()
	defer s.op.Unlock()
	seq, err := l.seqOf(ctx, sub, eventID)
	if err != nil {
		return err
	}
	key := eventKey(sub, seq)
	v, err := l.kv.Get(ctx, key)
	if errors.Is(err, kv.ErrNotFound) || errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %q", ErrNoSuchEvent, eventID)
	}
	if err != nil {
		return fmt.Errorf("pubsub: nack: %w", err)
	}
	rec, err := decodeRecord(v)
	if err != nil {
		return err
	}
	rec.InvisibleUntil = time.Time{}
	if err := kv.Put(ctx, l.kv, key, rec.encode()); err != nil {
		return fmt.Errorf("pubsub: nack: %w", err)
	}
	return nil
}

// Wait returns nil once an event of sub strictly after marker is committed
// (at once if one is stored), or ctx's error.
func (l *Log) Wait(ctx context.Context, sub, after string) error {
	seq, err := parseMarker(after)
	if err != nil {
		return err
	}
	s := l.lookup(sub)
	for {
		l.mu.Lock()
		ch := s.wake
		l.mu.Unlock()
		for _, err := range l.kv.Scan(ctx, eventPrefix(sub), eventKey(sub, seq+1)) {
			if err != nil {
				return fmt.Errorf("pubsub: wait: %w", err)
			}
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (l *Log) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.subs))
	for n := range l.subs {
		out = append(out, n)
	}
	return out
}

// Expire removes the events stored more than Retention ago and returns how
// many it removed. Readers whose marker is before a removed event get ErrGap.
func (l *Log) Expire(ctx context.Context) (int, error) {
	cutoff := l.now().Add(-l.ret)
	total := 0
	for _, sub := range l.names() {
		n, err := l.expire(ctx, sub, cutoff)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (l *Log) expire(ctx context.Context, sub string, cutoff time.Time) (int, error) {
	s := l.lookup(sub)
	s.op.Lock()
	defer s.op.Unlock()
	total := 0
	for {
		var b kv.Batch
		var top uint64
		for p, err := range l.kv.Scan(ctx, eventPrefix(sub), nil) {
			if err != nil {
				return total, fmt.Errorf("pubsub: expire: %w", err)
			}
			rec, err := decodeRecord(p.Value)
			if err != nil {
				return total, fmt.Errorf("pubsub: expire %q: %w", p.Key, err)
			}
			// Seq and time are allocated together, so stop at the first
			// young event.
			if !rec.Time.Before(cutoff) || len(b.Ops) >= chunk {
				break
			}
			if top, err = keySeq(p.Key); err != nil {
				return total, err
			}
			b.Delete(bytes.Clone(p.Key))
			b.Delete(indexKey(sub, rec.ID))
		}
		if len(b.Ops) == 0 {
			return total, nil
		}
		n := len(b.Ops) / 2
		prev := s.expired
		s.expired = max(s.expired, top)
		b.Put(metaKey(sub), l.metaNow(sub, s))
		if err := l.kv.Apply(ctx, &b); err != nil {
			s.expired = prev
			return total, fmt.Errorf("pubsub: expire: %w", err)
		}
		s.depth.Add(-int64(n))
		total += n
	}
}

// Delete removes every stored record of sub. Sequences stay monotonic
// while the process runs.
func (l *Log) Delete(ctx context.Context, sub string) error {
	s := l.lookup(sub)
	s.op.Lock()
	defer s.op.Unlock()
	for {
		var b kv.Batch
		for p, err := range l.kv.Scan(ctx, subPrefix(sub), nil) {
			if err != nil {
				return fmt.Errorf("pubsub: delete: %w", err)
			}
			b.Delete(bytes.Clone(p.Key))
			if len(b.Ops) >= chunk {
				break
			}
		}
		if len(b.Ops) == 0 {
			break
		}
		if err := l.kv.Apply(ctx, &b); err != nil {
			return fmt.Errorf("pubsub: delete: %w", err)
		}
	}
	s.depth.Store(0)
	s.expired = 0
	return nil
}

// Stats returns the state of sub's log.
func (l *Log) Stats(sub string) Stats {
	s := l.lookup(sub)
	l.mu.Lock()
	st := Stats{LastSeq: s.seq}
	l.mu.Unlock()
	s.op.Lock()
	st.Expired = s.expired
	s.op.Unlock()
	st.Depth = s.depth.Load()
	for p, err := range l.kv.Scan(context.Background(), eventPrefix(sub), nil) {
		if err == nil {
			if rec, err := decodeRecord(p.Value); err == nil {
				st.Oldest = rec.Time
			}
		}
		break
	}
	return st
}

// CountTriggered counts an event that matched at least one topic
// (pubsub_event_triggered); the caller knows, the log only keeps the count.
func (l *Log) CountTriggered() { l.triggered.Add(1) }

// CountLost counts an event that had subscriptions but was neither stored
// nor pushed anywhere (pubsub_event_lost).
func (l *Log) CountLost() { l.lost.Add(1) }

// Counters returns the spec §9 counters.
func (l *Log) Counters() Counters {
	return Counters{StoreOK: l.storeOK.Load(), StoreFail: l.storeFail.Load(),
		EventTriggered: l.triggered.Load(), EventLost: l.lost.Load()}
}
