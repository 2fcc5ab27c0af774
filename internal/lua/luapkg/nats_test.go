package luapkg

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// startNATS starts an in-process nats-server on loopback (port 0: a free
// one), optionally with a user and password.
func startNATS(t *testing.T, port int, user, pass string) *natsserver.Server {
	t.Helper()
	if port == 0 {
		port = -1
	}
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true,
		Username: user, Password: pass})
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

// subscribe subscribes to subject on s and returns the channel of
// payloads.
func subscribe(t *testing.T, s *natsserver.Server, subject string, opts ...nats.Option) <-chan string {
	t.Helper()
	nc, err := nats.Connect("nats://"+s.Addr().String(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ch := make(chan string, 16)
	if _, err := nc.Subscribe(subject, func(m *nats.Msg) { ch <- string(m.Data) }); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return ch
}

func receive(t *testing.T, ch <-chan string, within time.Duration) string {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(within):
		t.Fatalf("no message within %v", within)
		return ""
	}
}

func port(s *natsserver.Server) int { return s.Addr().(*net.TCPAddr).Port }

// publishScript is what Ceph's nats_adapter.lua does, with the server
// given.
func publishScript(port int, subject, payload string) string {
	return fmt.Sprintf(`
local json = require("lunajson")
local nats = require("nats")
local client = nats.connect({host = "127.0.0.1", port = %d})
client:connect()
client:publish(%q, json.encode({Records = {eventName = %q}}))
return "sent"
`, port, subject, payload)
}

func TestNATSPublishAndPooling(t *testing.T) {
	s := startNATS(t, 0, "", "")
	ch := subscribe(t, s, "Bucket_Notification")
	p := newTestPackages(t, Options{})
	for i := range 2 {
		mustLua(t, p, publishScript(port(s), "Bucket_Notification", fmt.Sprint("put", i)))
		if got, want := receive(t, ch, 5*time.Second), fmt.Sprintf(`{"Records":{"eventName":"put%d"}}`, i); got != want {
			t.Fatalf("message %d: %q, want %q", i, got, want)
		}
	}
	// Two executions, one connection: the second reused the first's.
	if n := p.nats.size(); n != 1 {
		t.Errorf("pooled connections: %d, want 1", n)
	}
	if n := s.NumClients(); n != 2 { // the subscriber and the pooled publisher
		t.Errorf("server sees %d clients, want 2", n)
	}
}

func TestNATSDefaultsAndAuth(t *testing.T) {
	s := startNATS(t, 0, "alice", "secret")
	ch := subscribe(t, s, "subj", nats.UserInfo("alice", "secret"))
	p := newTestPackages(t, Options{})
	script := func(auth string) string {
		return fmt.Sprintf(`
local nats = require 'nats'
local c = nats.connect('127.0.0.1', %d)
%s
c:connect()
c:publish('subj', 'hello')
return tostring(c:ping())`, port(s), auth)
	}
	if _, err := runLua(t, p, script("")); err == nil || !strings.Contains(err.Error(), "could not connect to 127.0.0.1:") {
		t.Fatalf("without credentials: %v", err)
	}
	if got := mustLua(t, p, script("c:set_auth('alice', 'secret')")); got != "true" {
		t.Errorf("ping: %q", got)
	}
	if got := receive(t, ch, 5*time.Second); got != "hello" {
		t.Errorf("payload %q", got)
	}
	// nats.connect() with no host or port means 127.0.0.1:4222.
	cl, err := p.natsParamsFromLua(t, "nats.connect()")
	if err != nil || cl != "127.0.0.1:4222" {
		t.Errorf("defaults: %q %v", cl, err)
	}
	cl, err = p.natsParamsFromLua(t, "nats.connect({port = '5222'})")
	if err != nil || cl != "127.0.0.1:5222" {
		t.Errorf("port as string: %q %v", cl, err)
	}
}

// natsParamsFromLua evaluates a nats.connect(...) expression and returns
// the address the client would connect to.
func (p *Packages) natsParamsFromLua(t *testing.T, expr string) (string, error) {
	t.Helper()
	var got string
	_, err := runLuaWith(t, p, "local nats = require 'nats'; return "+expr, func(v any) {
		if cl, ok := v.(*natsClient); ok {
			got = hostPort(cl.host, cl.port)
		}
	})
	return got, err
}

// TestNATSReconnectAfterServerRestart: the pooled connection survives its
// server going away and coming back on the same port.
func TestNATSReconnectAfterServerRestart(t *testing.T) {
	s := startNATS(t, 0, "", "")
	addrPort := port(s)
	ch := subscribe(t, s, "s")
	p := newTestPackages(t, Options{NATSReconnectWait: 50 * time.Millisecond})
	mustLua(t, p, publishScript(addrPort, "s", "before"))
	receive(t, ch, 5*time.Second)

	s.Shutdown()
	s.WaitForShutdown()
	s2 := startNATS(t, addrPort, "", "")
	ch2 := subscribe(t, s2, "s")
	// Core NATS is at most once: a message written just before the client
	// notices the old server is gone is lost, one published while it
	// reconnects is buffered and sent. So publish until one arrives
	// (bounded), through the same pooled connection.
	var got string
	for i := 0; i < 20 && got == ""; i++ {
		mustLua(t, p, publishScript(addrPort, "s", "after"))
		select {
		case got = <-ch2:
		case <-time.After(500 * time.Millisecond):
		}
	}
	if got != `{"Records":{"eventName":"after"}}` {
		t.Errorf("after restart: %q (nothing arrived in 20 publishes)", got)
	}
	if n := p.nats.size(); n != 1 {
		t.Errorf("pooled connections: %d, want 1", n)
	}
}

func TestNATSClosedPackagesRefuse(t *testing.T) {
	s := startNATS(t, 0, "", "")
	p := New(Options{})
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := runLua(t, p, publishScript(port(s), "s", "x"))
	if err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Errorf("publish after Close: %v", err)
	}
}

// TestNATSConcurrentExecutionsShareOneConnection: executions running at
// once dial once and all publish.
func TestNATSConcurrentExecutionsShareOneConnection(t *testing.T) {
	s := startNATS(t, 0, "", "")
	ch := subscribe(t, s, "c")
	p := newTestPackages(t, Options{})
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := runLua(t, p, publishScript(port(s), "c", fmt.Sprint(i)))
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		receive(t, ch, 5*time.Second)
	}
	if got := p.nats.size(); got != 1 {
		t.Errorf("pooled connections: %d, want 1", got)
	}
}

// TestNATSPoolBound: beyond MaxNATSConns the least recently used
// connection is closed; publishing to it again redials.
func TestNATSPoolBound(t *testing.T) {
	s1, s2 := startNATS(t, 0, "", ""), startNATS(t, 0, "", "")
	ch1, ch2 := subscribe(t, s1, "b"), subscribe(t, s2, "b")
	p := newTestPackages(t, Options{MaxNATSConns: 1})
	for _, step := range []struct {
		s  *natsserver.Server
		ch <-chan string
	}{{s1, ch1}, {s2, ch2}, {s1, ch1}} {
		mustLua(t, p, publishScript(port(step.s), "b", "x"))
		receive(t, step.ch, 5*time.Second)
		if got := p.nats.size(); got != 1 {
			t.Fatalf("pooled connections: %d, want 1", got)
		}
	}
}
