package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/queue"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// Notifications is what the topic and notification operations need; without
// it (Config.Notifications nil) they answer NotImplemented.
type Notifications struct {
	Dispatcher *notify.Dispatcher
	Queues     Queues
	Buckets    Buckets
}

// Queues is the durable queue of persistent topics (implemented by
// *queue.Queue).
type Queues interface {
	Stats(name string) queue.Stats
	Counters() queue.Counters
	Topics() []string
	DeadLetters(ctx context.Context, name string, limit int) ([]queue.Event, error)
	Replay(ctx context.Context, name string, ids ...string) (int, error)
	DeleteQueue(ctx context.Context, name string) error
	EnqueueDirect(ctx context.Context, ev queue.Event) error
}

// Buckets reads and changes bucket records (implemented by the store).
type Buckets interface {
	GetBucket(ctx context.Context, name string) (store.Bucket, error)
	UpdateBucket(ctx context.Context, name string, fn func(*store.Bucket) error) error
}

var (
	errNoSuchTopic        = &apiError{"NoSuchTopic", http.StatusNotFound, "The specified topic does not exist.", nil}
	errNoSuchBucket       = &apiError{"NoSuchBucket", http.StatusNotFound, "The specified bucket does not exist.", nil}
	errNoSuchNotification = &apiError{"NoSuchNotification", http.StatusNotFound, "The specified notification does not exist.", nil}
	errNoSuchEvent        = &apiError{"NoSuchKey", http.StatusNotFound, "No dead letter has that event id.", nil}
	errQueueFull          = &apiError{"SlowDown", http.StatusServiceUnavailable, "The topic's queue is full.", nil}
	errNotPersistent      = &apiError{"InvalidArgument", http.StatusBadRequest, "The topic is not persistent or has no push-endpoint.", nil}
)

func (a *API) notifications() (*Notifications, error) {
	if a.notify == nil {
		return nil, errNotImplemented
	}
	return a.notify, nil
}

// topicDoc is radosgw-admin's topic JSON (Squid, spec §6.3), plus Cairn's
// queue attributes in dest.
type topicDoc struct {
	Owner      string  `json:"owner"`
	Name       string  `json:"name"`
	Dest       destDoc `json:"dest"`
	ARN        string  `json:"arn"`
	OpaqueData string  `json:"opaqueData"`
	Policy     string  `json:"policy"`
}

type destDoc struct {
	PushEndpoint      string `json:"push_endpoint"`
	PushEndpointArgs  string `json:"push_endpoint_args"`
	PushEndpointTopic string `json:"push_endpoint_topic"`
	StoredSecret      bool   `json:"stored_secret"`
	Persistent        bool   `json:"persistent"`
	PersistentQueue   string `json:"persistent_queue"`
	TimeToLive        string `json:"time_to_live"`
	MaxRetries        string `json:"max_retries"`
	RetrySleep        string `json:"retry_sleep_duration"`
}

func (a *API) topicJSON(t *notify.Topic) topicDoc {
	queueName := ""
	if t.Persistent {
		queueName = t.QueueName()
	}
	return topicDoc{
		Owner: t.Owner, Name: t.Name, ARN: t.ARN(a.notify.Dispatcher.Options().Zonegroup), OpaqueData: t.OpaqueData, Policy: t.Policy,
		Dest: destDoc{
			PushEndpoint: t.Endpoint, PushEndpointArgs: t.Args, PushEndpointTopic: t.Name, StoredSecret: t.StoredSecret,
			Persistent: t.Persistent, PersistentQueue: queueName,
			TimeToLive: t.TimeToLiveString(), MaxRetries: t.MaxRetriesString(), RetrySleep: t.RetrySleepString(),
		},
	}
}

// topicParam returns the tenant and name a request addresses.
func topicParam(q query) (tenant, name string, err error) {
	name = q.Get("topic")
	if name == "" {
		return "", "", errInvalidArgument.with(errors.New("topic is required"))
	}
	return q.Get("tenant"), name, nil
}

func (a *API) lookupTopic(ctx context.Context, q query) (*Notifications, *notify.Topic, error) {
	n, err := a.notifications()
	if err != nil {
		return nil, nil, err
	}
	tenant, name, err := topicParam(q)
	if err != nil {
		return nil, nil, err
	}
	t, err := n.Dispatcher.Topics().Get(ctx, tenant, name)
	if errors.Is(err, notify.ErrNoSuchTopic) {
		return nil, nil, errNoSuchTopic.with(fmt.Errorf("topic %q", name))
	}
	return n, t, err
}

// listTopics: GET /admin/topic[?tenant=T][&uid=U] → {"topics":[...]}.
func (a *API) listTopics(ctx context.Context, q query) (any, error) {
	n, err := a.notifications()
	if err != nil {
		return nil, err
	}
	owner, inTenant := "", q.Get("tenant")
	if q.Get("uid") != "" { // tenant=T&uid=U or uid=T$U: topics of T owned by T$U
		if owner, err = q.uid(); err != nil {
			return nil, err
		}
		inTenant = tenant.OfUser(owner)
	}
	out := []topicDoc{}
	start := ""
	for range 100000 { // bounded: pages of notify.MaxListTopics
		page, next, err := n.Dispatcher.Topics().List(ctx, inTenant, start, notify.MaxListTopics,
			func(t *notify.Topic) bool { return owner == "" || t.Owner == owner })
		if err != nil {
			return nil, err
		}
		for _, t := range page {
			out = append(out, a.topicJSON(t))
		}
		if next == "" {
			break
		}
		start = next
	}
	return map[string]any{"topics": out}, nil
}

// getTopic: GET /admin/topic?topic=N[&tenant=T] → <topic>.
func (a *API) getTopic(ctx context.Context, q query) (any, error) {
	_, t, err := a.lookupTopic(ctx, q)
	if err != nil {
		return nil, err
	}
	return a.topicJSON(t), nil
}

// removeTopic: DELETE /admin/topic?topic=N removes the topic, then its
// queue and dead letters (so new events are refused first).
func (a *API) removeTopic(ctx context.Context, q query) (any, error) {
	n, t, err := a.lookupTopic(ctx, q)
	if err != nil {
		return nil, err
	}
	if err := n.Dispatcher.Topics().Delete(ctx, t.Tenant, t.Name); err != nil {
		return nil, err
	}
	if err := n.Queues.DeleteQueue(ctx, t.QueueName()); err != nil {
		return nil, err
	}
	return nil, nil
}

// statsDoc is radosgw-admin's topic stats plus Cairn's queue counters.
type statsDoc struct {
	Topic struct {
		Reservations int64 `json:"Reservations"`
		Size         int64 `json:"Size"`
		Entries      int64 `json:"Entries"`
	} `json:"Topic Stats"`
	Queue queueStats `json:"queue"`
}

type queueStats struct {
	Depth             int64   `json:"depth"`
	Bytes             int64   `json:"bytes"`
	OldestPendingAgeS float64 `json:"oldest_pending_age_seconds"`
	Delivered         int64   `json:"delivered"`
	Failed            int64   `json:"failed"`
	Dropped           int64   `json:"dropped"`
	DeadLettered      int64   `json:"dead_lettered"`
	DeadLetterDepth   int64   `json:"dead_letter_depth"`
	Pending           int64   `json:"pending"`
}

func toQueueStats(s queue.Stats) queueStats {
	return queueStats{
		Depth: s.Depth, Bytes: s.Bytes, OldestPendingAgeS: s.OldestAge.Seconds(),
		Delivered: s.Delivered, Failed: s.Failed, Dropped: s.Dropped,
		DeadLettered: s.DeadLettered, DeadLetterDepth: s.DeadLetterDepth, Pending: s.Pending,
	}
}

// topicStats: GET /admin/topic?stats&topic=N.
func (a *API) topicStats(ctx context.Context, q query) (any, error) {
	n, t, err := a.lookupTopic(ctx, q)
	if err != nil {
		return nil, err
	}
	st := n.Queues.Stats(t.QueueName())
	var doc statsDoc
	doc.Topic.Size, doc.Topic.Entries = st.Bytes, st.Depth
	doc.Queue = toQueueStats(st)
	return doc, nil
}

// deadLetterDoc is one dead letter; the event is the record as queued.
type deadLetterDoc struct {
	EventID   string       `json:"event_id"`
	Key       string       `json:"key"`
	Enqueued  string       `json:"enqueued"`
	Attempts  int          `json:"attempts"`
	LastError string       `json:"last_error"`
	Event     jsonOrString `json:"event"`
}

// jsonOrString embeds a body verbatim if it is JSON, else as a string.
type jsonOrString []byte

func (j jsonOrString) MarshalJSON() ([]byte, error) {
	if json.Valid(j) {
		return j, nil
	}
	return json.Marshal(string(j))
}

// listDeadLetters: GET /admin/topic?dlq&topic=N[&max-entries=M].
func (a *API) listDeadLetters(ctx context.Context, q query) (any, error) {
	n, t, err := a.lookupTopic(ctx, q)
	if err != nil {
		return nil, err
	}
	limit, err := q.integer("max-entries")
	if err != nil {
		return nil, err
	}
	max := 1000
	if limit != nil && *limit > 0 {
		max = *limit
	}
	evs, err := n.Queues.DeadLetters(ctx, t.QueueName(), max)
	if err != nil {
		return nil, err
	}
	out := make([]deadLetterDoc, 0, len(evs))
	for _, ev := range evs {
		out = append(out, deadLetterDoc{EventID: ev.ID, Key: ev.Key, Enqueued: ev.Enqueued.UTC().Format(time.RFC3339Nano),
			Attempts: ev.Attempts, LastError: ev.LastError, Event: jsonOrString(ev.Body)})
	}
	return map[string]any{"dead_letters": out}, nil
}

// replayDeadLetters: POST /admin/topic?replay&topic=N[&event-id=I] puts dead
// letters back into the queue.
func (a *API) replayDeadLetters(ctx context.Context, q query) (any, error) {
	n, t, err := a.lookupTopic(ctx, q)
	if err != nil {
		return nil, err
	}
	var ids []string
	if id := q.Get("event-id"); id != "" {
		ids = []string{id}
	}
	moved, err := n.Queues.Replay(ctx, t.QueueName(), ids...)
	if err != nil {
		return nil, err
	}
	if len(ids) > 0 && moved == 0 {
		return nil, errNoSuchEvent.with(fmt.Errorf("event %q", ids[0]))
	}
	return map[string]any{"replayed": moved}, nil
}

// testEventBucket names the bucket of test records.
const testEventBucket = "cairn-test-event"

// sendTestEvent: POST /admin/topic?test-event&topic=N builds an
// ObjectCreated:Put record for object "test-event" of bucket
// "cairn-test-event" (configurationId "cairn-test-event") and queues it
// (persistent topics) or pushes it at once, reporting the outcome.
func (a *API) sendTestEvent(ctx context.Context, q query) (any, error) {
	n, t, err := a.lookupTopic(ctx, q)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	size := int64(0)
	// A test event has no commit: its clock reading stands in for the
	// sequence, so that its id still differs from the last test's.
	seq := uint64(now.UnixNano())
	body, err := notify.BuildRecord(&notify.RecordInput{
		Event: notify.ObjectCreatedPut, Zonegroup: n.Dispatcher.Options().Zonegroup, HostID: a.hostID,
		EventTime: now, Sequence: seq, Principal: "cairn-admin", ConfigurationID: testEventBucket,
		BucketName: testEventBucket, BucketOwner: t.Owner, BucketID: testEventBucket,
		Object:     store.ObjectInfo{Bucket: testEventBucket, Key: "test-event", Size: size, LastModified: now},
		OpaqueData: t.OpaqueData,
	})
	if err != nil {
		return nil, err
	}
	ev := queue.Event{ID: notify.EventID(seq, 0, ""), Topic: t.QueueName(), Key: testEventBucket + "/test-event", Body: body, Enqueued: now}
	if t.Persistent {
		switch err := n.Queues.EnqueueDirect(ctx, ev); {
		case errors.Is(err, queue.ErrQueueFull):
			return nil, errQueueFull.with(err)
		case errors.Is(err, queue.ErrUnknownTopic):
			return nil, errNotPersistent.with(err)
		case err != nil:
			return nil, err
		}
		return map[string]any{"event_id": ev.ID, "queued": true, "delivered": false}, nil
	}
	doc := map[string]any{"event_id": ev.ID, "queued": false, "delivered": true}
	sctx, cancel := context.WithTimeout(ctx, n.Dispatcher.SyncTimeout())
	defer cancel()
	if err := n.Dispatcher.Send(sctx, ev); err != nil {
		doc["delivered"], doc["error"] = false, err.Error()
	}
	return doc, nil
}

// notifDoc is radosgw-admin's notification JSON (spec §6.3).
type notifDoc struct {
	TopicArn string    `json:"TopicArn"`
	ID       string    `json:"Id"`
	Events   []string  `json:"Events"`
	Filter   filterDoc `json:"Filter"`
}

type filterDoc struct {
	S3Key      rulesDoc `json:"S3Key"`
	S3Metadata rulesDoc `json:"S3Metadata"`
	S3Tags     rulesDoc `json:"S3Tags"`
}

type rulesDoc struct {
	FilterRules []ruleDoc `json:"FilterRules,omitempty"`
}

type ruleDoc struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

func notifJSON(n notify.Notification) notifDoc {
	d := notifDoc{TopicArn: n.TopicARN, ID: n.ID, Events: n.Events}
	if len(d.Events) == 0 {
		d.Events = notify.DefaultEvents
	}
	k := n.Filter.Key
	for _, r := range []struct {
		name string
		v    *string
	}{{"prefix", k.Prefix}, {"suffix", k.Suffix}, {"regex", k.Regex}} {
		if r.v != nil {
			d.Filter.S3Key.FilterRules = append(d.Filter.S3Key.FilterRules, ruleDoc{r.name, *r.v})
		}
	}
	for _, r := range n.Filter.Metadata {
		d.Filter.S3Metadata.FilterRules = append(d.Filter.S3Metadata.FilterRules, ruleDoc{r.Name, r.Value})
	}
	for _, r := range n.Filter.Tags {
		d.Filter.S3Tags.FilterRules = append(d.Filter.S3Tags.FilterRules, ruleDoc{r.Name, r.Value})
	}
	return d
}

func (a *API) bucketNotifications(ctx context.Context, q query) (*Notifications, string, *notify.Configuration, error) {
	n, err := a.notifications()
	if err != nil {
		return nil, "", nil, err
	}
	bucket, err := bucketParam(q)
	if err != nil {
		return nil, "", nil, err
	}
	b, err := n.Buckets.GetBucket(ctx, bucket)
	if errors.Is(err, store.ErrNoSuchBucket) {
		return nil, "", nil, errNoSuchBucket.with(fmt.Errorf("bucket %q", q.Get("bucket")))
	}
	if err != nil {
		return nil, "", nil, err
	}
	conf, err := notify.DecodeConfiguration(b.Config[notify.ConfigKey])
	return n, bucket, conf, err
}

// getNotifications: GET /admin/notification?bucket=B → {"notifications":[...]},
// or with notification-id=I → <notif>.
func (a *API) getNotifications(ctx context.Context, q query) (any, error) {
	_, _, conf, err := a.bucketNotifications(ctx, q)
	if err != nil {
		return nil, err
	}
	if id := q.Get("notification-id"); id != "" {
		one, ok := conf.Get(id)
		if !ok {
			return nil, errNoSuchNotification.with(fmt.Errorf("notification %q", id))
		}
		return notifJSON(one), nil
	}
	out := make([]notifDoc, 0, len(conf.Notifications))
	for _, n := range conf.Notifications {
		out = append(out, notifJSON(n))
	}
	return map[string]any{"notifications": out}, nil
}

// removeNotifications: DELETE /admin/notification?bucket=B[&notification-id=I].
func (a *API) removeNotifications(ctx context.Context, q query) (any, error) {
	n, bucket, _, err := a.bucketNotifications(ctx, q)
	if err != nil {
		return nil, err
	}
	id := q.Get("notification-id")
	defer n.Dispatcher.Invalidate(bucket)
	err = n.Buckets.UpdateBucket(ctx, bucket, func(b *store.Bucket) error {
		conf, err := notify.DecodeConfiguration(b.Config[notify.ConfigKey])
		if err != nil {
			return err
		}
		conf.Remove(id)
		if len(conf.Notifications) == 0 {
			delete(b.Config, notify.ConfigKey)
			return nil
		}
		raw, err := conf.Encode()
		if err != nil {
			return err
		}
		b.Config[notify.ConfigKey] = raw
		return nil
	})
	if errors.Is(err, store.ErrNoSuchBucket) {
		return nil, errNoSuchBucket.with(fmt.Errorf("bucket %q", q.Get("bucket")))
	}
	return nil, err
}

// notificationStats: GET /admin/notification/stats → the counters of spec
// §7 (synchronous pushes and persistent queues) and every queue's stats,
// for metrics scrapers.
func (a *API) notificationStats(_ context.Context, _ query) (any, error) {
	n, err := a.notifications()
	if err != nil {
		return nil, err
	}
	sc, qc := n.Dispatcher.Counters(), n.Queues.Counters()
	topics := map[string]queueStats{}
	for _, name := range n.Queues.Topics() {
		topics[name] = toQueueStats(n.Queues.Stats(name))
	}
	return map[string]any{
		"pubsub_push_ok":         sc.PushOK + qc.Delivered,
		"pubsub_push_failed":     sc.PushFailed,
		"pubsub_push_pending":    sc.PushPending + qc.Pending,
		"pubsub_event_triggered": sc.Triggered,
		"pubsub_event_lost":      sc.Lost,
		"sync": map[string]int64{
			"push_ok": sc.PushOK, "push_failed": sc.PushFailed, "push_pending": sc.PushPending,
			"event_triggered": sc.Triggered, "event_lost": sc.Lost,
		},
		"persistent": map[string]int64{
			"delivered": qc.Delivered, "failed": qc.Failed, "dropped": qc.Dropped,
			"dead_lettered": qc.DeadLettered, "pending": qc.Pending,
		},
		"topics": topics,
	}, nil
}
