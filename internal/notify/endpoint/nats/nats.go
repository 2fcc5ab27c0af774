// Package nats delivers notifications to a NATS server, a Cairn extension:
// RGW has no NATS driver (spec §5.5), so package endpoint only opens nats://
// URIs when extensions are enabled.
//
// URI: nats://[user:password@|token@]host[:port][,host[:port]...], default
// port 4222. The subject is the topic name. Ack levels:
//
//   - none: publish into the client's buffer and return.
//   - broker (default): publish, then flush (PING/PONG), so the server has
//     processed the message before Send returns. Core NATS has no
//     persistence: a subject without subscribers drops it.
//   - With JetStream (topic argument nats-jetstream=true), broker-level Sends
//     publish through JetStream and wait for the stream's PubAck; the event
//     id becomes Nats-Msg-Id, so the stream's duplicate window drops retried
//     copies. A subject no stream captures is a permanent error. Core NATS
//     messages carry the same Nats-Msg-Id header for consumers to dedupe on.
//
// TLS: use-ssl=true (verify-ssl, ca-location as for the other schemes).
// After the first successful connection nats.go reconnects by itself, and
// messages published while reconnecting are buffered by the client.
package nats

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/base"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/tlsload"
)

// Ack levels accepted in Config.AckLevel (topic argument nats-ack-level).
const (
	AckNone   = "none"
	AckBroker = "broker"
)

// Defaults.
const (
	DefaultPort           = "4222"
	DefaultConnectTimeout = 5 * time.Second
	DefaultMessageTimeout = 5 * time.Second
	reconnectWait         = 500 * time.Millisecond
)

// Config describes one NATS endpoint.
type Config struct {
	// URL is nats://[user:password@|token@]host[:port][,host[:port]...].
	URL string
	// UseSSL requires TLS; VerifySSL and CAFile then apply.
	UseSSL    bool
	VerifySSL bool
	CAFile    string
	// AckLevel is AckNone or AckBroker; "" means AckBroker.
	AckLevel string
	// JetStream publishes through JetStream and waits for its PubAck.
	JetStream bool
	// ConnectTimeout bounds connecting to one server; 0 means 5 s.
	ConnectTimeout time.Duration
	// MessageTimeout bounds one Send; 0 means 5 s.
	MessageTimeout time.Duration
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger
}

// Endpoint publishes to one NATS cluster. It is safe for concurrent use. It
// connects on the first Send; a failed first connection is retried by the
// next Send.
type Endpoint struct {
	cfg     Config
	servers string // comma-separated URLs without credentials
	user    string
	pass    string
	token   string
	ca      *tlsload.CAPool
	log     *slog.Logger

	connecting chan struct{} // one-slot semaphore guarding the connect
	mu         sync.Mutex
	nc         *natsgo.Conn
	js         jetstream.JetStream
	closed     bool
}

// New validates cfg and returns an endpoint. It does not connect.
func New(cfg Config) (*Endpoint, error) {
	servers, user, pass, token, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	switch cfg.AckLevel {
	case "":
		cfg.AckLevel = AckBroker
	case AckNone, AckBroker:
	default:
		return nil, base.Permanentf("nats endpoint %s: invalid nats-ack-level %q", servers, cfg.AckLevel)
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.MessageTimeout <= 0 {
		cfg.MessageTimeout = DefaultMessageTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Endpoint{
		cfg:        cfg,
		servers:    servers,
		user:       user,
		pass:       pass,
		token:      token,
		ca:         tlsload.NewCAPool(cfg.CAFile),
		log:        log.With("endpoint", "nats", "servers", servers),
		connecting: make(chan struct{}, 1),
	}, nil
}

// Send publishes m.Body on subject m.Topic and waits as the ack level and
// JetStream setting require.
func (e *Endpoint) Send(ctx context.Context, m base.Message) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.MessageTimeout)
	defer cancel()
	nc, js, err := e.conn(ctx)
	if err != nil {
		return err
	}
	if e.cfg.JetStream && e.cfg.AckLevel == AckBroker {
		msg := &natsgo.Msg{Subject: m.Topic, Data: m.Body}
		var opts []jetstream.PublishOpt
		if m.ID != "" {
			opts = append(opts, jetstream.WithMsgID(m.ID))
		}
		if _, err := js.PublishMsg(ctx, msg, opts...); err != nil {
			return classify(fmt.Errorf("nats endpoint %s: jetstream publish to %q: %w", e.servers, m.Topic, err))
		}
		return nil
	}
	msg := &natsgo.Msg{Subject: m.Topic, Data: m.Body}
	if m.ID != "" {
		// Core NATS does not dedupe, but a consumer can, by the same
		// header JetStream uses.
		msg.Header = natsgo.Header{natsgo.MsgIdHdr: []string{m.ID}}
	}
	if err := nc.PublishMsg(msg); err != nil {
		return classify(fmt.Errorf("nats endpoint %s: publish to %q: %w", e.servers, m.Topic, err))
	}
	if e.cfg.AckLevel == AckNone {
		return nil
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("nats endpoint %s: flush: %w", e.servers, err)
	}
	return nil
}

// conn returns the connection, connecting first if there is none yet.
func (e *Endpoint) conn(ctx context.Context) (*natsgo.Conn, jetstream.JetStream, error) {
	select {
	case e.connecting <- struct{}{}:
		defer func() { <-e.connecting }()
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	e.mu.Lock()
	nc, js, closed := e.nc, e.js, e.closed
	e.mu.Unlock()
	if closed {
		return nil, nil, base.ErrClosed
	}
	if nc != nil {
		return nc, js, nil
	}
	nc, err := natsgo.Connect(e.servers, e.options()...)
	if err != nil {
		return nil, nil, classify(fmt.Errorf("nats endpoint %s: connect: %w", e.servers, base.RedactError(err, e.pass, e.token)))
	}
	if js, err = jetstream.New(nc); err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("nats endpoint %s: %w", e.servers, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		nc.Close()
		return nil, nil, base.ErrClosed
	}
	e.nc, e.js = nc, js
	return nc, js, nil
}

func (e *Endpoint) options() []natsgo.Option {
	opts := []natsgo.Option{
		natsgo.Name("cairn notifications"),
		natsgo.Timeout(e.cfg.ConnectTimeout),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(reconnectWait),
		natsgo.NoCallbacksAfterClientClose(),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			if err != nil {
				e.log.Info("nats disconnected", "err", err)
			}
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			e.log.Info("nats reconnected", "server", nc.ConnectedUrlRedacted())
		}),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, _ *natsgo.Subscription, err error) {
			e.log.Warn("nats async error", "err", err)
		}),
	}
	switch {
	case e.token != "":
		opts = append(opts, natsgo.Token(e.token))
	case e.user != "":
		opts = append(opts, natsgo.UserInfo(e.user, e.pass))
	}
	if e.cfg.UseSSL {
		opts = append(opts, natsgo.Secure(&tls.Config{
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: !e.cfg.VerifySSL, //nolint:gosec // verify-ssl=false
		}))
		if e.cfg.VerifySSL && e.ca != nil {
			// Called on every (re)connect, so a rotated file is picked up.
			opts = append(opts, natsgo.ClientTLSConfig(nil, func() (*x509.CertPool, error) { return e.ca.Pool() }))
		}
	}
	return opts
}

// Close closes the connection; client-buffered messages are flushed first.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	nc := e.nc
	e.nc, e.js, e.closed = nil, nil, true
	e.mu.Unlock()
	if nc != nil {
		nc.Close()
	}
	return nil
}

// classify marks errors an operator must fix as permanent.
func classify(err error) error {
	switch {
	case errors.Is(err, natsgo.ErrAuthorization),
		errors.Is(err, natsgo.ErrAuthExpired),
		errors.Is(err, natsgo.ErrBadSubject),
		errors.Is(err, natsgo.ErrMaxPayload),
		errors.Is(err, jetstream.ErrNoStreamResponse):
		return base.Permanent(err)
	}
	return err
}

// parseURL turns the push-endpoint URI into a server list for nats.go
// without credentials, plus the credentials: user:password or, for a user
// name alone, a token (nats.go's own convention).
func parseURL(raw string) (servers, user, pass, token string, err error) {
	bad := func(why string) error {
		return base.Permanentf("nats endpoint %s: %s", base.Redact(raw), why)
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !strings.EqualFold(scheme, "nats") {
		return "", "", "", "", bad("scheme must be nats")
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		u, p, hasPass := strings.Cut(rest[:at], ":")
		if user, err = url.PathUnescape(u); err != nil {
			return "", "", "", "", bad("bad user name encoding")
		}
		if pass, err = url.PathUnescape(p); err != nil {
			return "", "", "", "", bad("bad password encoding")
		}
		if !hasPass {
			token, user = user, ""
		}
		rest = rest[at+1:]
	}
	var list []string
	for _, h := range strings.Split(rest, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			host, port = strings.Trim(h, "[]"), DefaultPort
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 || host == "" {
			return "", "", "", "", bad(fmt.Sprintf("bad server address %q", h))
		}
		list = append(list, "nats://"+net.JoinHostPort(host, port))
	}
	if len(list) == 0 {
		return "", "", "", "", bad("no server host")
	}
	return strings.Join(list, ","), user, pass, token, nil
}
