package notify

import (
	"context"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// Pull-mode PubSub support (spec pubsub.md): what the subscription log
// needs from notifications without importing its HTTP or storage.

// PullMatches returns the Ids of a bucket's S3 notifications that fire in
// PubSub mode for an event of type ev on key: only event types and key
// filters count, as PubSub ignores metadata and tag filters (pubsub.md
// §5.6), and any creation subtype matches every creation (§6.2). It uses
// the dispatcher's cache of parsed configurations, so the hot path
// neither decodes nor compiles.
func (d *Dispatcher) PullMatches(b *store.Bucket, ev EventType, key string) ([]string, error) {
	ms, err := d.matchers(b)
	if err != nil {
		return nil, err
	}
	var ids []string
	for i := range ms {
		m := &ms[i]
		mask := m.mask
		if mask&ObjectCreated != 0 {
			mask |= ObjectCreated
		}
		if mask&ev != 0 && m.keyMatches(key) {
			ids = append(ids, m.ID)
		}
	}
	return ids, nil
}

// MaskOf returns the event types a list of subscription names stands for;
// unknown names add nothing.
func MaskOf(names []string) EventType {
	var m EventType
	for _, e := range names {
		t, _ := ParseEvent(e)
		m |= t
	}
	return m
}

// PullEventName is an event's name in PubSub's "events" format:
// OBJECT_CREATE, OBJECT_DELETE or DELETE_MARKER_CREATE ("" for others).
func PullEventName(ev EventType) string {
	switch {
	case ev&ObjectCreated != 0:
		return "OBJECT_CREATE"
	case ev == ObjectRemovedDelete:
		return "OBJECT_DELETE"
	case ev == ObjectRemovedDeleteMarkerCreated:
		return "DELETE_MARKER_CREATE"
	}
	return ""
}

// PullEventNames renders a mask with the upper-case PubSub names
// (pubsub.md §4.3): the families, then the single types; a removal
// wildcard is UNKNOWN_EVENT, as RGW renders it.
func PullEventNames(mask EventType) []string {
	var out []string
	if mask&ObjectCreated == ObjectCreated {
		out = append(out, "OBJECT_CREATE")
	}
	switch {
	case mask&ObjectRemoved == ObjectRemoved:
		out = append(out, "UNKNOWN_EVENT")
	case mask&ObjectRemovedDelete != 0:
		out = append(out, "OBJECT_DELETE")
	case mask&ObjectRemovedDeleteMarkerCreated != 0:
		out = append(out, "DELETE_MARKER_CREATE")
	}
	if mask&ObjectLifecycleExpiration != 0 {
		out = append(out, "OBJECT_EXPIRATION")
	}
	if mask&ObjectLifecycleTransition != 0 {
		out = append(out, "OBJECT_TRANSITION")
	}
	if mask&ObjectSynced != 0 {
		out = append(out, "OBJECT_SYNCED")
	}
	return out
}

// PullRecordInput is what a PubSub-mode S3 record is built from.
type PullRecordInput struct {
	Event           EventType
	EventTime       time.Time // the object's mtime
	Sequence        uint64    // the change's commit sequence (sequencer)
	ConfigurationID string
	BucketName      string // stored name, "tenant:bucket" for a tenant's bucket
	BucketOwner     string
	BucketID        string
	Key             string
	VersionID       string
	Hash            string // the 8-hex hash that stands in for the ETag
	EventID         string
	OpaqueData      string
}

// BuildPullRecord returns one S3 record (not wrapped in "Records") with
// the PubSub-mode values of pubsub.md §6.2: no region, requester or
// request ids, size 0, the hash as eTag, and "s3:"-prefixed names with the
// creation family wildcard.
func BuildPullRecord(in *PullRecordInput) ([]byte, error) {
	name := "s3:ObjectCreated:*"
	if in.Event&ObjectCreated == 0 {
		name = "s3:" + in.Event.String()
	}
	r := record{
		EventVersion: "2.2",
		EventSource:  "ceph:s3",
		EventTime:    in.EventTime.UTC().Format(eventTimeLayout),
		EventName:    name,
		S3: s3Entity{
			SchemaVersion:   "1.0",
			ConfigurationID: in.ConfigurationID,
			Bucket: s3Bucket{
				Name:          tenant.BucketName(in.BucketName),
				OwnerIdentity: principal{in.BucketOwner},
				ARN:           tenant.BucketARN("", in.BucketName), // no region in PubSub mode
				ID:            in.BucketID,
			},
			Object: s3Object{
				Key:       in.Key,
				ETag:      in.Hash,
				VersionID: in.VersionID,
				Sequencer: Sequencer(in.Sequence),
				Metadata:  []keyValue{},
				Tags:      []keyValue{},
			},
		},
		EventID:    in.EventID,
		OpaqueData: in.OpaqueData,
	}
	return EncodeJSON(&r)
}

// QueueDeleter removes a persistent topic's queue (implemented by
// *queue.Queue).
type QueueDeleter interface {
	DeleteQueue(ctx context.Context, name string) error
}

// RetireQueue removes the persistent queue of topic old once t, its
// replacement (nil: deleted), no longer uses it; pending entries are lost,
// as in RGW. A replacement owned by another user (a CreateTopic its Policy
// allowed) starts with an empty queue: events queued for the old owner's
// bindings are never sent to the new owner's endpoint.
func RetireQueue(ctx context.Context, q QueueDeleter, old, t *Topic) error {
	if q == nil || old == nil || !old.Persistent {
		return nil
	}
	if t == nil || !t.Persistent || t.Tenant != old.Tenant || t.Name != old.Name || t.Owner != old.Owner {
		return q.DeleteQueue(ctx, old.QueueName())
	}
	return nil
}
