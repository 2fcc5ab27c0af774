package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"

	"github.com/cairn-s3/cairn/internal/kv"
)

// ErrNoSuchTopic is returned for a topic that does not exist.
var ErrNoSuchTopic = errors.New("notify: no such topic")

// topicPrefix is the kv namespace of topics: topics/<tenant>/<name>, the
// tenant path-escaped so that a tenant can never reach into another's keys.
const topicPrefix = "topics/"

// MaxListTopics is ListTopics' page size (RGW: 100 per page).
const MaxListTopics = 100

// Topics stores topics on a kv.Store, so every gateway sharing the store
// sees the same topics.
type Topics struct {
	kv kv.Store
	// gen counts the changes made through this Topics, so that caches
	// of topics (deliveryTopics) see them at once.
	gen atomic.Uint64
}

// NewTopics returns the topic store over kv.
func NewTopics(s kv.Store) *Topics { return &Topics{kv: s} }

func tenantPrefix(tenant string) string { return topicPrefix + url.PathEscape(tenant) + "/" }

func topicKey(tenant, name string) []byte { return []byte(tenantPrefix(tenant) + name) }

// Put creates or replaces a topic.
func (s *Topics) Put(ctx context.Context, t *Topic) error {
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("notify: encode topic: %w", err)
	}
	defer s.gen.Add(1) // after the write: a read racing it caches under the old generation
	return kv.Put(ctx, s.kv, topicKey(t.Tenant, t.Name), data)
}

// Get returns a topic, or ErrNoSuchTopic.
func (s *Topics) Get(ctx context.Context, tenant, name string) (*Topic, error) {
	data, err := s.kv.Get(ctx, topicKey(tenant, name))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s/%s", ErrNoSuchTopic, tenant, name)
	}
	if err != nil {
		return nil, fmt.Errorf("notify: read topic: %w", err)
	}
	return decodeTopic(data)
}

func decodeTopic(data []byte) (*Topic, error) {
	var t Topic
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("notify: corrupt topic record: %w", err)
	}
	return &t, nil
}

// Delete removes a topic; removing a missing topic is not an error.
func (s *Topics) Delete(ctx context.Context, tenant, name string) error {
	defer s.gen.Add(1)
	return kv.Delete(ctx, s.kv, topicKey(tenant, name))
}

// generation changes with every change made through s.
func (s *Topics) generation() uint64 { return s.gen.Load() }

// List returns up to max topics of a tenant in name order, starting at the
// name start (inclusive; "" for the beginning). keep, if not nil, filters
// topics out of the page without counting them. next is the name to
// continue from, or "" at the end.
func (s *Topics) List(ctx context.Context, tenant, start string, max int, keep func(*Topic) bool) (topics []*Topic, next string, err error) {
	if max <= 0 {
		max = MaxListTopics
	}
	prefix := []byte(tenantPrefix(tenant))
	var from []byte
	if start != "" {
		from = topicKey(tenant, start)
	}
	for p, err := range s.kv.Scan(ctx, prefix, from) {
		if err != nil {
			return nil, "", fmt.Errorf("notify: list topics: %w", err)
		}
		t, err := decodeTopic(p.Value)
		if err != nil {
			return nil, "", err
		}
		if keep != nil && !keep(t) {
			continue
		}
		if len(topics) == max {
			return topics, t.Name, nil
		}
		topics = append(topics, t)
	}
	return topics, "", nil
}
