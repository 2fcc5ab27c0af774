package notify

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// parsed decodes the one record of a message.
func parsed(t *testing.T, body []byte) record {
	t.Helper()
	var env struct{ Records []record }
	if err := json.Unmarshal(body, &env); err != nil || len(env.Records) != 1 {
		t.Fatalf("message %s: %v", body, err)
	}
	return env.Records[0]
}

// TestChangeRecordTenantFields: a record shows a bucket's S3 name and puts
// its tenant in the bucket ARN only (spec §4.2: s3.bucket.name plain), the
// requester and the owner as tenant$uid, for a tenant's bucket ("t1:b")
// and the default tenant's ("b") alike.
func TestChangeRecordTenantFields(t *testing.T) {
	cases := []struct{ stored, owner, user, arn, pullARN string }{
		{"b", "alice", "alice", "arn:aws:s3:default::b", "arn:aws:s3:::b"},
		{"t1:b", "t1$alice", "t2$bob", "arn:aws:s3:default:t1:b", "arn:aws:s3::t1:b"},
	}
	for _, c := range cases {
		ch := store.Change{Kind: store.ChangePut, Sequence: 7,
			Bucket: store.Bucket{Name: c.stored, Owner: c.owner, Created: time.Unix(1, 0)},
			Object: store.ObjectInfo{Bucket: c.stored, Key: "k", Size: 4, ETag: "e", LastModified: time.Unix(2, 0)}}
		in := ChangeRecordInput(&ch, ObjectCreatedPut, RecordSource{Zonegroup: "default", HostID: "h", User: c.user, RequestID: "r"})
		body, err := BuildRecord(in)
		if err != nil {
			t.Fatal(err)
		}
		r := parsed(t, body)
		if r.S3.Bucket.Name != "b" || r.S3.Bucket.ARN != c.arn || r.S3.Bucket.OwnerIdentity.PrincipalID != c.owner ||
			r.UserIdentity.PrincipalID != c.user || r.AWSRegion != "default" {
			t.Errorf("%s: record %+v", c.stored, r)
		}
		pull, err := BuildPullRecord(&PullRecordInput{Event: ObjectCreatedPut, BucketName: c.stored, BucketOwner: c.owner, Key: "k"})
		if err != nil {
			t.Fatal(err)
		}
		var pr record
		if err := json.Unmarshal(pull, &pr); err != nil {
			t.Fatal(err)
		}
		if pr.S3.Bucket.Name != "b" || pr.S3.Bucket.ARN != c.pullARN || pr.S3.Bucket.OwnerIdentity.PrincipalID != c.owner {
			t.Errorf("%s: pull record %+v", c.stored, pr)
		}
	}
}

// TestChangeRecordDeleteMarkerSize: a DeleteMarkerCreated record carries
// the size and ETag of the version the marker hid, and the marker's own
// version id (spec §4.3); with nothing hidden, size 0 and no ETag.
func TestChangeRecordDeleteMarkerSize(t *testing.T) {
	marker := store.ObjectInfo{Key: "k", VersionID: "dm-1", DeleteMarker: true}
	hidden := &store.ObjectInfo{Key: "k", VersionID: "v-1", Size: 11, ETag: "5eb63bbbe01eeed093cb22bb8f5acdc3"}
	for _, c := range []struct {
		hidden *store.ObjectInfo
		size   int64
		etag   string
	}{{hidden, 11, hidden.ETag}, {nil, 0, ""}} {
		ch := store.Change{Kind: store.ChangeDeleteMarkerCreated, Object: marker, Hidden: c.hidden, Sequence: 9,
			Bucket: store.Bucket{Name: "b", Owner: "alice", Versioning: store.Enabled}}
		body, err := BuildRecord(ChangeRecordInput(&ch, ObjectRemovedDeleteMarkerCreated, RecordSource{Zonegroup: "default"}))
		if err != nil {
			t.Fatal(err)
		}
		r := parsed(t, body)
		if r.EventName != "ObjectRemoved:DeleteMarkerCreated" || r.S3.Object.Size != c.size || r.S3.Object.ETag != c.etag ||
			r.S3.Object.VersionID != "dm-1" || r.EventID != EventID(9, 0, c.etag) {
			t.Errorf("hidden %+v: record %+v", c.hidden, r.S3.Object)
		}
	}
}
