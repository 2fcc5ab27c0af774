package kafka

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"go.uber.org/goleak"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/base"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/eventtest"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/testcert"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const body = `{"Records":[{"eventVersion":"2.2","eventSource":"ceph:s3","eventName":"ObjectCreated:Put"}]}`

// cluster starts an in-process Kafka (kfake listens on 127.0.0.1 only).
func cluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(1, "t1")}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newEndpoint(t *testing.T, cfg Config) *Endpoint {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// consume reads n records of topic from the start, within a bounded time.
func consume(t *testing.T, c *kfake.Cluster, topic string, n int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("got %d of %d records before timeout", len(recs), n)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Logf("fetch error: %v", err) })
		recs = append(recs, fs.Records()...)
	}
	return recs
}

func TestSendAckLevels(t *testing.T) {
	for _, ack := range []string{AckNone, AckBroker} {
		t.Run(ack, func(t *testing.T) {
			c := cluster(t)
			e := newEndpoint(t, Config{URL: "kafka://" + c.ListenAddrs()[0], AckLevel: ack})
			if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1", ID: "ev"}); err != nil {
				t.Fatalf("Send: %v", err)
			}
			r := consume(t, c, "t1", 1)[0]
			if string(r.Value) != body {
				t.Errorf("value = %q, want %q", r.Value, body)
			}
			if r.Key != nil || len(r.Headers) != 1 || r.Headers[0].Key != base.IDHeader || string(r.Headers[0].Value) != "ev" {
				t.Errorf("key %q, headers %v; want no key and only the event id", r.Key, r.Headers)
			}
		})
	}
}

// TestSendCarriesEventID: the record's eventId travels in header eventId,
// so consumers can drop redelivered copies without parsing the value.
func TestSendCarriesEventID(t *testing.T) {
	c := cluster(t)
	e := newEndpoint(t, Config{URL: "kafka://" + c.ListenAddrs()[0]})
	m := base.Message{Body: []byte(eventtest.Body), Topic: "t1", ID: eventtest.ID}
	if err := e.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := consume(t, c, "t1", 1)[0]
	var got []string
	for _, h := range r.Headers {
		if h.Key == "eventId" {
			got = append(got, string(h.Value))
		}
	}
	if want := eventtest.EventID(t, r.Value); len(got) != 1 || got[0] != want || want != eventtest.ID {
		t.Errorf("eventId headers %q, record eventId %q, want one header %q", got, want, eventtest.ID)
	}
}

func TestSendAutoCreatesTopic(t *testing.T) {
	c := cluster(t, kfake.AllowAutoTopicCreation())
	e := newEndpoint(t, Config{URL: "kafka://" + c.ListenAddrs()[0]})
	if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "fresh"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := string(consume(t, c, "fresh", 1)[0].Value); got != body {
		t.Errorf("value = %q", got)
	}
}

func TestSendSASL(t *testing.T) {
	c := cluster(t,
		kfake.EnableSASL(),
		kfake.Superuser(MechanismPlain, "admin", "admin-pw"),
		kfake.Superuser(MechanismPlain, "alice", "alice-pw"),
		kfake.Superuser(MechanismScramSHA256, "bob", "bob-pw"),
		kfake.Superuser(MechanismScramSHA512, "carol", "carol-pw"),
	)
	addr := c.ListenAddrs()[0]
	tests := []struct {
		name string
		cfg  Config
	}{
		{"PLAIN from URI", Config{URL: "kafka://alice:alice-pw@" + addr}},
		{"PLAIN explicit", Config{URL: "kafka://alice:alice-pw@" + addr, Mechanism: "PLAIN"}},
		{"SCRAM-SHA-256", Config{URL: "kafka://bob:bob-pw@" + addr, Mechanism: MechanismScramSHA256}},
		{"SCRAM-SHA-512", Config{URL: "kafka://carol:carol-pw@" + addr, Mechanism: MechanismScramSHA512}},
		{"user-name/password args override URI", Config{URL: "kafka://nobody:x@" + addr, User: "bob", Password: "bob-pw", Mechanism: MechanismScramSHA256}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := newEndpoint(t, tc.cfg).Send(context.Background(), base.Message{Body: []byte(tc.name), Topic: "t1"}); err != nil {
				t.Fatalf("Send: %v", err)
			}
		})
	}
	recs := consume(t, c, "t1", len(tests), kgo.SASL(plain.Auth{User: "admin", Pass: "admin-pw"}.AsMechanism()))
	var got []string
	for _, r := range recs {
		got = append(got, string(r.Value))
	}
	for _, tc := range tests {
		if !slices.Contains(got, tc.name) {
			t.Errorf("record %q not consumed; got %q", tc.name, got)
		}
	}

	t.Run("wrong password", func(t *testing.T) {
		e := newEndpoint(t, Config{URL: "kafka://alice:not-it@" + addr, MessageTimeout: 2 * time.Second})
		err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"})
		if err == nil {
			t.Fatal("Send with a wrong password succeeded")
		}
		if strings.Contains(err.Error(), "not-it") {
			t.Errorf("error leaks the password: %v", err)
		}
		t.Logf("error (permanent %v): %v", base.IsPermanent(err), err)
	})
}

func TestSendTLS(t *testing.T) {
	cert := testcert.New(t)
	c := cluster(t, kfake.TLS(cert.Server))
	url := "kafka://" + c.ListenAddrs()[0]
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"ca-location", Config{URL: url, UseSSL: true, VerifySSL: true, CAFile: cert.CAFile}, false},
		{"verify-ssl=false", Config{URL: url, UseSSL: true, VerifySSL: false}, false},
		{"system roots", Config{URL: url, UseSSL: true, VerifySSL: true}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.MessageTimeout = 2 * time.Second
			err := newEndpoint(t, tc.cfg).Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Send error = %v, want error: %v", err, tc.wantErr)
			}
		})
	}
}

func TestSendExtraBrokers(t *testing.T) {
	c := cluster(t)
	dead := deadAddr(t)
	e := newEndpoint(t, Config{URL: "kafka://" + dead, ExtraBrokers: c.ListenAddrs()[0]})
	if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
}

func TestSendTimesOutWithoutBroker(t *testing.T) {
	e := newEndpoint(t, Config{URL: "kafka://" + deadAddr(t), MessageTimeout: 500 * time.Millisecond})
	start := time.Now()
	err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"})
	if err == nil {
		t.Fatal("Send without a broker succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %v, want about the 500ms message timeout", d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	e2 := newEndpoint(t, Config{URL: "kafka://" + deadAddr(t)})
	if err := e2.Send(ctx, base.Message{Body: []byte(body), Topic: "t1"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send error = %v, want deadline exceeded from ctx", err)
	}
}

func TestSendAfterClose(t *testing.T) {
	c := cluster(t)
	e := newEndpoint(t, Config{URL: "kafka://" + c.ListenAddrs()[0]})
	e.Close()
	if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"}); !errors.Is(err, base.ErrClosed) {
		t.Fatalf("Send after Close error = %v, want ErrClosed", err)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in             string
		brokers        []string
		user, password string
	}{
		{"kafka://h", []string{"h:9092"}, "", ""},
		{"KAFKA://h:1234/ignored?x=y", []string{"h:1234"}, "", ""},
		{"kafka://u:p%40w@h1,h2:9093", []string{"h1:9092", "h2:9093"}, "u", "p@w"},
		{"kafka://[::1]:9000", []string{"[::1]:9000"}, "", ""},
	}
	for _, tc := range tests {
		b, u, p, err := parseURL(tc.in)
		if err != nil || !slices.Equal(b, tc.brokers) || u != tc.user || p != tc.password {
			t.Errorf("parseURL(%q) = %q %q %q %v; want %q %q %q", tc.in, b, u, p, err, tc.brokers, tc.user, tc.password)
		}
	}
	for _, bad := range []string{"", "kafka://", "http://h", "kafka://u:secret@h:x"} {
		_, _, _, err := parseURL(bad)
		if !base.IsPermanent(err) {
			t.Errorf("parseURL(%q) error = %v, want permanent", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("parseURL(%q) error leaks the password: %v", bad, err)
		}
	}
}

func TestNewValidates(t *testing.T) {
	for name, cfg := range map[string]Config{
		"ack level": {URL: "kafka://h", AckLevel: "routable"},
		"mechanism": {URL: "kafka://u:p@h", Mechanism: "GSSAPI"},
		"brokers":   {URL: "kafka://h", ExtraBrokers: "h:notaport"},
	} {
		if _, err := New(cfg); !base.IsPermanent(err) {
			t.Errorf("%s: New error = %v, want permanent", name, err)
		}
	}
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
