package notify_test

// End to end: the real local store with the Dispatcher as its ChangeHook,
// the real queue and endpoint pool, the S3 adapter with the topic API and
// the ?notification handlers, the real signature verifier; driven by
// aws-sdk-go-v2's S3 and SNS clients against HTTP push endpoints on
// 127.0.0.1.

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go/middleware"

	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/notify/endpoint"
	"github.com/cairn-s3/cairn/internal/queue"
	"github.com/cairn-s3/cairn/internal/s3api"
	"github.com/cairn-s3/cairn/internal/snsapi"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/local"
)

const (
	aliceKey    = "ALICEACCESSKEY000001"
	aliceSecret = "alice-secret-key/000000000000000000000"
	bobKey      = "BOBACCESSKEY00000001"
	bobSecret   = "bob-secret-key/00000000000000000000000"
)

type creds struct{}

func (creds) Lookup(_ context.Context, key string) (string, string, error) {
	switch key {
	case aliceKey:
		return "alice", aliceSecret, nil
	case bobKey:
		return "bob", bobSecret, nil
	}
	return "", "", auth.ErrUnknownAccessKey
}

// poolPusher delivers through the endpoint pool: the adapter the server
// wires between notify and notify/endpoint.
type poolPusher struct{ pool *endpoint.Pool }

func (p poolPusher) Push(ctx context.Context, m notify.Push) error {
	return p.pool.Push(ctx, m.Endpoint, m.Args, endpoint.Message{Body: m.Body, Topic: m.Topic, ID: m.ID, Attributes: m.Attributes})
}

// enqueuer lets the dispatcher and the queue refer to each other.
type enqueuer struct{ q **queue.Queue }

func (e enqueuer) Enqueue(w store.RecordWriter, ev queue.Event) error { return (*e.q).Enqueue(w, ev) }

// sink is an HTTP push endpoint that records what it receives; fail makes
// it answer 500.
type sink struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []received
	fail bool
	got  chan struct{}
}

type received struct {
	body   []byte
	header http.Header
	path   string
}

func newSink(t *testing.T) *sink {
	s := &sink{got: make(chan struct{}, 1000)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		fail := s.fail
		if !fail {
			s.msgs = append(s.msgs, received{body: body, header: r.Header.Clone(), path: r.URL.Path})
		}
		s.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		s.got <- struct{}{}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) setFail(v bool) { s.mu.Lock(); s.fail = v; s.mu.Unlock() }

// take returns and forgets what arrived so far.
func (s *sink) take() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.msgs
	s.msgs = nil
	return out
}

// waitFor waits (bounded) until n messages arrived, then takes them.
func (s *sink) waitFor(t *testing.T, n int, within time.Duration) []received {
	t.Helper()
	deadline := time.After(within)
	for {
		s.mu.Lock()
		have := len(s.msgs)
		s.mu.Unlock()
		if have >= n {
			return s.take()
		}
		select {
		case <-s.got:
		case <-deadline:
			t.Fatalf("got %d of %d messages within %v", have, n, within)
		}
	}
}

type gateway struct {
	s3     *s3.Client
	sns    *sns.Client
	url    string
	topics *notify.Topics
	disp   *notify.Dispatcher
}

func startGateway(t *testing.T) *gateway {
	t.Helper()
	var d *notify.Dispatcher
	st, err := local.Open(t.TempDir(), local.Options{Hook: func(ctx context.Context, c store.Change, w store.RecordWriter) error {
		return d.Hook(ctx, c, w)
	}})
	if err != nil {
		t.Fatal(err)
	}
	pool := endpoint.NewPool(endpoint.PoolOptions{})
	topics := notify.NewTopics(st.KV())
	var q *queue.Queue
	d, err = notify.NewDispatcher(notify.Config{
		Topics: topics, Pusher: poolPusher{pool}, Queue: enqueuer{&q},
		HostID: "5e31-default-default", SyncTimeout: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	q, err = queue.New(queue.Config{KV: st.KV(), Sender: d, Policy: d.QueuePolicy,
		BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, PollInterval: 100 * time.Millisecond, SendTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	qdone := make(chan error, 1)
	go func() { qdone <- q.Run(ctx) }()

	var api *s3api.API
	verifier := auth.New(creds{}, auth.Options{VirtualHostBucket: func(r *http.Request) string { return api.VirtualHostBucket(r) }})
	api = s3api.New(st, verifier, s3api.Config{Region: "us-east-1"})
	api.EnableNotifications(d)
	api.Handle(s3api.OpSNS, snsapi.New(topics, snsapi.Config{Queues: q}).Serve)
	srv := httptest.NewServer(s3api.WaitForPushes(d, api))
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-qdone
		d.Close()
		pool.Close()
		st.Close()
	})
	cp := credentials.NewStaticCredentialsProvider(aliceKey, aliceSecret, "")
	return &gateway{
		url:    srv.URL,
		topics: topics,
		disp:   d,
		s3: s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, Credentials: cp,
			RetryMaxAttempts: 1}),
		sns: sns.New(sns.Options{Region: "default", BaseEndpoint: aws.String(srv.URL), Credentials: cp}),
	}
}

// rec is the parsed record of one message.
type rec struct {
	EventVersion, EventSource, AwsRegion, EventTime, EventName string
	UserIdentity                                               struct{ PrincipalID string }
	RequestParameters                                          struct{ SourceIPAddress string }
	ResponseElements                                           map[string]string
	S3                                                         struct {
		S3SchemaVersion, ConfigurationID string
		Bucket                           struct {
			Name          string
			OwnerIdentity struct{ PrincipalID string }
			Arn, ID       string
		}
		Object struct {
			Key                        string
			Size                       *int64
			ETag, VersionID, Sequencer string
			Metadata, Tags             []struct{ Key, Val string }
		}
	}
	EventID, OpaqueData string
}

func parse(t *testing.T, m received) rec {
	t.Helper()
	var env struct{ Records []rec }
	if err := json.Unmarshal(m.body, &env); err != nil || len(env.Records) != 1 {
		t.Fatalf("message %s: %v (%d records)", m.body, err, len(env.Records))
	}
	if ct := m.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return env.Records[0]
}

var (
	seqRE     = regexp.MustCompile(`^[0-9A-F]{16}$`)
	eventIDRE = regexp.MustCompile(`^\d{10,}\.\d{6}\.`)
	timeRE    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)
)

// check verifies the fields every record of these tests shares.
func check(t *testing.T, r rec, event, bucket, key, requestID string) {
	t.Helper()
	if r.EventName != event || r.S3.Bucket.Name != bucket || r.S3.Object.Key != key {
		t.Errorf("record %s %s/%s, want %s %s/%s", r.EventName, r.S3.Bucket.Name, r.S3.Object.Key, event, bucket, key)
	}
	if r.EventVersion != "2.2" || r.EventSource != "ceph:s3" || r.AwsRegion != "default" || r.S3.S3SchemaVersion != "1.0" {
		t.Errorf("constants: %+v", r)
	}
	if r.UserIdentity.PrincipalID != "alice" || r.S3.Bucket.OwnerIdentity.PrincipalID != "alice" {
		t.Errorf("principals %q %q", r.UserIdentity.PrincipalID, r.S3.Bucket.OwnerIdentity.PrincipalID)
	}
	if r.S3.Bucket.Arn != "arn:aws:s3:default::"+bucket || r.S3.Bucket.ID == "" {
		t.Errorf("bucket arn %q id %q", r.S3.Bucket.Arn, r.S3.Bucket.ID)
	}
	if requestID != "" && r.ResponseElements["x-amz-request-id"] != requestID {
		t.Errorf("x-amz-request-id %q, want %q", r.ResponseElements["x-amz-request-id"], requestID)
	}
	if r.ResponseElements["x-amz-id-2"] != "5e31-default-default" || r.RequestParameters.SourceIPAddress != "" {
		t.Errorf("responseElements %v", r.ResponseElements)
	}
	if r.S3.Object.Size == nil || !seqRE.MatchString(r.S3.Object.Sequencer) || !eventIDRE.MatchString(r.EventID) ||
		!strings.HasSuffix(r.EventID, "."+r.S3.Object.ETag) || !timeRE.MatchString(r.EventTime) {
		t.Errorf("formats: size %v sequencer %q eventId %q eventTime %q", r.S3.Object.Size, r.S3.Object.Sequencer, r.EventID, r.EventTime)
	}
	if r.S3.Object.Metadata == nil || r.S3.Object.Tags == nil {
		t.Errorf("metadata/tags must be lists, never null")
	}
}

func requestID(md middleware.Metadata) string {
	id, _ := awsmiddleware.GetRequestIDMetadata(md)
	return id
}

// signV4 signs a request for S3 as the given key.
func signV4(req *http.Request, accessKey, secret string, body []byte) error {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	c := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secret}
	return v4.NewSigner().SignHTTP(req.Context(), c, req, hash, "s3", "us-east-1", time.Now())
}

// do sends a signed raw request and returns status and body.
func (g *gateway) do(t *testing.T, method, path, accessKey, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, g.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	secret := aliceSecret
	if accessKey == bobKey {
		secret = bobSecret
	}
	if err := signV4(req, accessKey, secret, []byte(body)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func (g *gateway) topic(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := g.sns.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TopicArn)
}

func (g *gateway) bucket(t *testing.T, name string, versioned bool, notifs ...s3types.TopicConfiguration) {
	t.Helper()
	ctx := context.Background()
	if _, err := g.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if versioned {
		if _, err := g.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(name),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(name), NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: notifs},
	}); err != nil {
		t.Fatal(err)
	}
}

func allEvents(id, arn string) s3types.TopicConfiguration {
	return s3types.TopicConfiguration{Id: aws.String(id), TopicArn: aws.String(arn),
		Events: []s3types.Event{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}}
}

// TestSynchronousNotifications: every kind of change produces its record
// before the S3 response returns; failed requests produce none.
func TestSynchronousNotifications(t *testing.T) {
	ctx := context.Background()
	g := startGateway(t)
	ep := newSink(t)
	arn := g.topic(t, "sync", map[string]string{"push-endpoint": ep.srv.URL + "/rgw-events", "OpaqueData": "opaque-123"})
	g.bucket(t, "bkt1", false, allEvents("n1", arn))

	// The stored configuration reads back as sent.
	gc, err := g.s3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("bkt1")})
	if err != nil || len(gc.TopicConfigurations) != 1 || aws.ToString(gc.TopicConfigurations[0].Id) != "n1" || len(gc.TopicConfigurations[0].Events) != 2 {
		t.Fatalf("GetBucketNotificationConfiguration: %+v %v", gc, err)
	}

	// PutObject: the record is there when the response is.
	key := "dir/hello world.txt"
	put, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt1"), Key: aws.String(key), Body: strings.NewReader("hello world"),
		Metadata: map[string]string{"color": "blue"}, Tagging: aws.String("k1=v1")})
	if err != nil {
		t.Fatal(err)
	}
	msgs := ep.take()
	if len(msgs) != 1 {
		t.Fatalf("PutObject returned with %d records delivered, want 1 (synchronous)", len(msgs))
	}
	if msgs[0].path != "/rgw-events" {
		t.Errorf("pushed to %s", msgs[0].path)
	}
	r := parse(t, msgs[0])
	check(t, r, "ObjectCreated:Put", "bkt1", key, requestID(put.ResultMetadata))
	if *r.S3.Object.Size != 11 || `"`+r.S3.Object.ETag+`"` != aws.ToString(put.ETag) || r.S3.Object.VersionID != "" ||
		r.S3.ConfigurationID != "n1" || r.OpaqueData != "opaque-123" {
		t.Errorf("put record: %+v", r.S3.Object)
	}
	if len(r.S3.Object.Metadata) != 1 || r.S3.Object.Metadata[0].Key != "x-amz-meta-color" || r.S3.Object.Metadata[0].Val != "blue" ||
		len(r.S3.Object.Tags) != 1 || r.S3.Object.Tags[0].Key != "k1" || r.S3.Object.Tags[0].Val != "v1" {
		t.Errorf("metadata %v tags %v", r.S3.Object.Metadata, r.S3.Object.Tags)
	}

	// CopyObject: the destination, metadata and tags of the source.
	cp, err := g.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("copy.txt"), CopySource: aws.String("bkt1/dir/hello%20world.txt")})
	if err != nil {
		t.Fatal(err)
	}
	msgs = ep.take()
	if len(msgs) != 1 {
		t.Fatalf("CopyObject: %d records", len(msgs))
	}
	r = parse(t, msgs[0])
	check(t, r, "ObjectCreated:Copy", "bkt1", "copy.txt", requestID(cp.ResultMetadata))
	if *r.S3.Object.Size != 11 || len(r.S3.Object.Metadata) != 1 || len(r.S3.Object.Tags) != 1 {
		t.Errorf("copy record: %+v", r.S3.Object)
	}

	// Multipart: nothing for create and parts, one record at completion.
	mp, err := g.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt1"), Key: aws.String("multi.bin")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []s3types.CompletedPart
	for i, size := range []int{5 << 20, 1 << 10} {
		up, err := g.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt1"), Key: aws.String("multi.bin"), UploadId: mp.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(bytes.Repeat([]byte{'x'}, size))})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, s3types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	if n := len(ep.take()); n != 0 {
		t.Errorf("%d records for CreateMultipartUpload/UploadPart", n)
	}
	done, err := g.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt1"), Key: aws.String("multi.bin"),
		UploadId: mp.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}
	msgs = ep.take()
	if len(msgs) != 1 {
		t.Fatalf("CompleteMultipartUpload: %d records", len(msgs))
	}
	r = parse(t, msgs[0])
	check(t, r, "ObjectCreated:CompleteMultipartUpload", "bkt1", "multi.bin", requestID(done.ResultMetadata))
	if *r.S3.Object.Size != 5<<20+1<<10 || !strings.HasSuffix(r.S3.Object.ETag, "-2") {
		t.Errorf("multipart record: %+v", r.S3.Object)
	}

	// A failed request produces nothing.
	wrong := md5.Sum([]byte("something else"))
	_, err = g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("bad"), Body: strings.NewReader("data"),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrong[:]))})
	if err == nil {
		t.Fatal("BadDigest PUT succeeded")
	}
	if n := len(ep.take()); n != 0 {
		t.Errorf("%d records for a failed PUT", n)
	}

	// DeleteObject: the removed object's size and eTag.
	del, err := g.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt1"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	msgs = ep.take()
	if len(msgs) != 1 {
		t.Fatalf("DeleteObject: %d records", len(msgs))
	}
	r = parse(t, msgs[0])
	check(t, r, "ObjectRemoved:Delete", "bkt1", key, requestID(del.ResultMetadata))
	if *r.S3.Object.Size != 11 || r.S3.Object.ETag == "" {
		t.Errorf("delete record: %+v", r.S3.Object)
	}

	// Deleting a missing key: no record (Squid).
	if _, err := g.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("never-existed")}); err != nil {
		t.Fatal(err)
	}
	if n := len(ep.take()); n != 0 {
		t.Errorf("%d records for deleting a missing key", n)
	}

	// DeleteObjects: one record per deleted key.
	if _, err := g.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt1"), Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{
		{Key: aws.String("copy.txt")}, {Key: aws.String("multi.bin")},
	}}}); err != nil {
		t.Fatal(err)
	}
	msgs = ep.take()
	if len(msgs) != 2 {
		t.Fatalf("DeleteObjects: %d records", len(msgs))
	}
	keys := map[string]bool{}
	for _, m := range msgs {
		r := parse(t, m)
		check(t, r, "ObjectRemoved:Delete", "bkt1", r.S3.Object.Key, "")
		keys[r.S3.Object.Key] = true
	}
	if !keys["copy.txt"] || !keys["multi.bin"] {
		t.Errorf("DeleteObjects keys %v", keys)
	}

	// Topic deleted: notifications stay, records stop (Squid).
	if _, err := g.sns.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("after"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if n := len(ep.take()); n != 0 {
		t.Errorf("%d records after the topic was deleted", n)
	}
	// Re-creating it revives them, with the new settings.
	g.topic(t, "sync", map[string]string{"push-endpoint": ep.srv.URL + "/again"})
	if _, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("after"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if msgs := ep.take(); len(msgs) != 1 || msgs[0].path != "/again" || parse(t, msgs[0]).OpaqueData != "" {
		t.Errorf("after re-creating the topic: %d records", len(msgs))
	}

	// DELETE ?notification removes them (200, empty body).
	if code, body := g.do(t, http.MethodDelete, "/bkt1?notification", aliceKey, ""); code != http.StatusOK || body != "" {
		t.Errorf("DELETE ?notification: %d %q", code, body)
	}
	if _, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("after"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if n := len(ep.take()); n != 0 {
		t.Errorf("%d records after DELETE ?notification", n)
	}
}

// TestVersionedAndFiltered: delete markers, version ids, filters, several
// notifications on one change.
func TestVersionedAndFiltered(t *testing.T) {
	ctx := context.Background()
	g := startGateway(t)
	ep := newSink(t)
	arn := g.topic(t, "t", map[string]string{"push-endpoint": ep.srv.URL})
	filtered := allEvents("only-in-txt", arn)
	filtered.Filter = &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{
		{Name: "prefix", Value: aws.String("in/")}, {Name: "suffix", Value: aws.String(".txt")},
	}}}
	puts := s3types.TopicConfiguration{Id: aws.String("puts"), TopicArn: aws.String(arn), Events: []s3types.Event{"s3:ObjectCreated:Put"}}
	g.bucket(t, "vbkt", true, filtered, puts)

	put, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vbkt"), Key: aws.String("in/a.txt"), Body: strings.NewReader("hi")})
	if err != nil {
		t.Fatal(err)
	}
	msgs := ep.take()
	if len(msgs) != 2 {
		t.Fatalf("two matching notifications gave %d records", len(msgs))
	}
	ids := map[string]bool{}
	for _, m := range msgs {
		r := parse(t, m)
		check(t, r, "ObjectCreated:Put", "vbkt", "in/a.txt", "")
		ids[r.S3.ConfigurationID] = true
		if r.S3.Object.VersionID == "" || r.S3.Object.VersionID != aws.ToString(put.VersionId) {
			t.Errorf("versionId %q, want %q", r.S3.Object.VersionID, aws.ToString(put.VersionId))
		}
	}
	if !ids["only-in-txt"] || !ids["puts"] {
		t.Errorf("configurationIds %v", ids)
	}
	if _, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vbkt"), Key: aws.String("out/a.txt"), Body: strings.NewReader("hi")}); err != nil {
		t.Fatal(err)
	}
	if msgs := ep.take(); len(msgs) != 1 || parse(t, msgs[0]).S3.ConfigurationID != "puts" {
		t.Errorf("filter did not exclude out/a.txt: %d records", len(msgs))
	}

	del, err := g.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vbkt"), Key: aws.String("in/a.txt")})
	if err != nil {
		t.Fatal(err)
	}
	msgs = ep.take()
	if len(msgs) != 1 {
		t.Fatalf("delete marker: %d records", len(msgs))
	}
	r := parse(t, msgs[0])
	check(t, r, "ObjectRemoved:DeleteMarkerCreated", "vbkt", "in/a.txt", requestID(del.ResultMetadata))
	if r.S3.Object.VersionID == "" || r.S3.Object.VersionID != aws.ToString(del.VersionId) {
		t.Errorf("delete marker versionId %q, want %q", r.S3.Object.VersionID, aws.ToString(del.VersionId))
	}
	// Size and ETag of the version the marker hides (spec §4.3).
	if *r.S3.Object.Size != 2 || `"`+r.S3.Object.ETag+`"` != aws.ToString(put.ETag) {
		t.Errorf("delete marker size %d eTag %q, want 2 and %s", *r.S3.Object.Size, r.S3.Object.ETag, aws.ToString(put.ETag))
	}

	// Deleting a version permanently: ObjectRemoved:Delete with its id.
	if _, err := g.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vbkt"), Key: aws.String("in/a.txt"), VersionId: put.VersionId}); err != nil {
		t.Fatal(err)
	}
	msgs = ep.take()
	if len(msgs) != 1 {
		t.Fatalf("version delete: %d records", len(msgs))
	}
	if r := parse(t, msgs[0]); r.EventName != "ObjectRemoved:Delete" || r.S3.Object.VersionID != aws.ToString(put.VersionId) {
		t.Errorf("version delete: %s %s", r.EventName, r.S3.Object.VersionID)
	}

	// Unknown topic: 404 NoSuchKey; nothing changes.
	_, err = g.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("vbkt"),
		NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{allEvents("x", "arn:aws:sns:default::missing")}}})
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusNotFound {
		t.Errorf("unknown topic: %v", err)
	}
}

// TestEndpointDown: a synchronous push that fails never fails the request.
func TestEndpointDown(t *testing.T) {
	ctx := context.Background()
	g := startGateway(t)
	down := newSink(t)
	url := down.srv.URL
	down.srv.Close() // connection refused
	arn := g.topic(t, "down", map[string]string{"push-endpoint": url})
	g.bucket(t, "bdown", false, allEvents("n", arn))
	if _, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bdown"), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatalf("PUT failed because of the endpoint: %v", err)
	}
	if c := g.disp.Counters(); c.PushFailed != 1 || c.PushOK != 0 || c.Lost != 1 {
		t.Errorf("counters %+v", c)
	}
}

// TestPersistentNotifications: records are queued in the object's commit,
// delivered after the response, retried until the endpoint accepts them.
func TestPersistentNotifications(t *testing.T) {
	ctx := context.Background()
	g := startGateway(t)
	ep := newSink(t)
	ep.setFail(true)
	arn := g.topic(t, "persist", map[string]string{"push-endpoint": ep.srv.URL, "persistent": "true", "OpaqueData": "v1"})
	g.bucket(t, "pbkt", false, allEvents("p", arn))
	for _, k := range []string{"p1", "p2", "p3"} {
		if _, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pbkt"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("pbkt"), Key: aws.String("p1")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // a few failed attempts
	// Topic changes apply to queued records (Squid): new opaque data.
	if _, err := g.sns.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(arn), AttributeName: aws.String("OpaqueData"), AttributeValue: aws.String("v2")}); err != nil {
		t.Fatal(err)
	}
	ep.setFail(false)
	msgs := ep.waitFor(t, 4, 10*time.Second)
	var got []string
	for _, m := range msgs {
		r := parse(t, m)
		check(t, r, r.EventName, "pbkt", r.S3.Object.Key, "")
		if r.OpaqueData != "v2" {
			t.Errorf("opaqueData %q, want the topic's current v2", r.OpaqueData)
		}
		got = append(got, r.EventName+" "+r.S3.Object.Key)
	}
	// p1's two records keep their order (same key).
	joined := strings.Join(got, ",")
	for _, want := range []string{"ObjectCreated:Put p2", "ObjectCreated:Put p3"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %q in %s", want, joined)
		}
	}
	if strings.Index(joined, "ObjectCreated:Put p1") > strings.Index(joined, "ObjectRemoved:Delete p1") {
		t.Errorf("p1 out of order: %s", joined)
	}
	time.Sleep(200 * time.Millisecond)
	if extra := ep.take(); len(extra) != 0 {
		t.Errorf("%d duplicate deliveries after acks", len(extra))
	}
}

// TestNotificationConfigAPI covers PUT/GET/DELETE ?notification[=id]
// against the RGW captures and spec §3.1–3.5.
func TestNotificationConfigAPI(t *testing.T) {
	g := startGateway(t)
	arn := g.topic(t, "amqp-creds", map[string]string{"push-endpoint": "amqp://127.0.0.1:5672", "amqp-exchange": "rgw-ex"})
	g.bucket(t, "cfg-bkt", false)
	captured := `<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TopicConfiguration><Id>notif-1</Id><Topic>` + arn +
		`</Topic><Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:*</Event></TopicConfiguration></NotificationConfiguration>`
	want := func(name string) string {
		data, err := os.ReadFile("testdata/rgw/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(data))
	}

	if code, body := g.do(t, "PUT", "/cfg-bkt?notification=x", aliceKey, captured); code != 400 || !strings.Contains(body, "<Code>InvalidArgument</Code>") {
		t.Errorf("PUT ?notification=x: %d %s", code, body)
	}
	if code, body := g.do(t, "PUT", "/cfg-bkt?notification", aliceKey, captured); code != 200 || body != "" {
		t.Fatalf("PUT: %d %q", code, body)
	}
	if code, body := g.do(t, "GET", "/cfg-bkt?notification", aliceKey, ""); code != 200 || body != want("get-bucket-notification-configuration-response.xml") {
		t.Errorf("GET: %d\n got %s\nwant %s", code, body, want("get-bucket-notification-configuration-response.xml"))
	}
	// Errors as RGW answered them (put-notification-*-error.txt).
	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{strings.Replace(captured, "<Id>notif-1</Id>", "", 1), 400, "MalformedXML"},
		{strings.Replace(captured, "s3:ObjectCreated:*", "s3:ObjectCreated:Bogus", 1), 400, "InvalidArgument"},
		{strings.Replace(captured, arn, "arn:aws:sns:default::no-such-topic", 1), 404, "NoSuchKey"},
	} {
		if code, body := g.do(t, "PUT", "/cfg-bkt?notification", aliceKey, c.body); code != c.status || !strings.Contains(body, "<Code>"+c.code+"</Code>") || !strings.Contains(body, "<BucketName>cfg-bkt</BucketName>") {
			t.Errorf("want %d %s, got %d %s", c.status, c.code, code, body)
		}
	}
	// Only the bucket owner.
	if code, _ := g.do(t, "GET", "/cfg-bkt?notification", bobKey, ""); code != 403 {
		t.Errorf("non-owner GET: %d", code)
	}
	if code, _ := g.do(t, "PUT", "/cfg-bkt?notification", bobKey, captured); code != 403 {
		t.Errorf("non-owner PUT: %d", code)
	}
	// Upsert: another Id is added, the first kept; filters come back in RGW's order.
	second := `<NotificationConfiguration><TopicConfiguration><Id>h</Id><Topic>` + arn + `</Topic><Filter><S3Key><FilterRule><Name>suffix</Name><Value>.txt</Value></FilterRule><FilterRule><Name>prefix</Name><Value>in/</Value></FilterRule></S3Key></Filter></TopicConfiguration></NotificationConfiguration>`
	if code, body := g.do(t, "PUT", "/cfg-bkt?notification", aliceKey, second); code != 200 {
		t.Fatalf("PUT second: %d %s", code, body)
	}
	code, body := g.do(t, "GET", "/cfg-bkt?notification", aliceKey, "")
	if code != 200 || strings.Count(body, "<TopicConfiguration>") != 2 {
		t.Errorf("after upsert: %s", body)
	}
	wantH := strings.Replace(want("get-bucket-notification-configuration-filter-response.xml"), "arn:aws:sns:default::http-topic", arn, 1)
	for _, q := range []string{"?notification=h", "?notification&notification-id=h"} {
		if code, body := g.do(t, "GET", "/cfg-bkt"+q, aliceKey, ""); code != 200 || body != wantH {
			t.Errorf("GET %s: %d\n got %s\nwant %s", q, code, body, wantH)
		}
	}
	if code, body := g.do(t, "GET", "/cfg-bkt?notification=nope", aliceKey, ""); code != 404 || !strings.Contains(body, "<Code>NoSuchKey</Code>") {
		t.Errorf("GET unknown id: %d %s", code, body)
	}
	// DELETE one, an unknown one (success), then an empty PUT removes all.
	for _, q := range []string{"?notification=notif-1", "?notification=nope"} {
		if code, body := g.do(t, "DELETE", "/cfg-bkt"+q, aliceKey, ""); code != 200 || body != "" {
			t.Errorf("DELETE %s: %d %q", q, code, body)
		}
	}
	if _, body := g.do(t, "GET", "/cfg-bkt?notification", aliceKey, ""); body != wantH {
		t.Errorf("after DELETE notif-1: %s", body)
	}
	if code, _ := g.do(t, "PUT", "/cfg-bkt?notification", aliceKey, "<NotificationConfiguration/>"); code != 200 {
		t.Errorf("empty PUT: %d", code)
	}
	if _, body := g.do(t, "GET", "/cfg-bkt?notification", aliceKey, ""); body != want("get-bucket-notification-configuration-empty-response.xml") {
		t.Errorf("after empty PUT: %s", body)
	}
	if code, body := g.do(t, "GET", "/no-such-bucket?notification", aliceKey, ""); code != 404 || !strings.Contains(body, "NoSuchBucket") {
		t.Errorf("missing bucket: %d %s", code, body)
	}
}

// TestEventIDsFromCommit: eventId and sequencer come from the commit, so
// records of objects with equal ETags written at once never share an id,
// two notifications of one change get distinct ids, an object's sequencers
// sort in commit order, and the id a consumer dedupes on (CloudEvents
// ce-eventid here; the drivers' own tests cover their headers) is the
// record's eventId.
func TestEventIDsFromCommit(t *testing.T) {
	ctx := context.Background()
	g := startGateway(t)
	ep := newSink(t)
	arn := g.topic(t, "ids", map[string]string{"push-endpoint": ep.srv.URL, "cloudevents": "true"})
	g.bucket(t, "idbkt", false, allEvents("n1", arn), allEvents("n2", arn))

	const writers, perWriter = 8, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				key := fmt.Sprintf("same-%d-%d", w, i)
				_, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("idbkt"), Key: aws.String(key), Body: strings.NewReader("equal body")})
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	const rewrites = 4
	for range rewrites {
		if _, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("idbkt"), Key: aws.String("again"), Body: strings.NewReader("equal body")}); err != nil {
			t.Fatal(err)
		}
	}
	msgs := ep.waitFor(t, 2*(writers*perWriter+rewrites), 10*time.Second)
	seen := map[string]bool{}
	var again []string // sequencers of "again" for notification n1, in delivery order
	for _, m := range msgs {
		r := parse(t, m)
		if seen[r.EventID] {
			t.Errorf("eventId %s delivered twice", r.EventID)
		}
		seen[r.EventID] = true
		if h := m.header.Get("ce-eventid"); h != r.EventID {
			t.Errorf("ce-eventid %q, record eventId %q", h, r.EventID)
		}
		var seq uint64
		if _, err := fmt.Sscanf(r.EventID, "%d.", &seq); err != nil || r.S3.Object.Sequencer != fmt.Sprintf("%016X", seq) {
			t.Errorf("sequencer %s does not encode the eventId's sequence (%s)", r.S3.Object.Sequencer, r.EventID)
		}
		if r.S3.Object.Key == "again" && r.S3.ConfigurationID == "n1" {
			again = append(again, r.S3.Object.Sequencer)
		}
	}
	// Synchronous pushes of one key arrive in request order here: each PUT
	// waited for its own.
	if len(again) != rewrites || !slices.IsSorted(again) {
		t.Errorf("sequencers of one object %v: want %d in increasing order", again, rewrites)
	}
}

// TestEventIDStableAcrossRetries: a persistent topic's record is sent with
// the same eventId (and the same message id) on every attempt.
func TestEventIDStableAcrossRetries(t *testing.T) {
	ctx := context.Background()
	g := startGateway(t)
	var mu sync.Mutex
	var ids []string // ce-eventid of every attempt
	fails := 3
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var env struct{ Records []struct{ EventID string } }
		_ = json.Unmarshal(body, &env)
		mu.Lock()
		defer mu.Unlock()
		if len(env.Records) == 1 && env.Records[0].EventID == r.Header.Get("ce-eventid") {
			ids = append(ids, env.Records[0].EventID)
		} else {
			ids = append(ids, "mismatch:"+r.Header.Get("ce-eventid"))
		}
		if fails > 0 {
			fails--
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	arn := g.topic(t, "retry", map[string]string{"push-endpoint": srv.URL, "persistent": "true", "cloudevents": "true"})
	g.bucket(t, "rbkt", false, allEvents("r", arn))
	if _, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("rbkt"), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(ids)
		mu.Unlock()
		if n >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 4 {
		t.Fatalf("%d attempts, want 4 (3 failed, 1 acknowledged): %v", len(ids), ids)
	}
	for _, id := range ids {
		if id != ids[0] || strings.HasPrefix(id, "mismatch:") {
			t.Errorf("attempts carried ids %v, want one eventId throughout", ids)
			break
		}
	}
}
