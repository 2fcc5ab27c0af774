package endpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/amqp"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/http"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/base"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/kafka"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/mqtt"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/nats"
)

// Message is one notification: the JSON event document (Body), the topic
// name used for routing (AMQP routing key, Kafka topic, NATS subject, MQTT
// topic), the event id and optional attributes such as the CloudEvents
// fields keyed by header name (ce-id, ce-source, ce-type, ce-time,
// ce-subject).
type Message = base.Message

// Endpoint sends messages to one push endpoint. Implementations are safe
// for concurrent use.
type Endpoint interface {
	// Send delivers m and returns nil only once the configured ack level
	// is reached. It honours ctx and the endpoint's message timeout.
	Send(ctx context.Context, m Message) error
	// Close releases connections. Later Sends fail with ErrClosed.
	Close() error
}

// Interface guards.
var (
	_ Endpoint = (*http.Endpoint)(nil)
	_ Endpoint = (*amqp.Endpoint)(nil)
	_ Endpoint = (*kafka.Endpoint)(nil)
	_ Endpoint = (*nats.Endpoint)(nil)
	_ Endpoint = (*mqtt.Endpoint)(nil)
)

// Errors shared by all drivers; test with errors.Is.
var (
	// ErrPermanent marks misconfiguration that retrying will not fix.
	ErrPermanent = base.ErrPermanent
	// ErrBusy reports an in-flight cap reached; transient.
	ErrBusy = base.ErrBusy
	// ErrClosed reports use after Close.
	ErrClosed = base.ErrClosed
	// ErrUnknownScheme reports a push-endpoint scheme with no driver. It
	// is always permanent.
	ErrUnknownScheme = errors.New("unknown push-endpoint scheme")
)

// IsPermanent reports whether err is a permanent misconfiguration.
func IsPermanent(err error) bool { return base.IsPermanent(err) }

// Option adjusts Open.
type Option func(*openOptions)

type openOptions struct {
	logger     *slog.Logger
	extensions bool
}

// WithLogger sets the logger drivers report connection events to.
func WithLogger(l *slog.Logger) Option { return func(o *openOptions) { o.logger = l } }

// WithExtensions enables the schemes RGW does not have (nats, mqtt, mqtts).
func WithExtensions() Option { return func(o *openOptions) { o.extensions = true } }

// Open validates cfg and returns the endpoint for its URI scheme. Drivers
// connect lazily, so Open fails only on configuration errors, which are
// permanent; connection problems surface from Send.
func Open(ctx context.Context, cfg Config, opts ...Option) (Endpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	ep, err := open(cfg, o)
	if err != nil {
		return nil, base.Permanent(err)
	}
	return ep, nil
}

func open(cfg Config, o openOptions) (Endpoint, error) {
	scheme := cfg.Scheme()
	switch scheme {
	case "http", "https":
		if !validHTTPAckLevel(cfg.AckLevel) {
			return nil, fmt.Errorf("http endpoint: invalid http-ack-level %q", cfg.AckLevel)
		}
		return http.New(http.Config{
			URL:            cfg.URI,
			VerifySSL:      cfg.VerifySSL,
			CAFile:         cfg.CALocation,
			CloudEvents:    cfg.CloudEvents,
			ConnectTimeout: cfg.ConnectTimeout,
			MessageTimeout: cfg.MessageTimeout,
			MaxInflight:    cfg.MaxInflight,
			Logger:         o.logger,
		})
	case "amqp", "amqps":
		if cfg.AMQPVersion != "" && cfg.AMQPVersion != "0-9-1" {
			return nil, fmt.Errorf("amqp endpoint: unsupported amqp-version %q", cfg.AMQPVersion)
		}
		return amqp.New(amqp.Config{
			URL:            cfg.URI,
			Exchange:       cfg.AMQPExchange,
			AckLevel:       cfg.AckLevel,
			VerifySSL:      cfg.VerifySSL,
			CAFile:         cfg.CALocation,
			ConnectTimeout: cfg.ConnectTimeout,
			MessageTimeout: cfg.MessageTimeout,
			MaxInflight:    cfg.MaxInflight,
			Logger:         o.logger,
		})
	case "kafka":
		return kafka.New(kafka.Config{
			URL:            cfg.URI,
			ExtraBrokers:   cfg.KafkaBrokers,
			User:           cfg.User,
			Password:       cfg.Password,
			Mechanism:      cfg.Mechanism,
			UseSSL:         cfg.UseSSL,
			VerifySSL:      cfg.VerifySSL,
			CAFile:         cfg.CALocation,
			AckLevel:       cfg.AckLevel,
			ConnectTimeout: cfg.ConnectTimeout,
			MessageTimeout: cfg.MessageTimeout,
			Logger:         o.logger,
		})
	case "nats":
		if !o.extensions {
			break
		}
		return nats.New(nats.Config{
			URL:            cfg.URI,
			UseSSL:         cfg.UseSSL,
			VerifySSL:      cfg.VerifySSL,
			CAFile:         cfg.CALocation,
			AckLevel:       cfg.AckLevel,
			JetStream:      cfg.NATSJetStream,
			ConnectTimeout: cfg.ConnectTimeout,
			MessageTimeout: cfg.MessageTimeout,
			Logger:         o.logger,
		})
	case "mqtt", "mqtts":
		if !o.extensions {
			break
		}
		return mqtt.New(mqtt.Config{
			URL:            cfg.URI,
			VerifySSL:      cfg.VerifySSL,
			CAFile:         cfg.CALocation,
			AckLevel:       cfg.AckLevel,
			ConnectTimeout: cfg.ConnectTimeout,
			MessageTimeout: cfg.MessageTimeout,
			Logger:         o.logger,
		})
	}
	return nil, fmt.Errorf("push endpoint %s: %w %q", base.Redact(cfg.URI), ErrUnknownScheme, scheme)
}
