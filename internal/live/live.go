package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/reqctx"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// Defaults of Config.
const (
	DefaultMaxListeners = 1000
	DefaultBuffer       = 1024
)

// Sentinel errors of Subscribe.
var (
	ErrTooManyListeners = errors.New("live: too many listeners")
	ErrClosed           = errors.New("live: hub closed")
)

// Config tunes a Hub. Zero values take the defaults.
type Config struct {
	// MaxListeners bounds the listeners of all buckets together.
	MaxListeners int
	// Buffer is the number of events a listener may lag behind before
	// events are dropped for it.
	Buffer int
	// Zonegroup and HostID fill the records' awsRegion, ARN and x-amz-id-2,
	// as the notification dispatcher does.
	Zonegroup string
	HostID    string
	Logger    *slog.Logger
	Now       func() time.Time
}

// Filter selects the events a listener receives. Events are S3 event
// names ("s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"); none means all.
type Filter struct {
	Prefix, Suffix string
	Events         []string
	// Owner is the owner of the bucket the listener was authorized for
	// ("": any). Events of a bucket of the same name another user owns
	// (the bucket was deleted and created again by someone else) are
	// not the listener's: they are never delivered to it.
	Owner string
}

// Event is one record for a listener.
type Event struct {
	// Record is the S3 event message, {"Records":[record]}. It is shared
	// by all listeners: never modify it.
	Record []byte
	// Dropped is the number of events dropped for this listener right
	// before this one (0 if none).
	Dropped int64
}

// Hub fans committed changes out to listeners.
type Hub struct {
	cfg Config

	mu     sync.Mutex
	subs   map[string][]*Listener // bucket → listeners, under mu
	closed bool                   // under mu
	// snap is a copy of subs that Hook reads without a lock; it is
	// replaced (never modified) on every subscribe and unsubscribe.
	snap  atomic.Pointer[map[string][]*Listener]
	count atomic.Int64
	done  chan struct{}
	// relay reaches the listeners of other gateways; nil on a single one.
	relay Relay
}

// Relay carries committed changes between the hubs of gateways that share
// a store, so that a listener sees the changes made through any of them
// (the RADOS store's watch/notify, package radosopen). Like the hub, it
// may drop events under load but must then report how many.
type Relay interface {
	// Wanted reports whether a listener on another gateway watches
	// bucket. It is asked on every change, so it must be a lookup.
	Wanted(bucket string) bool
	// WantsAccess reports whether a listener on another gateway asked for
	// bucket's s3:ObjectAccessed events. It is asked on every served
	// read, so it must be a lookup.
	WantsAccess(bucket string) bool
	// Send hands a change's or a read's record to those gateways without
	// blocking, in the order of the calls; owner is the bucket's (Deliver
	// there needs it).
	Send(bucket, owner string, ev notify.EventType, key string, record []byte)
	// Sync makes the other gateways send bucket's changes here (and its
	// reads, if ListeningAccess), or stop, as Listening(bucket) and
	// ListeningAccess(bucket) say now. It is called after every Subscribe
	// (before the stream starts: it may block for a round trip to the
	// cluster, and must be cheap when nothing changes) and after a
	// listener left that was its bucket's last or asked for reads.
	Sync(bucket string)
}

// SetRelay connects the hub to the other gateways; call it before any
// Subscribe.
func (h *Hub) SetRelay(r Relay) { h.relay = r }

// Listening reports whether this hub has listeners of bucket.
func (h *Hub) Listening(bucket string) bool {
	m := h.snap.Load()
	return m != nil && len((*m)[bucket]) > 0
}

// Deliver fans out a change another gateway relayed: its record, built
// there, goes to the matching listeners of bucket, owned by owner there
// ("": a gateway that does not tell). dropped counts events
// of the bucket the relay lost before this one; every listener of the
// bucket is told of them as a gap (some may not have matched its filter).
func (h *Hub) Deliver(bucket, owner string, ev notify.EventType, key string, record []byte, dropped int64) {
	m := h.snap.Load()
	if m == nil {
		return
	}
	for _, l := range (*m)[bucket] {
		if dropped > 0 {
			l.addGap(dropped)
		}
		if l.matches(ev, owner, key) {
			l.send(record)
		}
	}
}

// AddGap tells the listeners of bucket that asked for some of the events
// of mask that another gateway's relay lost n of those (reported with
// their next event).
func (h *Hub) AddGap(bucket string, n int64, mask notify.EventType) {
	m := h.snap.Load()
	if m == nil {
		return
	}
	for _, l := range (*m)[bucket] {
		if l.mask&mask != 0 {
			l.addGap(n)
		}
	}
}

// New returns a hub.
func New(cfg Config) (*Hub, error) {
	if cfg.MaxListeners < 0 || cfg.Buffer < 0 {
		return nil, fmt.Errorf("live: negative limit (max listeners %d, buffer %d)", cfg.MaxListeners, cfg.Buffer)
	}
	if cfg.MaxListeners == 0 {
		cfg.MaxListeners = DefaultMaxListeners
	}
	if cfg.Buffer == 0 {
		cfg.Buffer = DefaultBuffer
	}
	if cfg.Zonegroup == "" {
		cfg.Zonegroup = "default"
	}
	if cfg.HostID == "" {
		cfg.HostID = "cairn-default-" + cfg.Zonegroup
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Hub{cfg: cfg, subs: map[string][]*Listener{}, done: make(chan struct{})}, nil
}

// Listeners returns the number of registered listeners.
func (h *Hub) Listeners() int { return int(h.count.Load()) }

// Close ends every stream: Done of all listeners is closed and Subscribe
// fails from now on. It lets a server shut down without waiting for
// streams that would otherwise never end.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// Subscribe registers a listener for a bucket's events. It fails with an
// InvalidArgument error for an unknown event name, and with SlowDown (wrapping
// ErrTooManyListeners or ErrClosed) when no listener can be added. The
// caller must Close the listener.
func (h *Hub) Subscribe(bucket string, f Filter) (*Listener, error) {
	mask, err := ParseEvents(f.Events)
	if err != nil {
		return nil, err
	}
	l := &Listener{hub: h, bucket: bucket, owner: f.Owner, mask: mask, prefix: f.Prefix, suffix: f.Suffix,
		ch: make(chan Event, h.cfg.Buffer)}
	if err := h.add(l); err != nil {
		return nil, err
	}
	if h.relay != nil {
		// Every time, not only for the first listener: a second one must
		// not start before the first one's registration is done.
		h.relay.Sync(bucket)
	}
	return l, nil
}

// add registers l.
func (h *Hub) add(l *Listener) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return s3err.SlowDown.WithMessage("The server is shutting down.").WithCause(ErrClosed)
	case int(h.count.Load()) >= h.cfg.MaxListeners:
		return s3err.SlowDown.WithMessage("Too many live event listeners (%d).", h.cfg.MaxListeners).
			WithCause(ErrTooManyListeners)
	}
	h.subs[l.bucket] = append(h.subs[l.bucket], l)
	h.count.Add(1)
	h.publishSnapshot()
	return nil
}

// remove unregisters a listener.
func (h *Hub) remove(l *Listener) {
	if h.drop(l) || l.mask&notify.ObjectAccessed != 0 {
		if h.relay != nil {
			h.relay.Sync(l.bucket)
		}
	}
}

// drop unregisters l, reporting whether its bucket has no listener left.
func (h *Hub) drop(l *Listener) (last bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ls := h.subs[l.bucket]
	for i, x := range ls {
		if x == l {
			// A new slice: snapshots being read keep the old one intact.
			ls = append(ls[:i:i], ls[i+1:]...)
			h.count.Add(-1)
			break
		}
	}
	if len(ls) == 0 {
		delete(h.subs, l.bucket)
	} else {
		h.subs[l.bucket] = ls
	}
	h.publishSnapshot()
	return len(ls) == 0
}

// publishSnapshot replaces the lock-free copy of subs. Called under mu.
func (h *Hub) publishSnapshot() {
	m := make(map[string][]*Listener, len(h.subs))
	for b, ls := range h.subs {
		m[b] = ls
	}
	h.snap.Store(&m)
}

// Hook is a store.ChangeHook. It writes nothing into the commit: when the
// change's bucket has listeners it only arranges for the change to be
// published once the commit is durable and readable. For a bucket nobody
// listens to it costs one map lookup.
func (h *Hub) Hook(ctx context.Context, c store.Change, w store.RecordWriter) error {
	if !h.Listening(c.Bucket.Name) && (h.relay == nil || !h.relay.Wanted(c.Bucket.Name)) {
		return nil
	}
	h.arrange(ctx, c, w)
	return nil
}

// arrange registers the publication of a change; it is apart from Hook
// because the closure moves the change to the heap, which Hook's idle
// path must not pay for.
func (h *Hub) arrange(ctx context.Context, c store.Change, w store.RecordWriter) {
	info := reqctx.From(ctx)
	var user, reqID string
	if info != nil {
		user, reqID = info.UserID, info.RequestID
	}
	// One event per change: of lifecycle's two names, RGW's own.
	ev := notify.ChangeEvents(&c, info).Primary()
	w.AfterCommit(func() { h.publish(c, ev, user, reqID) })
}

// publish sends a committed change to the bucket's matching listeners,
// here and, through the relay, on other gateways.
func (h *Hub) publish(c store.Change, ev notify.EventType, user, reqID string) {
	body := h.fanOut(c, ev, user, reqID)
	if h.relay != nil && h.relay.Wanted(c.Bucket.Name) {
		h.relayOut(c, ev, user, reqID, body)
	}
}

// relayOut sends the event of c to the other gateways, building its record
// unless fanOut did.
func (h *Hub) relayOut(c store.Change, ev notify.EventType, user, reqID string, body []byte) {
	if body == nil {
		var err error
		if body, err = notify.BuildRecord(h.recordInput(c, ev, user, reqID)); err != nil {
			h.cfg.Logger.Warn("live event record", "bucket", c.Bucket.Name, "key", c.Object.Key, "err", err)
			return
		}
	}
	h.relay.Send(c.Bucket.Name, c.Bucket.Owner, ev, c.Object.Key, body)
}

// WantsAccess reports whether a listener of bucket, here or on another
// gateway, asked for s3:ObjectAccessed events, so that a read looks up what
// Accessed needs only then.
func (h *Hub) WantsAccess(bucket string) bool {
	return h.ListeningAccess(bucket) || (h.relay != nil && h.relay.WantsAccess(bucket))
}

// ListeningAccess reports whether a listener of bucket on this hub asked
// for s3:ObjectAccessed events.
func (h *Hub) ListeningAccess(bucket string) bool {
	m := h.snap.Load()
	if m == nil {
		return false
	}
	for _, l := range (*m)[bucket] {
		if l.mask&notify.ObjectAccessed != 0 {
			return true
		}
	}
	return false
}

// Accessed publishes a read of an object (ev is ObjectAccessedGet or
// ObjectAccessedHead) to the bucket's matching listeners, here and on the
// other gateways that asked for reads (after the changes already sent
// there). A read commits nothing: the caller reports it once it has been
// served.
func (h *Hub) Accessed(ctx context.Context, ev notify.EventType, b store.Bucket, obj store.ObjectInfo) {
	var user, reqID string
	if info := reqctx.From(ctx); info != nil {
		user, reqID = info.UserID, info.RequestID
	}
	c := store.Change{Bucket: b, Object: obj, Time: h.cfg.Now()}
	body := h.fanOut(c, ev, user, reqID)
	if h.relay != nil && h.relay.WantsAccess(b.Name) {
		h.relayOut(c, ev, user, reqID, body)
	}
}

// fanOut sends the event of c to the bucket's matching listeners. The
// record is built once, and only if someone wants it; it is returned (nil
// if not built).
func (h *Hub) fanOut(c store.Change, ev notify.EventType, user, reqID string) []byte {
	m := h.snap.Load()
	if m == nil {
		return nil
	}
	var body []byte
	for _, l := range (*m)[c.Bucket.Name] {
		if !l.matches(ev, c.Bucket.Owner, c.Object.Key) {
			continue
		}
		if body == nil {
			var err error
			if body, err = notify.BuildRecord(h.recordInput(c, ev, user, reqID)); err != nil {
				h.cfg.Logger.Warn("live event record", "bucket", c.Bucket.Name, "key", c.Object.Key, "err", err)
				return nil
			}
		}
		l.send(body)
	}
	return body
}

// recordInput fills a record the way the notification dispatcher does
// (notify.ChangeRecordInput), so that a live record and a pushed one for
// the same change look alike.
func (h *Hub) recordInput(c store.Change, ev notify.EventType, user, reqID string) *notify.RecordInput {
	return notify.ChangeRecordInput(&c, ev, notify.RecordSource{Zonegroup: h.cfg.Zonegroup, HostID: h.cfg.HostID,
		User: user, RequestID: reqID, Now: h.cfg.Now()})
}

// accessNames are the read events only the live stream knows (MinIO's,
// without the "s3:" prefix).
var accessNames = map[string]notify.EventType{
	"ObjectAccessed:*":    notify.ObjectAccessed,
	"ObjectAccessed:Get":  notify.ObjectAccessedGet,
	"ObjectAccessed:Head": notify.ObjectAccessedHead,
}

// ParseEvents returns the event mask of a list of S3 event names; empty
// names are ignored and a list without names selects every change (not
// reads: s3:ObjectAccessed events come only to who names them). A value
// may also hold several names separated by commas.
func ParseEvents(names []string) (notify.EventType, error) {
	var mask notify.EventType
	for _, v := range names {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			t, ok := notify.ParseEvent(name)
			if !ok {
				t, ok = accessNames[strings.TrimPrefix(name, "s3:")]
			}
			if !ok {
				return 0, s3err.InvalidArgument.WithMessage("Unsupported event name %q: use S3 event names such as s3:ObjectCreated:*, s3:ObjectRemoved:Delete or s3:ObjectAccessed:Get.", name)
			}
			mask |= t
		}
	}
	if mask == 0 {
		mask = ^notify.ObjectAccessed
	}
	return mask, nil
}

// Listener receives the events of one bucket that match its filter.
type Listener struct {
	hub            *Hub
	bucket         string
	owner          string // Filter.Owner
	mask           notify.EventType
	prefix, suffix string
	ch             chan Event
	closeOnce      sync.Once

	mu      sync.Mutex // orders a send with the drop count it carries
	pending int64      // dropped since the last notice, under mu
	dropped atomic.Int64
}

// Events returns the channel events arrive on.
func (l *Listener) Events() <-chan Event { return l.ch }

// Done is closed when the hub closes: the stream must end.
func (l *Listener) Done() <-chan struct{} { return l.hub.done }

// Dropped returns how many events were dropped for this listener in all.
func (l *Listener) Dropped() int64 { return l.dropped.Load() }

// TakeGap returns the number of events dropped since the last notice and
// resets it, but only once every buffered event was received (so a gap is
// never reported ahead of events that came before it); otherwise 0. A
// stream calls it when idle, so that drops followed by silence are still
// reported.
func (l *Listener) TakeGap() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ch) > 0 {
		return 0
	}
	n := l.pending
	l.pending = 0
	return n
}

// Close unregisters the listener. It is idempotent.
func (l *Listener) Close() { l.closeOnce.Do(func() { l.hub.remove(l) }) }

// matches reports whether the listener wants event ev of key in its
// bucket owned by owner ("": not known, from a gateway that does not tell).
func (l *Listener) matches(ev notify.EventType, owner, key string) bool {
	return l.mask&ev != 0 && (l.owner == "" || owner == "" || owner == l.owner) &&
		strings.HasPrefix(key, l.prefix) && strings.HasSuffix(key, l.suffix)
}

// addGap counts n events lost before the next one (on another gateway).
func (l *Listener) addGap(n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending += n
	l.dropped.Add(n)
}

// send queues a record without ever blocking the writer that committed
// it: when the buffer is full the event is counted as dropped.
func (l *Listener) send(body []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case l.ch <- Event{Record: body, Dropped: l.pending}:
		l.pending = 0
	default:
		l.pending++
		l.dropped.Add(1)
	}
}
