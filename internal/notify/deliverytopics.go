package notify

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Delivering a queued event reads its topic twice (the queue's policy
// before a round of sends, then the send itself). On a store several
// gateways share, each read is a read of one metadata object every
// gateway hits for every event: on RADOS two round trips on the way of
// every event, and a hot object. So delivery reads topics through a small
// cache. An entry serves while no topic changed through this gateway
// (Topics' generation: this gateway's changes apply at once, as before)
// and for at most DeliveryTopicTTL, so that other gateways' changes of a
// topic's endpoint, settings or existence apply to queued events within
// that time, as their key changes do.

// DeliveryTopicTTL bounds how long delivery uses a topic read before.
const DeliveryTopicTTL = time.Second

// maxDeliveryTopics bounds the cache; it is cleared when full.
const maxDeliveryTopics = 10000

// deliveryTopics is the cache of the topics delivery reads, by queue name.
type deliveryTopics struct {
	mu sync.Mutex
	m  map[string]deliveryTopic
}

type deliveryTopic struct {
	t    *Topic // nil: no such topic
	gen  uint64 // Topics' generation before the read
	read time.Time
}

// deliveryTopic returns the topic of queue name ("<tenant>:<name>") for a
// delivery, or ErrNoSuchTopic. The topic is shared: read it only.
func (d *Dispatcher) deliveryTopic(ctx context.Context, name string) (*Topic, error) {
	now := d.cfg.Now()
	gen := d.cfg.Topics.generation()
	c := &d.delivery
	c.mu.Lock()
	e, ok := c.m[name]
	c.mu.Unlock()
	if ok && e.gen == gen && now.Sub(e.read) < DeliveryTopicTTL && !now.Before(e.read) {
		if e.t == nil {
			return nil, ErrNoSuchTopic
		}
		return e.t, nil
	}
	t, err := d.topicOfQueue(ctx, name)
	if err != nil && !errors.Is(err, ErrNoSuchTopic) {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxDeliveryTopics {
		c.m = map[string]deliveryTopic{}
	}
	c.m[name] = deliveryTopic{t: t, gen: gen, read: now}
	c.mu.Unlock()
	return t, err
}
