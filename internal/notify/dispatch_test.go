package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/notify/notifytest"
	"github.com/cairn-s3/cairn/internal/queue"
	"github.com/cairn-s3/cairn/internal/reqctx"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

type fakePusher struct {
	mu     sync.Mutex
	pushes []Push
	err    error
	delay  time.Duration
}

func (f *fakePusher) Push(ctx context.Context, p Push) error {
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pushes = append(f.pushes, p)
	return f.err
}

func (f *fakePusher) taken() []Push {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Push(nil), f.pushes...)
}

type fakeQueue struct {
	events []queue.Event
	err    error
}

func (f *fakeQueue) Enqueue(w store.RecordWriter, ev queue.Event) error {
	if f.err != nil {
		return f.err
	}
	f.events = append(f.events, ev)
	return nil
}

// fakeWriter is a RecordWriter whose commit the test performs.
type fakeWriter struct{ after []func() }

func (w *fakeWriter) Put(key, value []byte) error { return nil }
func (w *fakeWriter) AfterCommit(fn func())       { w.after = append(w.after, fn) }
func (w *fakeWriter) AfterAbort(func())           {}
func (w *fakeWriter) commit() {
	for _, fn := range w.after {
		fn()
	}
}

type fixture struct {
	d      *Dispatcher
	pusher *fakePusher
	queue  *fakeQueue
	topics *Topics
	bucket store.Bucket
}

func newFixture(t *testing.T, versioning store.Versioning, ns ...Notification) *fixture {
	t.Helper()
	conf := &Configuration{Notifications: ns}
	raw, _ := conf.Encode()
	b := store.Bucket{Name: "acme:bkt", Owner: "acme$bob", Created: time.Unix(100, 5), Versioning: versioning, Config: map[string][]byte{ConfigKey: raw}}
	f := &fixture{pusher: &fakePusher{}, queue: &fakeQueue{}, topics: NewTopics(notifytest.NewMemKV()), bucket: b}
	d, err := NewDispatcher(Config{Topics: f.topics, Pusher: f.pusher, Queue: f.queue,
		SyncTimeout: time.Second, Now: func() time.Time { return time.Unix(1715677953, 418204000) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	f.d = d
	return f
}

func notif(id, topic string, events ...string) Notification {
	if len(events) == 0 {
		events = DefaultEvents
	}
	return Notification{ID: id, TopicARN: "arn:aws:sns:default:acme:" + topic, Events: events}
}

// change runs the hook for one change under a request context and
// commits, waiting for the request's pushes.
func (f *fixture) change(t *testing.T, op string, c store.Change) error {
	t.Helper()
	ctx := reqctx.With(context.Background(), &reqctx.Info{RequestID: "req-1", Op: op, UserID: "acme$bob"})
	ctx, wait := WithPushWaiter(ctx, time.Second)
	w := &fakeWriter{}
	if c.Object.Bucket == "" {
		c.Object.Bucket = "acme:bkt"
	}
	c.Bucket = f.bucket
	if err := f.d.Hook(ctx, c, w); err != nil {
		return err
	}
	w.commit()
	wait()
	return nil
}

func TestHookRoutesByPersistence(t *testing.T) {
	f := newFixture(t, store.Unversioned, notif("sync", "s", "s3:ObjectCreated:*"), notif("queued", "p"), notif("gone", "missing"))
	ctx := context.Background()
	f.topics.Put(ctx, &Topic{Tenant: "acme", Owner: "acme$bob", Name: "s", Endpoint: "http://127.0.0.1:1/", OpaqueData: "o"})
	f.topics.Put(ctx, &Topic{Tenant: "acme", Owner: "acme$bob", Name: "p", Endpoint: "http://127.0.0.1:2/", Persistent: true})

	obj := store.ObjectInfo{Key: "k", Size: 3, ETag: "abc", LastModified: time.Unix(1715677950, 0)}
	if err := f.change(t, "PutObject", store.Change{Kind: store.ChangePut, Object: obj, Sequence: 42}); err != nil {
		t.Fatal(err)
	}
	pushes := f.pusher.taken()
	if len(pushes) != 1 || pushes[0].Topic != "s" || pushes[0].ID != "0000000042.000000.abc" || pushes[0].Endpoint != "http://127.0.0.1:1/" {
		t.Fatalf("pushes %+v", pushes)
	}
	if len(f.queue.events) != 1 || f.queue.events[0].Topic != "acme:p" || f.queue.events[0].Key != "acme:bkt/k" || f.queue.events[0].ID != "0000000042.000001.abc" {
		t.Fatalf("queued %+v", f.queue.events)
	}
	var env struct{ Records []record }
	if err := json.Unmarshal(pushes[0].Body, &env); err != nil {
		t.Fatal(err)
	}
	r := env.Records[0]
	if r.EventName != "ObjectCreated:Put" || r.UserIdentity.PrincipalID != "acme$bob" || r.S3.Bucket.ARN != "arn:aws:s3:default:acme:bkt" || r.S3.Bucket.Name != "bkt" ||
		r.S3.Bucket.OwnerIdentity.PrincipalID != "acme$bob" ||
		r.ResponseElements.RequestID != "req-1" || r.OpaqueData != "o" || r.EventTime != "2024-05-14T09:12:30.000000Z" ||
		r.EventID != pushes[0].ID || r.S3.Object.Sequencer != "000000000000002A" || r.S3.Bucket.ID != "cairn.100000000005" {
		t.Errorf("record %+v", r)
	}
	if c := f.d.Counters(); c.PushOK != 1 || c.Triggered != 1 {
		t.Errorf("counters %+v", c)
	}
}

func TestHookEventTypes(t *testing.T) {
	for _, c := range []struct {
		op         string
		kind       store.ChangeKind
		versioning store.Versioning
		user       string
		want       string
	}{
		{"PostObject", store.ChangePut, store.Unversioned, "acme$bob", "ObjectCreated:Post"},
		{"DeleteObject", store.ChangeDeleteMarkerCreated, store.Suspended, "acme$bob", "ObjectRemoved:Delete"},
		{"DeleteObject", store.ChangeDeleteMarkerCreated, store.Enabled, "acme$bob", "ObjectRemoved:DeleteMarkerCreated"},
	} {
		f := newFixture(t, c.versioning, notif("n", "s"))
		f.topics.Put(context.Background(), &Topic{Tenant: "acme", Owner: "acme$bob", Name: "s", Endpoint: "http://h/"})
		if err := f.change(t, c.op, store.Change{Kind: c.kind, Object: store.ObjectInfo{Key: "k"}}); err != nil {
			t.Fatal(err)
		}
		var env struct{ Records []record }
		p := f.pusher.taken()
		if len(p) != 1 || json.Unmarshal(p[0].Body, &env) != nil || env.Records[0].EventName != c.want {
			t.Errorf("%s %s %s: %d pushes", c.op, c.kind, c.versioning, len(p))
		}
	}
}

func TestHookQueueFullIsSlowDown(t *testing.T) {
	f := newFixture(t, store.Unversioned, notif("q", "p"))
	f.topics.Put(context.Background(), &Topic{Tenant: "acme", Owner: "acme$bob", Name: "p", Endpoint: "http://h/", Persistent: true})
	f.queue.err = fmt.Errorf("%w: test", queue.ErrQueueFull)
	err := f.change(t, "PutObject", store.Change{Kind: store.ChangePut, Object: store.ObjectInfo{Key: "k"}})
	if e := s3err.As(err); e == nil || e.Code != "SlowDown" || e.Status != 503 {
		t.Fatalf("err = %v, want SlowDown", err)
	}
	f.queue.err = errors.New("disk on fire")
	if err := f.change(t, "PutObject", store.Change{Kind: store.ChangePut, Object: store.ObjectInfo{Key: "k"}}); err == nil {
		t.Fatal("queue error swallowed")
	}
}

func TestHookNoConfigNoWork(t *testing.T) {
	f := newFixture(t, store.Unversioned)
	if err := f.change(t, "PutObject", store.Change{Kind: store.ChangePut, Object: store.ObjectInfo{Key: "k"}}); err != nil {
		t.Fatal(err)
	}
	if len(f.pusher.taken()) != 0 || f.d.Counters().Triggered != 0 {
		t.Error("work done for a bucket without notifications")
	}
}

// TestResponseWaitsForPush: the waiter holds the response until the push
// is done, and no longer than its timeout.
func TestResponseWaitsForPush(t *testing.T) {
	f := newFixture(t, store.Unversioned, notif("n", "s"))
	f.topics.Put(context.Background(), &Topic{Tenant: "acme", Owner: "acme$bob", Name: "s", Endpoint: "http://h/"})
	f.pusher.delay = 100 * time.Millisecond
	start := time.Now()
	if err := f.change(t, "PutObject", store.Change{Kind: store.ChangePut, Object: store.ObjectInfo{Key: "k"}}); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 100*time.Millisecond || len(f.pusher.taken()) != 1 {
		t.Errorf("returned after %v with %d pushes", el, len(f.pusher.taken()))
	}

	f.pusher.delay = time.Hour // bounded by SyncTimeout (1s) and the waiter's timeout
	ctx, wait := WithPushWaiter(reqctx.With(context.Background(), &reqctx.Info{Op: "PutObject"}), 50*time.Millisecond)
	w := &fakeWriter{}
	if err := f.d.Hook(ctx, store.Change{Kind: store.ChangePut, Object: store.ObjectInfo{Bucket: "acme:bkt", Key: "k"}, Bucket: f.bucket}, w); err != nil {
		t.Fatal(err)
	}
	w.commit()
	start = time.Now()
	wait()
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Errorf("waited %v for a hung endpoint", el)
	}
}

func TestSenderUsesCurrentTopic(t *testing.T) {
	f := newFixture(t, store.Unversioned)
	ctx := context.Background()
	f.topics.Put(ctx, &Topic{Tenant: "acme", Owner: "acme$bob", Name: "p", Endpoint: "http://new/", Persistent: true, OpaqueData: "now",
		Args: "cloudevents=true", MaxRetries: ptr(uint64(4)), RetrySleep: ptr(uint64(2))})
	body, _ := BuildRecord(&RecordInput{Event: ObjectCreatedPut, Zonegroup: "default", HostID: "h", BucketName: "bkt",
		Object: store.ObjectInfo{Key: "a b"}, OpaqueData: "then", RequestID: "r"})
	if err := f.d.Send(ctx, queue.Event{ID: "1", Topic: "acme:p", Body: body}); err != nil {
		t.Fatal(err)
	}
	p := f.pusher.taken()[0]
	var env struct{ Records []record }
	json.Unmarshal(p.Body, &env)
	if p.Endpoint != "http://new/" || env.Records[0].OpaqueData != "now" || p.Attributes["ce-subject"] != "a b" ||
		p.Attributes["ce-type"] != "com.amazonaws.ObjectCreated:Put" || p.Attributes["ce-source"] != "ceph:s3.default.bkt" || p.Attributes["ce-id"] != "r.h" {
		t.Errorf("push %+v", p)
	}
	pol, ok := f.d.QueuePolicy("acme:p")
	if !ok || pol.MaxRetries != 4 || pol.RetrySleep != 2*time.Second || pol.TTL != 0 {
		t.Errorf("policy %+v %v", pol, ok)
	}
	f.topics.Delete(ctx, "acme", "p")
	if _, ok := f.d.QueuePolicy("acme:p"); ok {
		t.Error("policy of a deleted topic")
	}
	if err := f.d.Send(ctx, queue.Event{ID: "1", Topic: "acme:p", Body: body}); err == nil {
		t.Error("sent for a deleted topic")
	}
}

func ptr[T any](v T) *T { return &v }
