package notify

import (
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// RecordSource is what a record takes from outside the change: the
// gateway's identity and the request that made the change.
type RecordSource struct {
	Zonegroup string // awsRegion and the bucket ARN's region
	HostID    string // x-amz-id-2
	User      string // requester's user id ("" for anonymous requests)
	RequestID string
	Now       time.Time // the time of removals
}

// ChangeRecordInput fills a record's input from a committed change, the
// one way every producer of S3 records (notification endpoints of every
// kind, the live stream) does it, so their records agree: the bucket goes
// in under its stored name (the record shows the S3 name and puts the
// tenant in the ARN), the requester as uid or tenant$uid, and a delete
// marker reports the size and ETag of the version it hid (spec §4.3, as
// RGW does since Quincy). The caller fills ConfigurationID, Ordinal and
// OpaqueData.
func ChangeRecordInput(c *store.Change, ev EventType, src RecordSource) *RecordInput {
	eventTime := c.Time
	if eventTime.IsZero() {
		eventTime = c.Object.LastModified
	}
	// Removals and background work (lifecycle) report when they happened.
	if ev&(ObjectRemoved|ObjectLifecycle|LifecycleExpiration|LifecycleTransition) != 0 || eventTime.IsZero() {
		eventTime = src.Now
	}
	principal := src.User
	if principal == "" {
		principal = "anonymous"
	}
	obj := c.Object
	if c.Kind == store.ChangeDeleteMarkerCreated && c.Hidden != nil {
		obj.Size, obj.ETag = c.Hidden.Size, c.Hidden.ETag
	}
	b := &c.Bucket
	return &RecordInput{
		Event: ev, Zonegroup: src.Zonegroup, HostID: src.HostID,
		EventTime: eventTime, Sequence: c.Sequence,
		Principal: principal, RequestID: src.RequestID,
		BucketName: b.Name, BucketOwner: b.Owner, BucketID: BucketID(b),
		Object: obj,
	}
}
