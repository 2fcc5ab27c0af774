package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// RecordInput is everything one event record is built from.
type RecordInput struct {
	Event     EventType
	Zonegroup string // awsRegion and the bucket ARN's region
	HostID    string // x-amz-id-2: <hex-id>-<zone>-<zonegroup>
	// EventTime is the object's mtime for creations, the current time for
	// removals.
	EventTime time.Time
	// Sequence is the number the store gave the change's commit; sequencer
	// and eventId derive from it (RGW takes the wall clock, see Sequencer).
	Sequence uint64
	// Ordinal is the notification's place in its bucket's configuration,
	// so that the records one change produces for several notifications
	// have distinct ids.
	Ordinal         int
	Principal       string // requester: uid, tenant$uid, or "anonymous"
	RequestID       string
	ConfigurationID string
	// BucketName is the bucket's stored name, "tenant:bucket" for a
	// tenant's bucket: the record shows the S3 name and puts the tenant in
	// the bucket ARN (spec §4.2).
	BucketName  string
	BucketOwner string // user id: uid or tenant$uid
	BucketID    string
	Object      store.ObjectInfo
	OpaqueData  string
}

// record is the JSON shape of one event record (spec §4.2); field order is
// RGW's.
type record struct {
	EventVersion      string            `json:"eventVersion"`
	EventSource       string            `json:"eventSource"`
	AWSRegion         string            `json:"awsRegion"`
	EventTime         string            `json:"eventTime"`
	EventName         string            `json:"eventName"`
	UserIdentity      principal         `json:"userIdentity"`
	RequestParameters requestParameters `json:"requestParameters"`
	ResponseElements  responseElements  `json:"responseElements"`
	S3                s3Entity          `json:"s3"`
	EventID           string            `json:"eventId"`
	OpaqueData        string            `json:"opaqueData"`
}

type principal struct {
	PrincipalID string `json:"principalId"`
}

type requestParameters struct {
	SourceIPAddress string `json:"sourceIPAddress"`
}

type responseElements struct {
	RequestID string `json:"x-amz-request-id"`
	ID2       string `json:"x-amz-id-2"`
}

type s3Entity struct {
	SchemaVersion   string   `json:"s3SchemaVersion"`
	ConfigurationID string   `json:"configurationId"`
	Bucket          s3Bucket `json:"bucket"`
	Object          s3Object `json:"object"`
}

type s3Bucket struct {
	Name          string    `json:"name"`
	OwnerIdentity principal `json:"ownerIdentity"`
	ARN           string    `json:"arn"`
	ID            string    `json:"id"`
}

type s3Object struct {
	Key       string     `json:"key"`
	Size      int64      `json:"size"`
	ETag      string     `json:"eTag"`
	VersionID string     `json:"versionId"`
	Sequencer string     `json:"sequencer"`
	Metadata  []keyValue `json:"metadata"`
	Tags      []keyValue `json:"tags"`
}

type keyValue struct {
	Key string `json:"key"`
	Val string `json:"val"`
}

// eventTimeLayout is RGW's eventTime: UTC with six fractional digits.
const eventTimeLayout = "2006-01-02T15:04:05.000000Z"

// Sequencer renders a commit's sequence number in the shape of RGW's
// sequencer: 16 upper-case hex digits. RGW encodes a wall-clock timestamp
// little-endian, which two writes in one microsecond share and which does
// not sort; the store's sequence is unique, grows with every commit of an
// object and, big-endian, sorts as it grows (spec §4.2, Cairn's departure).
func Sequencer(seq uint64) string {
	return fmt.Sprintf("%016X", seq)
}

// maxOrdinal bounds the ordinal part of an eventId to its six digits.
const maxOrdinal = 1_000_000

// EventID renders a record's id in the shape of RGW's eventId,
// <10 digits>.<6 digits>.<etag>: the commit's sequence number (at least ten
// digits) and the notification's ordinal stand where RGW puts seconds and
// microseconds, so the id is unique per record and the same on every retry
// and after a restart (spec §4.2).
func EventID(seq uint64, ordinal int, etag string) string {
	return fmt.Sprintf("%010d.%06d.%s", seq, ordinal%maxOrdinal, etag)
}

// BuildRecord returns the message body for one record: {"Records":[record]}.
func BuildRecord(in *RecordInput) ([]byte, error) {
	obj := &in.Object
	r := record{
		EventVersion:      "2.2",
		EventSource:       "ceph:s3",
		AWSRegion:         in.Zonegroup,
		EventTime:         in.EventTime.UTC().Format(eventTimeLayout),
		EventName:         in.Event.String(),
		UserIdentity:      principal{in.Principal},
		RequestParameters: requestParameters{""},
		ResponseElements:  responseElements{RequestID: in.RequestID, ID2: in.HostID},
		S3: s3Entity{
			SchemaVersion:   "1.0",
			ConfigurationID: in.ConfigurationID,
			Bucket: s3Bucket{
				Name:          tenant.BucketName(in.BucketName),
				OwnerIdentity: principal{in.BucketOwner},
				ARN:           tenant.BucketARN(in.Zonegroup, in.BucketName),
				ID:            in.BucketID,
			},
			Object: s3Object{
				Key:       obj.Key,
				Size:      obj.Size,
				ETag:      obj.ETag,
				VersionID: obj.VersionID,
				Sequencer: Sequencer(in.Sequence),
				Metadata:  sortedPairs(obj.Meta.User, "x-amz-meta-"),
				Tags:      sortedPairs(obj.Meta.Tags, ""),
			},
		},
		EventID:    EventID(in.Sequence, in.Ordinal, obj.ETag),
		OpaqueData: in.OpaqueData,
	}
	return encodeRecord(&r)
}

// encodeRecord renders {"Records":[r]}.
func encodeRecord(r *record) ([]byte, error) {
	return EncodeJSON(struct {
		Records []record `json:"Records"`
	}{[]record{*r}})
}

// EncodeJSON renders v as RGW renders its JSON: compact, HTML characters
// not escaped.
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("notify: encode record: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// sortedPairs renders a map as a key-sorted [{"key","val"}] list, never null.
func sortedPairs(m map[string]string, prefix string) []keyValue {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]keyValue, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyValue{Key: prefix + k, Val: m[k]})
	}
	return out
}
