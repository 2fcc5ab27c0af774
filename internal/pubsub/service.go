package pubsub

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/reqctx"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// ConfigKey is the key, in store.Bucket.Config, of a bucket's non-S3
// notifications (pubsub.md §4).
const ConfigKey = "pubsub-notification"

// BucketNotification binds a topic of the bucket owner's tenant to the
// bucket for some event types.
type BucketNotification struct {
	Topic  string   `json:"topic"`
	Events []string `json:"events"` // as parsed by notify.ParseEvent
}

// DecodeBucketNotifications reads the stored list ("" or nil: none).
func DecodeBucketNotifications(raw []byte) ([]BucketNotification, error) {
	var out []BucketNotification
	if len(raw) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("pubsub: corrupt bucket notifications: %w", err)
	}
	return out, nil
}

// EncodeBucketNotifications renders the stored list.
func EncodeBucketNotifications(ns []BucketNotification) ([]byte, error) { return json.Marshal(ns) }

// Mask returns the event types the notification subscribes to.
func (n *BucketNotification) Mask() notify.EventType { return notify.MaskOf(n.Events) }

// Options configure a Service (the zone tier keys of pubsub.md §1).
type Options struct {
	// Retention is how long an unacked event is kept
	// (events_retention_days; DefaultRetention).
	Retention time.Duration
	// ExpireInterval is how often retention runs (one minute).
	ExpireInterval time.Duration
	// DataBucketPrefix and DataOIDPrefix name where a subscription's events
	// appear to be stored (data_bucket_prefix "pubsub-", data_oid_prefix "").
	DataBucketPrefix string
	DataOIDPrefix    string
	// S3Notifications finds the S3 notifications of a bucket that fire in
	// PubSub mode (implemented by *notify.Dispatcher, from its cache);
	// nil: S3 notifications create no events here.
	S3Notifications S3Notifications
	// Pusher delivers the optional pushes of subscriptions (§6.3); nil
	// disables them.
	Pusher notify.Pusher
	// PushTimeout bounds one such push (10s).
	PushTimeout time.Duration
	Logger      *slog.Logger
	Now         func() time.Time
	// Shared: several gateways share the store (its commits' RecordWriters
	// number records); events are moved into logs by MoveShard.
	Shared bool
}

// S3Notifications finds the S3 notifications of a bucket that fire for an
// event in PubSub mode.
type S3Notifications interface {
	PullMatches(b *store.Bucket, ev notify.EventType, key string) ([]string, error)
}

// maxPushesInFlight bounds the unpersisted subscription pushes (§6.3); a
// push beyond it is counted as failed rather than queued without bound.
const maxPushesInFlight = 256

// Service is pull-mode PubSub: the subscriptions, their logs, and the
// store hook that writes each matching event into the logs in the commit
// of its change.
type Service struct {
	opts   Options
	log    *Log
	subs   *Subscriptions
	topics *notify.Topics
	logger *slog.Logger

	pushSlots chan struct{}
	pushes    sync.WaitGroup
	stop      context.Context
	cancel    context.CancelFunc
	waitsEnd  chan struct{} // closed by EndWaits
	endOnce   sync.Once

	triggered, missingConf, pushOK, pushFailed atomic.Uint64
	pushPending                                atomic.Int64
}

// NewService opens the logs stored in s.
func NewService(s kv.Store, topics *notify.Topics, opts Options) (*Service, error) {
	if opts.ExpireInterval <= 0 {
		opts.ExpireInterval = time.Minute
	}
	if opts.PushTimeout <= 0 {
		opts.PushTimeout = notify.DefaultSyncTimeout
	}
	if opts.DataBucketPrefix == "" {
		opts.DataBucketPrefix = "pubsub-"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l, err := New(s, opts.Retention, opts.Now)
	if err != nil {
		return nil, err
	}
	l.shared = opts.Shared
	svc := &Service{opts: opts, log: l, subs: NewSubscriptions(s), topics: topics, logger: opts.Logger,
		pushSlots: make(chan struct{}, maxPushesInFlight), waitsEnd: make(chan struct{})}
	svc.stop, svc.cancel = context.WithCancel(context.Background())
	return svc, nil
}

// Log returns the event logs.
func (s *Service) Log() *Log { return s.log }

// Subscriptions returns the subscription store.
func (s *Service) Subscriptions() *Subscriptions { return s.subs }

// Topics returns the topic store.
func (s *Service) Topics() *notify.Topics { return s.topics }

// Run expires old events every ExpireInterval until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.opts.ExpireInterval)
	defer t.Stop()
	for {
		if n, err := s.log.Expire(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("pubsub retention failed", "err", err)
		} else if n > 0 {
			s.logger.Info("pubsub retention removed events", "events", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// EndWaits ends every long-poll now and makes later ones return at once:
// a shutting-down server must not wait for idle pollers.
func (s *Service) EndWaits() { s.endOnce.Do(func() { close(s.waitsEnd) }) }

// WaitsEnded is closed once EndWaits was called.
func (s *Service) WaitsEnded() <-chan struct{} { return s.waitsEnd }

// Close stops the subscription pushes still running and waits for them.
func (s *Service) Close() {
	s.cancel()
	s.pushes.Wait()
}

// Hash is the 8-hex event hash of pubsub.md §6.1: the first 8 hex digits of
// MD5(bucket_id + key + version instance).
func Hash(bucketID, key, instance string) string {
	sum := md5.Sum([]byte(bucketID + key + instance))
	return hex.EncodeToString(sum[:4])
}

// instance is a version id as PubSub renders it: "" for unversioned and
// null versions.
func instance(versionID string) string {
	if versionID == "null" {
		return ""
	}
	return versionID
}

// Hook is the store.ChangeHook of PubSub: every subscription whose topic a
// non-S3 notification of the bucket binds, and every subscription an S3
// notification of the bucket created, gets the event appended to its log
// in the commit of the change. A failed append fails the change (an event
// exists iff its change does).
func (s *Service) Hook(ctx context.Context, c store.Change, w store.RecordWriter) error {
	b := &c.Bucket
	plain := b.Config[ConfigKey]
	s3conf := b.Config[notify.ConfigKey]
	if len(plain) == 0 && len(s3conf) == 0 {
		return nil
	}
	// A pull subscription gets one event per change: of lifecycle's two
	// names, RGW's own.
	ev := notify.ChangeEvents(&c, reqctx.From(ctx)).Primary()
	e := &change{svc: s, c: &c, ev: ev, bucketID: notify.BucketID(b)}
	e.hash = Hash(e.bucketID, c.Object.Key, instance(c.Object.VersionID))
	matched := false
	ns, err := DecodeBucketNotifications(plain)
	if err != nil {
		return err
	}
	for i := range ns {
		if ns[i].Mask()&ev == 0 {
			continue
		}
		// The bucket's owner bound a topic of the owner's tenant.
		subs, missing, err := s.subs.ByTopic(ctx, tenant.OfUser(b.Owner), ns[i].Topic)
		if err != nil {
			return err
		}
		s.missingConf.Add(uint64(missing))
		for _, sub := range subs {
			// Only the topic's owner can subscribe to it and only the
			// bucket's owner can bind it, so they are one user; a
			// subscription of another (a topic deleted and re-created
			// under another owner) must not see this bucket.
			if sub.S3ID != "" || sub.Owner != b.Owner {
				continue
			}
			matched = true
			if err := e.appendEvent(w, sub); err != nil {
				return err
			}
		}
	}
	var ids []string
	if len(s3conf) > 0 && s.opts.S3Notifications != nil {
		if ids, err = s.opts.S3Notifications.PullMatches(b, ev, c.Object.Key); err != nil {
			return err
		}
	}
	for _, id := range ids {
		sub, err := s.subs.Get(ctx, b.Owner, id)
		if errors.Is(err, ErrNoSuchSubscription) {
			continue
		}
		if err != nil {
			return err
		}
		if sub.S3ID != id || sub.Bucket != b.Name {
			continue
		}
		matched = true
		if err := e.appendRecord(w, sub, id); err != nil {
			return err
		}
	}
	if matched {
		s.triggered.Add(1)
	}
	return nil
}

// change is one object change being written into subscription logs.
type change struct {
	svc      *Service
	c        *store.Change
	ev       notify.EventType
	bucketID string
	hash     string
}

const pullTimeLayout = "2006-01-02T15:04:05.000000Z"

// pullEvent is an event in PubSub's "events" format (pubsub.md §6.1).
type pullEvent struct {
	ID        string   `json:"id"`
	Event     string   `json:"event"`
	Timestamp string   `json:"timestamp"`
	Info      pullInfo `json:"info"`
}

type pullInfo struct {
	Bucket struct {
		Name     string `json:"name"`
		Tenant   string `json:"tenant"`
		BucketID string `json:"bucket_id"`
	} `json:"bucket"`
	Key struct {
		Name     string `json:"name"`
		Instance string `json:"instance"`
	} `json:"key"`
	Mtime string   `json:"mtime"`
	Attrs struct{} `json:"attrs"` // always {}: RGW's attributes never made it out
}

func (e *change) appendEvent(w store.RecordWriter, sub *Subscription) error {
	ev := pullEvent{Event: notify.PullEventName(e.ev)}
	bt, bn := tenant.SplitBucket(e.c.Bucket.Name)
	ev.Info.Bucket.Name, ev.Info.Bucket.Tenant, ev.Info.Bucket.BucketID = bn, bt, e.bucketID
	ev.Info.Key.Name, ev.Info.Key.Instance = e.c.Object.Key, instance(e.c.Object.VersionID)
	ev.Info.Mtime = e.c.Object.LastModified.UTC().Format(pullTimeLayout)
	d := &draft{Log: sub.LogName(), Hash: e.hash, Event: &ev}
	if sub.PushEndpoint != "" {
		d.Push = &draftPush{Subscription: sub.Name, Endpoint: sub.PushEndpoint, Args: sub.PushArgs, Topic: sub.Topic}
	}
	return e.svc.append(w, d)
}

func (e *change) appendRecord(w store.RecordWriter, sub *Subscription, configID string) error {
	// The S3 notification's own topic pushes the event (with its delivery
	// guarantees); the subscription only stores it.
	return e.svc.append(w, &draft{Log: sub.LogName(), Hash: e.hash, Record: &notify.PullRecordInput{
		Event: e.ev, EventTime: e.c.Object.LastModified, Sequence: e.c.Sequence, ConfigurationID: configID,
		BucketName: e.c.Bucket.Name, BucketOwner: e.c.Bucket.Owner, BucketID: e.bucketID,
		Key: e.c.Object.Key, VersionID: instance(e.c.Object.VersionID), Hash: e.hash,
		OpaqueData: sub.Shown().OpaqueData,
	}})
}

// append writes d's event into its log inside the commit w belongs to; on
// a store several gateways share, as a draft the shard's holder moves in
// (shared.go).
func (s *Service) append(w store.RecordWriter, d *draft) error {
	if sw, ok := w.(sharedWriter); ok && s.log.shared {
		return s.log.appendDraft(sw, d)
	}
	var body []byte
	id, err := s.log.Append(w, d.Log, d.Hash, func(id string, at time.Time) ([]byte, error) {
		var err error
		body, err = d.render(id, at)
		return body, err
	})
	if err != nil {
		return err
	}
	if d.Push != nil {
		p := d.Push.push(id, wrap("events", body))
		w.AfterCommit(func() { s.push(p, d.Push.Subscription) })
	}
	return nil
}

// wrap renders {"<name>":[body]}.
func wrap(name string, body []byte) []byte {
	out := make([]byte, 0, len(body)+len(name)+8)
	out = append(out, `{"`...)
	out = append(out, name...)
	out = append(out, `":[`...)
	out = append(out, body...)
	return append(out, "]}"...)
}

// push pushes an event to a subscription's endpoint once its commit is
// durable (never early), without persistence or retry (pubsub.md §6.3):
// the outcome is only counted.
func (s *Service) push(p notify.Push, subscription string) {
	if s.opts.Pusher == nil {
		return
	}
	select {
	case s.pushSlots <- struct{}{}:
	default:
		s.pushFailed.Add(1)
		s.logger.Warn("subscription push dropped: too many in flight", "subscription", subscription)
		return
	}
	s.pushes.Add(1)
	s.pushPending.Add(1)
	go func() {
		defer func() { <-s.pushSlots; s.pushPending.Add(-1); s.pushes.Done() }()
		ctx, cancel := context.WithTimeout(s.stop, s.opts.PushTimeout)
		defer cancel()
		if err := s.opts.Pusher.Push(ctx, p); err != nil {
			s.pushFailed.Add(1)
			s.logger.Warn("subscription push failed", "subscription", subscription, "event_id", p.ID, "err", err)
			return
		}
		s.pushOK.Add(1)
	}()
}

// Counters are the PubSub counters of pubsub.md §9 kept by the service.
type Counters struct {
	EventTriggered uint64 // changes written into ≥1 subscription
	StoreOK        uint64
	StoreFail      uint64
	Events         int64 // events stored now, all subscriptions
	PushOK         uint64
	PushFailed     uint64
	PushPending    int64
	MissingConf    uint64
}

// Counters returns the service's counters.
func (s *Service) Counters() Counters {
	ok, failed := s.log.StoreCounts()
	return Counters{EventTriggered: s.triggered.Load(), StoreOK: ok, StoreFail: failed, Events: s.log.Depth(),
		PushOK: s.pushOK.Load(), PushFailed: s.pushFailed.Load(), PushPending: s.pushPending.Load(),
		MissingConf: s.missingConf.Load()}
}

// DestBucket and DestPrefix are where RGW would store a subscription's
// events (shown by GET, pubsub.md §5.1).
func (s *Service) DestBucket(sub *Subscription) string {
	return s.opts.DataBucketPrefix + sub.Owner + "-" + sub.Topic
}

// DestPrefix is the object prefix of a subscription's events; markers
// carry it.
func (s *Service) DestPrefix(sub *Subscription) string { return s.opts.DataOIDPrefix + sub.Name + "/" }

// StageS3Notifications adds to w, which commits with bucket b's record,
// the subscription changes that follow from its S3 notifications changing
// (pubsub.md §5.6): the subscriptions of the notifications removed go, and
// each notification added or replaced gets the subscription named by its
// Id, carrying its topic's push endpoint and OpaqueData when the topic is
// the bucket owner's own; another user's topic (bound through its Policy)
// is never copied. Events of removed subscriptions stay until acked or
// expired.
func (s *Service) StageS3Notifications(ctx context.Context, b *store.Bucket, added []notify.Notification, removed []string, w *kv.Batch) error {
	for _, id := range removed {
		sub, err := s.subs.Get(ctx, b.Owner, id)
		if errors.Is(err, ErrNoSuchSubscription) {
			continue
		}
		if err != nil {
			return err
		}
		if sub.S3ID == id && sub.Bucket == b.Name {
			StageDelete(sub, w)
		}
	}
	for _, n := range added {
		tenant, name, _ := notify.ParseTopicARN(n.TopicARN)
		t, err := s.topics.Get(ctx, tenant, name)
		if err != nil {
			return err
		}
		sub := &Subscription{Owner: b.Owner, Name: n.ID, Topic: hiddenTopic(n.ID, n.TopicARN), S3ID: n.ID, Bucket: b.Name,
			Persistent: t.Persistent, TopicOwner: t.Owner, Created: s.opts.Now().UTC()}
		if t.Owner == b.Owner {
			sub.PushEndpoint, sub.PushArgs, sub.StoredSecret, sub.OpaqueData = t.Endpoint, t.Args, t.StoredSecret, t.OpaqueData
		}
		if old, err := s.subs.Get(ctx, b.Owner, n.ID); err == nil {
			sub.VisibilitySeconds, sub.Created = old.VisibilitySeconds, old.Created
		}
		if err := s.subs.StagePut(ctx, sub, w); err != nil {
			return err
		}
	}
	return nil
}

// hiddenTopic is the name RGW gives the topic of an S3-created
// subscription: "<Id>_<topic>".
func hiddenTopic(id, topicARN string) string {
	_, name, _ := notify.ParseTopicARN(topicARN)
	return id + "_" + name
}
