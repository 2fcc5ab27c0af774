package http

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/base"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/eventtest"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/testcert"
)

const body = `{"Records":[{"eventVersion":"2.2","eventSource":"ceph:s3","eventName":"ObjectCreated:Put"}]}`

// captured is what the test server saw of one request.
type captured struct {
	method, uri, user, pass string
	authOK                  bool
	host                    string
	contentLength           int64
	transferEncoding        []string
	header                  nethttp.Header
	body                    []byte
}

// recorder is a test server that records requests and answers with status.
func recorder(t *testing.T, status int, tlsServer bool) (*httptest.Server, <-chan captured) {
	t.Helper()
	got := make(chan captured, 16)
	h := nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		b, _ := io.ReadAll(r.Body)
		u, p, ok := r.BasicAuth()
		got <- captured{host: r.Host, contentLength: r.ContentLength, transferEncoding: r.TransferEncoding, method: r.Method, uri: r.RequestURI, user: u, pass: p, authOK: ok, header: r.Header.Clone(), body: b}
		w.WriteHeader(status)
	})
	srv := httptest.NewUnstartedServer(h)
	// Handshake failures are expected in the TLS tests; keep them out of the output.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsServer {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, got
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

func receive(t *testing.T, got <-chan captured) captured {
	t.Helper()
	select {
	case c := <-got:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no request received")
		return captured{}
	}
}

func TestSendPostsBodyWithRGWHeaders(t *testing.T) {
	srv, got := recorder(t, nethttp.StatusOK, false)
	e := newEndpoint(t, Config{URL: srv.URL + "/rgw-events?x=1", VerifySSL: true})

	if err := e.Send(context.Background(), base.Message{Body: []byte(body), Topic: "t1"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	c := receive(t, got)
	if c.method != nethttp.MethodPost || c.uri != "/rgw-events?x=1" {
		t.Errorf("request line = %s %s, want POST /rgw-events?x=1", c.method, c.uri)
	}
	if string(c.body) != body {
		t.Errorf("body = %q, want %q", c.body, body)
	}
	for k, v := range map[string]string{"Content-Type": "application/json", "Accept": "*/*"} {
		if g := c.header.Get(k); g != v {
			t.Errorf("header %s = %q, want %q", k, g, v)
		}
	}
	if c.contentLength != int64(len(body)) || len(c.transferEncoding) != 0 {
		t.Errorf("Content-Length = %d, Transfer-Encoding = %v; want %d and none", c.contentLength, c.transferEncoding, len(body))
	}
	if want := strings.TrimPrefix(srv.URL, "http://"); c.host != want {
		t.Errorf("Host = %q, want %q", c.host, want)
	}
	// Exactly RGW's header set (Host is not part of Header on the server).
	var keys []string
	for k := range c.header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"Accept", "Content-Length", "Content-Type"}; !slices.Equal(keys, want) {
		t.Errorf("headers = %v, want exactly %v", keys, want)
	}
}

func TestSendBasicAuthFromUserinfo(t *testing.T) {
	srv, got := recorder(t, nethttp.StatusNoContent, false)
	u := strings.Replace(srv.URL, "http://", "http://alice:s3cr%40t@", 1)
	e := newEndpoint(t, Config{URL: u})
	if err := e.Send(context.Background(), base.Message{Body: []byte(body)}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	c := receive(t, got)
	if !c.authOK || c.user != "alice" || c.pass != "s3cr@t" {
		t.Errorf("basic auth = %q/%q (%v), want alice/s3cr@t", c.user, c.pass, c.authOK)
	}
}

func TestSendCloudEventsHeaders(t *testing.T) {
	srv, got := recorder(t, nethttp.StatusOK, false)
	e := newEndpoint(t, Config{URL: srv.URL, CloudEvents: true})
	attrs := map[string]string{
		"ce-id":      "tx000001-abc.3c0e-default-default",
		"ce-source":  "ceph:s3.default.photos",
		"ce-type":    "com.amazonaws.ObjectCreated:Put",
		"ce-time":    "2024-05-14T09:12:33.418204Z",
		"ce-subject": "2024/cat.jpg",
	}
	if err := e.Send(context.Background(), base.Message{Body: []byte(body), ID: "ignored", Attributes: attrs}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	c := receive(t, got)
	want := map[string]string{"ce-specversion": "1.0"}
	for k, v := range attrs {
		want[k] = v
	}
	for k, v := range want {
		if g := c.header.Get(k); g != v {
			t.Errorf("header %s = %q, want %q", k, g, v)
		}
	}
	if g := c.header.Get("Content-Type"); g != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", g)
	}
	if string(c.body) != body {
		t.Errorf("body changed in CloudEvents mode: %q", c.body)
	}
}

// TestSendCloudEventsEventID: beside RGW's ce-id (request and gateway
// ids, shared by the events of one request) the record's own eventId goes
// in the extension attribute ce-eventid, for consumers to dedupe on.
func TestSendCloudEventsEventID(t *testing.T) {
	srv, got := recorder(t, nethttp.StatusOK, false)
	e := newEndpoint(t, Config{URL: srv.URL, CloudEvents: true})
	attrs := map[string]string{"ce-id": "tx000001-abc.3c0e-default-default"}
	m := base.Message{Body: []byte(eventtest.Body), ID: eventtest.ID, Attributes: attrs}
	if err := e.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	c := receive(t, got)
	if h, want := c.header.Get("ce-eventid"), eventtest.EventID(t, c.body); h != want || want != eventtest.ID {
		t.Errorf("ce-eventid = %q, record eventId %q, want both %q", h, want, eventtest.ID)
	}
	if h := c.header.Get("ce-id"); h != attrs["ce-id"] {
		t.Errorf("ce-id = %q, want RGW's %q", h, attrs["ce-id"])
	}
}

func TestSendCloudEventsIDFallsBackToMessageID(t *testing.T) {
	srv, got := recorder(t, nethttp.StatusOK, false)
	e := newEndpoint(t, Config{URL: srv.URL, CloudEvents: true})
	if err := e.Send(context.Background(), base.Message{Body: []byte(body), ID: "ev-1"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if g := receive(t, got).header.Get("ce-id"); g != "ev-1" {
		t.Errorf("ce-id = %q, want ev-1", g)
	}
}

func TestSendNon2xxFails(t *testing.T) {
	for _, status := range []int{nethttp.StatusMovedPermanently, nethttp.StatusNotFound, nethttp.StatusServiceUnavailable} {
		t.Run(nethttp.StatusText(status), func(t *testing.T) {
			srv, _ := recorder(t, status, false)
			e := newEndpoint(t, Config{URL: srv.URL})
			err := e.Send(context.Background(), base.Message{Body: []byte(body)})
			var se *StatusError
			if !errors.As(err, &se) || se.Code != status {
				t.Fatalf("Send error = %v, want StatusError %d", err, status)
			}
		})
	}
}

func TestSendTLS(t *testing.T) {
	srv, _ := recorder(t, nethttp.StatusOK, true)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writeCert(t, caFile, srv)

	tests := []struct {
		name    string
		verify  bool
		ca      string
		wantErr bool
	}{
		{"verify off", false, "", false},
		{"verify with ca-location", true, caFile, false},
		{"verify with system roots", true, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEndpoint(t, Config{URL: srv.URL, VerifySSL: tc.verify, CAFile: tc.ca})
			err := e.Send(context.Background(), base.Message{Body: []byte(body)})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Send error = %v, want error: %v", err, tc.wantErr)
			}
		})
	}
}

func TestSendReloadsChangedCAFile(t *testing.T) {
	srv, _ := recorder(t, nethttp.StatusOK, true)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	copyCA(t, testcert.New(t).CAFile, caFile) // the wrong CA first

	e := newEndpoint(t, Config{URL: srv.URL, VerifySSL: true, CAFile: caFile})
	if err := e.Send(context.Background(), base.Message{Body: []byte(body)}); err == nil {
		t.Fatal("Send with the wrong CA succeeded")
	}
	writeCert(t, caFile, srv)
	// Make sure the modification time differs even on coarse file systems.
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(caFile, future, future); err != nil {
		t.Fatal(err)
	}
	if err := e.Send(context.Background(), base.Message{Body: []byte(body)}); err != nil {
		t.Fatalf("Send after fixing the CA file: %v", err)
	}
}

func TestSendMissingCAFileIsPermanent(t *testing.T) {
	srv, _ := recorder(t, nethttp.StatusOK, true)
	e := newEndpoint(t, Config{URL: srv.URL, VerifySSL: true, CAFile: filepath.Join(t.TempDir(), "nope.pem")})
	err := e.Send(context.Background(), base.Message{Body: []byte(body)})
	if !base.IsPermanent(err) {
		t.Fatalf("Send error = %v, want permanent", err)
	}
}

func TestSendBusyWhenInflightCapReached(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		entered <- struct{}{}
		<-release
	}))
	t.Cleanup(srv.Close)
	e := newEndpoint(t, Config{URL: srv.URL, MaxInflight: 1})
	var wg sync.WaitGroup
	// Cleanups run last-in first-out: release the handler, then wait.
	t.Cleanup(wg.Wait)
	t.Cleanup(func() { close(release) })
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = e.Send(context.Background(), base.Message{Body: []byte(body)})
	}()
	<-entered
	if err := e.Send(context.Background(), base.Message{Body: []byte(body)}); !errors.Is(err, base.ErrBusy) {
		t.Fatalf("second Send error = %v, want ErrBusy", err)
	}
}

func TestSendHonoursTimeoutAndContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	e := newEndpoint(t, Config{URL: srv.URL, MessageTimeout: 200 * time.Millisecond})
	start := time.Now()
	if err := e.Send(context.Background(), base.Message{Body: []byte(body)}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send error = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send took %v, want about 200ms", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	e2 := newEndpoint(t, Config{URL: srv.URL})
	if err := e2.Send(ctx, base.Message{Body: []byte(body)}); !errors.Is(err, context.Canceled) {
		t.Errorf("Send error = %v, want canceled", err)
	}
}

func TestErrorsDoNotLeakPassword(t *testing.T) {
	// A port with nothing listening: take one, then free it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	e := newEndpoint(t, Config{URL: "http://bob:hunter2@" + addr + "/x", ConnectTimeout: time.Second})
	err = e.Send(context.Background(), base.Message{Body: []byte(body)})
	if err == nil {
		t.Fatal("Send to a closed port succeeded")
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "bob") {
		t.Errorf("error leaks credentials: %v", err)
	}
}

func TestNewRejectsBadURI(t *testing.T) {
	for _, u := range []string{"", "ftp://h/x", "http://", "http://a b/"} {
		if _, err := New(Config{URL: u}); !base.IsPermanent(err) {
			t.Errorf("New(%q) error = %v, want permanent", u, err)
		}
	}
}

func TestSendAfterCloseFails(t *testing.T) {
	srv, _ := recorder(t, nethttp.StatusOK, false)
	e := newEndpoint(t, Config{URL: srv.URL})
	e.Close()
	if err := e.Send(context.Background(), base.Message{Body: []byte(body)}); !errors.Is(err, base.ErrClosed) {
		t.Fatalf("Send after Close error = %v, want ErrClosed", err)
	}
}

// writeCert stores the test server's self-signed certificate as a CA bundle.
func writeCert(t *testing.T, path string, srv *httptest.Server) {
	t.Helper()
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, p, 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyCA(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
