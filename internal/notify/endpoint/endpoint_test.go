package endpoint

import (
	"context"
	"errors"
	"fmt"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const body = `{"Records":[{"eventVersion":"2.2","eventSource":"ceph:s3","eventName":"ObjectCreated:Put"}]}`

func TestParseArgs(t *testing.T) {
	got := ParseArgs("verify-ssl=false&amqp-exchange=ex&ca-location=/etc/ssl/ca.pem&pw=a%26b&raw=100%&flag&verify-ssl=no")
	want := map[string]string{
		"verify-ssl": "no", "amqp-exchange": "ex", "ca-location": "/etc/ssl/ca.pem",
		"pw": "a&b", "raw": "100%", "flag": "",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ParseArgs = %v, want %v", got, want)
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		uri  string
		args string
		want Config
	}{
		{"defaults", "http://h/p", "", Config{URI: "http://h/p", VerifySSL: true}},
		{"http args", "https://h", "verify-ssl=FALSE&cloudevents=yes&http-ack-level=200&ca-location=/ca",
			Config{URI: "https://h", CloudEvents: true, AckLevel: "200", CALocation: "/ca"}},
		{"amqp args", "amqps://u:p@h/vh", "amqp-exchange=ex&amqp-ack-level=routable&amqp-version=0-9-1&kafka-ack-level=none",
			Config{URI: "amqps://u:p@h/vh", VerifySSL: true, AMQPExchange: "ex", AckLevel: "routable", AMQPVersion: "0-9-1"}},
		{"kafka args", "kafka://h", "use-ssl=1&verify-ssl=0&mechanism=SCRAM-SHA-512&user-name=u&password=p&kafka-brokers=a,b:1&kafka-ack-level=none&amqp-ack-level=broker",
			Config{URI: "kafka://h", UseSSL: true, Mechanism: "SCRAM-SHA-512", User: "u", Password: "p", KafkaBrokers: "a,b:1", AckLevel: "none"}},
		{"nats args", "nats://h", "nats-jetstream=true&nats-ack-level=none",
			Config{URI: "nats://h", VerifySSL: true, NATSJetStream: true, AckLevel: "none"}},
		{"mqtt args", "MQTTS://h", "mqtt-ack-level=none", Config{URI: "MQTTS://h", VerifySSL: true, AckLevel: "none"}},
		{"unknown args ignored", "http://h", "OpaqueData=x&persistent=true", Config{URI: "http://h", VerifySSL: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig(tc.uri, ParseArgs(tc.args))
			if err != nil || got != tc.want {
				t.Errorf("ParseConfig = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"verify-ssl=maybe", "use-ssl=", "cloudevents=2"} {
		if _, err := ParseConfig("http://h", ParseArgs(bad)); !IsPermanent(err) {
			t.Errorf("ParseConfig(%q) error = %v, want permanent", bad, err)
		}
	}
}

func TestConfigHidesSecrets(t *testing.T) {
	c := Config{URI: "amqp://user:hunter2@h:5672/", Password: "hunter3"}
	for _, s := range []string{c.String(), fmt.Sprint(c.LogValue())} {
		if strings.Contains(s, "hunter") || strings.Contains(s, "user") {
			t.Errorf("%q leaks credentials", s)
		}
	}
}

func TestOpenRejects(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		opts       []Option
		wantScheme bool
	}{
		{"empty", DefaultConfig(""), nil, true},
		{"ftp", DefaultConfig("ftp://h/x"), nil, true},
		{"nats without extensions", DefaultConfig("nats://h"), nil, true},
		{"mqtt without extensions", DefaultConfig("mqtt://h"), nil, true},
		{"http ack level", Config{URI: "http://h", AckLevel: "sometimes"}, nil, false},
		{"amqp version", Config{URI: "amqp://h", AMQPExchange: "x", AMQPVersion: "1-0"}, nil, false},
		{"amqp without exchange", DefaultConfig("amqp://h"), nil, false},
		{"amqp ack level", Config{URI: "amqp://h", AMQPExchange: "x", AckLevel: "all"}, nil, false},
		{"kafka ack level", Config{URI: "kafka://h", AckLevel: "routable"}, nil, false},
		{"nats ack level", Config{URI: "nats://h", AckLevel: "routable"}, []Option{WithExtensions()}, false},
		{"bad uri with password", DefaultConfig("http://u:hunter2@"), nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep, err := Open(context.Background(), tc.cfg, tc.opts...)
			if ep != nil || !IsPermanent(err) {
				t.Fatalf("Open = %v, %v; want nil and a permanent error", ep, err)
			}
			if got := errors.Is(err, ErrUnknownScheme); got != tc.wantScheme {
				t.Errorf("errors.Is(ErrUnknownScheme) = %v for %v", got, err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestOpenEveryScheme(t *testing.T) {
	for _, uri := range []string{"http://h", "https://h", "amqp://h", "amqps://h", "kafka://h", "nats://h", "mqtt://h", "mqtts://h"} {
		cfg := DefaultConfig(uri)
		cfg.AMQPExchange = "ex"
		ep, err := Open(context.Background(), cfg, WithExtensions())
		if err != nil {
			t.Errorf("Open(%s): %v", uri, err)
			continue
		}
		if err := ep.Close(); err != nil {
			t.Errorf("Close(%s): %v", uri, err)
		}
	}
}

func TestOpenHTTPWithCloudEvents(t *testing.T) {
	got := make(chan nethttp.Header, 1)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		got <- r.Header.Clone()
	}))
	defer srv.Close()

	cfg, err := ParseConfig(srv.URL+"/events", ParseArgs("cloudevents=true&http-ack-level=any"))
	if err != nil {
		t.Fatal(err)
	}
	ep, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	m := Message{Body: []byte(body), Topic: "t", ID: "id", Attributes: map[string]string{
		"ce-type": "com.amazonaws.ObjectCreated:Put", "ce-source": "ceph:s3.default.b",
		"ce-time": "2024-05-14T09:12:33.418204Z", "ce-id": "tx1.gw", "ce-subject": "k",
	}}
	if err := ep.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	h := <-got
	if h.Get("ce-specversion") != "1.0" || h.Get("ce-type") != "com.amazonaws.ObjectCreated:Put" || h.Get("ce-subject") != "k" {
		t.Errorf("CloudEvents headers missing: %v", h)
	}
}

// natsServer runs an in-process NATS server whose client count shows whether
// pooled connections are open.
func natsServer(t *testing.T) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(5 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

func natsURI(s *server.Server) string { return "nats://" + s.Addr().(*net.TCPAddr).String() }

// waitClients polls until the server has n clients, for at most 5 s.
func waitClients(t *testing.T, s *server.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.NumClients() != n {
		if time.Now().After(deadline) {
			t.Fatalf("server has %d clients, want %d", s.NumClients(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPoolSharesAndCloses(t *testing.T) {
	s := natsServer(t)
	p := NewPool(PoolOptions{Extensions: true})
	defer p.Close()
	ctx := context.Background()

	a, err := p.Get(ctx, DefaultConfig(natsURI(s)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.Get(ctx, DefaultConfig(natsURI(s)))
	if a != b {
		t.Error("equal configs got different endpoints")
	}
	other := DefaultConfig(natsURI(s))
	other.AckLevel = "none"
	c, _ := p.Get(ctx, other)
	if c == a {
		t.Error("different configs got the same endpoint")
	}

	for _, ep := range []Endpoint{a, b, c} {
		if err := ep.Send(ctx, Message{Body: []byte(body), Topic: "t"}); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	a.Close() // a no-op for pooled endpoints
	waitClients(t, s, 2)

	if err := p.Close(); err != nil {
		t.Fatalf("Pool.Close: %v", err)
	}
	waitClients(t, s, 0)
	if err := a.Send(ctx, Message{Body: []byte(body), Topic: "t"}); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("Send after Pool.Close error = %v, want ErrPoolClosed", err)
	}
	if _, err := p.Get(ctx, DefaultConfig(natsURI(s))); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("Get after Pool.Close error = %v, want ErrPoolClosed", err)
	}
}

func TestPoolClosesIdleEndpoints(t *testing.T) {
	s := natsServer(t)
	p := NewPool(PoolOptions{Extensions: true, IdleTimeout: 100 * time.Millisecond})
	defer p.Close()
	ctx := context.Background()
	ep, err := p.Get(ctx, DefaultConfig(natsURI(s)))
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.Send(ctx, Message{Body: []byte(body), Topic: "t"}); err != nil {
		t.Fatal(err)
	}
	waitClients(t, s, 1)
	waitClients(t, s, 0) // closed for idleness

	// The old handle still works; it reopens through the pool.
	if err := ep.Send(ctx, Message{Body: []byte(body), Topic: "t"}); err != nil {
		t.Fatalf("Send after idle close: %v", err)
	}
	waitClients(t, s, 1)
}

func TestPoolRejectsBadConfig(t *testing.T) {
	p := NewPool(PoolOptions{})
	defer p.Close()
	if _, err := p.Get(context.Background(), DefaultConfig("nats://h")); !errors.Is(err, ErrUnknownScheme) {
		t.Errorf("Get error = %v, want ErrUnknownScheme (extensions off)", err)
	}
	p.mu.Lock()
	n := len(p.entries)
	p.mu.Unlock()
	if n != 0 {
		t.Errorf("pool keeps %d entries for a config that failed to open", n)
	}
}

func TestPoolConcurrentUse(t *testing.T) {
	var mu sync.Mutex
	count := 0
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		mu.Lock()
		count++
		mu.Unlock()
	}))
	defer srv.Close()
	p := NewPool(PoolOptions{IdleTimeout: 20 * time.Millisecond})
	defer p.Close()

	const workers, sends = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*sends)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range sends {
				// Two configurations, so entries are shared and also reaped.
				cfg := DefaultConfig(fmt.Sprintf("%s/%d", srv.URL, (w+i)%2))
				ep, err := p.Get(context.Background(), cfg)
				if err == nil {
					err = ep.Send(context.Background(), Message{Body: []byte(body)})
				}
				errs <- err
				if i%5 == 0 {
					time.Sleep(25 * time.Millisecond) // let the reaper act
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	if count != workers*sends {
		t.Errorf("server got %d requests, want %d", count, workers*sends)
	}
}
