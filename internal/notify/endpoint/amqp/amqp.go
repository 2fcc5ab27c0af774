// Package amqp delivers notifications to an AMQP 0.9.1 broker (RabbitMQ) the
// way RGW's amqp driver does: one connection per endpoint, a confirm-mode
// channel, a passively declared topic exchange and the topic name as routing
// key.
//
// Concurrency model: all Sends share one channel. Publishes are serialised
// (a short critical section) so that the delivery tag each one will get is
// known before it is written; a single dispatcher goroutine then receives
// both publisher confirms and basic.return frames from the library. Because
// the library hands both kinds of frame over from its one reader goroutine
// on unbuffered channels, and RabbitMQ sends a message's basic.return before
// its basic.ack, the dispatcher always records a return before it resolves
// the matching confirm. That ordering is what makes ack level "routable"
// exact without extra round trips.
package amqp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/base"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/tlsload"
)

// Ack levels accepted in Config.AckLevel (topic argument amqp-ack-level).
const (
	// AckNone returns once the message is written to the socket.
	AckNone = "none"
	// AckBroker waits for the broker's publisher confirm (the default).
	AckBroker = "broker"
	// AckRoutable also publishes with the mandatory flag and fails when the
	// broker returns the message as unroutable. RGW accepts this level but
	// treats it like broker; implementing it is what the spec recommends.
	AckRoutable = "routable"
)

// Defaults; the limits follow RGW's amqp manager.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultMessageTimeout = 10 * time.Second
	DefaultMaxInflight    = 8192

	closeTimeout = 2 * time.Second
	minBackoff   = 200 * time.Millisecond
	maxBackoff   = 5 * time.Second
)

// Config describes one AMQP endpoint.
type Config struct {
	// URL is amqp[s]://[user[:password]@]host[:port][/vhost], parsed like
	// librabbitmq's amqp_parse_url (guest/guest, port 5672/5671, vhost "/").
	URL string
	// Exchange must already exist; it is declared passively.
	Exchange string
	// AckLevel is AckNone, AckBroker or AckRoutable; "" means AckBroker.
	AckLevel string
	// VerifySSL and CAFile apply to amqps.
	VerifySSL bool
	CAFile    string
	// ConnectTimeout bounds TCP, TLS and AMQP handshakes; 0 means 5 s.
	ConnectTimeout time.Duration
	// MessageTimeout bounds the wait for a confirm; 0 means 10 s.
	MessageTimeout time.Duration
	// MaxInflight caps unconfirmed messages; 0 means 8192, negative means
	// unlimited. Beyond it Send fails at once with base.ErrBusy.
	MaxInflight int
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger
}

// broker is the parsed form of Config.URL.
type broker struct {
	tls            bool
	host, port     string
	user, password string
	vhost          string
}

// addr returns host:port without credentials, for logs and errors.
func (b broker) addr() string { return net.JoinHostPort(b.host, b.port) }

// parseURL follows librabbitmq's amqp_parse_url defaults.
func parseURL(raw string) (broker, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return broker{}, base.Permanentf("amqp endpoint %s: bad URI", base.Redact(raw))
	}
	b := broker{user: "guest", password: "guest", vhost: "/"}
	switch strings.ToLower(u.Scheme) {
	case "amqp":
		b.port = "5672"
	case "amqps":
		b.tls, b.port = true, "5671"
	default:
		return broker{}, base.Permanentf("amqp endpoint %s: scheme must be amqp or amqps", base.Redact(raw))
	}
	b.host = u.Hostname()
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			return broker{}, base.Permanentf("amqp endpoint %s: bad port", base.Redact(raw))
		}
		b.port = p
	}
	if u.User != nil {
		b.user = u.User.Username()
		if pw, ok := u.User.Password(); ok {
			b.password = pw
		}
	}
	if v := strings.TrimPrefix(u.Path, "/"); v != "" {
		b.vhost = v
	}
	return b, nil
}

// Endpoint publishes to one exchange of one broker. It is safe for
// concurrent use. It connects on the first Send and reconnects, with
// back-off, on a later Send after the connection was lost.
type Endpoint struct {
	cfg    Config
	broker broker
	ca     *tlsload.CAPool
	log    *slog.Logger

	mu      sync.Mutex
	sess    *session
	dialing chan struct{} // closed when the dial in progress ends
	closed  bool
	lastErr error     // of the last failed dial
	retryAt time.Time // no new dial before this
	backoff time.Duration
}

// New validates cfg and returns an endpoint. It does not connect.
func New(cfg Config) (*Endpoint, error) {
	b, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	switch cfg.AckLevel {
	case "":
		cfg.AckLevel = AckBroker
	case AckNone, AckBroker, AckRoutable:
	default:
		return nil, base.Permanentf("amqp endpoint %s: invalid amqp-ack-level %q", b.addr(), cfg.AckLevel)
	}
	if cfg.Exchange == "" {
		return nil, base.Permanentf("amqp endpoint %s: amqp-exchange is required", b.addr())
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
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Endpoint{
		cfg:     cfg,
		broker:  b,
		ca:      tlsload.NewCAPool(cfg.CAFile),
		log:     log.With("endpoint", "amqp", "broker", b.addr(), "vhost", b.vhost, "exchange", cfg.Exchange),
		backoff: minBackoff,
	}, nil
}

// Send publishes m.Body to the exchange with routing key m.Topic and waits
// as the ack level requires.
func (e *Endpoint) Send(ctx context.Context, m base.Message) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.MessageTimeout)
	defer cancel()
	s, err := e.session(ctx)
	if err != nil {
		return err
	}
	return s.publish(ctx, e.cfg, m)
}

// Close closes the connection. Sends waiting for a confirm fail.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	e.closed = true
	s := e.sess
	e.sess = nil
	e.mu.Unlock()
	if s != nil {
		s.close(base.ErrClosed)
	}
	return nil
}

// session returns a live session, dialing if there is none. Only one dial
// runs at a time; other callers wait for it or for their ctx.
func (e *Endpoint) session(ctx context.Context) (*session, error) {
	e.mu.Lock()
	for {
		if e.closed {
			e.mu.Unlock()
			return nil, base.ErrClosed
		}
		if e.sess != nil && e.sess.alive() {
			s := e.sess
			e.mu.Unlock()
			return s, nil
		}
		if e.dialing == nil {
			break
		}
		d := e.dialing
		e.mu.Unlock()
		select {
		case <-d:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		e.mu.Lock()
		// A dial that just failed set retryAt, so the loop cannot spin.
		if e.sess == nil && time.Now().Before(e.retryAt) {
			err := e.lastErr
			e.mu.Unlock()
			return nil, err
		}
	}
	if wait := time.Until(e.retryAt); wait > 0 {
		err := e.lastErr
		e.mu.Unlock()
		return nil, fmt.Errorf("amqp endpoint %s: reconnect back-off (%v left): %w", e.broker.addr(), wait.Round(time.Millisecond), err)
	}
	stale := e.sess
	e.sess = nil
	d := make(chan struct{})
	e.dialing = d
	e.mu.Unlock()

	if stale != nil {
		e.log.Info("amqp connection lost, reconnecting", "err", stale.error())
		// Already dead, so this is quick; it reaps the dispatcher.
		stale.close(errors.New("replaced"))
	}

	s, err := dial(ctx, e.cfg, e.broker, e.ca, e.log)

	e.mu.Lock()
	defer e.mu.Unlock()
	e.dialing = nil
	close(d)
	if err != nil {
		e.lastErr = err
		e.retryAt = time.Now().Add(e.backoff)
		e.backoff = min(2*e.backoff, maxBackoff)
		return nil, err
	}
	if e.closed {
		s.close(base.ErrClosed)
		return nil, base.ErrClosed
	}
	e.sess, e.lastErr, e.retryAt, e.backoff = s, nil, time.Time{}, minBackoff
	return s, nil
}

// session is one connection with its confirm-mode channel.
type session struct {
	conn    *amqp091.Connection
	ch      *amqp091.Channel
	replyTo string
	addr    string
	log     *slog.Logger

	// pubMu serialises publishes so the next delivery tag is known in
	// advance and waiters are registered before a confirm can arrive.
	pubMu sync.Mutex

	mu      sync.Mutex
	pending map[uint64]*waiter
	err     error         // why the session ended; set once
	done    chan struct{} // closed when the session ends

	dispatched chan struct{} // closed when the dispatcher goroutine exits
}

// waiter is one message waiting for its confirm.
type waiter struct {
	result   chan error // buffered, receives exactly one value
	msgID    string     // the message-id it was published with
	key      string     // and its routing key
	returned *amqp091.Return
}

func dial(ctx context.Context, cfg Config, b broker, ca *tlsload.CAPool, log *slog.Logger) (*session, error) {
	scheme := "amqp"
	acfg := amqp091.Config{
		SASL:       []amqp091.Authentication{&amqp091.PlainAuth{Username: b.user, Password: b.password}},
		Vhost:      b.vhost,
		Heartbeat:  10 * time.Second,
		Properties: amqp091.Table{"connection_name": "cairn notifications"},
		Dial: func(network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: cfg.ConnectTimeout}
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Bounds the TLS and AMQP handshakes; the library clears it
			// once the connection is open and heartbeats take over.
			deadline := time.Now().Add(cfg.ConnectTimeout)
			if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
				deadline = dl
			}
			if err := c.SetDeadline(deadline); err != nil {
				c.Close()
				return nil, err
			}
			return c, nil
		},
	}
	if b.tls {
		scheme = "amqps"
		tcfg, err := tlsload.Config(b.host, cfg.VerifySSL, ca)
		if err != nil {
			return nil, fmt.Errorf("amqp endpoint %s: %w", b.addr(), err)
		}
		acfg.TLSClientConfig = tcfg
	}
	// Credentials travel in acfg, never in the URL, so library errors
	// cannot echo them.
	conn, err := amqp091.DialConfig(scheme+"://"+b.addr()+"/", acfg)
	if err != nil {
		return nil, classify(fmt.Errorf("amqp endpoint %s: connect: %w", b.addr(), base.RedactError(err, b.password)))
	}
	s, err := open(conn, cfg, b, log)
	if err != nil {
		conn.Close()
		return nil, err
	}
	log.Debug("amqp connected", "reply_to", s.replyTo)
	return s, nil
}

func open(conn *amqp091.Connection, cfg Config, b broker, log *slog.Logger) (*session, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, classify(fmt.Errorf("amqp endpoint %s: open channel: %w", b.addr(), err))
	}
	if err := ch.Confirm(false); err != nil {
		return nil, classify(fmt.Errorf("amqp endpoint %s: enable confirms: %w", b.addr(), err))
	}
	// Kind and flags are ignored by a passive declare; only existence counts.
	if err := ch.ExchangeDeclarePassive(cfg.Exchange, "topic", true, false, false, false, nil); err != nil {
		return nil, classify(fmt.Errorf("amqp endpoint %s: exchange %q: %w", b.addr(), cfg.Exchange, err))
	}
	// RGW sets reply_to to a server-named exclusive queue on every message.
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		return nil, classify(fmt.Errorf("amqp endpoint %s: declare reply queue: %w", b.addr(), err))
	}
	s := &session{
		conn:       conn,
		ch:         ch,
		replyTo:    q.Name,
		addr:       b.addr(),
		log:        log,
		pending:    make(map[uint64]*waiter),
		done:       make(chan struct{}),
		dispatched: make(chan struct{}),
	}
	// Unbuffered on purpose: see the package comment on ordering.
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation))
	returns := ch.NotifyReturn(make(chan amqp091.Return))
	chClosed := ch.NotifyClose(make(chan *amqp091.Error, 1))
	connClosed := conn.NotifyClose(make(chan *amqp091.Error, 1))
	go s.dispatch(confirms, returns, chClosed, connClosed)
	return s, nil
}

// dispatch resolves waiters from confirms and returns until the channel is
// shut down, which closes every notification channel.
func (s *session) dispatch(confirms <-chan amqp091.Confirmation, returns <-chan amqp091.Return, chClosed, connClosed <-chan *amqp091.Error) {
	defer close(s.dispatched)
	for confirms != nil || returns != nil {
		select {
		case c, ok := <-confirms:
			if !ok {
				confirms = nil
				s.fail(errors.New("channel closed"))
				continue
			}
			s.resolve(c)
		case r, ok := <-returns:
			if !ok {
				returns = nil
				continue
			}
			s.markReturned(r)
		case err, ok := <-chClosed:
			if !ok {
				chClosed = nil
				continue
			}
			s.fail(fmt.Errorf("channel closed by broker: %w", err))
		case err, ok := <-connClosed:
			if !ok {
				connClosed = nil
				continue
			}
			s.fail(fmt.Errorf("connection closed: %w", err))
		}
	}
	s.fail(errors.New("channel closed"))
	// A broker-closed channel can leave the connection open.
	s.shutdown()
}

func (s *session) resolve(c amqp091.Confirmation) {
	s.mu.Lock()
	w := s.pending[c.DeliveryTag]
	delete(s.pending, c.DeliveryTag)
	s.mu.Unlock()
	if w == nil {
		return // ack level none, or the sender gave up
	}
	switch {
	case !c.Ack:
		w.result <- fmt.Errorf("amqp endpoint %s: broker nacked the message", s.addr)
	case w.returned != nil:
		w.result <- fmt.Errorf("amqp endpoint %s: message unroutable: %d %s", s.addr, w.returned.ReplyCode, w.returned.ReplyText)
	default:
		w.result <- nil
	}
}

// markReturned records a basic.return on the waiter of the message it
// returns. A return carries no delivery tag, only the message's properties
// and routing key: it belongs to the oldest unreturned message pending with
// its message-id and routing key. Several are pending with both only when
// a retry of one event overlaps an earlier attempt, and those route alike;
// returns come in publish order.
func (s *session) markReturned(r amqp091.Return) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var oldest *waiter
	var oldestTag uint64
	for tag, w := range s.pending {
		if w.msgID == r.MessageId && w.key == r.RoutingKey && w.returned == nil && (oldest == nil || tag < oldestTag) {
			oldest, oldestTag = w, tag
		}
	}
	if oldest != nil {
		oldest.returned = &r
	}
}

// fail ends the session once: waiters get err. The connection is closed by
// whoever called fail from outside the dispatcher, or by the dispatcher
// itself once the library has shut the channel down.
func (s *session) fail(err error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = err
	pending := s.pending
	s.pending = make(map[uint64]*waiter)
	close(s.done)
	s.mu.Unlock()
	for _, w := range pending {
		w.result <- fmt.Errorf("amqp endpoint %s: %w", s.addr, err)
	}
}

// shutdown closes the connection, bounded in time so that an unresponsive
// broker cannot hold it up; the library tears everything down regardless.
func (s *session) shutdown() {
	_ = s.conn.CloseDeadline(time.Now().Add(closeTimeout))
}

func (s *session) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return !s.conn.IsClosed()
	}
}

func (s *session) error() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// close ends the session and waits for its dispatcher to exit, which it
// does once the connection shutdown has closed the notification channels.
func (s *session) close(reason error) {
	s.fail(reason)
	s.shutdown()
	<-s.dispatched
}

func (s *session) publish(ctx context.Context, cfg Config, m base.Message) error {
	msg := amqp091.Publishing{Body: m.Body}
	if cfg.AckLevel != AckNone {
		// As RGW: persistent delivery and reply_to, no content type, no
		// headers; Cairn adds the message-id below at every level.
		msg.DeliveryMode = amqp091.Persistent
		msg.ReplyTo = s.replyTo
	}
	mandatory := cfg.AckLevel == AckRoutable

	// The event id is the message-id consumers dedupe on; it also lets
	// the dispatcher match a basic.return, which carries no delivery tag,
	// to its publish.
	msg.MessageId = m.ID

	var w *waiter
	s.pubMu.Lock()
	tag := s.ch.GetNextPublishSeqNo()
	if msg.MessageId == "" && mandatory {
		msg.MessageId = strconv.FormatUint(tag, 10)
	}
	if cfg.AckLevel != AckNone {
		s.mu.Lock()
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			s.pubMu.Unlock()
			return fmt.Errorf("amqp endpoint %s: %w", s.addr, err)
		}
		if cfg.MaxInflight > 0 && len(s.pending) >= cfg.MaxInflight {
			s.mu.Unlock()
			s.pubMu.Unlock()
			return fmt.Errorf("amqp endpoint %s: %w", s.addr, base.ErrBusy)
		}
		w = &waiter{result: make(chan error, 1), msgID: msg.MessageId, key: m.Topic}
		s.pending[tag] = w
		s.mu.Unlock()
	}
	err := s.ch.PublishWithContext(ctx, cfg.Exchange, m.Topic, mandatory, false, msg)
	s.pubMu.Unlock()
	if err != nil {
		s.forget(tag)
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			s.fail(err)
			s.shutdown()
		}
		return fmt.Errorf("amqp endpoint %s: publish: %w", s.addr, err)
	}
	if w == nil {
		return nil
	}
	select {
	case err := <-w.result:
		return err
	case <-ctx.Done():
		s.forget(tag)
		return fmt.Errorf("amqp endpoint %s: waiting for confirm: %w", s.addr, ctx.Err())
	}
}

func (s *session) forget(tag uint64) {
	s.mu.Lock()
	delete(s.pending, tag)
	s.mu.Unlock()
}

// classify marks broker refusals that need an operator as permanent: a
// missing exchange or vhost, refused credentials or permissions.
func classify(err error) error {
	var ae *amqp091.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case amqp091.NotFound, amqp091.AccessRefused, amqp091.NotAllowed:
			return base.Permanent(err)
		}
	}
	return err
}
