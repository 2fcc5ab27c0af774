package pubsub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
)

// Errors of the log.
var (
	// ErrGap is returned by Pull when retention removed events after the
	// reader's position: it is behind the oldest retained event.
	ErrGap = errors.New("pubsub: events after the marker expired")
	// ErrBadMarker is returned for a marker or event id the log did not make.
	ErrBadMarker = errors.New("pubsub: invalid marker")
)

// Defaults and bounds of Pull.
const (
	DefaultRetention  = 7 * 24 * time.Hour
	DefaultMaxEntries = 100  // Pull with Max <= 0
	MaxEntries        = 1000 // Pull never returns more
	chunk             = 1000 // keys per removal batch
)

// Event is one stored event as pulled.
type Event struct {
	ID   string
	Body []byte
	Time time.Time // when it was stored; also its position
	// Deliveries is how many times a pull with a visibility timeout
	// returned it, this one included.
	Deliveries int
}

// Stats describe one log.
type Stats struct {
	Depth   int64     // events stored (visible or in flight)
	Oldest  time.Time // time of the oldest stored event; zero if none
	Expired time.Time // time of the newest event retention removed; zero if none
}

// Log is the set of subscription event logs over one kv.Store. Its methods
// are safe for concurrent use.
type Log struct {
	kv  kv.Store
	now func() time.Time
	ret time.Duration

	mu   sync.Mutex // subs and every logState field marked "Log.mu"
	subs map[string]*logState

	storeOK, storeFail atomic.Uint64
	// shared: several gateways share the store; events arrive as drafts
	// moved in by shard holders (shared.go), never pending here.
	shared bool
}

type logState struct {
	op sync.Mutex // serialises Pull, Ack, Nack and Expire of one log

	last    uint64              // Log.mu: the last position allocated
	pending map[uint64]struct{} // Log.mu: allocated, commit not yet settled
	wake    chan struct{}       // Log.mu: closed when a commit settles
	depth   atomic.Int64
	expired uint64 // op: the highest position retention removed
}

// New opens the logs stored in s, recomputing positions and depths with one
// paged scan. retention <= 0 means DefaultRetention; now nil means
// time.Now.
func New(s kv.Store, retention time.Duration, now func() time.Time) (*Log, error) {
	if s == nil {
		return nil, errors.New("pubsub: nil kv store")
	}
	if retention <= 0 {
		retention = DefaultRetention
	}
	if now == nil {
		now = time.Now
	}
	l := &Log{kv: s, now: now, ret: retention, subs: map[string]*logState{}}
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
			pos, err := keyPos(p.Key)
			if err != nil {
				return err
			}
			s.last = max(s.last, pos)
			s.depth.Add(1)
		case bytes.Equal(tail, []byte("m")):
			m, err := decodeMeta(p.Value)
			if err != nil {
				return fmt.Errorf("pubsub: meta of %q: %w", name, err)
			}
			s.last = max(s.last, m.High)
			s.expired = m.Expired
		}
	}
	return nil
}

// state returns the state of a log, creating it. l.mu must be held, or l
// not yet shared.
func (l *Log) state(sub string) *logState {
	s := l.subs[sub]
	if s == nil {
		s = &logState{pending: map[uint64]struct{}{}, wake: make(chan struct{})}
		l.subs[sub] = s
	}
	return s
}

func (l *Log) lookup(sub string) *logState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state(sub)
}

// settled returns the highest position at and below which every allocated
// position's commit has settled (landed or aborted): readers never go past
// it, so a commit that lands late cannot be skipped by a marker. l.mu must
// be held.
func (s *logState) settled() uint64 {
	w := s.last
	for p := range s.pending {
		w = min(w, p-1)
	}
	return w
}

// BuildFunc renders an event's body once its id and time are known.
type BuildFunc func(id string, at time.Time) ([]byte, error)

// Append stores an event in log sub inside the commit w belongs to (a store
// ChangeHook's RecordWriter): it exists iff that commit does, and becomes
// pullable only once the commit is durable. The event's position is its
// time in microseconds, unique and increasing within the log; its id is
// RGW's "<10-digit sec>.<6-digit usec>.<hash>" of that time. Append returns
// the id.
func (l *Log) Append(w store.RecordWriter, sub, hash string, build BuildFunc) (string, error) {
	l.mu.Lock()
	s := l.state(sub)
	pos := max(uint64(l.now().UnixMicro()), s.last+1)
	s.last = pos
	s.pending[pos] = struct{}{}
	l.mu.Unlock()

	at := posTime(pos)
	id := formatID(pos, hash)
	body, err := build(id, at)
	if err == nil {
		rec := record{ID: id, Time: at, Body: body}
		err = w.Put(eventKey(sub, pos), rec.encode())
	}
	if err != nil {
		l.settle(s, pos, false)
		l.storeFail.Add(1)
		return "", fmt.Errorf("pubsub: append: %w", err)
	}
	w.AfterCommit(func() { l.settle(s, pos, true) })
	w.AfterAbort(func() { l.settle(s, pos, false) })
	return id, nil
}

func (l *Log) settle(s *logState, pos uint64, committed bool) {
	if committed {
		l.storeOK.Add(1)
		s.depth.Add(1)
	}
	l.mu.Lock()
	delete(s.pending, pos)
	close(s.wake)
	s.wake = make(chan struct{})
	l.mu.Unlock()
}

// PullOptions select what Pull returns.
type PullOptions struct {
	// Marker resumes strictly after the event it names: an id returned by
	// the log, optionally prefixed by "<anything>/" (RGW's markers carry
	// the subscription's object prefix). "" starts at the oldest event.
	Marker string
	// Since, if not zero, starts at the first event stored at or after it
	// (replay from a time); with Marker, the later position wins.
	Since time.Time
	// Max bounds the events returned (DefaultMaxEntries if <= 0, at most
	// MaxEntries).
	Max int
	// Visibility, if positive, hides each returned event from later pulls
	// for that long unless it is acked or nacked, and counts its
	// deliveries durably. Zero returns events without changing them (RGW).
	Visibility time.Duration
}

// Page is the result of a Pull.
type Page struct {
	Events []Event
	// Truncated tells that more visible events follow the last one.
	Truncated bool
}

// Pull returns the visible events of log sub after the options' position,
// oldest first. ErrGap: retention removed events after that position.
func (l *Log) Pull(ctx context.Context, sub string, o PullOptions) (Page, error) {
	after, err := ParseMarker(o.Marker)
	if err != nil {
		return Page{}, err
	}
	if !o.Since.IsZero() && o.Since.UnixMicro() > 0 {
		after = max(after, uint64(o.Since.UnixMicro())-1)
	}
	limit := o.Max
	if limit <= 0 {
		limit = DefaultMaxEntries
	}
	limit = min(limit, MaxEntries)
	s := l.lookup(sub)
	s.op.Lock()
	defer s.op.Unlock()
	if err := gapError(after, s.expired); err != nil {
		return Page{}, err
	}
	if l.shared {
		return l.pullShared(ctx, sub, s, after, limit, o.Visibility)
	}
	page, b, _, err := l.scanVisible(ctx, sub, s, after, limit, o.Visibility)
	if err != nil {
		return Page{}, err
	}
	if len(b.Ops) > 0 {
		if err := l.kv.Apply(ctx, b); err != nil {
			return Page{}, fmt.Errorf("pubsub: pull: %w", err)
		}
	}
	return page, nil
}

// gapError is ErrGap if retention removed events (up to expired) after a
// reader's position after (0: the reader starts at the oldest event).
func gapError(after, expired uint64) error {
	if after > 0 && expired > after {
		return fmt.Errorf("%w: the reader is at %s, retention removed events up to %s",
			ErrGap, posTime(after).Format(time.RFC3339Nano), posTime(expired).Format(time.RFC3339Nano))
	}
	return nil
}

// scanVisible returns up to limit visible events of log sub after position
// after, and the batch that hides them for visibility (if positive) with
// the events it rewrites as read (its guards on a shared store); s.op must
// be held.
func (l *Log) scanVisible(ctx context.Context, sub string, s *logState, after uint64, limit int, visibility time.Duration) (Page, *kv.Batch, []kv.Pair, error) {
	l.mu.Lock()
	settled := s.settled()
	l.mu.Unlock()
	if l.shared {
		settled = ^uint64(0) // moves allocate and write positions at once
	}
	now := l.now()
	var page Page
	b := &kv.Batch{}
	var read []kv.Pair
	for p, err := range l.kv.Scan(ctx, eventPrefix(sub), eventKey(sub, after+1)) {
		if err != nil {
			return Page{}, nil, nil, fmt.Errorf("pubsub: pull: %w", err)
		}
		pos, err := keyPos(p.Key)
		if err != nil {
			return Page{}, nil, nil, err
		}
		if pos > settled {
			break
		}
		rec, err := decodeRecord(p.Value)
		if err != nil {
			return Page{}, nil, nil, fmt.Errorf("pubsub: pull %q: %w", p.Key, err)
		}
		if visibility > 0 && rec.InvisibleUntil.After(now) {
			continue
		}
		if len(page.Events) == limit {
			page.Truncated = true
			break
		}
		if visibility > 0 {
			rec.Deliveries++
			rec.InvisibleUntil = now.Add(visibility)
			b.Put(bytes.Clone(p.Key), rec.encode())
			read = append(read, kv.Pair{Key: bytes.Clone(p.Key), Value: bytes.Clone(p.Value)})
		}
		page.Events = append(page.Events, Event{ID: rec.ID, Body: rec.Body, Time: rec.Time, Deliveries: rec.Deliveries})
	}
	return page, b, read, nil
}

// find returns the key, record and stored form of event id in log sub; ok
// is false if it is not stored (never was, acked, or expired).
func (l *Log) find(ctx context.Context, sub, id string) (key []byte, rec record, raw []byte, ok bool, err error) {
	pos, err := ParseMarker(id)
	if err != nil || pos == 0 {
		return nil, record{}, nil, false, nil
	}
	key = eventKey(sub, pos)
	raw, err = l.kv.Get(ctx, key)
	if errors.Is(err, kv.ErrNotFound) || errors.Is(err, store.ErrNotFound) {
		return nil, record{}, nil, false, nil
	}
	if err != nil {
		return nil, record{}, nil, false, fmt.Errorf("pubsub: %w", err)
	}
	if rec, err = decodeRecord(raw); err != nil {
		return nil, record{}, nil, false, fmt.Errorf("pubsub: %q: %w", key, err)
	}
	return key, rec, raw, rec.ID == id, nil
}

// Ack removes the events of log sub with the given ids, durably, and
// returns how many it removed; ids not stored are ignored (RGW answers
// success for them too).
func (l *Log) Ack(ctx context.Context, sub string, ids ...string) (int, error) {
	s := l.lookup(sub)
	s.op.Lock()
	defer s.op.Unlock()
	var b kv.Batch
	seen := map[string]bool{}
	for _, id := range ids {
		key, _, _, ok, err := l.find(ctx, sub, id)
		if err != nil {
			return 0, err
		}
		if ok && !seen[string(key)] {
			seen[string(key)] = true
			b.Delete(key)
		}
	}
	n := len(b.Ops)
	if n == 0 {
		return 0, nil
	}
	if !l.shared {
		// The high position must outlive the last event's removal. A
		// shared log keeps it in its "h" key instead, and its meta record
		// is raised by retention only, under a guard (shared_meta.go): a
		// write from this gateway's state could lower another's Expired.
		b.Put(metaKey(sub), l.meta(s))
	}
	if err := l.kv.Apply(ctx, &b); err != nil {
		return 0, fmt.Errorf("pubsub: ack: %w", err)
	}
	s.depth.Add(-int64(n))
	return n, nil
}

// Nack makes the events of log sub with the given ids visible again now
// and returns how many it found.
func (l *Log) Nack(ctx context.Context, sub string, ids ...string) (int, error) {
	s := l.lookup(sub)
	s.op.Lock()
	defer s.op.Unlock()
	if l.shared {
		return l.nackShared(ctx, sub, ids)
	}
	b, _, err := l.nackBatch(ctx, sub, ids)
	if err != nil || len(b.Ops) == 0 {
		return 0, err
	}
	if err := l.kv.Apply(ctx, b); err != nil {
		return 0, fmt.Errorf("pubsub: nack: %w", err)
	}
	return len(b.Ops), nil
}

// nackBatch returns the batch that shows the stored events of ids again,
// and those events as read (its guards on a shared store).
func (l *Log) nackBatch(ctx context.Context, sub string, ids []string) (*kv.Batch, []kv.Pair, error) {
	b := &kv.Batch{}
	var read []kv.Pair
	for _, id := range ids {
		key, rec, raw, ok, err := l.find(ctx, sub, id)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			rec.InvisibleUntil = time.Time{}
			b.Put(key, rec.encode())
			read = append(read, kv.Pair{Key: key, Value: raw})
		}
	}
	return b, read, nil
}

// meta renders the meta record of s; s.op must be held.
func (l *Log) meta(s *logState) []byte {
	l.mu.Lock()
	high := s.last
	l.mu.Unlock()
	return meta{High: high, Expired: s.expired}.encode()
}

// Changed returns a channel closed at the next settled commit of log sub:
// a long-polling reader takes it before pulling, and waits on it when the
// pull came back empty.
func (l *Log) Changed(sub string) <-chan struct{} {
	l.mu.Lock()
	wake := l.state(sub).wake
	l.mu.Unlock()
	if l.shared {
		return l.changedShared(wake)
	}
	return wake
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

// Expire removes the events stored more than the retention ago from every
// log and returns how many it removed. A reader whose position is before a
// removed event gets ErrGap from then on.
func (l *Log) Expire(ctx context.Context) (int, error) {
	cutoff := uint64(max(l.now().Add(-l.ret).UnixMicro(), 0))
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

func (l *Log) expire(ctx context.Context, sub string, cutoff uint64) (int, error) {
	s := l.lookup(sub)
	s.op.Lock()
	defer s.op.Unlock()
	total, conflicts := 0, 0
	for {
		var b kv.Batch
		var top uint64
		for p, err := range l.kv.Scan(ctx, eventPrefix(sub), nil) {
			if err != nil {
				return total, fmt.Errorf("pubsub: expire: %w", err)
			}
			pos, err := keyPos(p.Key)
			if err != nil {
				return total, err
			}
			// A position is the event's time: stop at the first young one.
			if pos >= cutoff || len(b.Ops) >= chunk {
				break
			}
			top = pos
			b.Delete(bytes.Clone(p.Key))
		}
		n := len(b.Ops)
		if n == 0 {
			return total, nil
		}
		done, err := l.commitExpiry(ctx, sub, s, &b, top)
		if err != nil {
			return total, err
		}
		if !done { // another gateway's retention wrote the meta record: scan again
			if conflicts++; conflicts == maxMoveAttempts {
				return total, fmt.Errorf("pubsub: expire %q: the meta record kept changing", sub)
			}
			continue
		}
		s.depth.Add(-int64(n))
		total += n
	}
}

// commitExpiry applies b, which removes events of log sub up to top, with
// the meta record raised to top; false if another gateway's retention
// changed the meta record meanwhile (shared mode only).
func (l *Log) commitExpiry(ctx context.Context, sub string, s *logState, b *kv.Batch, top uint64) (bool, error) {
	if l.shared {
		return l.commitExpiryShared(ctx, sub, s, b, top)
	}
	prev := s.expired
	s.expired = max(s.expired, top)
	b.Put(metaKey(sub), l.meta(s))
	if err := l.kv.Apply(ctx, b); err != nil {
		s.expired = prev
		return false, fmt.Errorf("pubsub: expire: %w", err)
	}
	return true, nil
}

// Stats returns the state of log sub.
func (l *Log) Stats(ctx context.Context, sub string) Stats {
	s := l.lookup(sub)
	s.op.Lock()
	st := Stats{Depth: s.depth.Load()}
	if l.shared {
		// Another gateway's retention counts too; on a failed read Stats
		// (which reports no error) shows what this gateway knows.
		_, _ = l.expiredShared(ctx, sub, s)
	}
	if s.expired > 0 {
		st.Expired = posTime(s.expired)
	}
	s.op.Unlock()
	for p, err := range l.kv.Scan(ctx, eventPrefix(sub), nil) {
		if err == nil {
			if pos, err := keyPos(p.Key); err == nil {
				st.Oldest = posTime(pos)
			}
		}
		break
	}
	return st
}

// StoreCounts returns how many events were stored (pubsub_store_ok) and
// how many stores failed (pubsub_store_fail).
func (l *Log) StoreCounts() (ok, failed uint64) { return l.storeOK.Load(), l.storeFail.Load() }

// posTime is the time a position stands for.
func posTime(pos uint64) time.Time { return time.UnixMicro(int64(pos)).UTC() }

// formatID renders RGW's event id for a position: <10-digit sec>.<6-digit
// usec>.<hash>.
func formatID(pos uint64, hash string) string {
	return fmt.Sprintf("%010d.%06d.%s", pos/1e6, pos%1e6, hash)
}

// ParseMarker returns the position of a marker or event id ("" → 0): the
// part after the last '/' is "<sec>.<usec>[.<anything>]".
func ParseMarker(m string) (uint64, error) {
	if m == "" {
		return 0, nil
	}
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	sec, rest, ok := strings.Cut(m, ".")
	if !ok || sec == "" {
		return 0, fmt.Errorf("%w: %q", ErrBadMarker, m)
	}
	usec, _, _ := strings.Cut(rest, ".")
	s, err1 := strconv.ParseUint(sec, 10, 64)
	u, err2 := strconv.ParseUint(usec, 10, 64)
	if err1 != nil || err2 != nil || len(usec) != 6 || s > 1<<40 {
		return 0, fmt.Errorf("%w: %q", ErrBadMarker, m)
	}
	return s*1e6 + u, nil
}

// Depth returns the number of events stored in every log.
func (l *Log) Depth() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, s := range l.subs {
		n += s.depth.Load()
	}
	return n
}
