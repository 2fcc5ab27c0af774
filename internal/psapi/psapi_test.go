package psapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/server"
)

func TestTopics(t *testing.T) {
	g := startUsers(t, server.PubSubConfig{})
	a := g.alice()
	body := a.ok("PUT", "/topics/t1?push-endpoint=http://127.0.0.1:9/x&OpaqueData=od", nil)
	if string(body) != `{"arn":"arn:aws:sns:default::t1"}` {
		t.Fatalf("create: %s", body)
	}
	a.ok("PUT", "/subscriptions/s1?topic=t1", nil)
	body = a.ok("GET", "/topics/t1", nil)
	want := `{"topic":{"user":"alice","name":"t1","dest":{"bucket_name":"","oid_prefix":"","push_endpoint":"http://127.0.0.1:9/x",` +
		`"push_endpoint_args":"OpaqueData=od&push-endpoint=http://127.0.0.1:9/x","push_endpoint_topic":"t1","stored_secret":"false",` +
		`"persistent":"false"},"arn":"arn:aws:sns:default::t1","opaqueData":"od"},"subs":["s1"]}`
	if string(body) != want {
		t.Fatalf("get:\n%s\nwant\n%s", body, want)
	}
	a.ok("PUT", "/topics/t2", nil)
	var list struct {
		Topics []struct {
			Topic struct{ Name string } `json:"topic"`
			Subs  []string              `json:"subs"`
		} `json:"topics"`
	}
	a.ok("GET", "/topics", &list)
	if len(list.Topics) != 2 || list.Topics[0].Topic.Name != "t1" || list.Topics[1].Topic.Name != "t2" || len(list.Topics[1].Subs) != 0 {
		t.Fatalf("list: %+v", list)
	}
	// (The SigV4 signer sorted the query; the args keep the order received.)
	// Secrets need TLS.
	a.fails("PUT", "/topics/t3?push-endpoint=amqp://u:p@127.0.0.1:5672", http.StatusBadRequest, "InvalidArgument")
	a.fails("PUT", "/topics/bad$name", http.StatusBadRequest, "InvalidArgument")
	a.fails("GET", "/topics/nope", http.StatusNotFound, "NoSuchKey")
	a.ok("DELETE", "/topics/t2", nil)
	a.ok("DELETE", "/topics/t2", nil) // deleting a missing topic succeeds
	a.fails("GET", "/topics/t2", http.StatusNotFound, "NoSuchKey")
	// The topic is the SNS API's topic too.
	if st, body := a.do("POST", "/?Action=GetTopicAttributes&TopicArn=arn:aws:sns:default::t1"); st != http.StatusOK ||
		!strings.Contains(string(body), "http://127.0.0.1:9/x") {
		t.Fatalf("SNS view: %d %s", st, body)
	}
}

func TestNotifications(t *testing.T) {
	g := startUsers(t, server.PubSubConfig{})
	a, b := g.alice(), g.bob()
	a.mkbucket("abucket")
	a.ok("PUT", "/topics/t1", nil)
	a.ok("PUT", "/notifications/bucket/abucket?topic=t1&events=OBJECT_CREATE,s3:ObjectRemoved:*", nil)
	body := a.ok("GET", "/notifications/bucket/abucket", nil)
	if !strings.Contains(string(body), `"events":["OBJECT_CREATE","UNKNOWN_EVENT"]`) || !strings.HasPrefix(string(body), `{"topics":[{"topic":{"user":"alice","name":"t1"`) {
		t.Fatalf("list: %s", body)
	}
	a.ok("PUT", "/notifications/bucket/abucket?topic=t1", nil) // re-PUT replaces the events
	body = a.ok("GET", "/notifications/bucket/abucket", nil)
	if !strings.Contains(string(body), `"events":["OBJECT_CREATE","UNKNOWN_EVENT"]`) {
		t.Fatalf("default events: %s", body)
	}
	a.fails("PUT", "/notifications/bucket/abucket", http.StatusBadRequest, "InvalidArgument")
	a.fails("PUT", "/notifications/bucket/abucket?topic=t1&events=OBJECT_EXPLODE", http.StatusBadRequest, "InvalidArgument")
	a.fails("PUT", "/notifications/bucket/abucket?topic=nope", http.StatusNotFound, "NoSuchKey")
	a.fails("PUT", "/notifications/bucket/nobucket?topic=t1", http.StatusNotFound, "NoSuchBucket")
	b.ok("PUT", "/topics/bt", nil)
	b.fails("PUT", "/notifications/bucket/abucket?topic=bt", http.StatusForbidden, "AccessDenied")
	b.fails("GET", "/notifications/bucket/abucket", http.StatusForbidden, "AccessDenied")
	a.ok("DELETE", "/notifications/bucket/abucket?topic=t1", nil)
	if body := a.ok("GET", "/notifications/bucket/abucket", nil); string(body) != `{"topics":[]}` {
		t.Fatalf("after delete: %s", body)
	}
}

func TestSubscriptionPullAck(t *testing.T) {
	g := startUsers(t, server.PubSubConfig{})
	a := g.alice()
	a.bind("bkt1", "t1")
	a.fails("PUT", "/subscriptions/s1", http.StatusBadRequest, "InvalidArgument")
	a.fails("PUT", "/subscriptions/s1?topic=nope", http.StatusBadRequest, "InvalidArgument")
	a.ok("PUT", "/subscriptions/s1?topic=t1", nil)
	body := a.ok("GET", "/subscriptions/s1", nil)
	want := `{"user":"","name":"s1","topic":"t1","dest":{"bucket_name":"pubsub-alice-t1","oid_prefix":"s1/","push_endpoint":"",` +
		`"push_endpoint_args":"topic=t1","push_endpoint_topic":"t1","stored_secret":"false","persistent":"false"},"s3_id":""}`
	if string(body) != want {
		t.Fatalf("get:\n%s\nwant\n%s", body, want)
	}
	// Events accumulate while nobody pulls.
	a.put("bkt1", "k1")
	a.put("bkt1", "k2")
	a.del("bkt1", "k1")
	p := a.pull("s1", "&max-entries=2")
	evs := events(t, p)
	if keysOf(evs) != "OBJECT_CREATE:k1,OBJECT_CREATE:k2" || p.IsTruncated != "true" || p.NextMarker != "s1/"+evs[1].ID {
		t.Fatalf("page 1: %s %+v", keysOf(evs), p)
	}
	e := evs[0]
	if e.Info.Bucket.Name != "bkt1" || e.Info.Bucket.BucketID == "" || e.Info.Key.Instance != "" || len(e.Info.Attrs) != 0 ||
		!strings.HasSuffix(e.Timestamp, "Z") || len(e.Info.Mtime) != len("2024-05-14T15:19:58.000000Z") {
		t.Fatalf("event shape: %+v", e)
	}
	if len(e.ID) != len("1715700000.123456.a1b2c3d4") {
		t.Fatalf("id %q", e.ID)
	}
	if strings.Contains(string(p.Events[0]), "deliveries") {
		t.Fatalf("RGW-mode events carry Cairn's deliveries: %s", p.Events[0])
	}
	p2 := a.pull("s1", "&marker="+p.NextMarker)
	if keysOf(events(t, p2)) != "OBJECT_DELETE:k1" || p2.IsTruncated != "false" || p2.NextMarker != "" {
		t.Fatalf("page 2: %+v", p2)
	}
	// Ack removes; unknown ids are fine.
	a.ok("POST", "/subscriptions/s1?ack&event-id="+evs[0].ID, nil)
	a.ok("POST", "/subscriptions/s1?ack&event-id="+evs[0].ID, nil)
	a.ok("POST", "/subscriptions/s1?ack&event-id=1.000000.00000000", nil)
	if got := keysOf(events(t, a.pull("s1", ""))); got != "OBJECT_CREATE:k2,OBJECT_DELETE:k1" {
		t.Fatalf("after ack: %s", got)
	}
	rest := events(t, a.pull("s1", ""))
	a.ok("POST", "/subscriptions/s1?ack&event-id="+rest[0].ID+"&event-id="+rest[1].ID, nil)
	if p := a.pull("s1", ""); len(p.Events) != 0 {
		t.Fatalf("after acking all: %+v", p)
	}
	// Errors.
	a.fails("POST", "/subscriptions/s1?ack", http.StatusBadRequest, "InvalidArgument")
	a.fails("GET", "/subscriptions/s1?events&max-entries=ten", http.StatusBadRequest, "InvalidArgument")
	a.fails("GET", "/subscriptions/s1?events&marker=junk", http.StatusBadRequest, "InvalidArgument")
	a.fails("GET", "/subscriptions/nope?events", http.StatusNotFound, "NoSuchKey")
	a.fails("POST", "/subscriptions/nope?ack&event-id=1.000000.x", http.StatusNotFound, "NoSuchKey")
	a.fails("GET", "/subscriptions/nope", http.StatusNotFound, "NoSuchKey")
	// Events not subscribed to, or of other buckets, do not arrive.
	a.mkbucket("bkt2")
	a.put("bkt2", "other")
	if p := a.pull("s1", ""); len(p.Events) != 0 {
		t.Fatalf("event of an unbound bucket: %+v", p)
	}
	a.ok("DELETE", "/subscriptions/s1", nil)
	a.fails("GET", "/subscriptions/s1?events", http.StatusNotFound, "NoSuchKey")
}

func TestS3NotificationCreatesSubscription(t *testing.T) {
	g := startUsers(t, server.PubSubConfig{})
	a := g.alice()
	a.mkbucket("bkt1")
	a.ok("PUT", "/topics/t1?OpaqueData=hello", nil)
	_, err := a.s3().PutBucketNotificationConfiguration(t.Context(), &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String("bkt1"),
		NotificationConfiguration: &types.NotificationConfiguration{TopicConfigurations: []types.TopicConfiguration{{
			Id: aws.String("n1"), TopicArn: aws.String("arn:aws:sns:default::t1"),
			Events: []types.Event{"s3:ObjectCreated:Put", "s3:ObjectRemoved:*"},
			Filter: &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: []types.FilterRule{{Name: "prefix", Value: aws.String("in/")}}}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var sub struct {
		Name  string `json:"name"`
		Topic string `json:"topic"`
		S3ID  string `json:"s3_id"`
		Dest  struct {
			BucketName string `json:"bucket_name"`
			OIDPrefix  string `json:"oid_prefix"`
		} `json:"dest"`
	}
	a.ok("GET", "/subscriptions/n1", &sub)
	if sub.Topic != "n1_t1" || sub.S3ID != "n1" || sub.Dest.BucketName != "pubsub-alice-n1_t1" || sub.Dest.OIDPrefix != "n1/" {
		t.Fatalf("generated subscription: %+v", sub)
	}
	if body := a.ok("GET", "/topics", nil); !strings.Contains(string(body), `"name":"n1_t1"`) {
		t.Fatalf("hidden topic not listed: %s", body)
	}
	if body := a.ok("GET", "/notifications/bucket/bkt1", nil); !strings.Contains(string(body), `"name":"n1_t1"`) {
		t.Fatalf("hidden topic not in the bucket's notifications: %s", body)
	}
	a.put("bkt1", "in/a.txt")
	a.put("bkt1", "out/b.txt") // filtered out
	// A multipart upload is a creation too: any creation subtype matches.
	up, err := a.s3().CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt1"), Key: aws.String("in/mp")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := a.s3().UploadPart(t.Context(), &s3.UploadPartInput{Bucket: aws.String("bkt1"), Key: aws.String("in/mp"),
		UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.s3().CompleteMultipartUpload(t.Context(), &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt1"), Key: aws.String("in/mp"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}}); err != nil {
		t.Fatal(err)
	}
	a.del("bkt1", "in/a.txt")
	p := a.pull("n1", "")
	if len(p.Records) != 3 || len(p.Events) != 0 {
		t.Fatalf("records: %+v", p)
	}
	type rec struct {
		EventVersion string `json:"eventVersion"`
		EventSource  string `json:"eventSource"`
		AWSRegion    string `json:"awsRegion"`
		EventName    string `json:"eventName"`
		UserIdentity struct {
			PrincipalID string `json:"principalId"`
		} `json:"userIdentity"`
		S3 struct {
			ConfigurationID string `json:"configurationId"`
			Bucket          struct {
				Name          string `json:"name"`
				ARN           string `json:"arn"`
				OwnerIdentity struct {
					PrincipalID string `json:"principalId"`
				} `json:"ownerIdentity"`
			} `json:"bucket"`
			Object struct {
				Key  string `json:"key"`
				Size int64  `json:"size"`
				ETag string `json:"eTag"`
			} `json:"object"`
		} `json:"s3"`
		EventID    string `json:"eventId"`
		OpaqueData string `json:"opaqueData"`
	}
	var rs []rec
	for _, raw := range p.Records {
		var r rec
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	r := rs[0]
	if r.EventVersion != "2.2" || r.EventSource != "ceph:s3" || r.AWSRegion != "" || r.EventName != "s3:ObjectCreated:*" ||
		r.UserIdentity.PrincipalID != "" || r.S3.ConfigurationID != "n1" || r.S3.Bucket.ARN != "arn:aws:s3:::bkt1" ||
		r.S3.Bucket.OwnerIdentity.PrincipalID != "alice" || r.S3.Object.Key != "in/a.txt" || r.S3.Object.Size != 0 ||
		len(r.S3.Object.ETag) != 8 || r.OpaqueData != "hello" || !strings.HasSuffix(r.EventID, "."+r.S3.Object.ETag) {
		t.Fatalf("record: %+v", r)
	}
	if rs[1].S3.Object.Key != "in/mp" || rs[1].EventName != "s3:ObjectCreated:*" || rs[2].EventName != "s3:ObjectRemoved:Delete" {
		t.Fatalf("records: %+v", rs)
	}
	a.ok("POST", "/subscriptions/n1?ack&event-id="+rs[0].EventID, nil)
	if p := a.pull("n1", ""); len(p.Records) != 2 {
		t.Fatalf("after ack: %+v", p)
	}
	// Removing the notification removes its subscription.
	a.ok("DELETE", "/bkt1?notification", nil) // RGW's extension; S3 has no such call

	a.fails("GET", "/subscriptions/n1", http.StatusNotFound, "NoSuchKey")
}

func TestUserIsolation(t *testing.T) {
	g := startUsers(t, server.PubSubConfig{})
	a, b := g.alice(), g.bob()
	a.mkbucket("abkt")
	a.ok("PUT", "/topics/shared-name", nil)
	a.ok("PUT", "/notifications/bucket/abkt?topic=shared-name", nil)
	a.ok("PUT", "/subscriptions/s1?topic=shared-name", nil)
	a.put("abkt", "secret-key")

	if body := b.ok("GET", "/topics", nil); string(body) != `{"topics":[]}` {
		t.Fatalf("bob lists: %s", body)
	}
	b.fails("GET", "/topics/shared-name", http.StatusNotFound, "NoSuchKey")
	b.fails("PUT", "/topics/shared-name", http.StatusForbidden, "AccessDenied")
	b.fails("DELETE", "/topics/shared-name", http.StatusForbidden, "AccessDenied")
	b.fails("PUT", "/subscriptions/bs?topic=shared-name", http.StatusBadRequest, "InvalidArgument")
	b.fails("GET", "/subscriptions/s1", http.StatusNotFound, "NoSuchKey")
	b.fails("GET", "/subscriptions/s1?events", http.StatusNotFound, "NoSuchKey")
	b.fails("PUT", "/notifications/bucket/abkt?topic=shared-name", http.StatusForbidden, "AccessDenied")
	// Bob's own subscription of the same name is his own.
	b.mkbucket("bbkt")
	b.ok("PUT", "/topics/bt", nil)
	b.ok("PUT", "/notifications/bucket/bbkt?topic=bt", nil)
	b.ok("PUT", "/subscriptions/s1?topic=bt", nil)
	b.put("bbkt", "bobs")
	if got := keysOf(events(t, b.pull("s1", ""))); got != "OBJECT_CREATE:bobs" {
		t.Fatalf("bob's events: %s", got)
	}
	if got := keysOf(events(t, a.pull("s1", ""))); got != "OBJECT_CREATE:secret-key" {
		t.Fatalf("alice's events: %s", got)
	}
	// Bob's ack of alice's event id touches nothing of alice's.
	id := events(t, a.pull("s1", ""))[0].ID
	b.ok("POST", "/subscriptions/s1?ack&event-id="+id, nil)
	if len(a.pull("s1", "").Events) != 1 {
		t.Fatal("bob's ack removed alice's event")
	}
	g.as("", "").fails("GET", "/topics", http.StatusForbidden, "AccessDenied")

	// A topic name freed by alice and taken by bob: alice's old
	// subscription of that name sees nothing of bob's bucket.
	a.ok("PUT", "/topics/reused", nil)
	a.ok("PUT", "/subscriptions/old?topic=reused", nil)
	a.ok("DELETE", "/topics/reused", nil)
	b.ok("PUT", "/topics/reused", nil)
	b.ok("PUT", "/notifications/bucket/bbkt?topic=reused", nil)
	b.put("bbkt", "bobs-second")
	if p := a.pull("old", ""); len(p.Events) != 0 {
		t.Fatalf("alice's stale subscription got bob's events: %+v", p)
	}
}

func TestVisibilityTimeoutRedelivery(t *testing.T) {
	g := startUsers(t, server.PubSubConfig{})
	a := g.alice()
	a.bind("bkt1", "t1")
	a.fails("PUT", "/subscriptions/v?topic=t1&visibility-timeout=-1", http.StatusBadRequest, "InvalidArgument")
	a.ok("PUT", "/subscriptions/v?topic=t1&visibility-timeout=1", nil)
	a.put("bkt1", "k")
	first := events(t, a.pull("v", ""))
	if len(first) != 1 || first[0].Deliveries != 1 {
		t.Fatalf("first pull: %+v", first)
	}
	if p := a.pull("v", ""); len(p.Events) != 0 {
		t.Fatalf("in flight, pulled again: %+v", p)
	}
	// Not acked: it returns once the timeout passes (a long poll waits).
	again := events(t, a.pull("v", "&wait=10"))
	if len(again) != 1 || again[0].ID != first[0].ID || again[0].Deliveries != 2 {
		t.Fatalf("redelivery: %+v", again)
	}
	a.ok("POST", "/subscriptions/v?nack&event-id="+first[0].ID, nil)
	if third := events(t, a.pull("v", "")); len(third) != 1 || third[0].Deliveries != 3 {
		t.Fatalf("after nack: %+v", third)
	}
	a.ok("POST", "/subscriptions/v?ack&event-id="+first[0].ID, nil)
	if p := a.pull("v", "&wait=2"); len(p.Events) != 0 {
		t.Fatalf("acked event came back: %+v", p)
	}
}

func TestLongPollWakesOnPut(t *testing.T) {
	g := startUsers(t, server.PubSubConfig{})
	a := g.alice()
	a.bind("bkt1", "t1")
	a.ok("PUT", "/subscriptions/s?topic=t1", nil)
	got := make(chan page, 1)
	go func() { got <- a.pull("s", "&wait=30") }()
	// The poll is in flight or not yet: either way it must return the PUT.
	a.put("bkt1", "awaited")
	if evs := events(t, <-got); keysOf(evs) != "OBJECT_CREATE:awaited" {
		t.Fatalf("long poll: %s", keysOf(evs))
	}
}

func TestRetentionGap(t *testing.T) {
	g := startUsers(t, server.PubSubConfig{Retention: time.Second, ExpireInterval: 50 * time.Millisecond})
	a := g.alice()
	a.bind("bkt1", "t1")
	a.ok("PUT", "/subscriptions/s?topic=t1", nil)
	a.put("bkt1", "old1")
	a.put("bkt1", "old2")
	p := a.pull("s", "&max-entries=1")
	marker := p.NextMarker // a reader that stopped after old1
	if marker == "" {
		t.Fatal("no marker")
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(a.pull("s", "").Events) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("retention did not remove the events")
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.put("bkt1", "new")
	a.fails("GET", "/subscriptions/s?events&marker="+marker, http.StatusGone, "EventsExpired")
	if got := keysOf(events(t, a.pull("s", ""))); got != "OBJECT_CREATE:new" {
		t.Fatalf("from the start: %s", got)
	}
}

// TestPaging10000 pages through 10,000 events with markers, after a
// restart of the gateway.
func TestPaging10000(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 PUTs")
	}
	dir := t.TempDir()
	g := start(t, server.PubSubConfig{}, dir)
	root := g.as(g.srv.RootAccessKey, g.srv.RootSecretKey)
	root.mkbucket("big")
	root.ok("PUT", "/topics/t", nil)
	root.ok("PUT", "/notifications/bucket/big?topic=t", nil)
	root.ok("PUT", "/subscriptions/s?topic=t", nil)
	const n, writers = 10_000, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	client := root.s3()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += writers {
				if _, err := client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("big"),
					Key: aws.String(fmt.Sprintf("k%05d", i)), Body: strings.NewReader("x")}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	g.srv.Stop()
	g = start(t, server.PubSubConfig{}, dir)
	root = g.as(g.srv.RootAccessKey, g.srv.RootSecretKey)
	seen := map[string]bool{}
	marker := ""
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatal("paging did not end")
		}
		p := root.pull("s", "&max-entries=1000&marker="+marker)
		for _, e := range events(t, p) {
			if seen[e.Info.Key.Name] {
				t.Fatalf("%s twice", e.Info.Key.Name)
			}
			seen[e.Info.Key.Name] = true
		}
		if p.IsTruncated != "true" {
			break
		}
		marker = p.NextMarker
	}
	if len(seen) != n {
		t.Fatalf("paged %d events, want %d", len(seen), n)
	}
}

// TestShutdownEndsLongPolls: a server shutting down answers its idle
// long-polls (an empty page) instead of holding the shutdown until its
// timeout cuts the connections.
func TestShutdownEndsLongPolls(t *testing.T) {
	g := startUsers(t, server.PubSubConfig{})
	a := g.alice()
	a.ok("PUT", "/topics/t1", nil)
	a.ok("PUT", "/subscriptions/s?topic=t1", nil)
	type result struct {
		status int
		body   string
		err    error
	}
	req := a.signed("GET", "/subscriptions/s?events&wait=60")
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		done <- result{resp.StatusCode, string(body), err}
	}()
	// Stop once the poll is being served (bounded).
	for range 500 {
		if g.srv.Server.InFlight() > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	g.srv.Stop()
	r := <-done
	if r.err != nil || r.status != http.StatusOK || !strings.Contains(r.body, `"events":[]`) {
		t.Fatalf("long poll at shutdown: %d %s %v", r.status, r.body, r.err)
	}
}

// TestSubscriptionPush: a subscription with a push endpoint also pushes
// each event, as {"events":[event]} (pubsub.md §6.3), and stores it.
func TestSubscriptionPush(t *testing.T) {
	got := make(chan []byte, 10)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- body
	}))
	t.Cleanup(sink.Close)
	g := startUsers(t, server.PubSubConfig{})
	a := g.alice()
	a.bind("pushed", "t1")
	a.ok("PUT", "/subscriptions/s?topic=t1&push-endpoint="+url.QueryEscape(sink.URL), nil)
	a.put("pushed", "k")
	var body []byte
	select {
	case body = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("no push within 30s")
	}
	var env struct {
		Events []event `json:"events"`
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Events) != 1 || env.Events[0].Info.Key.Name != "k" {
		t.Fatalf("push body %s: %v", body, err)
	}
	stored := events(t, a.pull("s", ""))
	if len(stored) != 1 || stored[0].ID != env.Events[0].ID {
		t.Fatalf("stored %+v, pushed %+v", stored, env.Events)
	}
}

// TestUnroutedRequests: a method a PubSub path does not serve gets 405
// MethodNotAllowed, not a bucket operation on "topics".
func TestUnroutedRequests(t *testing.T) {
	g := startUsers(t, server.PubSubConfig{})
	a := g.alice()
	a.fails("PUT", "/topics", http.StatusMethodNotAllowed, "MethodNotAllowed")
	a.fails("POST", "/topics/t1", http.StatusMethodNotAllowed, "MethodNotAllowed")
	a.fails("POST", "/subscriptions/s", http.StatusMethodNotAllowed, "MethodNotAllowed")
}
