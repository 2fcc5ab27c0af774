package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/queue"
)

// push builds the message for one record with the topic's current
// endpoint settings.
func (t *Topic) push(id string, body []byte) Push {
	p := Push{Endpoint: t.Endpoint, Args: t.Args, Topic: t.Name, ID: id, Body: body}
	if v, _ := t.Arg("cloudevents"); v != "" {
		if on, _ := parseBool(v); on {
			p.Attributes = cloudEvents(body)
		}
	}
	return p
}

// topicOfQueue resolves a queue name ("<tenant>:<name>") to the live topic.
func (d *Dispatcher) topicOfQueue(ctx context.Context, name string) (*Topic, error) {
	tenant, topic, ok := strings.Cut(name, ":")
	if !ok {
		return nil, fmt.Errorf("notify: bad queue name %q", name)
	}
	return d.cfg.Topics.Get(ctx, tenant, topic)
}

// QueuePolicy is queue.Config.Policy: the current delivery settings of a
// persistent topic, or false when the topic is gone or no longer
// persistent (its events are then held until the queue is deleted).
func (d *Dispatcher) QueuePolicy(name string) (queue.Policy, bool) {
	t, err := d.deliveryTopic(context.Background(), name)
	if err != nil || !t.Persistent || t.Endpoint == "" {
		return queue.Policy{}, false
	}
	p := queue.Policy{}
	p.Capacity, p.Overflow, _ = t.queueSettings() // validated when stored
	if t.TimeToLive != nil {
		p.TTL = time.Duration(*t.TimeToLive) * time.Second
	}
	if t.MaxRetries != nil {
		p.MaxRetries = int(*t.MaxRetries)
	}
	if t.RetrySleep != nil {
		p.RetrySleep = time.Duration(*t.RetrySleep) * time.Second
	}
	return p, true
}

// errTopicGone fails the delivery of an event whose topic was deleted; the
// queue holds such events until the queue itself is deleted.
var errTopicGone = errors.New("notify: topic no longer exists")

// Send implements queue.Sender: it delivers a queued record with the
// topic's settings as they are now (Squid: endpoint, args and opaque data
// changes apply to queued events; another gateway's changes within
// DeliveryTopicTTL, see deliveryTopics).
func (d *Dispatcher) Send(ctx context.Context, ev queue.Event) error {
	t, err := d.deliveryTopic(ctx, ev.Topic)
	if errors.Is(err, ErrNoSuchTopic) {
		return errTopicGone
	}
	if err != nil {
		return err
	}
	body, err := withOpaqueData(ev.Body, t.OpaqueData)
	if err != nil {
		return err
	}
	err = d.cfg.Pusher.Push(ctx, t.push(ev.ID, body))
	if err != nil {
		d.log.Debug("persistent notification push failed", "topic", t.Name, "event_id", ev.ID, "err", err)
	}
	return err
}

// withOpaqueData returns body with the record's opaqueData replaced, or
// body itself if it already carries that value.
func withOpaqueData(body []byte, opaque string) ([]byte, error) {
	var env struct {
		Records []record `json:"Records"`
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Records) != 1 {
		return nil, fmt.Errorf("notify: queued record is not a record: %v", err)
	}
	if env.Records[0].OpaqueData == opaque {
		return body, nil
	}
	env.Records[0].OpaqueData = opaque
	return encodeRecord(&env.Records[0])
}

var _ queue.Sender = (*Dispatcher)(nil)
