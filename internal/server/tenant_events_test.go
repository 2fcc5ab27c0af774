package server_test

// Topics, bucket notifications, event records and the live stream per
// tenant (issue 11, items 3 and 5; spec §2.6, §2.12, §4): the real server
// on loopback, users of two tenants with the same uid ("t1$alice",
// "t2$alice") besides the default tenant's "alice", aws-sdk-go-v2 for S3
// and SNS, minio-go for the live stream, HTTP endpoints on loopback.
//
// Tests marked "needs core" use the same bucket name in two tenants, which
// only the S3 adapter's tenant resolution (the core part of issue 11)
// allows; the rest pass on their own.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/notification"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// startTenantUsers starts a server and creates the users ids (uid or
// tenant$uid) through the admin API; each gets the access key of its id
// without '$', upper-cased, plus "KEY".
func startTenantUsers(t *testing.T, nc server.NotificationConfig, ids ...string) map[string]*tenantUser {
	t.Helper()
	return startTenantUsersWith(t, servertest.Options{Notifications: nc}, ids...)
}

func startTenantUsersWith(t *testing.T, opts servertest.Options, ids ...string) map[string]*tenantUser {
	t.Helper()
	srv := servertest.Start(t, opts)
	users := map[string]*tenantUser{}
	for _, id := range ids {
		key := strings.ToUpper(strings.ReplaceAll(id, "$", "")) + "KEY"
		secret := strings.ReplaceAll(id, "$", "-") + "-secret"
		q := url.Values{"format": {"json"}, "uid": {id}, "display-name": {id}, "access-key": {key}, "secret-key": {secret}}
		if resp, body := send(t, rootCreds(srv), newRequest(t, "PUT", srv.URL+"/admin/user?"+q.Encode(), nil)); resp.StatusCode != http.StatusOK {
			t.Fatalf("create user %s: %d %s", id, resp.StatusCode, body)
		}
		cp := credentials.NewStaticCredentialsProvider(key, secret, "")
		users[id] = &tenantUser{id: id, creds: aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, srv: srv,
			s3: s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, Credentials: cp,
				RetryMaxAttempts: 1}),
			sns: sns.New(sns.Options{Region: "default", BaseEndpoint: aws.String(srv.URL), Credentials: cp, RetryMaxAttempts: 1}),
		}
	}
	return users
}

// tenantRecord is what these tests read of an event record.
type tenantRecord struct {
	EventName    string
	UserIdentity struct{ PrincipalID string }
	S3           struct {
		ConfigurationID string
		Bucket          struct {
			Name          string
			OwnerIdentity struct{ PrincipalID string }
			Arn           string
		}
		Object struct {
			Key       string
			Size      int64
			ETag      string
			VersionID string
		}
	}
}

func parseTenantRecord(t *testing.T, body []byte) tenantRecord {
	t.Helper()
	var env struct{ Records []tenantRecord }
	if err := json.Unmarshal(body, &env); err != nil || len(env.Records) != 1 {
		t.Fatalf("message %s: %v", body, err)
	}
	return env.Records[0]
}

// wantRecord checks a record's tenant fields: the bucket's S3 name, its
// ARN with the bucket's tenant, owner and requester as tenant$uid.
func wantRecord(t *testing.T, r tenantRecord, event, bucket, arn, owner, requester, key string) {
	t.Helper()
	if r.EventName != event || r.S3.Bucket.Name != bucket || r.S3.Bucket.Arn != arn ||
		r.S3.Bucket.OwnerIdentity.PrincipalID != owner || r.UserIdentity.PrincipalID != requester || r.S3.Object.Key != key {
		t.Fatalf("record %+v\nwant %s bucket %s arn %s owner %s requester %s key %s", r, event, bucket, arn, owner, requester, key)
	}
}

func (u *tenantUser) listTopicARNs(t *testing.T) []string {
	t.Helper()
	out, err := u.sns.ListTopics(context.Background(), &sns.ListTopicsInput{})
	if err != nil {
		t.Fatalf("%s: ListTopics: %v", u.id, err)
	}
	var arns []string
	for _, tp := range out.Topics {
		arns = append(arns, aws.ToString(tp.TopicArn))
	}
	return arns
}

// topicUser returns the User attribute (the owner) of the topic a TopicArn
// names for u.
func (u *tenantUser) topicUser(arn string) (string, error) {
	out, err := u.sns.GetTopicAttributes(context.Background(), &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil {
		return "", err
	}
	return out.Attributes["User"], nil
}

// TestTenantTopicsIsolated: two tenants' users of the same uid each own a
// topic "alerts" with an ARN naming their tenant; each lists only its own;
// an ARN naming the other tenant reaches the caller's own topic of that
// name (spec §2.6: the SNS API looks topics up in the requester's
// namespace), so no SNS action of t2 ever reads, changes or deletes t1's.
func TestTenantTopicsIsolated(t *testing.T) {
	us := startTenantUsers(t, server.NotificationConfig{}, "t1$alice", "t2$alice", "alice")
	t1, t2, def := us["t1$alice"], us["t2$alice"], us["alice"]
	arn1 := t1.topic(t, "alerts", map[string]string{"OpaqueData": "one"})
	arn2 := t2.topic(t, "alerts", map[string]string{"OpaqueData": "two"})
	if arn1 != "arn:aws:sns:default:t1:alerts" || arn2 != "arn:aws:sns:default:t2:alerts" {
		t.Fatalf("ARNs %s, %s", arn1, arn2)
	}
	for _, c := range []struct {
		u    *tenantUser
		want string
	}{{t1, arn1}, {t2, arn2}} {
		if got := c.u.listTopicARNs(t); len(got) != 1 || got[0] != c.want {
			t.Errorf("%s lists %v, want [%s]", c.u.id, got, c.want)
		}
	}
	if got := def.listTopicARNs(t); len(got) != 0 {
		t.Errorf("the default tenant's alice lists %v", got)
	}
	// t2 naming t1's ARN reads its own topic.
	if owner, err := t2.topicUser(arn1); err != nil || owner != "t2$alice" {
		t.Fatalf("t2 reads %s: owner %q, %v; want its own topic", arn1, owner, err)
	}
	if _, err := t2.sns.SetTopicAttributes(context.Background(), &sns.SetTopicAttributesInput{TopicArn: aws.String(arn1),
		AttributeName: aws.String("OpaqueData"), AttributeValue: aws.String("changed-by-t2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := t2.sns.DeleteTopic(context.Background(), &sns.DeleteTopicInput{TopicArn: aws.String(arn1)}); err != nil {
		t.Fatal(err)
	}
	out, err := t1.sns.GetTopicAttributes(context.Background(), &sns.GetTopicAttributesInput{TopicArn: aws.String(arn1)})
	if err != nil || out.Attributes["User"] != "t1$alice" || out.Attributes["OpaqueData"] != "one" || out.Attributes["TopicArn"] != arn1 {
		t.Fatalf("t1's topic after t2's calls: %v %v", out, err)
	}
	if got := t2.listTopicARNs(t); len(got) != 0 {
		t.Errorf("t2 deleted its own topic, yet lists %v", got)
	}
	var ae smithy.APIError
	if _, err := def.topicUser(arn1); !errors.As(err, &ae) {
		t.Errorf("default-tenant alice reads %s: %v, want not found", arn1, err)
	}
}

// bindEvents puts notification id on bucket with topic arn for events.
func (u *tenantUser) bindEvents(bucket, id, arn string, events ...s3types.Event) error {
	_, err := u.s3.PutBucketNotificationConfiguration(context.Background(), &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(bucket), NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{{
			Id: aws.String(id), TopicArn: aws.String(arn), Events: events,
		}}},
	})
	return err
}

// notificationTopics returns the topic ARNs of a bucket's notifications.
func (u *tenantUser) notificationTopics(t *testing.T, bucket string) []string {
	t.Helper()
	out, err := u.s3.GetBucketNotificationConfiguration(context.Background(), &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("%s: GetBucketNotificationConfiguration %s: %v", u.id, bucket, err)
	}
	var arns []string
	for _, c := range out.TopicConfigurations {
		arns = append(arns, aws.ToString(c.TopicArn))
	}
	return arns
}

// TestTenantCrossTenantBinding: a notification resolves its topic in the
// tenant its ARN names (spec §2.12, Squid). t2's alice may bind t1's
// topic only once its Policy grants sns:Publish to
// arn:aws:iam::t2:user/alice (a grant to the default tenant's alice is not
// one); GetBucketNotification returns the tenant-qualified ARN; the
// record reaches t1's endpoint with t2's identities; t2's own topic of
// the same name is reached by its own ARN.
func TestTenantCrossTenantBinding(t *testing.T) {
	us := startTenantUsers(t, server.NotificationConfig{}, "t1$alice", "t2$alice")
	t1, t2 := us["t1$alice"], us["t2$alice"]
	sink1, sink2 := newHTTPSink(t), newHTTPSink(t)
	arn1 := t1.topic(t, "alerts", map[string]string{"push-endpoint": sink1.endpoint})
	arn2 := t2.topic(t, "alerts", map[string]string{"push-endpoint": sink2.endpoint})
	t2.mkbucket(t, "t2-bkt")

	wantAccessDenied(t, "t2 binds t1's topic without a Policy", t2.bind("t2-bkt", "cross", arn1))
	t1.setPolicy(t, arn1, publishPolicy(arn1, "arn:aws:iam:::user/alice"))
	wantAccessDenied(t, "t2 binds t1's topic granted to the default tenant's alice", t2.bind("t2-bkt", "cross", arn1))
	if got := t2.notificationTopics(t, "t2-bkt"); len(got) != 0 {
		t.Fatalf("denied bindings stored: %v", got)
	}
	t2.put(t, "t2-bkt", "k0")
	noMessage(t, "t1's endpoint before a grant", sink1)

	t1.setPolicy(t, arn1, publishPolicy(arn1, "arn:aws:iam::t2:user/alice"))
	if err := t2.bind("t2-bkt", "cross", arn1); err != nil {
		t.Fatalf("t2 binds t1's topic with a Policy grant: %v", err)
	}
	if err := t2.bind("t2-bkt", "own", arn2); err != nil {
		t.Fatalf("t2 binds its own topic: %v", err)
	}
	if got := t2.notificationTopics(t, "t2-bkt"); len(got) != 2 || got[0] != arn1 || got[1] != arn2 {
		t.Fatalf("t2's notifications name %v, want [%s %s]", got, arn1, arn2)
	}
	t2.put(t, "t2-bkt", "k1")
	r := parseTenantRecord(t, sink1.next(t, 10*time.Second))
	if r.S3.ConfigurationID != "cross" || r.S3.Bucket.Name != "t2-bkt" || r.S3.Object.Key != "k1" ||
		r.UserIdentity.PrincipalID != "t2$alice" || r.S3.Bucket.OwnerIdentity.PrincipalID != "t2$alice" {
		t.Fatalf("t1's endpoint got %+v", r)
	}
	if r := parseTenantRecord(t, sink2.next(t, 10*time.Second)); r.S3.ConfigurationID != "own" || r.S3.Object.Key != "k1" {
		t.Fatalf("t2's endpoint got %+v", r)
	}
	noMessage(t, "t1's endpoint (one record)", sink1)
	noMessage(t, "t2's endpoint (one record)", sink2)
}

// TestTenantEventRecords (needs core): t1's alice, t2's alice and the
// default tenant's alice each have a bucket "photos", a topic "alerts"
// and a notification "n1"; each endpoint gets only its own tenant's
// records, with s3.bucket.name "photos", the tenant in the bucket ARN and
// tenant$uid as owner and requester (spec §4.2).
func TestTenantEventRecords(t *testing.T) {
	us := startTenantUsers(t, server.NotificationConfig{}, "t1$alice", "t2$alice", "alice")
	type leg struct {
		u    *tenantUser
		sink *httpSink
		arn  string
	}
	var legs []leg
	for _, id := range []string{"t1$alice", "t2$alice", "alice"} {
		u := us[id]
		sink := newHTTPSink(t)
		arn := u.topic(t, "alerts", map[string]string{"push-endpoint": sink.endpoint})
		u.mkbucket(t, "photos")
		if err := u.bindEvents("photos", "n1", arn, "s3:ObjectCreated:*", "s3:ObjectRemoved:*"); err != nil {
			t.Fatalf("%s binds: %v", id, err)
		}
		legs = append(legs, leg{u, sink, arn})
	}
	for _, l := range legs {
		l.u.put(t, "photos", "cat-of-"+l.u.id)
	}
	wantARN := map[string]string{"t1$alice": "arn:aws:s3:default:t1:photos", "t2$alice": "arn:aws:s3:default:t2:photos",
		"alice": "arn:aws:s3:default::photos"}
	for _, l := range legs {
		r := parseTenantRecord(t, l.sink.next(t, 10*time.Second))
		wantRecord(t, r, "ObjectCreated:Put", "photos", wantARN[l.u.id], l.u.id, l.u.id, "cat-of-"+l.u.id)
		if got := l.u.notificationTopics(t, "photos"); len(got) != 1 || got[0] != l.arn {
			t.Errorf("%s's notifications name %v, want [%s]", l.u.id, got, l.arn)
		}
		noMessage(t, l.u.id+"'s endpoint (only its own record)", l.sink)
	}
}

// TestDeleteMarkerRecordSize (item 5): an ObjectRemoved:DeleteMarkerCreated
// record carries the size and ETag of the version the marker hides and
// the marker's version id (spec §4.3, RGW since Quincy), on a pushed
// record and on the live stream alike; a marker over a marker hides no
// data (size 0).
func TestDeleteMarkerRecordSize(t *testing.T) {
	us := startTenantUsers(t, server.NotificationConfig{}, "t1$alice")
	u := us["t1$alice"]
	ctx := context.Background()
	sink := newHTTPSink(t)
	arn := u.topic(t, "alerts", map[string]string{"push-endpoint": sink.endpoint})
	u.mkbucket(t, "vers")
	if _, err := u.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("vers"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	if err := u.bindEvents("vers", "dm", arn, "s3:ObjectRemoved:DeleteMarkerCreated"); err != nil {
		t.Fatal(err)
	}
	stream := u.listen(t, "vers", "s3:ObjectRemoved:DeleteMarkerCreated")
	put, err := u.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vers"), Key: aws.String("k"), Body: strings.NewReader("hello world")})
	if err != nil {
		t.Fatal(err)
	}
	etag := strings.Trim(aws.ToString(put.ETag), `"`)
	for i, want := range []struct {
		size int64
		etag string
	}{{11, etag}, {0, ""}} {
		del, err := u.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vers"), Key: aws.String("k")})
		if err != nil || !aws.ToBool(del.DeleteMarker) {
			t.Fatalf("delete %d: %v %+v", i, err, del)
		}
		r := parseTenantRecord(t, sink.next(t, 10*time.Second))
		if r.EventName != "ObjectRemoved:DeleteMarkerCreated" || r.S3.Object.Size != want.size || r.S3.Object.ETag != want.etag ||
			r.S3.Object.VersionID != aws.ToString(del.VersionId) {
			t.Fatalf("delete %d: record %+v, want size %d eTag %q version %s", i, r.S3.Object, want.size, want.etag, aws.ToString(del.VersionId))
		}
		ev := stream.next(t, "ObjectRemoved:DeleteMarkerCreated")
		if ev.S3.Object.Size != want.size || ev.S3.Object.ETag != want.etag || ev.S3.Object.VersionID != aws.ToString(del.VersionId) {
			t.Fatalf("delete %d: live record %+v, want size %d eTag %q", i, ev.S3.Object, want.size, want.etag)
		}
	}
}

// liveStream is a minio-go ListenBucketNotification of one user.
type liveStream struct {
	ch <-chan notification.Info
}

// listen opens a live stream of bucket's events as u and waits until the server
// registered it.
func (u *tenantUser) listen(t *testing.T, bucket string, events ...string) *liveStream {
	t.Helper()
	host, _ := url.Parse(u.srv.URL)
	mc, err := minio.New(host.Host, &minio.Options{Creds: miniocreds.NewStaticV4(u.creds.AccessKeyID, u.creds.SecretAccessKey, ""),
		Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	before := u.srv.Server.LiveListeners()
	ch := mc.ListenBucketNotification(ctx, bucket, "", "", events)
	waitListeners(t, u.srv.Server, before+1)
	return &liveStream{ch: ch}
}

// next returns the stream's next record, which must be of event name.
func (s *liveStream) next(t *testing.T, name string) notification.Event {
	t.Helper()
	select {
	case info, ok := <-s.ch:
		if !ok || info.Err != nil || len(info.Records) != 1 {
			t.Fatalf("live stream: closed=%v err=%v records=%d", !ok, info.Err, len(info.Records))
		}
		r := info.Records[0]
		if !strings.HasSuffix(r.EventName, name) {
			t.Fatalf("live stream: %s on %s/%s, want %s", r.EventName, r.S3.Bucket.Name, r.S3.Object.Key, name)
		}
		return r
	case <-time.After(30 * time.Second):
		t.Fatalf("live stream: no %s event", name)
		return notification.Event{}
	}
}

// TestTenantLiveStreamIsolated (needs core): t2's alice listening to her
// bucket "bkt" never sees the changes of t1's bucket "bkt"; her records carry
// her tenant.
func TestTenantLiveStreamIsolated(t *testing.T) {
	us := startTenantUsers(t, server.NotificationConfig{}, "t1$alice", "t2$alice")
	t1, t2 := us["t1$alice"], us["t2$alice"]
	t1.mkbucket(t, "bkt")
	t2.mkbucket(t, "bkt")
	s2 := t2.listen(t, "bkt", "s3:ObjectCreated:*")
	t1.put(t, "bkt", "t1-key") // first: t2's stream must skip it
	t2.put(t, "bkt", "t2-key")
	r := s2.next(t, "ObjectCreated:Put")
	if r.S3.Object.Key != "t2-key" || r.S3.Bucket.Name != "bkt" || r.S3.Bucket.ARN != "arn:aws:s3:default:t2:bkt" ||
		r.S3.Bucket.OwnerIdentity.PrincipalID != "t2$alice" || r.UserIdentity.PrincipalID != "t2$alice" {
		t.Fatalf("t2's stream got %+v", r)
	}
}

// TestTenantRootTopicGrant: a topic Policy granting arn:aws:iam::t2:root
// admits every user of tenant t2 (RGW's tenant principal), and not the
// default tenant's user whose uid is "t2".
func TestTenantRootTopicGrant(t *testing.T) {
	us := startTenantUsers(t, server.NotificationConfig{}, "t1$alice", "t2$alice", "t2")
	t1, t2, imposter := us["t1$alice"], us["t2$alice"], us["t2"]
	sink := newHTTPSink(t)
	arn := t1.topic(t, "alerts", map[string]string{"push-endpoint": sink.endpoint})
	t1.setPolicy(t, arn, publishPolicy(arn, "arn:aws:iam::t2:root"))
	t2.mkbucket(t, "t2-bkt")
	imposter.mkbucket(t, "imp-bkt")
	wantAccessDenied(t, "the default tenant's user t2 binds under a grant to tenant t2", imposter.bind("imp-bkt", "n", arn))
	if err := t2.bind("t2-bkt", "n", arn); err != nil {
		t.Fatalf("t2$alice binds under a grant to tenant t2: %v", err)
	}
}
