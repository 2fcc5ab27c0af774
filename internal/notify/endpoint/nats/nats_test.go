package nats

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/base"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/eventtest"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/testcert"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const body = `{"Records":[{"eventVersion":"2.2","eventSource":"ceph:s3","eventName":"ObjectCreated:Put"}]}`

// runServer starts an in-process nats-server on 127.0.0.1. Port 0 picks a
// free port; opts may preset other fields.
func runServer(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	if opts == nil {
		opts = &server.Options{}
	}
	opts.Host = "127.0.0.1"
	if opts.Port == 0 {
		opts.Port = -1 // random
	}
	opts.NoLog, opts.NoSigs = true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(5 * time.Second) {
		s.Shutdown()
		t.Fatal("nats-server not ready within 5s")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

func addr(s *server.Server) string { return s.Addr().(*net.TCPAddr).String() }

func newEndpoint(t *testing.T, cfg Config) *Endpoint {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// subscribe returns a synchronous subscription on subject, connected with opts.
func subscribe(t *testing.T, s *server.Server, subject string, opts ...natsgo.Option) *natsgo.Subscription {
	t.Helper()
	nc, err := natsgo.Connect("nats://"+addr(s), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	// Make sure the server registered the interest before anything is sent.
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}

func next(t *testing.T, sub *natsgo.Subscription) *natsgo.Msg {
	t.Helper()
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no message: %v", err)
	}
	return m
}

func TestSendAckLevels(t *testing.T) {
	s := runServer(t, nil)
	for _, ack := range []string{AckNone, AckBroker} {
		t.Run(ack, func(t *testing.T) {
			sub := subscribe(t, s, "t1")
			e := newEndpoint(t, Config{URL: "nats://" + addr(s), AckLevel: ack})
			if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1", ID: "ev-1"}); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if got := next(t, sub); string(got.Data) != body {
				t.Errorf("data = %q, want %q", got.Data, body)
			}
		})
	}
}

// TestSendCarriesEventID: core NATS messages carry the record's eventId
// in the Nats-Msg-Id header, as JetStream publishes do (TestSendJetStream).
func TestSendCarriesEventID(t *testing.T) {
	s := runServer(t, nil)
	for _, ack := range []string{AckNone, AckBroker} {
		t.Run(ack, func(t *testing.T) {
			sub := subscribe(t, s, "t1")
			e := newEndpoint(t, Config{URL: "nats://" + addr(s), AckLevel: ack})
			m := base.Message{Body: []byte(eventtest.Body), Topic: "t1", ID: eventtest.ID}
			if err := e.Send(context.Background(), m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := next(t, sub)
			if h, want := got.Header.Get("Nats-Msg-Id"), eventtest.EventID(t, got.Data); h != want || want != eventtest.ID {
				t.Errorf("Nats-Msg-Id = %q, record eventId %q, want both %q", h, want, eventtest.ID)
			}
		})
	}
}

func TestSendCredentials(t *testing.T) {
	t.Run("user and password", func(t *testing.T) {
		s := runServer(t, &server.Options{Username: "alice", Password: "s3cret"})
		sub := subscribe(t, s, "t1", natsgo.UserInfo("alice", "s3cret"))
		e := newEndpoint(t, Config{URL: "nats://alice:s3cret@" + addr(s)})
		if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"}); err != nil {
			t.Fatalf("Send: %v", err)
		}
		next(t, sub)

		bad := newEndpoint(t, Config{URL: "nats://alice:wrong-pw@" + addr(s)})
		err := bad.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"})
		if !base.IsPermanent(err) {
			t.Errorf("wrong password: Send error = %v, want permanent", err)
		}
		if err != nil && strings.Contains(err.Error(), "wrong-pw") {
			t.Errorf("error leaks the password: %v", err)
		}
	})
	t.Run("token", func(t *testing.T) {
		s := runServer(t, &server.Options{Authorization: "tok3n"})
		sub := subscribe(t, s, "t1", natsgo.Token("tok3n"))
		e := newEndpoint(t, Config{URL: "nats://tok3n@" + addr(s)})
		if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"}); err != nil {
			t.Fatalf("Send: %v", err)
		}
		next(t, sub)
	})
}

func TestSendJetStream(t *testing.T) {
	s := runServer(t, &server.Options{JetStream: true, StoreDir: t.TempDir()})
	nc, err := natsgo.Connect("nats://" + addr(s))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"events.>"}})
	if err != nil {
		t.Fatal(err)
	}

	e := newEndpoint(t, Config{URL: "nats://" + addr(s), JetStream: true})
	m := base.Message{Body: []byte(body), Topic: "events.t1", ID: "1715677953.418204.9b2c"}
	// The same event twice: the stream keeps one copy (Nats-Msg-Id dedupe).
	for range 2 {
		if err := e.Send(ctx, m); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("stream holds %d messages, want 1", info.State.Msgs)
	}
	got, err := stream.GetLastMsgForSubject(ctx, "events.t1")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != body || got.Header.Get(jetstream.MsgIDHeader) != m.ID {
		t.Errorf("stored data %q, msg id %q; want the body and %q", got.Data, got.Header.Get(jetstream.MsgIDHeader), m.ID)
	}

	err = e.Send(ctx, base.Message{Body: []byte(body), Topic: "no.stream.here"})
	if !base.IsPermanent(err) {
		t.Errorf("subject without stream: Send error = %v, want permanent", err)
	}
}

func TestSendTLS(t *testing.T) {
	cert := testcert.New(t)
	s := runServer(t, &server.Options{TLS: true, TLSConfig: cert.Server, TLSTimeout: 2})
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"ca-location", Config{UseSSL: true, VerifySSL: true, CAFile: cert.CAFile}, false},
		{"verify-ssl=false", Config{UseSSL: true}, false},
		{"system roots", Config{UseSSL: true, VerifySSL: true}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.URL = "nats://" + addr(s)
			err := newEndpoint(t, tc.cfg).Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Send error = %v, want error: %v", err, tc.wantErr)
			}
		})
	}
}

func TestSendAfterServerRestart(t *testing.T) {
	s := runServer(t, nil)
	port := s.Addr().(*net.TCPAddr).Port
	e := newEndpoint(t, Config{URL: "nats://" + addr(s), MessageTimeout: time.Second})
	if err := e.Send(context.Background(), base.Message{Body: []byte("before"), Topic: "t1"}); err != nil {
		t.Fatalf("Send: %v", err)
	}

	s.Shutdown()
	s.WaitForShutdown()
	if err := e.Send(context.Background(), base.Message{Body: []byte("while down"), Topic: "t1"}); err == nil {
		t.Error("broker-level Send while the server is down succeeded")
	}

	s2 := runServer(t, &server.Options{Port: port})
	sub := subscribe(t, s2, "t1")
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := e.Send(context.Background(), base.Message{Body: []byte("after"), Topic: "t1"})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Send still failing 15s after the restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Messages buffered while down may arrive first; "after" must arrive.
	for range 3 {
		if string(next(t, sub).Data) == "after" {
			return
		}
	}
	t.Fatal(`message "after" not received`)
}

func TestSendFirstConnectFailureIsRetried(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	e := newEndpoint(t, Config{URL: fmt.Sprintf("nats://127.0.0.1:%d", port), ConnectTimeout: time.Second})
	if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"}); err == nil {
		t.Fatal("Send without a server succeeded")
	}
	s := runServer(t, &server.Options{Port: port})
	sub := subscribe(t, s, "t1")
	if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"}); err != nil {
		t.Fatalf("Send once the server is up: %v", err)
	}
	next(t, sub)
}

func TestSendHonoursContextAndClose(t *testing.T) {
	s := runServer(t, nil)
	e := newEndpoint(t, Config{URL: "nats://" + addr(s)})
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

func TestParseURL(t *testing.T) {
	tests := []struct {
		in                         string
		servers, user, pass, token string
	}{
		{"nats://h", "nats://h:4222", "", "", ""},
		{"NATS://u:p%40w@h:1,h2/x", "nats://h:1,nats://h2:4222", "u", "p@w", ""},
		{"nats://tok@h", "nats://h:4222", "", "", "tok"},
		{"nats://[::1]:5000", "nats://[::1]:5000", "", "", ""},
	}
	for _, tc := range tests {
		s, u, p, tok, err := parseURL(tc.in)
		if err != nil || s != tc.servers || u != tc.user || p != tc.pass || tok != tc.token {
			t.Errorf("parseURL(%q) = %q %q %q %q %v", tc.in, s, u, p, tok, err)
		}
	}
	for _, bad := range []string{"", "nats://", "tls://h", "nats://u:secret@h:x"} {
		_, _, _, _, err := parseURL(bad)
		if !base.IsPermanent(err) || strings.Contains(fmt.Sprint(err), "secret") {
			t.Errorf("parseURL(%q) error = %v, want permanent without the password", bad, err)
		}
	}
}
