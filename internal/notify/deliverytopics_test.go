package notify

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/notify/notifytest"
	"github.com/cairn-s3/cairn/internal/queue"
	"github.com/cairn-s3/cairn/internal/store"
)

// countingKV counts the reads of topic records.
type countingKV struct {
	kv.Store
	topicReads atomic.Int64
}

func (c *countingKV) Get(ctx context.Context, key []byte) ([]byte, error) {
	if strings.HasPrefix(string(key), topicPrefix) {
		c.topicReads.Add(1)
	}
	return c.Store.Get(ctx, key)
}

// Delivery reads a topic once per DeliveryTopicTTL, not twice per event
// (on RADOS each read is a round trip to one hot object, on the way of
// every event); a change through this gateway applies at once, one through
// another gateway (another Topics on the same store) within the TTL.
func TestDeliveryReadsTopicOncePerTTL(t *testing.T) {
	mem := &countingKV{Store: notifytest.NewMemKV()}
	topics := NewTopics(mem)
	now := time.Unix(1715677953, 0)
	pusher := &fakePusher{}
	d, err := NewDispatcher(Config{Topics: topics, Pusher: pusher, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ctx := t.Context()
	put := func(ts *Topics, endpoint string) {
		t.Helper()
		if err := ts.Put(ctx, &Topic{Tenant: "acme", Owner: "acme$bob", Name: "p", Endpoint: endpoint, Persistent: true}); err != nil {
			t.Fatal(err)
		}
	}
	body, _ := BuildRecord(&RecordInput{Event: ObjectCreatedPut, Zonegroup: "default", HostID: "h", BucketName: "bkt",
		Object: store.ObjectInfo{Key: "k"}, RequestID: "r"})
	deliver := func() string {
		t.Helper()
		if _, ok := d.QueuePolicy("acme:p"); !ok {
			t.Fatal("no policy for the topic")
		}
		if err := d.Send(ctx, queue.Event{ID: "1", Topic: "acme:p", Body: body}); err != nil {
			t.Fatal(err)
		}
		ps := pusher.taken()
		return ps[len(ps)-1].Endpoint
	}

	put(topics, "http://one/")
	for range 50 {
		deliver()
	}
	if n := mem.topicReads.Load(); n != 1 {
		t.Errorf("%d topic reads for 50 deliveries, want 1", n)
	}
	put(topics, "http://two/")
	if got := deliver(); got != "http://two/" {
		t.Errorf("after a change through this gateway, pushed to %s, want http://two/", got)
	}
	put(NewTopics(mem), "http://three/") // another gateway
	now = now.Add(DeliveryTopicTTL)
	if got := deliver(); got != "http://three/" {
		t.Errorf("a TTL after another gateway's change, pushed to %s, want http://three/", got)
	}
	if err := topics.Delete(ctx, "acme", "p"); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.QueuePolicy("acme:p"); ok {
		t.Error("policy of a topic deleted through this gateway")
	}
}
