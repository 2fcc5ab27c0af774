package mqtt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"go.uber.org/goleak"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/base"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/testcert"
)

func TestMain(m *testing.M) {
	// mochi v2.7.9's Clients.GetByListener takes its read lock twice (via
	// Len), so a client attaching while the broker closes can deadlock the
	// test broker's Close (seen once in CI). stopBroker then gives up after
	// a bound; the goroutines it leaves are the broker's, not the endpoint's.
	opts := []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/mochi-mqtt/server/v2.(*Clients).Delete"),
		goleak.IgnoreAnyFunction("github.com/mochi-mqtt/server/v2.(*Clients).Len"),
		goleak.IgnoreAnyFunction("github.com/mochi-mqtt/server/v2/listeners.(*TCP).Serve"),
	}
	code := m.Run()
	if code == 0 {
		// A paho client disconnects in the background: its reconnect loop
		// sleeps out a backoff (1 s) before it sees the disconnect. So
		// goroutines are looked for until 5 s after the tests; one still
		// there then is a leak.
		err := goleak.Find(opts...)
		for deadline := time.Now().Add(5 * time.Second); err != nil && time.Now().Before(deadline); err = goleak.Find(opts...) {
			time.Sleep(200 * time.Millisecond)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

const body = `{"Records":[{"eventVersion":"2.2","eventSource":"ceph:s3","eventName":"ObjectCreated:Put"}]}`

type brokerOpts struct {
	users map[string]string // nil: allow everyone
	tls   *testcert.Cert
	addr  string // "" picks a free port
}

// runBroker starts an in-process mochi MQTT broker on 127.0.0.1 and returns
// its address and a function that stops it (also run at cleanup).
func runBroker(t *testing.T, o brokerOpts) (string, func()) {
	t.Helper()
	srv := mochi.New(&mochi.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if o.users == nil {
		if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
			t.Fatal(err)
		}
	} else {
		var rules auth.AuthRules
		for u, p := range o.users {
			rules = append(rules, auth.AuthRule{Username: auth.RString(u), Password: auth.RString(p), Allow: true})
		}
		ledger := &auth.Ledger{Auth: rules, ACL: auth.ACLRules{{Filters: auth.Filters{"#": auth.ReadWrite}}}}
		if err := srv.AddHook(new(auth.Hook), &auth.Options{Ledger: ledger}); err != nil {
			t.Fatal(err)
		}
	}
	lc := listeners.Config{ID: "tcp", Address: cmpOr(o.addr, "127.0.0.1:0")}
	if o.tls != nil {
		lc.TLSConfig = o.tls.Server
	}
	tcp := listeners.NewTCP(lc)
	if err := srv.AddListener(tcp); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			closed := make(chan struct{})
			go func() { srv.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Log("test broker: Close deadlocked in mochi (see TestMain); left behind")
			}
		})
	}
	t.Cleanup(stop)
	return tcp.Address(), stop
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// subscribe connects a QoS 1 subscriber and returns its message channel.
func subscribe(t *testing.T, addr, topic, user, pass string) <-chan paho.Message {
	t.Helper()
	got := make(chan paho.Message, 16)
	opts := paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("test-sub").
		SetUsername(user).SetPassword(pass).SetConnectTimeout(5 * time.Second)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) { got <- m })
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	return got
}

func receive(t *testing.T, got <-chan paho.Message) paho.Message {
	t.Helper()
	select {
	case m := <-got:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
		return nil
	}
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

func TestSendAckLevels(t *testing.T) {
	tests := []struct {
		ack     string
		wantQoS byte
	}{{AckBroker, 1}, {AckNone, 0}}
	for _, tc := range tests {
		t.Run(tc.ack, func(t *testing.T) {
			addr, _ := runBroker(t, brokerOpts{})
			got := subscribe(t, addr, "t1", "", "")
			e := newEndpoint(t, Config{URL: "mqtt://" + addr, AckLevel: tc.ack})
			if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"}); err != nil {
				t.Fatalf("Send: %v", err)
			}
			m := receive(t, got)
			if string(m.Payload()) != body || m.Topic() != "t1" || m.Qos() != tc.wantQoS || m.Retained() {
				t.Errorf("got topic %q qos %d retained %v payload %q; want t1, qos %d, not retained, the body",
					m.Topic(), m.Qos(), m.Retained(), m.Payload(), tc.wantQoS)
			}
		})
	}
}

func TestSendCredentials(t *testing.T) {
	addr, _ := runBroker(t, brokerOpts{users: map[string]string{"alice": "pw", "sub": "sub"}})
	got := subscribe(t, addr, "t1", "sub", "sub")
	e := newEndpoint(t, Config{URL: "mqtt://alice:pw@" + addr})
	if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	receive(t, got)

	bad := newEndpoint(t, Config{URL: "mqtt://alice:wrong-pw@" + addr})
	err := bad.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"})
	if !base.IsPermanent(err) {
		t.Errorf("wrong password: Send error = %v, want permanent", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestSendTLS(t *testing.T) {
	cert := testcert.New(t)
	addr, _ := runBroker(t, brokerOpts{tls: &cert})
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"ca-location", Config{VerifySSL: true, CAFile: cert.CAFile}, false},
		{"verify-ssl=false", Config{}, false},
		{"system roots", Config{VerifySSL: true}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.URL = "mqtts://" + addr
			tc.cfg.MessageTimeout = 3 * time.Second
			err := newEndpoint(t, tc.cfg).Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Send error = %v, want error: %v", err, tc.wantErr)
			}
		})
	}
}

func TestSendWithoutBrokerFailsThenRecovers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	e := newEndpoint(t, Config{URL: "mqtt://" + addr, ConnectTimeout: time.Second, MessageTimeout: 2 * time.Second})
	if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"}); err == nil {
		t.Fatal("Send without a broker succeeded")
	}
	runBroker(t, brokerOpts{addr: addr})
	got := subscribe(t, addr, "t1", "", "")
	if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"}); err != nil {
		t.Fatalf("Send once the broker is up: %v", err)
	}
	receive(t, got)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Send(ctx, base.Message{Body: []byte(body), Topic: "t1"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Send error = %v, want canceled", err)
	}
	e.Close()
	if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"}); !errors.Is(err, base.ErrClosed) {
		t.Errorf("Send after Close error = %v, want ErrClosed", err)
	}
}

func TestSendAfterBrokerRestart(t *testing.T) {
	addr, stop := runBroker(t, brokerOpts{})
	e := newEndpoint(t, Config{URL: "mqtt://" + addr, MessageTimeout: time.Second})
	// Close before the second broker stops: a client that lost its broker
	// sits in paho's reconnect back-off sleep, which Disconnect cannot cut
	// short, and the leak check would see that goroutine.
	defer e.Close()
	if err := e.Send(context.Background(), base.Message{Body: []byte("before"), Topic: "t1"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	stop()
	runBroker(t, brokerOpts{addr: addr})
	got := subscribe(t, addr, "t1", "", "")
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := e.Send(context.Background(), base.Message{Body: []byte("after"), Topic: "t1"})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Send still failing 20s after the restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for range 3 {
		if string(receive(t, got).Payload()) == "after" {
			return
		}
	}
	t.Fatal(`message "after" not received`)
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{
		{URL: "mqtt://"},
		{URL: "http://h"},
		{URL: "mqtt://h:0"},
		{URL: "mqtt://h", AckLevel: "routable"},
	} {
		if _, err := New(cfg); !base.IsPermanent(err) {
			t.Errorf("New(%+v) error = %v, want permanent", cfg, err)
		}
	}
}
