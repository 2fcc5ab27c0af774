package amqp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/cairn-s3/cairn/internal/brokertest"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/base"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/eventtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The tests need a real RabbitMQ (scripts/rabbitmq.sh start). Without one they
// skip, except in CI (CI=true or CAIRN_REQUIRE_ALL=1), where they fail.
const defaultTestURL = "amqp://guest:guest@127.0.0.1:5672/"

func required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("CAIRN_REQUIRE_ALL") == "1"
}

func testURL(t *testing.T) string {
	t.Helper()
	raw := os.Getenv("CAIRN_TEST_AMQP_URL")
	if raw == "" {
		raw = defaultTestURL
	}
	b, err := parseURL(raw)
	if err != nil {
		t.Fatalf("CAIRN_TEST_AMQP_URL: %v", err)
	}
	c, err := net.DialTimeout("tcp", b.addr(), 2*time.Second)
	if err != nil {
		if required() {
			t.Fatalf("RabbitMQ at %s unreachable (required in CI): %v", b.addr(), err)
		}
		t.Skipf("RabbitMQ at %s unreachable; run scripts/rabbitmq.sh start: %v", b.addr(), err)
	}
	c.Close()
	return raw
}

// fixture is a topic exchange and, optionally, a queue bound to it for one
// routing key, created through a separate admin connection.
type fixture struct {
	url      string
	exchange string
	topic    string
	queue    string
	admin    *amqp091.Connection
	ch       *amqp091.Channel
}

func newName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func newFixture(t *testing.T, bind bool, queueArgs amqp091.Table) *fixture {
	t.Helper()
	brokertest.LockRabbitMQ(t, false)
	f := &fixture{url: testURL(t), exchange: newName("cairn-ex"), topic: newName("topic")}
	f.connect(t)
	if err := f.ch.ExchangeDeclare(f.exchange, "topic", true, false, false, false, nil); err != nil {
		t.Fatalf("declare exchange: %v", err)
	}
	t.Cleanup(func() {
		// The admin connection may have been replaced (broker restart).
		if f.ch != nil {
			_ = f.ch.ExchangeDelete(f.exchange, false, false)
			if f.queue != "" {
				_, _ = f.ch.QueueDelete(f.queue, false, false, false)
			}
		}
		f.admin.Close()
	})
	if bind {
		f.queue = newName("cairn-q")
		// Durable and not exclusive, so it survives the broker restart test.
		if _, err := f.ch.QueueDeclare(f.queue, true, false, false, false, queueArgs); err != nil {
			t.Fatalf("declare queue: %v", err)
		}
		if err := f.ch.QueueBind(f.queue, f.topic, f.exchange, false, nil); err != nil {
			t.Fatalf("bind queue: %v", err)
		}
	}
	return f
}

func (f *fixture) connect(t *testing.T) {
	t.Helper()
	var err error
	if f.admin, err = amqp091.Dial(f.url); err != nil {
		t.Fatalf("admin connection: %v", err)
	}
	if f.ch, err = f.admin.Channel(); err != nil {
		t.Fatalf("admin channel: %v", err)
	}
}

// get fetches the next message of the fixture queue, polling for a bounded time.
func (f *fixture) get(t *testing.T) amqp091.Delivery {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		d, ok, err := f.ch.Get(f.queue, true)
		if err != nil {
			t.Fatalf("basic.get: %v", err)
		}
		if ok {
			return d
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no message arrived within 5s")
	return amqp091.Delivery{}
}

func (f *fixture) endpoint(t *testing.T, ack string) *Endpoint {
	t.Helper()
	e, err := New(Config{URL: f.url, Exchange: f.exchange, AckLevel: ack, VerifySSL: true})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func msg(f *fixture, body string) base.Message {
	return base.Message{Body: []byte(body), Topic: f.topic, ID: "id-1"}
}

func TestSendAckLevels(t *testing.T) {
	for _, ack := range []string{AckNone, AckBroker, AckRoutable} {
		t.Run(ack, func(t *testing.T) {
			f := newFixture(t, true, nil)
			e := f.endpoint(t, ack)
			body := fmt.Sprintf(`{"Records":[{"eventName":"ObjectCreated:Put","ack":%q}]}`, ack)
			if err := e.Send(context.Background(), msg(f, body)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			d := f.get(t)
			if string(d.Body) != body {
				t.Errorf("body = %q, want %q", d.Body, body)
			}
			if d.Exchange != f.exchange || d.RoutingKey != f.topic {
				t.Errorf("exchange/key = %q/%q, want %q/%q", d.Exchange, d.RoutingKey, f.exchange, f.topic)
			}
			if d.ContentType != "" || len(d.Headers) != 0 {
				t.Errorf("content type %q, headers %v; RGW sends neither", d.ContentType, d.Headers)
			}
			if ack == AckNone {
				if d.DeliveryMode != 0 || d.ReplyTo != "" {
					t.Errorf("level none: delivery mode %d, reply_to %q; want no properties", d.DeliveryMode, d.ReplyTo)
				}
				return
			}
			if d.DeliveryMode != amqp091.Persistent {
				t.Errorf("delivery mode = %d, want 2 (persistent)", d.DeliveryMode)
			}
			if !strings.HasPrefix(d.ReplyTo, "amq.gen-") {
				t.Errorf("reply_to = %q, want a server-named queue", d.ReplyTo)
			}
		})
	}
}

// TestSendCarriesEventID: at every ack level the record's eventId is the
// message-id, so consumers can drop redelivered copies.
func TestSendCarriesEventID(t *testing.T) {
	for _, ack := range []string{AckNone, AckBroker, AckRoutable} {
		t.Run(ack, func(t *testing.T) {
			f := newFixture(t, true, nil)
			e := f.endpoint(t, ack)
			m := base.Message{Body: []byte(eventtest.Body), Topic: f.topic, ID: eventtest.ID}
			if err := e.Send(context.Background(), m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			d := f.get(t)
			if want := eventtest.EventID(t, d.Body); d.MessageId != want || want != eventtest.ID {
				t.Errorf("message-id = %q, record eventId %q, want both %q", d.MessageId, want, eventtest.ID)
			}
		})
	}
}

func TestSendMissingExchangeIsPermanent(t *testing.T) {
	f := newFixture(t, false, nil)
	e, err := New(Config{URL: f.url, Exchange: newName("missing"), VerifySSL: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	err = e.Send(context.Background(), msg(f, "{}"))
	if !base.IsPermanent(err) {
		t.Fatalf("Send error = %v, want permanent", err)
	}
}

func TestSendBadCredentialsIsPermanent(t *testing.T) {
	f := newFixture(t, false, nil)
	u, _ := url.Parse(f.url)
	u.User = url.UserPassword("guest", "wrong-password")
	e, err := New(Config{URL: u.String(), Exchange: f.exchange})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	err = e.Send(context.Background(), msg(f, "{}"))
	if !base.IsPermanent(err) {
		t.Fatalf("Send error = %v, want permanent", err)
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestSendUnroutable(t *testing.T) {
	f := newFixture(t, false, nil) // exchange without any binding
	if err := f.endpoint(t, AckBroker).Send(context.Background(), msg(f, "{}")); err != nil {
		t.Errorf("broker level, unroutable: Send error = %v, want nil (message dropped by broker)", err)
	}
	err := f.endpoint(t, AckRoutable).Send(context.Background(), msg(f, "{}"))
	if err == nil || !strings.Contains(err.Error(), "unroutable") {
		t.Errorf("routable level, unroutable: Send error = %v, want unroutable", err)
	}
}

// TestSendRoutableCorrelatesReturns mixes routable and unroutable messages
// on one channel: exactly the unroutable ones must fail.
func TestSendRoutableCorrelatesReturns(t *testing.T) {
	f := newFixture(t, true, nil)
	e := f.endpoint(t, AckRoutable)
	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := msg(f, fmt.Sprintf(`{"n":%d}`, i))
			if i%2 == 1 {
				m.Topic = "nobody-listens"
			}
			errs[i] = e.Send(context.Background(), m)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if routable := i%2 == 0; routable != (err == nil) {
			t.Errorf("message %d (routable %v): Send error = %v", i, routable, err)
		}
	}
}

func TestSendNackFails(t *testing.T) {
	// A full queue with reject-publish overflow makes the broker nack.
	f := newFixture(t, true, amqp091.Table{"x-max-length": int32(1), "x-overflow": "reject-publish"})
	e := f.endpoint(t, AckBroker)
	if err := e.Send(context.Background(), msg(f, "first")); err != nil {
		t.Fatalf("first Send: %v", err)
	}
	err := e.Send(context.Background(), msg(f, "second"))
	if err == nil || !strings.Contains(err.Error(), "nack") {
		t.Fatalf("second Send error = %v, want nack", err)
	}
	// The endpoint stays usable after a nack.
	if d := f.get(t); string(d.Body) != "first" {
		t.Fatalf("queued body = %q, want first", d.Body)
	}
	if err := e.Send(context.Background(), msg(f, "third")); err != nil {
		t.Fatalf("Send after nack: %v", err)
	}
}

func TestSendConcurrent(t *testing.T) {
	for _, ack := range []string{AckBroker, AckRoutable} {
		t.Run(ack, func(t *testing.T) {
			f := newFixture(t, true, nil)
			e := f.endpoint(t, ack)
			const n = 64
			errs := make(chan error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- e.Send(context.Background(), msg(f, fmt.Sprintf(`{"n":%d}`, i)))
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("Send: %v", err)
				}
			}
			seen := map[string]bool{}
			for range n {
				seen[string(f.get(t).Body)] = true
			}
			for i := range n {
				if b := fmt.Sprintf(`{"n":%d}`, i); !seen[b] {
					t.Errorf("message %s not delivered", b)
				}
			}
		})
	}
}

func TestSendReconnectsAfterConnectionLoss(t *testing.T) {
	brokertest.LockRabbitMQ(t, true) // before the fixture's shared lock
	f := newFixture(t, true, nil)
	e := f.endpoint(t, AckBroker)
	if err := e.Send(context.Background(), msg(f, "before")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	e.mu.Lock()
	conn := e.sess.conn
	e.mu.Unlock()
	conn.Close() // as if the network dropped it

	if err := e.Send(context.Background(), msg(f, "after")); err != nil {
		t.Fatalf("Send after connection loss: %v", err)
	}
	for _, want := range []string{"before", "after"} {
		if got := string(f.get(t).Body); got != want {
			t.Errorf("body = %q, want %q", got, want)
		}
	}
}

func TestSendExchangeDeletedLater(t *testing.T) {
	f := newFixture(t, true, nil)
	e := f.endpoint(t, AckBroker)
	if err := e.Send(context.Background(), msg(f, "ok")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := f.ch.ExchangeDelete(f.exchange, false, false); err != nil {
		t.Fatal(err)
	}
	// The broker closes the channel on the first publish; at the latest the
	// reconnect's passive declare reports the missing exchange.
	var err error
	for range 3 {
		if err = e.Send(context.Background(), msg(f, "lost")); base.IsPermanent(err) {
			return
		}
		time.Sleep(minBackoff)
	}
	t.Fatalf("Send error = %v, want permanent", err)
}

func TestSendHonoursContext(t *testing.T) {
	f := newFixture(t, true, nil)
	e := f.endpoint(t, AckBroker)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Send(ctx, msg(f, "x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send error = %v, want canceled", err)
	}
}

func TestSendAfterClose(t *testing.T) {
	f := newFixture(t, true, nil)
	e := f.endpoint(t, AckBroker)
	if err := e.Send(context.Background(), msg(f, "x")); err != nil {
		t.Fatal(err)
	}
	e.Close()
	if err := e.Send(context.Background(), msg(f, "x")); !errors.Is(err, base.ErrClosed) {
		t.Fatalf("Send after Close error = %v, want ErrClosed", err)
	}
}

// TestSendAfterBrokerRestart stops and starts the local broker with
// scripts/rabbitmq.sh, so it runs only when asked for (about 10 s).
func TestSendAfterBrokerRestart(t *testing.T) {
	if os.Getenv("CAIRN_TEST_AMQP_RESTART") != "1" && os.Getenv("CI") != "true" {
		t.Skip("set CAIRN_TEST_AMQP_RESTART=1 to restart the broker")
	}
	f := newFixture(t, true, nil)
	e := f.endpoint(t, AckBroker)
	if err := e.Send(context.Background(), msg(f, "before")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := string(f.get(t).Body); got != "before" {
		t.Fatalf("body = %q, want before", got)
	}

	script := rabbitScript(t)
	t.Cleanup(func() { runScript(t, script, "start") }) // never leave it down
	runScript(t, script, "stop")
	f.admin.Close()
	f.ch = nil

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	err := e.Send(ctx, msg(f, "while down"))
	cancel()
	if err == nil {
		t.Fatal("Send while the broker is down succeeded")
	}

	runScript(t, script, "start")
	f.connect(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		err = e.Send(context.Background(), msg(f, "after"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Send after restart still failing after 30s: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if got := string(f.get(t).Body); got != "after" {
		t.Fatalf("body = %q, want after", got)
	}
}

func rabbitScript(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		p := filepath.Join(dir, "scripts", "rabbitmq.sh")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		dir = filepath.Dir(dir)
	}
	t.Fatal("scripts/rabbitmq.sh not found above the test directory")
	return ""
}

func runScript(t *testing.T, script, arg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", script, arg).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", script, arg, err, out)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in   string
		want broker
	}{
		{"amqp://h", broker{host: "h", port: "5672", user: "guest", password: "guest", vhost: "/"}},
		{"amqps://h", broker{tls: true, host: "h", port: "5671", user: "guest", password: "guest", vhost: "/"}},
		{"amqp://u:p%40ss@h:1234/vh", broker{host: "h", port: "1234", user: "u", password: "p@ss", vhost: "vh"}},
		{"amqp://u@h/", broker{host: "h", port: "5672", user: "u", password: "guest", vhost: "/"}},
		{"amqp://h/%2f", broker{host: "h", port: "5672", user: "guest", password: "guest", vhost: "/"}},
		{"amqp://h/a%2fb", broker{host: "h", port: "5672", user: "guest", password: "guest", vhost: "a/b"}},
		{"AMQP://[::1]:5673", broker{host: "::1", port: "5673", user: "guest", password: "guest", vhost: "/"}},
	}
	for _, tc := range tests {
		got, err := parseURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseURL(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "amqp://", "http://h", "amqp://h:0", "amqp://h:99999", "amqp://u:pw@h:x"} {
		_, err := parseURL(bad)
		if !base.IsPermanent(err) {
			t.Errorf("parseURL(%q) error = %v, want permanent", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("parseURL(%q) error leaks password: %v", bad, err)
		}
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Config{URL: "amqp://h", Exchange: "x", AckLevel: "sometimes"}); !base.IsPermanent(err) {
		t.Errorf("bad ack level: error = %v, want permanent", err)
	}
	if _, err := New(Config{URL: "amqp://h"}); !base.IsPermanent(err) {
		t.Errorf("missing exchange: error = %v, want permanent", err)
	}
}
