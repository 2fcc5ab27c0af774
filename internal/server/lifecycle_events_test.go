package server_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestLifecycleEventsPersistentTopic: every lifecycle removal reaches an
// HTTP endpoint on loopback through a persistent topic as RGW's two
// records (its own event name and the AWS-style one), with principal
// "rgw lifecycle" and request id "0"; no ObjectRemoved record is sent.
// A versioned key goes through all three expirations: current (marker
// added), noncurrent (version removed), then its lone marker; a transition
// and an upload's abort send theirs too.
func TestLifecycleEventsPersistentTopic(t *testing.T) {
	g := startLCGateway(t, servertest.Options{})
	sink := newHTTPSink(t)
	arn := g.topic(t, newName("lc-topic"), sink.topicAttrs(true))
	ctx := context.Background()
	events := []s3types.Event{"s3:ObjectLifecycle:*", "s3:LifecycleExpiration:*", "s3:LifecycleTransition", "s3:ObjectRemoved:*"}
	unv, ver, tr := newName("lc-ev-u"), newName("lc-ev-v"), newName("lc-ev-t")
	g.mkBucket(t, unv, false)
	g.mkBucket(t, ver, true)
	g.mkBucket(t, tr, false)
	for _, b := range []string{unv, ver, tr} {
		if _, err := g.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket: aws.String(b), NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{{
				Id: aws.String("lc-" + b), TopicArn: aws.String(arn), Events: events}}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	u := g.put(t, unv, "old", "hello", "")
	v := g.put(t, ver, "k", "versioned", "")
	rule := s3types.LifecycleRule{ID: aws.String("all"), Status: s3types.ExpirationStatusEnabled, Filter: prefixFilter(""),
		Expiration:                  &s3types.LifecycleExpiration{Days: aws.Int32(1)},
		NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)}}
	g.putLifecycle(t, unv, rule)
	g.putLifecycle(t, ver, rule)
	g.put(t, tr, "t", "relabel me", "")
	if _, err := g.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(tr), Key: aws.String("up")}); err != nil {
		t.Fatal(err)
	}
	g.putLifecycle(t, tr, s3types.LifecycleRule{ID: aws.String("tr"), Status: s3types.ExpirationStatusEnabled, Filter: prefixFilter(""),
		Transitions:                    []s3types.Transition{{Days: aws.Int32(1), StorageClass: s3types.TransitionStorageClassGlacier}},
		AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)}})

	want := []string{
		unv + " old ObjectLifecycle:Expiration:Current", unv + " old LifecycleExpiration:Delete",
		ver + " k ObjectLifecycle:Expiration:Current", ver + " k LifecycleExpiration:Delete",
		ver + " k ObjectLifecycle:Expiration:NonCurrent", ver + " k LifecycleExpiration:Delete",
		ver + " k ObjectLifecycle:Expiration:DeleteMarker", ver + " k LifecycleExpiration:DeleteMarkerCreated",
		tr + " t ObjectLifecycle:Transition:Current", tr + " t LifecycleTransition",
		tr + " up ObjectLifecycle:Expiration:AbortMultipartUpload",
	}
	var got []string
	ids := map[string]bool{}
	for range want {
		r := parseRecord(t, sink.next(t, lcWait))
		got = append(got, r.S3.Bucket.Name+" "+r.S3.Object.Key+" "+r.EventName)
		if r.UserIdentity.PrincipalID != "rgw lifecycle" || r.ResponseElements["x-amz-request-id"] != "0" {
			t.Errorf("%s: principal %q, request id %q; want rgw lifecycle and 0", r.EventName,
				r.UserIdentity.PrincipalID, r.ResponseElements["x-amz-request-id"])
		}
		if ids[r.EventID] {
			t.Errorf("event id %s sent twice", r.EventID)
		}
		ids[r.EventID] = true
		switch {
		case r.S3.Bucket.Name == unv && (r.S3.Object.Size != 5 || r.S3.Object.ETag != strings.Trim(aws.ToString(u.ETag), `"`)):
			t.Errorf("%s: size %d etag %s, want the expired object's", r.EventName, r.S3.Object.Size, r.S3.Object.ETag)
		case strings.HasPrefix(r.EventName, "ObjectLifecycle:Expiration:NonCurrent") && r.S3.Object.VersionID != aws.ToString(v.VersionId):
			t.Errorf("%s: version %q, want %q", r.EventName, r.S3.Object.VersionID, aws.ToString(v.VersionId))
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
