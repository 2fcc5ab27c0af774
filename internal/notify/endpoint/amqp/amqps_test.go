package amqp

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/testcert"
)

// tlsProxy terminates TLS on 127.0.0.1 and forwards the bytes to the plain
// broker, so amqps is exercised against the real RabbitMQ without changing
// its configuration.
func tlsProxy(t *testing.T, cert testcert.Cert, backend string) string {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", cert.Server)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			front, err := l.Accept()
			if err != nil {
				return
			}
			back, err := net.Dial("tcp", backend)
			if err != nil {
				front.Close()
				continue
			}
			track(front)
			track(back)
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(back, front); back.Close() }()
			go func() { defer wg.Done(); _, _ = io.Copy(front, back); front.Close() }()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

func TestSendAMQPS(t *testing.T) {
	f := newFixture(t, true, nil)
	b, _ := parseURL(f.url)
	cert := testcert.New(t)
	proxy := tlsProxy(t, cert, b.addr())
	u, _ := url.Parse(f.url)
	u.Scheme, u.Host = "amqps", proxy

	tests := []struct {
		name    string
		verify  bool
		ca      string
		wantErr bool
	}{
		{"ca-location", true, cert.CAFile, false},
		{"verify-ssl=false", false, "", false},
		{"system roots", true, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(Config{URL: u.String(), Exchange: f.exchange, VerifySSL: tc.verify, CAFile: tc.ca})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			err = e.Send(context.Background(), msg(f, tc.name))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Send error = %v, want error: %v", err, tc.wantErr)
			}
			if err == nil {
				if got := string(f.get(t).Body); got != tc.name {
					t.Errorf("body = %q, want %q", got, tc.name)
				}
			}
		})
	}
}
