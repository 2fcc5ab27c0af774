package notify

import (
	"strings"

	"github.com/cairn-s3/cairn/internal/reqctx"
	"github.com/cairn-s3/cairn/internal/store"
)

// EventType is a set of event types, one bit each, so that a subscription
// (a wildcard such as s3:ObjectCreated:*) and an event match by mask, as in
// RGW.
type EventType uint64

// The event types Cairn knows (spec §3.2). Each is one bit.
const (
	ObjectCreatedPut EventType = 1 << iota
	ObjectCreatedPost
	ObjectCreatedCopy
	ObjectCreatedCompleteMultipartUpload
	ObjectRemovedDelete
	ObjectRemovedDeleteMarkerCreated
	ObjectLifecycleExpirationCurrent
	ObjectLifecycleExpirationNonCurrent
	ObjectLifecycleExpirationDeleteMarker
	ObjectLifecycleExpirationAbortMultipartUpload
	ObjectLifecycleTransitionCurrent
	ObjectLifecycleTransitionNonCurrent
	LifecycleExpirationDelete
	LifecycleExpirationDeleteMarkerCreated
	LifecycleTransition
	ObjectSyncedCreate
	ObjectSyncedDelete
	ObjectSyncedDeletionMarkerCreated
	ReplicationCreate
	ReplicationDelete
	ReplicationDeletionMarkerCreated
	// Reads, for the live stream only (MinIO's names, mc watch's "get"
	// events): they are no bucket notification event in S3's or RGW's
	// configurations, so ParseEvent does not accept them.
	ObjectAccessedGet
	ObjectAccessedHead
)

// Families (wildcard subscriptions).
const (
	ObjectCreated             = ObjectCreatedPut | ObjectCreatedPost | ObjectCreatedCopy | ObjectCreatedCompleteMultipartUpload
	ObjectRemoved             = ObjectRemovedDelete | ObjectRemovedDeleteMarkerCreated
	ObjectLifecycleExpiration = ObjectLifecycleExpirationCurrent | ObjectLifecycleExpirationNonCurrent | ObjectLifecycleExpirationDeleteMarker | ObjectLifecycleExpirationAbortMultipartUpload
	ObjectLifecycleTransition = ObjectLifecycleTransitionCurrent | ObjectLifecycleTransitionNonCurrent
	ObjectLifecycle           = ObjectLifecycleExpiration | ObjectLifecycleTransition
	LifecycleExpiration       = LifecycleExpirationDelete | LifecycleExpirationDeleteMarkerCreated
	ObjectSynced              = ObjectSyncedCreate | ObjectSyncedDelete | ObjectSyncedDeletionMarkerCreated
	Replication               = ReplicationCreate | ReplicationDelete | ReplicationDeletionMarkerCreated
	ObjectAccessed            = ObjectAccessedGet | ObjectAccessedHead
)

// DefaultEvents is what a notification without Event elements subscribes
// to: every creation and every removal, not lifecycle or sync events.
var DefaultEvents = []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}

// eventNames maps subscription names (without the "s3:" prefix) to masks.
// Both spellings of the lifecycle names are accepted (spec §3.2 note 1), as
// are the pull-mode PubSub aliases (note 2).
var eventNames = map[string]EventType{
	"ObjectCreated:*":                                 ObjectCreated,
	"ObjectCreated:Put":                               ObjectCreatedPut,
	"ObjectCreated:Post":                              ObjectCreatedPost,
	"ObjectCreated:Copy":                              ObjectCreatedCopy,
	"ObjectCreated:CompleteMultipartUpload":           ObjectCreatedCompleteMultipartUpload,
	"ObjectRemoved:*":                                 ObjectRemoved,
	"ObjectRemoved:Delete":                            ObjectRemovedDelete,
	"ObjectRemoved:DeleteMarkerCreated":               ObjectRemovedDeleteMarkerCreated,
	"ObjectLifecycle:*":                               ObjectLifecycle,
	"ObjectLifecycle:Expiration:*":                    ObjectLifecycleExpiration,
	"ObjectLifecycle:Expiration:Current":              ObjectLifecycleExpirationCurrent,
	"ObjectLifecycle:Expiration:NonCurrent":           ObjectLifecycleExpirationNonCurrent,
	"ObjectLifecycle:Expiration:Noncurrent":           ObjectLifecycleExpirationNonCurrent,
	"ObjectLifecycle:Expiration:DeleteMarker":         ObjectLifecycleExpirationDeleteMarker,
	"ObjectLifecycle:Expiration:AbortMultipartUpload": ObjectLifecycleExpirationAbortMultipartUpload,
	"ObjectLifecycle:Expiration:AbortMPU":             ObjectLifecycleExpirationAbortMultipartUpload,
	"ObjectLifecycle:Transition:*":                    ObjectLifecycleTransition,
	"ObjectLifecycle:Transition:Current":              ObjectLifecycleTransitionCurrent,
	"ObjectLifecycle:Transition:NonCurrent":           ObjectLifecycleTransitionNonCurrent,
	"ObjectLifecycle:Transition:Noncurrent":           ObjectLifecycleTransitionNonCurrent,
	"LifecycleExpiration:*":                           LifecycleExpiration,
	"LifecycleExpiration:Delete":                      LifecycleExpirationDelete,
	"LifecycleExpiration:DeleteMarkerCreated":         LifecycleExpirationDeleteMarkerCreated,
	"LifecycleTransition":                             LifecycleTransition,
	"ObjectSynced:*":                                  ObjectSynced,
	"ObjectSynced:Create":                             ObjectSyncedCreate,
	"ObjectSynced:Delete":                             ObjectSyncedDelete,
	"ObjectSynced:DeletionMarkerCreated":              ObjectSyncedDeletionMarkerCreated,
	"Replication:*":                                   Replication,
	"Replication:Create":                              ReplicationCreate,
	"Replication:Delete":                              ReplicationDelete,
	"Replication:DeletionMarkerCreated":               ReplicationDeletionMarkerCreated,
	"OBJECT_CREATE":                                   ObjectCreated,
	"OBJECT_DELETE":                                   ObjectRemovedDelete,
	"DELETE_MARKER_CREATE":                            ObjectRemovedDeleteMarkerCreated,
	"OBJECT_EXPIRATION":                               ObjectLifecycleExpiration,
	"OBJECT_TRANSITION":                               ObjectLifecycleTransition,
	"OBJECT_SYNCED":                                   ObjectSynced,
}

// emittedNames is the eventName of each single event type (documented
// spellings, without the "s3:" prefix).
var emittedNames = map[EventType]string{
	ObjectCreatedPut:                              "ObjectCreated:Put",
	ObjectCreatedPost:                             "ObjectCreated:Post",
	ObjectCreatedCopy:                             "ObjectCreated:Copy",
	ObjectCreatedCompleteMultipartUpload:          "ObjectCreated:CompleteMultipartUpload",
	ObjectRemovedDelete:                           "ObjectRemoved:Delete",
	ObjectRemovedDeleteMarkerCreated:              "ObjectRemoved:DeleteMarkerCreated",
	ObjectLifecycleExpirationCurrent:              "ObjectLifecycle:Expiration:Current",
	ObjectLifecycleExpirationNonCurrent:           "ObjectLifecycle:Expiration:NonCurrent",
	ObjectLifecycleExpirationDeleteMarker:         "ObjectLifecycle:Expiration:DeleteMarker",
	ObjectLifecycleExpirationAbortMultipartUpload: "ObjectLifecycle:Expiration:AbortMultipartUpload",
	ObjectLifecycleTransitionCurrent:              "ObjectLifecycle:Transition:Current",
	ObjectLifecycleTransitionNonCurrent:           "ObjectLifecycle:Transition:NonCurrent",
	LifecycleExpirationDelete:                     "LifecycleExpiration:Delete",
	LifecycleExpirationDeleteMarkerCreated:        "LifecycleExpiration:DeleteMarkerCreated",
	LifecycleTransition:                           "LifecycleTransition",
	ObjectSyncedCreate:                            "ObjectSynced:Create",
	ObjectSyncedDelete:                            "ObjectSynced:Delete",
	ObjectSyncedDeletionMarkerCreated:             "ObjectSynced:DeletionMarkerCreated",
	ReplicationCreate:                             "Replication:Create",
	ReplicationDelete:                             "Replication:Delete",
	ReplicationDeletionMarkerCreated:              "Replication:DeletionMarkerCreated",
	ObjectAccessedGet:                             "ObjectAccessed:Get",
	ObjectAccessedHead:                            "ObjectAccessed:Head",
}

// ParseEvent returns the mask a subscription name stands for. The "s3:"
// prefix is optional (RGW requires it; accepting its absence is harmless).
func ParseEvent(name string) (EventType, bool) {
	t, ok := eventNames[strings.TrimPrefix(name, "s3:")]
	return t, ok
}

// String returns the eventName of a single event type as records carry it
// (no "s3:" prefix), or "" for a set of several types.
func (t EventType) String() string { return emittedNames[t] }

// Singles returns the single event types in t, lowest bit first.
func (t EventType) Singles() []EventType {
	var out []EventType
	for b := EventType(1); b != 0 && b <= t; b <<= 1 {
		if t&b != 0 {
			out = append(out, b)
		}
	}
	return out
}

// ChangeEvents returns the event types a committed change emits: those
// the request's context names (lifecycle sends two, RGW's name and the
// AWS-style one, spec §3.2 note 3), or else the one its kind implies.
func ChangeEvents(c *store.Change, info *reqctx.Info) EventType {
	if info == nil {
		return ChangeEvent(c.Kind, "", c.Bucket.Versioning)
	}
	if len(info.EventNames) > 0 {
		var ev EventType
		for _, n := range info.EventNames {
			if t, ok := eventNames[n]; ok && emittedNames[t] != "" {
				ev |= t
			}
		}
		return ev
	}
	return ChangeEvent(c.Kind, info.Op, c.Bucket.Versioning)
}

// Primary is the lowest event type of t: the one a consumer that takes a
// single event per change (the live stream, pull subscriptions) reports.
func (t EventType) Primary() EventType { return t & -t }

// ChangeEvent maps a committed object change to the event type it emits.
// op is the S3 operation (from reqctx) and distinguishes POST uploads from
// PUTs; a delete marker written while versioning is suspended is reported as
// a plain delete (spec §8.4).
func ChangeEvent(kind store.ChangeKind, op string, versioning store.Versioning) EventType {
	switch kind {
	case store.ChangePut:
		if op == "PostObject" {
			return ObjectCreatedPost
		}
		return ObjectCreatedPut
	case store.ChangeCopy:
		return ObjectCreatedCopy
	case store.ChangeCompleteMultipart:
		return ObjectCreatedCompleteMultipartUpload
	case store.ChangeDelete:
		return ObjectRemovedDelete
	case store.ChangeDeleteMarkerCreated:
		if versioning == store.Suspended {
			return ObjectRemovedDelete
		}
		return ObjectRemovedDeleteMarkerCreated
	}
	return 0
}
