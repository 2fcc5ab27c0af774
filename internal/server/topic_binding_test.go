package server_test

// Who may use a topic in a bucket notification (issue 9, item 2; spec
// §2.12): the real server on loopback, users alice, bob and carol, real
// HTTP endpoints on loopback, aws-sdk-go-v2 and raw signed requests.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// tenant is one user of the binding tests with its clients.
type tenantUser struct {
	id    string
	creds aws.Credentials
	s3    *s3.Client
	sns   *sns.Client
	srv   *servertest.Running
}

// startUsers starts a server and creates alice, bob and carol.
func startUsers(t *testing.T, nc server.NotificationConfig, ps server.PubSubConfig) map[string]*tenantUser {
	t.Helper()
	return startTenantUsersWith(t, servertest.Options{Notifications: nc, PubSub: ps}, "alice", "bob", "carol")
}

func (u *tenantUser) topic(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := u.sns.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("%s: CreateTopic %s: %v", u.id, name, err)
	}
	return aws.ToString(out.TopicArn)
}

func (u *tenantUser) setPolicy(t *testing.T, arn, policy string) {
	t.Helper()
	if _, err := u.sns.SetTopicAttributes(context.Background(), &sns.SetTopicAttributesInput{TopicArn: aws.String(arn),
		AttributeName: aws.String("Policy"), AttributeValue: aws.String(policy)}); err != nil {
		t.Fatalf("%s: set Policy: %v", u.id, err)
	}
}

func (u *tenantUser) mkbucket(t *testing.T, name string) {
	t.Helper()
	if _, err := u.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("%s: CreateBucket %s: %v", u.id, name, err)
	}
}

// bind puts notification id on bucket with topic arn.
func (u *tenantUser) bind(bucket, id, arn string) error {
	_, err := u.s3.PutBucketNotificationConfiguration(context.Background(), &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(bucket), NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{{
			Id: aws.String(id), TopicArn: aws.String(arn), Events: []s3types.Event{"s3:ObjectCreated:*"},
		}}},
	})
	return err
}

// put writes an object; synchronous pushes are done when it returns (the
// response waits for them), so a sink that got nothing by then gets
// nothing.
func (u *tenantUser) put(t *testing.T, bucket, key string) {
	t.Helper()
	if _, err := u.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader("data")}); err != nil {
		t.Fatalf("%s: PutObject %s/%s: %v", u.id, bucket, key, err)
	}
}

// raw sends a signed request and returns the status and the raw body.
func (u *tenantUser) raw(t *testing.T, method, path, form string) (int, string) {
	t.Helper()
	var req *http.Request
	if form != "" {
		req = newRequest(t, method, u.srv.URL+path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = newRequest(t, method, u.srv.URL+path, nil)
	}
	resp, body := send(t, u.creds, req)
	return resp.StatusCode, string(body)
}

// wantAccessDenied checks that err is S3's 403 AccessDenied with a message
// that names the rule.
func wantAccessDenied(t *testing.T, what string, err error) {
	t.Helper()
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) || ae.ErrorCode() != "AccessDenied" || re.HTTPStatusCode() != http.StatusForbidden ||
		!strings.Contains(ae.ErrorMessage(), "sns:Publish") {
		t.Fatalf("%s: %v, want 403 AccessDenied naming sns:Publish", what, err)
	}
}

// notificationIDs returns the Ids of a bucket's notifications.
func (u *tenantUser) notificationIDs(t *testing.T, bucket string) []string {
	t.Helper()
	out, err := u.s3.GetBucketNotificationConfiguration(context.Background(), &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("%s: GetBucketNotificationConfiguration %s: %v", u.id, bucket, err)
	}
	var ids []string
	for _, c := range out.TopicConfigurations {
		ids = append(ids, aws.ToString(c.Id))
	}
	return ids
}

// publishPolicy is a topic Policy that allows principal sns:Publish (and
// the further actions) on arn.
func publishPolicy(arn, principal string, more ...string) string {
	actions := `"sns:Publish"`
	for _, a := range more {
		actions += `,"` + a + `"`
	}
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":[%q]},"Action":[%s],"Resource":[%q]}]}`,
		principal, actions, arn)
}

// noMessage fails if the sink got anything.
func noMessage(t *testing.T, what string, s *httpSink) {
	t.Helper()
	if n := len(s.msgs); n != 0 {
		t.Fatalf("%s: the endpoint got %d message(s): %s", what, n, <-s.msgs)
	}
}

// TestBindAnotherUsersTopicDenied: bob binding alice's topic (no Policy)
// to his own bucket is refused, stores nothing, and his events never reach
// alice's endpoint.
func TestBindAnotherUsersTopicDenied(t *testing.T) {
	us := startUsers(t, server.NotificationConfig{}, server.PubSubConfig{})
	alice, bob := us["alice"], us["bob"]
	sink := newHTTPSink(t)
	arn := alice.topic(t, "alerts", map[string]string{"push-endpoint": sink.endpoint})
	bob.mkbucket(t, "bob-bkt")
	wantAccessDenied(t, "bob binds alice's topic", bob.bind("bob-bkt", "steal", arn))
	if ids := bob.notificationIDs(t, "bob-bkt"); len(ids) != 0 {
		t.Fatalf("denied binding stored: %v", ids)
	}
	bob.put(t, "bob-bkt", "k1")
	noMessage(t, "after a denied binding", sink)
}

// TestBindWithTopicPolicy: a Policy allowing sns:Publish for bob lets bob's
// bucket use alice's topic, and bob's events reach alice's endpoint. The
// binding is checked again at delivery: once alice tightens the Policy, or
// the topic is deleted and re-created by carol (whose Policy lets anyone
// publish), bob's events reach no endpoint.
func TestBindWithTopicPolicy(t *testing.T) {
	us := startUsers(t, server.NotificationConfig{}, server.PubSubConfig{})
	alice, bob, carol := us["alice"], us["bob"], us["carol"]
	sink := newHTTPSink(t)
	arn := alice.topic(t, "alerts", map[string]string{"push-endpoint": sink.endpoint})
	alice.setPolicy(t, arn, publishPolicy(arn, "arn:aws:iam:::user/bob"))
	bob.mkbucket(t, "bob-bkt")
	// A grant for the caller alone is not one for the bucket owner.
	carol.mkbucket(t, "carol-bkt")
	wantAccessDenied(t, "carol binds alice's topic", carol.bind("carol-bkt", "n", arn))

	if err := bob.bind("bob-bkt", "n", arn); err != nil {
		t.Fatalf("bob binds alice's topic with a Policy grant: %v", err)
	}
	bob.put(t, "bob-bkt", "k1")
	r := parseRecord(t, sink.next(t, 10*time.Second))
	if r.S3.Bucket.Name != "bob-bkt" || r.S3.Object.Key != "k1" {
		t.Fatalf("record %+v", r)
	}

	alice.setPolicy(t, arn, publishPolicy(arn, "arn:aws:iam:::user/carol"))
	bob.put(t, "bob-bkt", "k2")
	noMessage(t, "after alice tightened the Policy", sink)

	if _, err := alice.sns.DeleteTopic(context.Background(), &sns.DeleteTopicInput{TopicArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	carolSink := newHTTPSink(t)
	carolARN := carol.topic(t, "alerts", map[string]string{"push-endpoint": carolSink.endpoint})
	if carolARN != arn {
		t.Fatalf("carol's topic %s, want the same ARN %s", carolARN, arn)
	}
	carol.setPolicy(t, arn, publishPolicy(arn, "*"))
	bob.put(t, "bob-bkt", "k3")
	noMessage(t, "topic re-created by carol", carolSink)
	noMessage(t, "topic re-created by carol (alice's endpoint)", sink)
}

// TestTopicPublishWithoutPolicyFlag: --topic-publish-without-policy
// restores RGW's default: any user's bucket may use a topic without a
// Policy.
func TestTopicPublishWithoutPolicyFlag(t *testing.T) {
	us := startUsers(t, server.NotificationConfig{TopicPublishWithoutPolicy: true}, server.PubSubConfig{})
	alice, bob := us["alice"], us["bob"]
	sink := newHTTPSink(t)
	arn := alice.topic(t, "alerts", map[string]string{"push-endpoint": sink.endpoint})
	bob.mkbucket(t, "bob-bkt")
	if err := bob.bind("bob-bkt", "n", arn); err != nil {
		t.Fatalf("bob binds alice's topic under the flag: %v", err)
	}
	bob.put(t, "bob-bkt", "k1")
	if r := parseRecord(t, sink.next(t, 10*time.Second)); r.S3.Bucket.Name != "bob-bkt" {
		t.Fatalf("record %+v", r)
	}
	// A Policy, once set, still decides.
	alice.setPolicy(t, arn, publishPolicy(arn, "arn:aws:iam:::user/carol"))
	bob.put(t, "bob-bkt", "k2")
	noMessage(t, "Policy without a grant for bob, under the flag", sink)
}

// TestDelegatedUserBindsOwnersTopic: bob, whom alice's bucket policy lets
// edit her bucket's notifications, may bind alice's own topic to it (RGW's
// tests do this), but not carol's.
func TestDelegatedUserBindsOwnersTopic(t *testing.T) {
	us := startUsers(t, server.NotificationConfig{}, server.PubSubConfig{})
	alice, bob, carol := us["alice"], us["bob"], us["carol"]
	sink, carolSink := newHTTPSink(t), newHTTPSink(t)
	arn := alice.topic(t, "alerts", map[string]string{"push-endpoint": sink.endpoint})
	carolARN := carol.topic(t, "carols", map[string]string{"push-endpoint": carolSink.endpoint})
	alice.mkbucket(t, "alice-bkt")
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/bob"]},` +
		`"Action":["s3:PutBucketNotification","s3:GetBucketNotification"],"Resource":["arn:aws:s3:::alice-bkt"]}]}`
	if _, err := alice.s3.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: aws.String("alice-bkt"), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	wantAccessDenied(t, "bob binds carol's topic to alice's bucket", bob.bind("alice-bkt", "c", carolARN))
	if err := bob.bind("alice-bkt", "n", arn); err != nil {
		t.Fatalf("bob binds alice's topic to alice's bucket: %v", err)
	}
	if ids := alice.notificationIDs(t, "alice-bkt"); len(ids) != 1 || ids[0] != "n" {
		t.Fatalf("alice's notifications: %v", ids)
	}
	alice.put(t, "alice-bkt", "k1")
	if r := parseRecord(t, sink.next(t, 10*time.Second)); r.S3.Bucket.Name != "alice-bkt" || r.S3.Object.Key != "k1" {
		t.Fatalf("record %+v", r)
	}
	noMessage(t, "carol's endpoint", carolSink)
}

// TestPubSubNeverShowsAnotherUsersSecrets: with --pubsub, bob's bucket
// bound to alice's topic (by its Policy) gets a subscription and a hidden
// topic, and bob may read alice's topic (by its Policy); no response to
// bob carries alice's endpoint credentials or OpaqueData.
func TestPubSubNeverShowsAnotherUsersSecrets(t *testing.T) {
	us := startUsers(t, server.NotificationConfig{AllowSecretsInCleartext: true}, server.PubSubConfig{Enabled: true})
	alice, bob := us["alice"], us["bob"]
	sink := newHTTPSink(t)
	secrets := []string{"alice-pass-7f3", "amqp-user-7f3", "amqp-pass-7f3", "opaque-7f3"}
	endpoint := strings.Replace(sink.endpoint, "http://", "http://alice:alice-pass-7f3@", 1)
	arn := alice.topic(t, "alerts", map[string]string{"push-endpoint": endpoint,
		"user-name": "amqp-user-7f3", "password": "amqp-pass-7f3", "OpaqueData": "opaque-7f3"})
	alice.setPolicy(t, arn, publishPolicy(arn, "arn:aws:iam:::user/bob", "sns:GetTopicAttributes"))
	bob.mkbucket(t, "bob-bkt")
	if err := bob.bind("bob-bkt", "n1", arn); err != nil {
		t.Fatalf("bob binds alice's topic with a Policy grant: %v", err)
	}
	bob.put(t, "bob-bkt", "k1")
	if r := parseRecord(t, sink.next(t, 10*time.Second)); r.S3.Bucket.Name != "bob-bkt" || r.OpaqueData != "opaque-7f3" {
		t.Fatalf("alice's endpoint got %+v", r)
	}

	form := func(action string) string {
		return url.Values{"Action": {action}, "TopicArn": {arn}}.Encode()
	}
	for _, c := range []struct{ method, path, form string }{
		{"GET", "/topics", ""},
		{"GET", "/topics/n1_alerts", ""},
		{"GET", "/subscriptions/n1", ""},
		{"GET", "/subscriptions/n1?events", ""},
		{"GET", "/notifications/bucket/bob-bkt", ""},
		{"GET", "/bob-bkt?notification", ""},
		{"POST", "/", form("GetTopicAttributes")},
		{"POST", "/", form("GetTopic")},
		{"POST", "/", form("ListTopics")},
	} {
		status, body := bob.raw(t, c.method, c.path, c.form)
		if status != http.StatusOK {
			t.Errorf("bob %s %s %s: %d %s", c.method, c.path, c.form, status, body)
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("bob %s %s %s shows alice's %q: %s", c.method, c.path, c.form, s, body)
			}
		}
	}
	// The owner still reads her topic whole.
	if status, body := alice.raw(t, "POST", "/", form("GetTopicAttributes")); status != http.StatusOK ||
		!strings.Contains(body, "amqp-pass-7f3") || !strings.Contains(body, "opaque-7f3") {
		t.Errorf("alice reads her topic: %d %s", status, body)
	}
}
