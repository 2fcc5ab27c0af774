package notify

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// RecordInput is everything one event record is built from.
type RecordInput struct {
	Event     EventType
	Zonegroup string // awsRegion and the bucket ARN's region
	HostID    string // x-amz-id-2: <hex-id>-<zone>-<zonegroup>
	// EventTime is the object's mtime for creations, the current time for
	// removals.
	EventTime time.Time
	// Stamp is the record's creation time; sequencer and eventId derive
	// from it, as in RGW.
	Stamp           time.Time
	Principal       string // requester: uid, tenant$uid, or "anonymous"
	RequestID       string
	ConfigurationID string
	BucketName      string
	BucketOwner     string
	BucketTenant    string
	BucketID        string
	Object          store.ObjectInfo
	OpaqueData      string
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

// Sequencer renders RGW's sequencer for a timestamp: the little-endian
// bytes of {uint32 sec, uint32 nsec}, hex, upper case. It is not
// lexicographically monotonic (spec §4.2).
func Sequencer(t time.Time) string {
	var b [8]byte
	binary.LittleEndian.PutUint32(b[0:4], uint32(t.Unix()))
	binary.LittleEndian.PutUint32(b[4:8], uint32(t.Nanosecond()))
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// EventID renders RGW's eventId: <10-digit sec>.<6-digit usec>.<etag>.
func EventID(t time.Time, etag string) string {
	return fmt.Sprintf("%010d.%06d.%s", t.Unix(), t.Nanosecond()/1000, etag)
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
				Name:          in.BucketName,
				OwnerIdentity: principal{in.BucketOwner},
				ARN:           "arn:aws:s3:" + in.Zonegroup + ":" + in.BucketTenant + ":" + in.BucketName,
				ID:            in.BucketID,
			},
			Object: s3Object{
				Key:       obj.Key,
				Size:      obj.Size,
				ETag:      obj.ETag,
				VersionID: obj.VersionID,
				Sequencer: Sequencer(in.Stamp),
				Metadata:  sortedPairs(obj.Meta.User, "x-amz-meta-"),
				Tags:      sortedPairs(obj.Meta.Tags, ""),
			},
		},
		EventID:    EventID(in.Stamp, obj.ETag),
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
