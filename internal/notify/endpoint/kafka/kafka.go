// Package kafka delivers notifications to Kafka the way RGW's kafka driver
// does: Kafka topic = topic name, no key, value = the JSON event, producer
// default acks, optional SASL (PLAIN, SCRAM-SHA-256/512) and TLS. Unlike
// RGW, each record carries the event's eventId in header "eventId", so
// consumers can drop duplicates without parsing the value.
//
// It uses franz-go's kgo, a pure-Go client (no cgo/librdkafka), which also
// ships kfake, an in-process Kafka used by the tests.
package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/base"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/tlsload"
)

// Ack levels accepted in Config.AckLevel (topic argument kafka-ack-level).
const (
	// AckNone returns once the record is buffered in the client; delivery
	// failures are only logged.
	AckNone = "none"
	// AckBroker waits for the broker's produce response (the default).
	AckBroker = "broker"
)

// SASL mechanisms accepted in Config.Mechanism.
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
)

// Defaults follow RGW's rgw_kafka_* settings where it has them.
const (
	DefaultPort           = "9092"
	DefaultConnectTimeout = 5 * time.Second
	DefaultMessageTimeout = 5 * time.Second // rgw_kafka_message_timeout
)

// Config describes one Kafka endpoint.
type Config struct {
	// URL is kafka://[user:password@]host[:port][,host[:port]...].
	URL string
	// ExtraBrokers is the kafka-brokers argument: host[:port],... appended to
	// the bootstrap list.
	ExtraBrokers string
	// User and Password override the URI's credentials when User is set
	// (topic arguments user-name and password).
	User, Password string
	// Mechanism is the SASL mechanism used with credentials; "" means PLAIN.
	Mechanism string
	// UseSSL enables TLS; VerifySSL and CAFile then apply.
	UseSSL    bool
	VerifySSL bool
	CAFile    string
	// AckLevel is AckNone or AckBroker; "" means AckBroker.
	AckLevel string
	// ConnectTimeout bounds dialing a broker; 0 means 5 s.
	ConnectTimeout time.Duration
	// MessageTimeout bounds the delivery of one record; 0 means 5 s.
	MessageTimeout time.Duration
	// Logger receives delivery failures at ack level none; nil discards.
	Logger *slog.Logger
}

// Endpoint produces to one Kafka cluster. It is safe for concurrent use.
type Endpoint struct {
	cfg     Config
	brokers []string
	client  *kgo.Client
	log     *slog.Logger
	closed  atomic.Bool
}

// New validates cfg and builds the client. The client connects lazily.
func New(cfg Config) (*Endpoint, error) {
	brokers, user, password, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	extra, err := parseHosts(cfg.ExtraBrokers)
	if err != nil {
		return nil, base.Permanentf("kafka endpoint: kafka-brokers: %w", err)
	}
	brokers = append(brokers, extra...)
	if cfg.User != "" {
		user, password = cfg.User, cfg.Password
	}
	switch cfg.AckLevel {
	case "":
		cfg.AckLevel = AckBroker
	case AckNone, AckBroker:
	default:
		return nil, base.Permanentf("kafka endpoint %s: invalid kafka-ack-level %q", brokers[0], cfg.AckLevel)
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
	log = log.With("endpoint", "kafka", "brokers", strings.Join(brokers, ","))

	opts := []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		// kgo refuses delivery timeouts under 1 s; Send enforces shorter
		// ones through its context.
		kgo.RecordDeliveryTimeout(max(cfg.MessageTimeout, time.Second)),
		// Each Send is one record waited for; lingering only adds latency.
		kgo.ProducerLinger(0),
		// librdkafka producers let the broker auto-create topics; so do we.
		kgo.AllowAutoTopicCreation(),
		kgo.Dialer(dialer(cfg)),
	}
	if user != "" {
		mech, err := mechanism(cfg.Mechanism, user, password)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(mech))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, base.Permanentf("kafka endpoint %s: %w", brokers[0], base.RedactError(err, password))
	}
	return &Endpoint{cfg: cfg, brokers: brokers, client: cl, log: log}, nil
}

func mechanism(name, user, password string) (sasl.Mechanism, error) {
	switch strings.ToUpper(name) {
	case "", MechanismPlain:
		return plain.Auth{User: user, Pass: password}.AsMechanism(), nil
	case MechanismScramSHA256:
		return scram.Auth{User: user, Pass: password}.AsSha256Mechanism(), nil
	case MechanismScramSHA512:
		return scram.Auth{User: user, Pass: password}.AsSha512Mechanism(), nil
	default:
		// GSSAPI and OAUTHBEARER need more than a user and password.
		return nil, base.Permanentf("kafka endpoint: unsupported mechanism %q", name)
	}
}

// dialer connects to one broker, with TLS when use-ssl is set. The TLS
// configuration is rebuilt per connection so a changed ca-location file is
// picked up, and the server name is the broker being dialed, which matters
// when the bootstrap list names several hosts.
func dialer(cfg Config) func(ctx context.Context, network, host string) (net.Conn, error) {
	ca := tlsload.NewCAPool(cfg.CAFile)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
		defer cancel()
		d := net.Dialer{}
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil || !cfg.UseSSL {
			return conn, err
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			conn.Close()
			return nil, err
		}
		tcfg, err := tlsload.Config(host, cfg.VerifySSL, ca)
		if err != nil {
			conn.Close()
			return nil, err
		}
		tc := tls.Client(conn, tcfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		return tc, nil
	}
}

// Send produces m.Body to the Kafka topic m.Topic.
func (e *Endpoint) Send(ctx context.Context, m base.Message) error {
	if e.closed.Load() {
		return base.ErrClosed
	}
	rec := &kgo.Record{Topic: m.Topic, Value: m.Body}
	if m.ID != "" {
		rec.Headers = []kgo.RecordHeader{{Key: base.IDHeader, Value: []byte(m.ID)}}
	}
	if e.cfg.AckLevel == AckNone {
		// The record must outlive Send, so it is not tied to ctx; the
		// delivery timeout bounds it instead.
		e.client.Produce(context.WithoutCancel(ctx), rec, func(r *kgo.Record, err error) {
			if err != nil {
				e.log.Warn("kafka delivery failed (ack level none)", "topic", r.Topic, "err", err)
			}
		})
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.MessageTimeout)
	defer cancel()
	done := make(chan error, 1)
	e.client.Produce(ctx, rec, func(_ *kgo.Record, err error) { done <- err })
	select {
	case err := <-done:
		if err != nil {
			return classify(fmt.Errorf("kafka endpoint %s: produce to %q: %w", e.brokers[0], m.Topic, err))
		}
		return nil
	case <-ctx.Done():
		// The record may still be delivered; the caller sees a failure and
		// may retry, which at-least-once delivery allows.
		return fmt.Errorf("kafka endpoint %s: %w", e.brokers[0], ctx.Err())
	}
}

// Close flushes records still buffered at ack level none, waiting at most
// the message timeout, then closes the client.
func (e *Endpoint) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.MessageTimeout)
	defer cancel()
	_ = e.client.Flush(ctx)
	e.client.Close()
	return nil
}

// classify marks errors an operator must fix as permanent.
func classify(err error) error {
	for _, ke := range []*kerr.Error{
		kerr.SaslAuthenticationFailed,
		kerr.TopicAuthorizationFailed,
		kerr.ClusterAuthorizationFailed,
		kerr.InvalidTopicException,
		kerr.UnsupportedSaslMechanism,
	} {
		if errors.Is(err, ke) {
			return base.Permanent(err)
		}
	}
	return err
}

// parseURL splits kafka://[user:password@]host[:port][,host[:port]...] into
// broker addresses and credentials. Path and query are ignored.
func parseURL(raw string) (brokers []string, user, password string, err error) {
	bad := func(why string) error {
		return base.Permanentf("kafka endpoint %s: %s", base.Redact(raw), why)
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !strings.EqualFold(scheme, "kafka") {
		return nil, "", "", bad("scheme must be kafka")
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		u, p, _ := strings.Cut(rest[:at], ":")
		if user, err = url.PathUnescape(u); err != nil {
			return nil, "", "", bad("bad user name encoding")
		}
		if password, err = url.PathUnescape(p); err != nil {
			return nil, "", "", bad("bad password encoding")
		}
		rest = rest[at+1:]
	}
	brokers, err = parseHosts(rest)
	if err != nil {
		return nil, "", "", bad(err.Error())
	}
	if len(brokers) == 0 {
		return nil, "", "", bad("no broker host")
	}
	return brokers, user, password, nil
}

// parseHosts turns "h1[:p1],h2[:p2]" into host:port addresses.
func parseHosts(list string) ([]string, error) {
	var out []string
	for _, h := range strings.Split(list, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			// No port (or a bare IPv6 address in brackets).
			host, port = strings.Trim(h, "[]"), DefaultPort
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 || host == "" {
			return nil, fmt.Errorf("bad broker address %q", h)
		}
		out = append(out, net.JoinHostPort(host, port))
	}
	return out, nil
}
