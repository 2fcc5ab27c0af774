package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// pushSink is an HTTP push endpoint that records the bodies it accepts;
// while failing it answers 500.
type pushSink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	fail   bool
}

func newPushSink(t *testing.T) *pushSink {
	s := &pushSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		s.bodies = append(s.bodies, body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *pushSink) setFail(v bool) { s.mu.Lock(); s.fail = v; s.mu.Unlock() }

func (s *pushSink) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.bodies) }

// eventually polls cond (bounded) until it holds.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exitCode runs a command and returns its exit code.
func exitCode(t *testing.T, vars map[string]string, args ...string) int {
	t.Helper()
	return runCLI(t, vars, args...).code
}

type topicOut struct {
	Owner string `json:"owner"`
	Name  string `json:"name"`
	Dest  struct {
		PushEndpoint      string `json:"push_endpoint"`
		PushEndpointArgs  string `json:"push_endpoint_args"`
		PushEndpointTopic string `json:"push_endpoint_topic"`
		StoredSecret      *bool  `json:"stored_secret"`
		Persistent        bool   `json:"persistent"`
		PersistentQueue   string `json:"persistent_queue"`
		TimeToLive        string `json:"time_to_live"`
		MaxRetries        string `json:"max_retries"`
		RetrySleep        string `json:"retry_sleep_duration"`
	} `json:"dest"`
	ARN        string  `json:"arn"`
	OpaqueData *string `json:"opaqueData"`
	Policy     *string `json:"policy"`
}

type statsOut struct {
	Topic map[string]int64 `json:"Topic Stats"`
	Queue struct {
		Depth, Bytes, Delivered, Failed, Dropped, DeadLettered, DeadLetterDepth, Pending int64
		OldestPendingAgeSeconds                                                          float64 `json:"oldest_pending_age_seconds"`
	} `json:"queue"`
}

func (s *statsOut) UnmarshalJSON(b []byte) error {
	var raw struct {
		Topic map[string]int64 `json:"Topic Stats"`
		Queue map[string]float64
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	s.Topic = raw.Topic
	q := raw.Queue
	s.Queue.Depth, s.Queue.Bytes = int64(q["depth"]), int64(q["bytes"])
	s.Queue.Delivered, s.Queue.Failed, s.Queue.Dropped = int64(q["delivered"]), int64(q["failed"]), int64(q["dropped"])
	s.Queue.DeadLettered, s.Queue.DeadLetterDepth, s.Queue.Pending = int64(q["dead_lettered"]), int64(q["dead_letter_depth"]), int64(q["pending"])
	s.Queue.OldestPendingAgeSeconds = q["oldest_pending_age_seconds"]
	return nil
}

// TestAdminTopicAndNotification drives every `cairn admin topic` and
// `cairn admin notification` subcommand against the real server.
func TestAdminTopicAndNotification(t *testing.T) {
	ctx := context.Background()
	srv := servertest.Start(t, servertest.Options{Notifications: server.NotificationConfig{
		RetryBackoffMin: 10 * time.Millisecond, RetryBackoffMax: 50 * time.Millisecond, PollInterval: 50 * time.Millisecond,
	}})
	vars := adminEnv(srv)
	cp := credentials.NewStaticCredentialsProvider(srv.RootAccessKey, srv.RootSecretKey, "")
	snsc := sns.New(sns.Options{Region: "default", BaseEndpoint: aws.String(srv.URL), Credentials: cp})
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, Credentials: cp})
	sink := newPushSink(t)

	mk := func(name string, attrs map[string]string) string {
		out, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.TopicArn)
	}
	arn1 := mk("t1", map[string]string{"push-endpoint": sink.srv.URL, "persistent": "true", "max_retries": "1", "OpaqueData": "od"})
	arn2 := mk("t2", map[string]string{"push-endpoint": sink.srv.URL})
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("bkt1"),
		NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{
			{Id: aws.String("n1"), TopicArn: aws.String(arn1), Events: []s3types.Event{"s3:ObjectCreated:*"}},
			{Id: aws.String("n2"), TopicArn: aws.String(arn2), Events: []s3types.Event{"s3:ObjectRemoved:*"},
				Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{
					{Name: "prefix", Value: aws.String("logs/")}}}}},
		}}}); err != nil {
		t.Fatal(err)
	}

	// topic list / get.
	var list struct{ Topics []topicOut }
	decode(t, ok(t, vars, "admin", "topic", "list"), &list)
	if len(list.Topics) != 2 || list.Topics[0].Name != "t1" || list.Topics[1].Name != "t2" {
		t.Fatalf("topic list: %+v", list)
	}
	var one topicOut
	decode(t, ok(t, vars, "admin", "topic", "get", "--topic", "t1"), &one)
	if one.Owner != "root" || one.ARN != arn1 || one.Dest.PushEndpoint != sink.srv.URL || !one.Dest.Persistent ||
		one.Dest.PersistentQueue != ":t1" || one.Dest.PushEndpointTopic != "t1" || one.Dest.MaxRetries != "1" ||
		one.Dest.TimeToLive != "None" || one.Dest.RetrySleep != "None" || one.Dest.StoredSecret == nil ||
		one.OpaqueData == nil || *one.OpaqueData != "od" || one.Policy == nil {
		t.Errorf("topic get: %+v", one)
	}
	decode(t, ok(t, vars, "admin", "topic", "list", "--uid", "nobody"), &list)
	if len(list.Topics) != 0 {
		t.Errorf("--uid nobody: %+v", list)
	}
	if code := exitCode(t, vars, "admin", "topic", "get", "--topic", "nope"); code != 2 {
		t.Errorf("topic get of a missing topic: exit %d, want 2 (ENOENT)", code)
	}

	// A persistent event that fails twice (max_retries=1) is dead-lettered.
	sink.setFail(true)
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("k1"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	var st statsOut
	eventually(t, 10*time.Second, "dead letter", func() bool {
		decode(t, ok(t, vars, "admin", "topic", "stats", "--topic", "t1"), &st)
		return st.Queue.DeadLetterDepth == 1
	})
	if _, has := st.Topic["Reservations"]; !has || st.Topic["Entries"] != 0 || st.Queue.Failed < 2 || st.Queue.DeadLettered != 1 || st.Queue.Delivered != 0 {
		t.Errorf("stats: %+v", st)
	}
	var dl struct {
		DeadLetters []struct {
			EventID   string `json:"event_id"`
			Key       string `json:"key"`
			Attempts  int    `json:"attempts"`
			LastError string `json:"last_error"`
			Event     struct {
				Records []struct {
					EventName string `json:"eventName"`
					S3        struct {
						Object struct {
							Key string `json:"key"`
						} `json:"object"`
					} `json:"s3"`
				}
			} `json:"event"`
		} `json:"dead_letters"`
	}
	decode(t, ok(t, vars, "admin", "topic", "dlq", "list", "--topic", "t1"), &dl)
	if len(dl.DeadLetters) != 1 || dl.DeadLetters[0].Key != "bkt1/k1" || dl.DeadLetters[0].Attempts != 2 || dl.DeadLetters[0].LastError == "" ||
		len(dl.DeadLetters[0].Event.Records) != 1 || dl.DeadLetters[0].Event.Records[0].S3.Object.Key != "k1" {
		t.Fatalf("dlq list: %+v", dl)
	}
	if code := exitCode(t, vars, "admin", "topic", "dlq", "replay", "--topic", "t1", "--event-id", "no-such-event"); code != 2 {
		t.Errorf("replay of an unknown event: exit %d", code)
	}
	sink.setFail(false)
	var replayed struct{ Replayed int }
	decode(t, ok(t, vars, "admin", "topic", "dlq", "replay", "--topic", "t1", "--event-id", dl.DeadLetters[0].EventID), &replayed)
	if replayed.Replayed != 1 {
		t.Errorf("replay: %+v", replayed)
	}
	eventually(t, 10*time.Second, "replayed delivery", func() bool { return sink.count() == 1 })
	// The ack is counted once its removal is durable, just after delivery.
	eventually(t, 5*time.Second, "replayed event counted", func() bool {
		decode(t, ok(t, vars, "admin", "topic", "stats", "--topic", "t1"), &st)
		return st.Queue.Delivered == 1 && st.Queue.DeadLetterDepth == 0 && st.Queue.Depth == 0
	})

	// test-event: pushed at once (synchronous topic) or queued (persistent).
	var te struct {
		EventID   string `json:"event_id"`
		Queued    bool
		Delivered bool
	}
	decode(t, ok(t, vars, "admin", "topic", "test-event", "--topic", "t2"), &te)
	if !te.Delivered || te.Queued || te.EventID == "" || sink.count() != 2 {
		t.Errorf("test-event (sync): %+v, %d pushes", te, sink.count())
	}
	decode(t, ok(t, vars, "admin", "topic", "test-event", "--topic", "t1"), &te)
	if !te.Queued {
		t.Errorf("test-event (persistent): %+v", te)
	}
	eventually(t, 10*time.Second, "queued test event", func() bool { return sink.count() == 3 })
	sink.mu.Lock()
	last := string(sink.bodies[2])
	sink.mu.Unlock()
	if !strings.Contains(last, `"name":"cairn-test-event"`) || !strings.Contains(last, `"opaqueData":"od"`) {
		t.Errorf("test record: %s", last)
	}

	// notification list / get / rm.
	type notif struct {
		TopicArn string
		Id       string
		Events   []string
		Filter   map[string]struct {
			FilterRules []struct{ Name, Value string }
		}
	}
	var nl struct{ Notifications []notif }
	decode(t, ok(t, vars, "admin", "notification", "list", "--bucket", "bkt1"), &nl)
	if len(nl.Notifications) != 2 || nl.Notifications[0].Id != "n1" || nl.Notifications[0].TopicArn != arn1 ||
		len(nl.Notifications[0].Events) != 1 || nl.Notifications[0].Events[0] != "s3:ObjectCreated:*" {
		t.Fatalf("notification list: %+v", nl)
	}
	var n2 notif
	decode(t, ok(t, vars, "admin", "notification", "get", "--bucket", "bkt1", "--notification-id", "n2"), &n2)
	if r := n2.Filter["S3Key"].FilterRules; len(r) != 1 || r[0].Name != "prefix" || r[0].Value != "logs/" {
		t.Errorf("notification get: %+v", n2)
	}
	if _, has := n2.Filter["S3Metadata"]; !has {
		t.Errorf("Filter lacks S3Metadata: %+v", n2.Filter)
	}
	if code := exitCode(t, vars, "admin", "notification", "get", "--bucket", "bkt1", "--notification-id", "zz"); code != 2 {
		t.Errorf("notification get missing: exit %d", code)
	}
	if code := exitCode(t, vars, "admin", "notification", "list", "--bucket", "no-such-bucket"); code != 2 {
		t.Errorf("notification list of a missing bucket: exit %d", code)
	}
	ok(t, vars, "admin", "notification", "rm", "--bucket", "bkt1", "--notification-id", "n2")
	decode(t, ok(t, vars, "admin", "notification", "list", "--bucket", "bkt1"), &nl)
	if len(nl.Notifications) != 1 || nl.Notifications[0].Id != "n1" {
		t.Errorf("after rm n2: %+v", nl)
	}
	ok(t, vars, "admin", "notification", "rm", "--bucket", "bkt1")
	decode(t, ok(t, vars, "admin", "notification", "list", "--bucket", "bkt1"), &nl)
	if len(nl.Notifications) != 0 {
		t.Errorf("after rm: %+v", nl)
	}
	// The removal is live: no more events.
	before := sink.count()
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("k2"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if sink.count() != before {
		t.Errorf("event after notification rm")
	}

	// topic rm.
	ok(t, vars, "admin", "topic", "rm", "--topic", "t1")
	if code := exitCode(t, vars, "admin", "topic", "get", "--topic", "t1"); code != 2 {
		t.Errorf("topic get after rm: exit %d", code)
	}

	// Counters for metrics.
	c, err := (&adminFlags{endpoint: srv.URL, accessKey: srv.RootAccessKey, secretKey: srv.RootSecretKey, region: "us-east-1", timeout: 10 * time.Second}).client(env{stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	body, err := c.call(ctx, http.MethodGet, "/admin/notification/stats", "", map[string][]string{})
	if err != nil {
		t.Fatal(err)
	}
	var counters map[string]any
	decode(t, string(body), &counters)
	if counters["pubsub_push_ok"].(float64) < 2 || counters["persistent"] == nil {
		t.Errorf("notification stats: %s", body)
	}
}
