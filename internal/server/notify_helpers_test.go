package server_test

// Helpers of the notification tests of the real server: a gateway started
// with servertest and driven by aws-sdk-go-v2, and one consumer per broker
// kind (RabbitMQ, embedded NATS, kfake Kafka, embedded MQTT, HTTP), each on
// 127.0.0.1.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"github.com/cairn-s3/cairn/internal/brokertest"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	paho "github.com/eclipse/paho.mqtt.golang"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	natsserver "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// fastRetries makes persistent delivery retry quickly in tests, and lets
// topics carry the test broker's credentials over plain HTTP (the
// --allow-notification-secrets-in-cleartext setting).
var fastRetries = server.NotificationConfig{
	AllowSecretsInCleartext: true,
	RetryBackoffMin:         20 * time.Millisecond, RetryBackoffMax: 500 * time.Millisecond,
	PollInterval: 200 * time.Millisecond, SendTimeout: 5 * time.Second,
}

type gateway struct {
	srv *servertest.Running
	s3  *s3.Client
	sns *sns.Client
}

func startGateway(t testing.TB, nc server.NotificationConfig) *gateway {
	t.Helper()
	return startGatewayWith(t, servertest.Options{Notifications: nc})
}

func startGatewayWith(t testing.TB, opts servertest.Options) *gateway {
	t.Helper()
	srv := servertest.Start(t, opts)
	cp := credentials.NewStaticCredentialsProvider(srv.RootAccessKey, srv.RootSecretKey, "")
	return &gateway{
		srv: srv,
		s3: s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, Credentials: cp,
			RetryMaxAttempts: 1}),
		sns: sns.New(sns.Options{Region: "default", BaseEndpoint: aws.String(srv.URL), Credentials: cp}),
	}
}

func (g *gateway) topic(t testing.TB, name string, attrs map[string]string) string {
	t.Helper()
	out, err := g.sns.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateTopic %s: %v", name, err)
	}
	return aws.ToString(out.TopicArn)
}

// bucket creates a bucket whose notification "n-<bucket>" sends every
// creation and removal to arn.
func (g *gateway) bucket(t testing.TB, name, arn string) {
	t.Helper()
	ctx := context.Background()
	if _, err := g.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
	if _, err := g.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(name), NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{{
			Id: aws.String("n-" + name), TopicArn: aws.String(arn), Events: []s3types.Event{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"},
		}}},
	}); err != nil {
		t.Fatalf("PutBucketNotificationConfiguration %s: %v", name, err)
	}
}

func newName(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// consumer receives the messages a broker got for one topic.
type consumer struct {
	endpoint string            // push-endpoint
	attrs    map[string]string // extra topic attributes (exchange, ...)
	msgs     chan []byte
}

func newConsumer(endpoint string, attrs map[string]string) *consumer {
	return &consumer{endpoint: endpoint, attrs: attrs, msgs: make(chan []byte, 100000)}
}

// next returns the next message, failing after within.
func (c *consumer) next(t testing.TB, within time.Duration) []byte {
	t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-time.After(within):
		t.Fatalf("no message within %v", within)
		return nil
	}
}

// topicAttrs returns the CreateTopic attributes for this consumer.
func (c *consumer) topicAttrs(persistent bool, more ...string) map[string]string {
	a := map[string]string{"push-endpoint": c.endpoint}
	for k, v := range c.attrs {
		a[k] = v
	}
	if persistent {
		a["persistent"] = "true"
	}
	for i := 0; i+1 < len(more); i += 2 {
		a[more[i]] = more[i+1]
	}
	return a
}

// required reports whether a missing external broker fails the test.
func required() bool { return os.Getenv("CI") == "true" }

// amqpURL returns the test broker's URL, skipping (or, under CI=true,
// failing) when it is unreachable.
func amqpURL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv("CAIRN_TEST_AMQP_URL")
	if raw == "" {
		raw = "amqp://guest:guest@127.0.0.1:5672/"
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("CAIRN_TEST_AMQP_URL: %v", err)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "5672")
	}
	c, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		if required() {
			t.Fatalf("RabbitMQ at %s unreachable (required in CI): %v", host, err)
		}
		t.Skipf("RabbitMQ at %s unreachable; run scripts/rabbitmq.sh start: %v", host, err)
	}
	c.Close()
	return raw
}

// rabbitDelivery is one AMQP message with its envelope.
type rabbitDelivery struct {
	body               []byte
	exchange, key      string
	deliveryMode       uint8
	contentType, msgID string
}

// rabbitConsumer declares a topic exchange and a durable queue bound to
// the topic name (the routing key RGW publishes with) and consumes it.
func rabbitConsumer(t testing.TB, topic string) (*consumer, chan rabbitDelivery) {
	t.Helper()
	raw := amqpURL(t)
	brokertest.LockRabbitMQ(t, false)
	conn, err := amqp091.Dial(raw)
	if err != nil {
		t.Fatalf("amqp dial: %v", err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	ex, q := newName("cairn-ex"), newName("cairn-q")
	if err := ch.ExchangeDeclare(ex, "topic", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(q, topic, ex, false, nil); err != nil {
		t.Fatal(err)
	}
	c := newConsumer(raw, map[string]string{"amqp-exchange": ex, "amqp-ack-level": "broker"})
	env := make(chan rabbitDelivery, 100000)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		consumeRabbit(ctx, raw, q, c.msgs, env)
	}()
	conn.Close()
	t.Cleanup(func() {
		cancel()
		<-done
		// A fresh connection: the broker may have been restarted.
		if conn, err := amqp091.Dial(raw); err == nil {
			if ch, err := conn.Channel(); err == nil {
				_, _ = ch.QueueDelete(q, false, false, false)
				_ = ch.ExchangeDelete(ex, false, false)
			}
			conn.Close()
		}
	})
	return c, env
}

// consumeRabbit consumes queue q until ctx ends, reconnecting (bounded
// pace) when the broker restarts.
func consumeRabbit(ctx context.Context, raw, q string, msgs chan<- []byte, env chan<- rabbitDelivery) {
	for ctx.Err() == nil {
		conn, err := amqp091.Dial(raw)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		ch, err := conn.Channel()
		var ds <-chan amqp091.Delivery
		if err == nil {
			ds, err = ch.Consume(q, "", true, false, false, false, nil)
		}
		if err != nil {
			conn.Close()
			continue
		}
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case d, ok := <-ds:
				if !ok {
					break loop
				}
				msgs <- d.Body
				select {
				case env <- rabbitDelivery{d.Body, d.Exchange, d.RoutingKey, d.DeliveryMode, d.ContentType, d.MessageId}:
				default:
				}
			}
		}
		conn.Close()
	}
}

// natsConsumer starts an embedded NATS server (on port, or a free one if
// 0) and subscribes to topic.
func natsConsumer(t testing.TB, topic string, port int) (*consumer, *natsserver.Server) {
	t.Helper()
	s := runNATS(t, port)
	c := newConsumer("nats://"+s.Addr().String(), nil)
	nc, err := natsgo.Connect("nats://"+s.Addr().String(), natsgo.MaxReconnects(-1), natsgo.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if _, err := nc.Subscribe(topic, func(m *natsgo.Msg) { c.msgs <- m.Data }); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return c, s
}

func runNATS(t testing.TB, port int) *natsserver.Server {
	t.Helper()
	if port == 0 {
		port = -1
	}
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(5 * time.Second) {
		s.Shutdown()
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// kafkaConsumer starts a kfake cluster with the topic and consumes it.
func kafkaConsumer(t testing.TB, topic string) *consumer {
	t.Helper()
	cl, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic)) // listens on 127.0.0.1
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	c := newConsumer("kafka://"+cl.ListenAddrs()[0], nil)
	kc, err := kgo.NewClient(kgo.SeedBrokers(cl.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := kc.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) { c.msgs <- r.Value })
		}
	}()
	t.Cleanup(func() { cancel(); <-done; kc.Close() })
	return c
}

// mqttConsumer starts an embedded MQTT broker and subscribes (QoS 1).
func mqttConsumer(t testing.TB, topic string) *consumer {
	t.Helper()
	srv := mochi.New(&mochi.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "tcp", Address: "127.0.0.1:0"})
	if err := srv.AddListener(tcp); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c := newConsumer("mqtt://"+tcp.Address(), nil)
	opts := paho.NewClientOptions().AddBroker("tcp://" + tcp.Address()).SetClientID(newName("sub")).SetConnectTimeout(5 * time.Second)
	cl := paho.NewClient(opts)
	if tok := cl.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt connect: %v", tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(0) })
	if tok := cl.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) { c.msgs <- m.Payload() }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt subscribe: %v", tok.Error())
	}
	return c
}

// httpSink is an HTTP push endpoint; while failing it answers 500.
type httpSink struct {
	*consumer
	srv     *httptest.Server
	mu      sync.Mutex
	fail    bool
	headers []http.Header
	paths   []string
}

func newHTTPSink(t testing.TB) *httpSink {
	t.Helper()
	s := &httpSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		fail := s.fail
		if !fail {
			s.headers = append(s.headers, r.Header.Clone())
			s.paths = append(s.paths, r.URL.Path)
		}
		s.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		s.msgs <- body
	}))
	t.Cleanup(s.srv.Close)
	s.consumer = newConsumer(s.srv.URL+"/rgw-events", nil)
	return s
}

func (s *httpSink) setFail(v bool) { s.mu.Lock(); s.fail = v; s.mu.Unlock() }

// flatten lists the paths of a JSON document's fields (array elements
// as "[]"), sorted: the shape of a record.
func flatten(t testing.TB, data []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, data)
	}
	set := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				set[prefix+"."+k] = true
				walk(prefix+"."+k, c)
			}
		case []any:
			for _, c := range x {
				walk(prefix+"[]", c)
			}
		}
	}
	walk("", v)
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sample reads an RGW capture (a copy of shared/spec/rgw-samples in
// testdata, so the test does not depend on files outside the repository).
func sample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/rgw-samples/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// record is the parsed record of a message.
type record struct {
	EventVersion, EventSource, AwsRegion, EventTime, EventName string
	UserIdentity                                               struct{ PrincipalID string }
	ResponseElements                                           map[string]string
	S3                                                         struct {
		S3SchemaVersion, ConfigurationID string
		Bucket                           struct{ Name, Arn, ID string }
		Object                           struct {
			Key                        string
			Size                       int64
			ETag, VersionID, Sequencer string
			Metadata, Tags             []struct{ Key, Val string }
		}
	}
	EventID, OpaqueData string
}

func parseRecord(t testing.TB, body []byte) record {
	t.Helper()
	var env struct{ Records []record }
	if err := json.Unmarshal(body, &env); err != nil || len(env.Records) != 1 {
		t.Fatalf("message %s: %v", body, err)
	}
	return env.Records[0]
}

// checkLikeSample compares a received record with an RGW capture: the same
// fields, the same constants, and the values this test set.
func checkLikeSample(t testing.TB, got []byte, sampleName, bucket, key, etag string, size int64) record {
	t.Helper()
	want := sample(t, sampleName)
	if g, w := strings.Join(flatten(t, got), " "), strings.Join(flatten(t, want), " "); g != w {
		t.Errorf("record fields differ from %s:\n got %s\nwant %s", sampleName, g, w)
	}
	r, s := parseRecord(t, got), parseRecord(t, want)
	if r.EventVersion != s.EventVersion || r.EventSource != s.EventSource || r.EventName != s.EventName ||
		r.S3.S3SchemaVersion != s.S3.S3SchemaVersion || r.ResponseElements["x-amz-id-2"] == "" || r.ResponseElements["x-amz-request-id"] == "" {
		t.Errorf("constants: got %+v, sample %+v", r, s)
	}
	if r.S3.Bucket.Name != bucket || r.S3.Object.Key != key || r.S3.Object.Size != size || r.S3.Object.ETag != etag ||
		r.S3.ConfigurationID != "n-"+bucket || r.UserIdentity.PrincipalID != "root" || len(r.S3.Object.Sequencer) != 16 ||
		!strings.HasSuffix(r.EventID, "."+etag) || r.S3.Bucket.Arn != "arn:aws:s3:default::"+bucket {
		t.Errorf("values: %+v", r)
	}
	return r
}
