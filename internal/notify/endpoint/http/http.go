// Package http delivers notifications to HTTP and HTTPS push endpoints the
// way RGW does: one POST of the JSON event per message, success on any 2xx.
package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/base"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/tlsload"
)

// Defaults follow RGW's rgw_http_notif_* settings.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultMessageTimeout = 10 * time.Second
	DefaultMaxInflight    = 8192
)

// CloudEvents header names, in the order RGW documents them, then Cairn's
// extension attribute ce-eventid: RGW's ce-id is the request id and the
// gateway's, shared by every event of a multi-object request, while
// ce-eventid is the record's own eventId (Message.ID), one per event, for
// consumers to dedupe on. The values other than ce-specversion come from
// Message.Attributes under the same keys.
var cloudEventHeaders = []string{"ce-type", "ce-time", "ce-id", "ce-source", "ce-subject", eventIDHeader}

// eventIDHeader is the CloudEvents extension attribute holding the eventId.
const eventIDHeader = "ce-eventid"

// Config describes one HTTP push endpoint.
type Config struct {
	// URL is the full push-endpoint URI; path and query are kept. Userinfo,
	// if any, is sent as HTTP Basic authentication.
	URL string
	// VerifySSL checks the server certificate and host name (https only).
	VerifySSL bool
	// CAFile replaces the system roots with a PEM bundle (https only).
	CAFile string
	// CloudEvents adds binary-mode CloudEvents headers.
	CloudEvents bool
	// ConnectTimeout bounds TCP connect plus TLS handshake; 0 means 5 s.
	ConnectTimeout time.Duration
	// MessageTimeout bounds one whole POST; 0 means 10 s.
	MessageTimeout time.Duration
	// MaxInflight caps concurrent POSTs; beyond it Send fails at once with
	// base.ErrBusy. 0 means 8192, negative means unlimited.
	MaxInflight int
	// Logger receives debug events; nil discards them.
	Logger *slog.Logger
}

// Endpoint posts messages to one URL. It is safe for concurrent use.
type Endpoint struct {
	target   string // URL without userinfo
	redacted string
	user     *url.Userinfo
	cfg      Config
	client   *nethttp.Client
	tr       *nethttp.Transport
	slots    chan struct{} // nil when unlimited
	closed   atomic.Bool
}

// New validates cfg and returns an endpoint. It does not connect.
func New(cfg Config) (*Endpoint, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, base.Permanentf("http endpoint %s: bad URI", base.Redact(cfg.URL))
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Host == "" {
		return nil, base.Permanentf("http endpoint %s: not an http(s) URI with a host", base.Redact(cfg.URL))
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.MessageTimeout <= 0 {
		cfg.MessageTimeout = DefaultMessageTimeout
	}
	if cfg.MaxInflight == 0 {
		cfg.MaxInflight = DefaultMaxInflight
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Endpoint{cfg: cfg, user: u.User}
	u.User = nil
	e.target = u.String()
	e.redacted = e.target
	if cfg.MaxInflight > 0 {
		e.slots = make(chan struct{}, cfg.MaxInflight)
	}

	ca := tlsload.NewCAPool(cfg.CAFile)
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	e.tr = &nethttp.Transport{
		// No proxy from the environment: the topic names the receiver.
		Proxy:       nil,
		DialContext: dialer.DialContext,
		// A TLS dialer of our own builds a fresh tls.Config per connection,
		// which is where a rotated ca-location file gets picked up. It also
		// keeps the client on HTTP/1.1, as RGW's libcurl is.
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialTLS(ctx, dialer, network, addr, cfg, ca)
		},
		DisableCompression:    true, // RGW sends no Accept-Encoding
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: cfg.MessageTimeout,
	}
	e.client = &nethttp.Client{
		Transport: e.tr,
		// libcurl does not follow redirects for RGW; a 3xx is a failure.
		CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse },
	}
	return e, nil
}

func dialTLS(ctx context.Context, d *net.Dialer, network, addr string, cfg Config, ca *tlsload.CAPool) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	tcfg, err := tlsload.Config(host, cfg.VerifySSL, ca)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	raw, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	conn := tls.Client(raw, tcfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return conn, nil
}

// StatusError is returned for a non-2xx response.
type StatusError struct {
	Code int
	URL  string // without userinfo
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("http endpoint %s: status %d %s", e.URL, e.Code, nethttp.StatusText(e.Code))
}

// Send POSTs m.Body and returns nil once the server answered 2xx.
func (e *Endpoint) Send(ctx context.Context, m base.Message) error {
	if e.closed.Load() {
		return base.ErrClosed
	}
	if e.slots != nil {
		select {
		case e.slots <- struct{}{}:
			defer func() { <-e.slots }()
		default:
			return fmt.Errorf("http endpoint %s: %w", e.redacted, base.ErrBusy)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.MessageTimeout)
	defer cancel()
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodPost, e.target, bytes.NewReader(m.Body))
	if err != nil {
		return base.Permanentf("http endpoint %s: %w", e.redacted, err)
	}
	e.setHeaders(req, m)
	resp, err := e.client.Do(req)
	if err != nil {
		return fmt.Errorf("http endpoint %s: %w", e.redacted, unwrapURLError(err))
	}
	// Draining a bounded amount lets the connection be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Code: resp.StatusCode, URL: e.redacted}
	}
	return nil
}

func (e *Endpoint) setHeaders(req *nethttp.Request, m base.Message) {
	h := req.Header
	// Header keys are assigned directly (not through Set) so they go on the
	// wire exactly as RGW's libcurl spells them.
	h["Accept"] = []string{"*/*"}
	h["Content-Type"] = []string{"application/json"}
	// An explicitly empty User-Agent suppresses Go's default; RGW sends none.
	h["User-Agent"] = []string{""}
	if e.user != nil {
		pw, _ := e.user.Password()
		req.SetBasicAuth(e.user.Username(), pw)
	}
	if !e.cfg.CloudEvents {
		return
	}
	h["ce-specversion"] = []string{"1.0"}
	for _, k := range cloudEventHeaders {
		v, ok := m.Attributes[k]
		switch {
		case k == eventIDHeader:
			v, ok = m.ID, m.ID != ""
		case !ok && k == "ce-id":
			v, ok = m.ID, m.ID != ""
		}
		if ok {
			h[k] = []string{v}
		}
	}
}

// unwrapURLError drops net/url's "Post \"<url>\":" prefix, which would repeat
// the endpoint and, for some failures, the full URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Close releases idle connections. In-flight Sends finish or time out.
func (e *Endpoint) Close() error {
	e.closed.Store(true)
	e.tr.CloseIdleConnections()
	return nil
}
