package notify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-s3/cairn/internal/queue"
	"github.com/cairn-s3/cairn/internal/reqctx"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// Push is one message for a topic's endpoint, with the endpoint settings
// current when it is sent.
type Push struct {
	Endpoint string // push-endpoint URI (may hold credentials: never log it)
	Args     string // endpoint arguments, "k=v&..."
	Topic    string // the topic's own name: AMQP routing key, Kafka topic
	ID       string // stable event id
	Body     []byte // {"Records":[...]}
	// Attributes are the CloudEvents values keyed by header name (ce-type,
	// ce-time, ce-id, ce-source, ce-subject), used when cloudevents=true.
	Attributes map[string]string
}

// Pusher delivers a message to an endpoint and returns nil once it was
// acknowledged at the topic's ack level. The server implements it over the
// endpoint pool (notify does not import the endpoint drivers).
type Pusher interface {
	Push(ctx context.Context, p Push) error
}

// Enqueuer adds an event to a persistent topic's queue inside a commit
// (implemented by *queue.Queue).
type Enqueuer interface {
	Enqueue(w store.RecordWriter, ev queue.Event) error
}

// DefaultSyncTimeout bounds a synchronous push (RGW's
// rgw_http_notif_message_timeout).
const DefaultSyncTimeout = 10 * time.Second

// Config holds what a Dispatcher needs. Topics and Pusher are required; Queue is needed for persistent topics.
type Config struct {
	Options Options
	// HostID is x-amz-id-2 in records: <hex-id>-<zone>-<zonegroup>.
	HostID string
	Topics *Topics
	Queue  Enqueuer
	Pusher Pusher
	// SyncTimeout bounds how long an S3 request waits for its synchronous
	// pushes (DefaultSyncTimeout if zero).
	SyncTimeout time.Duration
	Logger      *slog.Logger
	Now         func() time.Time
}

// Counters are the push counters of spec §7 for synchronous pushes.
type Counters struct {
	PushOK      int64 // pubsub_push_ok
	PushFailed  int64 // pubsub_push_failed
	PushPending int64 // pubsub_push_pending
	Triggered   int64 // pubsub_event_triggered: changes with ≥1 matching notification
	Lost        int64 // pubsub_event_lost: changes whose records reached no endpoint
}

// Dispatcher turns committed object changes into event records for the
// matching notifications of their bucket: persistent topics get the record
// queued in the same commit, synchronous topics get it pushed once the
// commit is durable, before the S3 response is written (see Middleware).
type Dispatcher struct {
	cfg Config
	log *slog.Logger

	mu    sync.Mutex
	cache map[string]*bucketConf // bucket name → parsed notifications

	delivery deliveryTopics // topics as delivery reads them

	runMu   sync.Mutex     // orders wg.Add against Close
	wg      sync.WaitGroup // pushes in flight
	closed  bool           // under runMu
	stop    context.Context
	cancel  context.CancelFunc
	ok      atomic.Int64
	failed  atomic.Int64
	pending atomic.Int64
	trig    atomic.Int64
	lost    atomic.Int64
}

// bucketConf is a bucket's parsed notifications, valid while the stored
// document is byte-equal to raw.
type bucketConf struct {
	raw      []byte
	matchers []matcher
}

// maxCachedBuckets bounds the configuration cache.
const maxCachedBuckets = 10000

// NewDispatcher returns a dispatcher.
func NewDispatcher(cfg Config) (*Dispatcher, error) {
	if cfg.Topics == nil || cfg.Pusher == nil {
		return nil, errors.New("notify: Topics and Pusher are required")
	}
	cfg.Options.ensureDefaults()
	if cfg.HostID == "" {
		cfg.HostID = "cairn-default-" + cfg.Options.Zonegroup
	}
	if cfg.SyncTimeout <= 0 {
		cfg.SyncTimeout = DefaultSyncTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &Dispatcher{cfg: cfg, log: cfg.Logger, cache: map[string]*bucketConf{}}
	d.stop, d.cancel = context.WithCancel(context.Background())
	return d, nil
}

// Options returns the dispatcher's notification options.
func (d *Dispatcher) Options() *Options { return &d.cfg.Options }

// Topics returns the topic store.
func (d *Dispatcher) Topics() *Topics { return d.cfg.Topics }

// Counters returns the push counters.
func (d *Dispatcher) Counters() Counters {
	return Counters{PushOK: d.ok.Load(), PushFailed: d.failed.Load(), PushPending: d.pending.Load(), Triggered: d.trig.Load(), Lost: d.lost.Load()}
}

// Close cancels synchronous pushes still running in the background and
// waits for them.
func (d *Dispatcher) Close() error {
	d.runMu.Lock()
	d.closed = true
	d.runMu.Unlock()
	d.cancel()
	d.wg.Wait()
	return nil
}

// Invalidate drops a bucket's cached configuration (after PUT or DELETE
// ?notification). The cache also revalidates against the stored document on
// every use, so other gateways' changes are seen at once.
func (d *Dispatcher) Invalidate(bucket string) {
	d.mu.Lock()
	delete(d.cache, bucket)
	d.mu.Unlock()
}

// matchers returns a bucket's prepared notifications.
func (d *Dispatcher) matchers(b *store.Bucket) ([]matcher, error) {
	raw := b.Config[ConfigKey]
	if len(raw) == 0 {
		return nil, nil
	}
	d.mu.Lock()
	bc := d.cache[b.Name]
	d.mu.Unlock()
	if bc != nil && bytes.Equal(bc.raw, raw) {
		return bc.matchers, nil
	}
	conf, err := DecodeConfiguration(raw)
	if err != nil {
		return nil, err
	}
	bc = &bucketConf{raw: bytes.Clone(raw)}
	for _, n := range conf.Notifications {
		bc.matchers = append(bc.matchers, compile(n))
	}
	d.mu.Lock()
	if len(d.cache) >= maxCachedBuckets {
		clear(d.cache)
	}
	d.cache[b.Name] = bc
	d.mu.Unlock()
	return bc.matchers, nil
}

// Hook is the store.ChangeHook: for every notification of the change's
// bucket that matches, it builds the record and queues it in the same
// commit (persistent topics) or arranges its push after the commit
// (synchronous topics). A full queue fails the change with 503 SlowDown.
// Notifications whose topic no longer exists are skipped (Squid), and so
// are those the bucket may no longer use (deliverable).
func (d *Dispatcher) Hook(ctx context.Context, c store.Change, w store.RecordWriter) error {
	b := c.Bucket // read by the commit itself
	ms, err := d.matchers(&b)
	if err != nil || len(ms) == 0 {
		return err
	}
	info := reqctx.From(ctx)
	if info == nil {
		info = &reqctx.Info{}
	}
	evs := ChangeEvents(&c, info).Singles()
	var pushes []Push
	matched := false
	for i := range ms {
		m := &ms[i]
		for j, ev := range evs {
			if !m.matches(ev, &c.Object) {
				continue
			}
			// A change of two event types (lifecycle) gives each matching
			// notification one record per type, with ids of their own.
			p, ok, err := d.record(ctx, w, &c, m, ev, i+j*len(ms))
			if err != nil {
				return err
			}
			if p != nil {
				pushes = append(pushes, *p)
			}
			matched = matched || ok
		}
	}
	if matched {
		d.trig.Add(1)
	}
	if len(pushes) > 0 {
		wait := waiterFrom(ctx)
		w.AfterCommit(func() { d.start(wait, pushes) })
	}
	return nil
}

// record builds the record of one event type for a matching notification
// and queues it in the commit (persistent topics) or returns its push
// (synchronous ones); ok reports that the notification's topic took it.
func (d *Dispatcher) record(ctx context.Context, w store.RecordWriter, c *store.Change, m *matcher, ev EventType, ordinal int) (p *Push, ok bool, err error) {
	b := &c.Bucket
	t, err := d.cfg.Topics.Get(ctx, m.topicTenant, m.topicName)
	if errors.Is(err, ErrNoSuchTopic) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !d.deliverable(&m.Notification, t, b.Owner) {
		d.log.DebugContext(ctx, "notification skipped: the bucket may no longer use its topic",
			"bucket", b.Name, "notification", m.ID, "topic", t.ARN(d.cfg.Options.Zonegroup))
		return nil, false, nil
	}
	in := d.recordInput(c, ev, reqctx.From(ctx), m.ID, t)
	in.Ordinal = ordinal
	body, err := BuildRecord(in)
	if err != nil {
		return nil, false, err
	}
	// The record's eventId is also the message id every driver sends,
	// so consumers can drop the copies at-least-once delivery makes.
	id := EventID(in.Sequence, in.Ordinal, in.Object.ETag)
	if t.Persistent && t.Endpoint != "" && d.cfg.Queue != nil {
		err := d.cfg.Queue.Enqueue(w, queue.Event{ID: id, Topic: t.QueueName(), Key: b.Name + "/" + c.Object.Key, Body: body})
		switch {
		case errors.Is(err, queue.ErrQueueFull):
			return nil, false, s3err.SlowDown.WithCause(err)
		case errors.Is(err, queue.ErrUnknownTopic):
			return nil, true, nil // deleted concurrently
		case err != nil:
			return nil, false, err
		}
		return nil, true, nil
	}
	push := t.push(id, body)
	return &push, true, nil
}

func (d *Dispatcher) recordInput(c *store.Change, ev EventType, info *reqctx.Info, configID string, t *Topic) *RecordInput {
	if info == nil {
		info = &reqctx.Info{}
	}
	in := ChangeRecordInput(c, ev, RecordSource{Zonegroup: d.cfg.Options.Zonegroup, HostID: d.cfg.HostID,
		User: info.UserID, RequestID: info.RequestID, Now: d.cfg.Now()})
	in.ConfigurationID, in.OpaqueData = configID, t.OpaqueData
	return in
}

// BucketID is a bucket instance's id in records: stable for the bucket's
// life, different for a bucket re-created with the same name.
func BucketID(b *store.Bucket) string {
	return "cairn." + strconv.FormatInt(b.Created.UnixNano(), 10)
}

// start runs a change's synchronous pushes in the background; the request's
// waiter (if any) makes the response wait for them.
func (d *Dispatcher) start(wait *waiter, pushes []Push) {
	d.runMu.Lock()
	if d.closed {
		d.runMu.Unlock()
		d.lost.Add(1)
		return
	}
	d.wg.Add(len(pushes) + 1)
	d.runMu.Unlock()
	done := make(chan struct{})
	var delivered atomic.Bool
	var wg sync.WaitGroup
	for _, p := range pushes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer d.wg.Done()
			if d.push(p) {
				delivered.Store(true)
			}
		}()
	}
	go func() {
		defer d.wg.Done()
		wg.Wait()
		if !delivered.Load() {
			d.lost.Add(1)
		}
		close(done)
	}()
	if wait != nil {
		wait.add(done)
	}
}

// push delivers one synchronous message within the sync timeout. Failures
// are logged and counted, never returned: the S3 request succeeds anyway.
func (d *Dispatcher) push(p Push) bool {
	ctx, cancel := context.WithTimeout(d.stop, d.cfg.SyncTimeout)
	defer cancel()
	d.pending.Add(1)
	err := d.cfg.Pusher.Push(ctx, p)
	d.pending.Add(-1)
	if err != nil {
		d.failed.Add(1)
		d.log.Warn("notification push failed", "topic", p.Topic, "event_id", p.ID, "err", err)
		return false
	}
	d.ok.Add(1)
	return true
}
