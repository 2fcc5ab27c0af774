// Package mqtt delivers notifications to an MQTT broker, a Cairn extension
// (RGW has no MQTT driver), opened by package endpoint only when extensions
// are enabled.
//
// URI: mqtt[s]://[user:password@]host[:port], default ports 1883 and 8883.
// The MQTT topic is the topic name. Ack levels: broker (default) publishes
// with QoS 1 and returns when the broker's PUBACK arrives; none publishes
// with QoS 0 and returns once the packet is written.
//
// Client library: github.com/eclipse/paho.mqtt.golang, the Eclipse
// Foundation's long-maintained MQTT 3.1.1 client. 3.1.1 is what every broker
// speaks, its tokens expose Done() channels so Send can honour ctx, it
// reconnects on its own, and its per-attempt TLS hook lets a rotated
// ca-location take effect. The newer paho.golang (MQTT 5 only) would narrow
// broker support for features we do not need. MQTT 3.1.1 has no user
// properties, so the event id travels only inside the payload (eventId).
package mqtt

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/base"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/tlsload"
)

// Ack levels accepted in Config.AckLevel (topic argument mqtt-ack-level).
const (
	AckNone   = "none"   // QoS 0
	AckBroker = "broker" // QoS 1, wait for PUBACK
)

// Defaults.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultMessageTimeout = 10 * time.Second
	disconnectQuiesce     = 250 // milliseconds, as paho takes it
)

// Config describes one MQTT endpoint.
type Config struct {
	// URL is mqtt[s]://[user:password@]host[:port].
	URL string
	// VerifySSL and CAFile apply to mqtts.
	VerifySSL bool
	CAFile    string
	// AckLevel is AckNone or AckBroker; "" means AckBroker.
	AckLevel string
	// ConnectTimeout bounds one connection attempt; 0 means 5 s.
	ConnectTimeout time.Duration
	// MessageTimeout bounds one Send; 0 means 10 s.
	MessageTimeout time.Duration
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger
}

// Endpoint publishes to one broker. It is safe for concurrent use. It
// connects on the first Send; a failed first connection is retried by the
// next Send, and later connection losses are repaired by the client.
type Endpoint struct {
	cfg      Config
	broker   string // tcp:// or ssl:// URL for paho, without credentials
	host     string
	user     string
	pass     string
	tls      bool
	qos      byte
	ca       *tlsload.CAPool
	log      *slog.Logger
	clientID string

	connecting chan struct{} // one-slot semaphore guarding the connect
	mu         sync.Mutex
	client     paho.Client
	closed     bool
}

// New validates cfg and returns an endpoint. It does not connect.
func New(cfg Config) (*Endpoint, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Hostname() == "" {
		return nil, base.Permanentf("mqtt endpoint %s: bad URI", base.Redact(cfg.URL))
	}
	e := &Endpoint{cfg: cfg, host: u.Hostname(), connecting: make(chan struct{}, 1)}
	port := u.Port()
	switch strings.ToLower(u.Scheme) {
	case "mqtt":
		e.broker, port = "tcp://", orDefault(port, "1883")
	case "mqtts":
		e.broker, port, e.tls = "ssl://", orDefault(port, "8883"), true
	default:
		return nil, base.Permanentf("mqtt endpoint %s: scheme must be mqtt or mqtts", base.Redact(cfg.URL))
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return nil, base.Permanentf("mqtt endpoint %s: bad port", base.Redact(cfg.URL))
	}
	e.broker += net.JoinHostPort(e.host, port)
	if u.User != nil {
		e.user = u.User.Username()
		e.pass, _ = u.User.Password()
	}
	switch cfg.AckLevel {
	case "", AckBroker:
		e.cfg.AckLevel, e.qos = AckBroker, 1
	case AckNone:
		e.qos = 0
	default:
		return nil, base.Permanentf("mqtt endpoint %s: invalid mqtt-ack-level %q", e.broker, cfg.AckLevel)
	}
	if e.cfg.ConnectTimeout <= 0 {
		e.cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if e.cfg.MessageTimeout <= 0 {
		e.cfg.MessageTimeout = DefaultMessageTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e.log = log.With("endpoint", "mqtt", "broker", e.broker)
	if e.tls {
		e.ca = tlsload.NewCAPool(cfg.CAFile)
	}
	// One stable id per endpoint; "cairn-" plus 16 hex digits stays within
	// the 23 characters MQTT 3.1.1 brokers must accept.
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	e.clientID = "cairn-" + hex.EncodeToString(id)
	return e, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Send publishes m.Body to MQTT topic m.Topic and waits as the ack level
// requires.
func (e *Endpoint) Send(ctx context.Context, m base.Message) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.MessageTimeout)
	defer cancel()
	c, err := e.conn(ctx)
	if err != nil {
		return err
	}
	tok := c.Publish(m.Topic, e.qos, false, m.Body)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("mqtt endpoint %s: publish to %q: %w", e.broker, m.Topic, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("mqtt endpoint %s: waiting for PUBACK: %w", e.broker, ctx.Err())
	}
}

func (e *Endpoint) conn(ctx context.Context) (paho.Client, error) {
	select {
	case e.connecting <- struct{}{}:
		defer func() { <-e.connecting }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	e.mu.Lock()
	c, closed := e.client, e.closed
	e.mu.Unlock()
	if closed {
		return nil, base.ErrClosed
	}
	if c != nil {
		return c, nil
	}
	opts, err := e.options()
	if err != nil {
		return nil, err
	}
	c = paho.NewClient(opts)
	tok := c.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		c.Disconnect(0)
		return nil, fmt.Errorf("mqtt endpoint %s: connect: %w", e.broker, ctx.Err())
	}
	if err := tok.Error(); err != nil {
		c.Disconnect(0)
		return nil, classify(fmt.Errorf("mqtt endpoint %s: connect: %w", e.broker, base.RedactError(err, e.pass)))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		c.Disconnect(0)
		return nil, base.ErrClosed
	}
	e.client = c
	return c, nil
}

func (e *Endpoint) options() (*paho.ClientOptions, error) {
	opts := paho.NewClientOptions().
		AddBroker(e.broker).
		SetClientID(e.clientID).
		SetCleanSession(true).
		SetConnectTimeout(e.cfg.ConnectTimeout).
		SetWriteTimeout(e.cfg.MessageTimeout).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(5 * time.Second).
		// Publishes from concurrent Sends need no ordering among themselves.
		SetOrderMatters(false).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			e.log.Info("mqtt connection lost", "err", err)
		}).
		SetReconnectingHandler(func(paho.Client, *paho.ClientOptions) {
			e.log.Debug("mqtt reconnecting")
		})
	if e.user != "" {
		opts.SetUsername(e.user).SetPassword(e.pass)
	}
	if !e.tls {
		return opts, nil
	}
	// Check the CA file now so a bad one is reported, not just logged.
	first, err := tlsload.Config(e.host, e.cfg.VerifySSL, e.ca)
	if err != nil {
		return nil, fmt.Errorf("mqtt endpoint %s: %w", e.broker, err)
	}
	opts.SetTLSConfig(first)
	opts.SetConnectionAttemptHandler(func(_ *url.URL, cur *tls.Config) *tls.Config {
		cfg, err := tlsload.Config(e.host, e.cfg.VerifySSL, e.ca)
		if err != nil {
			e.log.Warn("mqtt TLS configuration", "err", err)
			// An empty root pool makes this attempt fail verification
			// instead of silently trusting the system roots.
			cfg = cur.Clone()
			cfg.RootCAs = x509.NewCertPool()
		}
		return cfg
	})
	return opts, nil
}

// Close disconnects, letting in-flight publishes finish for a moment.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	c := e.client
	e.client, e.closed = nil, true
	e.mu.Unlock()
	if c != nil {
		c.Disconnect(disconnectQuiesce)
	}
	return nil
}

// classify marks broker refusals that need an operator as permanent.
func classify(err error) error {
	if errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword) ||
		errors.Is(err, packets.ErrorRefusedNotAuthorised) ||
		errors.Is(err, packets.ErrorRefusedIDRejected) {
		return base.Permanent(err)
	}
	return err
}
