package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// ErrNoSuchSubscription is returned for a subscription that does not exist
// (or belongs to another user).
var ErrNoSuchSubscription = errors.New("pubsub: no such subscription")

// Subscription is a pull subscription (pubsub.md §5). Subscriptions belong
// to the user who created them: a user sees only its own.
type Subscription struct {
	Owner string `json:"owner"` // user id: uid or tenant$uid
	Name  string `json:"name"`
	// Topic is the topic's name in the owner's tenant; for a subscription
	// an S3 notification created it is the hidden "<Id>_<topic>".
	Topic string `json:"topic"`
	// S3ID is the notification Id of a subscription created by an S3
	// notification (its events are S3 records), "" otherwise.
	S3ID string `json:"s3_id"`
	// Bucket is the bucket of that S3 notification.
	Bucket       string `json:"bucket,omitempty"`
	PushEndpoint string `json:"push_endpoint"`
	PushArgs     string `json:"push_endpoint_args"`
	StoredSecret bool   `json:"stored_secret"`
	Persistent   bool   `json:"persistent"`
	OpaqueData   string `json:"opaque_data,omitempty"`
	// TopicOwner is, for a subscription an S3 notification created, the
	// owner of that notification's topic ("" if stored before Cairn
	// recorded it). The destination and OpaqueData above are the topic's
	// only when it is the subscription's owner (see Shown).
	TopicOwner string `json:"topic_owner,omitempty"`
	// VisibilitySeconds, if positive, hides pulled events until acked,
	// nacked or that many seconds passed (a Cairn extension).
	VisibilitySeconds int       `json:"visibility_timeout,omitempty"`
	Created           time.Time `json:"created"`
}

// Shown returns the subscription as its owner may see it and as its
// records carry it: an S3-created subscription whose topic belongs to
// another user (bound through the topic's Policy), or whose topic owner
// was not recorded, has no destination and no OpaqueData, so that one
// user's endpoint credentials and opaque data never reach another.
func (s *Subscription) Shown() *Subscription {
	if s.S3ID == "" || s.TopicOwner == s.Owner {
		return s
	}
	c := *s
	c.PushEndpoint, c.PushArgs, c.StoredSecret, c.OpaqueData = "", "", false, ""
	return &c
}

// LogName is the name of the subscription's event log: owner and name, so
// that users never share one.
func (s *Subscription) LogName() string { return s.Owner + "/" + s.Name }

// Visibility returns the visibility timeout.
func (s *Subscription) Visibility() time.Duration {
	return time.Duration(s.VisibilitySeconds) * time.Second
}

// Subscriptions stores subscriptions on a kv.Store:
//
//	pssub/<owner>/<name>                      the subscription (JSON)
//	pstopic/<tenant>/<topic>/<owner>/<name>   a copy, found by topic
//
// (each segment path-escaped). The copy lets an object change find the
// subscriptions of a topic with one prefix scan; both are written in one
// batch.
type Subscriptions struct {
	kv kv.Store
}

// NewSubscriptions returns the subscription store over s.
func NewSubscriptions(s kv.Store) *Subscriptions { return &Subscriptions{kv: s} }

func esc(s string) string { return url.PathEscape(s) }

func subKey(owner, name string) []byte { return []byte("pssub/" + esc(owner) + "/" + esc(name)) }

func ownerPrefix(owner string) []byte { return []byte("pssub/" + esc(owner) + "/") }

func topicSubsPrefix(tenant, topic string) []byte {
	return []byte("pstopic/" + esc(tenant) + "/" + esc(topic) + "/")
}

func (s *Subscription) topicKey() []byte {
	return append(topicSubsPrefix(tenant.OfUser(s.Owner), s.Topic), esc(s.Owner)+"/"+esc(s.Name)...)
}

// Put creates or replaces a subscription.
func (st *Subscriptions) Put(ctx context.Context, s *Subscription) error {
	var b kv.Batch
	if err := st.StagePut(ctx, s, &b); err != nil {
		return err
	}
	if err := st.kv.Apply(ctx, &b); err != nil {
		return fmt.Errorf("pubsub: store subscription: %w", err)
	}
	return nil
}

// StagePut adds the writes that create or replace s to b, for a commit
// that carries other writes too.
func (st *Subscriptions) StagePut(ctx context.Context, s *Subscription, b *kv.Batch) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("pubsub: encode subscription: %w", err)
	}
	if old, err := st.Get(ctx, s.Owner, s.Name); err == nil {
		b.Delete(old.topicKey())
	} else if !errors.Is(err, ErrNoSuchSubscription) {
		return err
	}
	b.Put(subKey(s.Owner, s.Name), data)
	b.Put(s.topicKey(), data)
	return nil
}

// Get returns the subscription name of owner.
func (st *Subscriptions) Get(ctx context.Context, owner, name string) (*Subscription, error) {
	data, err := st.kv.Get(ctx, subKey(owner, name))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrNoSuchSubscription, name)
	}
	if err != nil {
		return nil, fmt.Errorf("pubsub: read subscription: %w", err)
	}
	return decodeSubscription(data)
}

func decodeSubscription(data []byte) (*Subscription, error) {
	var s Subscription
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("pubsub: corrupt subscription record: %w", err)
	}
	return &s, nil
}

// Delete removes a subscription; its events stay until acked or expired
// (pubsub.md §5.3). A missing subscription is ErrNoSuchSubscription.
func (st *Subscriptions) Delete(ctx context.Context, owner, name string) error {
	s, err := st.Get(ctx, owner, name)
	if err != nil {
		return err
	}
	var b kv.Batch
	StageDelete(s, &b)
	if err := st.kv.Apply(ctx, &b); err != nil {
		return fmt.Errorf("pubsub: delete subscription: %w", err)
	}
	return nil
}

// StageDelete adds the writes that remove s to b.
func StageDelete(s *Subscription, b *kv.Batch) {
	b.Delete(subKey(s.Owner, s.Name))
	b.Delete(s.topicKey())
}

// ByTopic returns the subscriptions of a topic. Records that cannot be
// decoded are skipped and counted in missing.
func (st *Subscriptions) ByTopic(ctx context.Context, tenant, topic string) (subs []*Subscription, missing int, err error) {
	for p, err := range st.kv.Scan(ctx, topicSubsPrefix(tenant, topic), nil) {
		if err != nil {
			return nil, missing, fmt.Errorf("pubsub: subscriptions of %q: %w", topic, err)
		}
		s, err := decodeSubscription(p.Value)
		if err != nil {
			missing++
			continue
		}
		subs = append(subs, s)
	}
	return subs, missing, nil
}

// List returns every subscription of owner, by name.
func (st *Subscriptions) List(ctx context.Context, owner string) ([]*Subscription, error) {
	var out []*Subscription
	for p, err := range st.kv.Scan(ctx, ownerPrefix(owner), nil) {
		if err != nil {
			return nil, fmt.Errorf("pubsub: list subscriptions: %w", err)
		}
		s, err := decodeSubscription(p.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
