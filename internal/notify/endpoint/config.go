package endpoint

import (
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/base"
)

// Config is everything needed to reach one push endpoint: the push-endpoint
// URI and the endpoint arguments of its topic. It is comparable; a Pool
// shares one Endpoint among equal Configs.
//
// Build it with ParseConfig or DefaultConfig: the zero value has VerifySSL
// false, which is not the default of the spec.
type Config struct {
	// URI is the push-endpoint; its scheme selects the driver.
	URI string
	// VerifySSL checks certificates and host names (default true).
	VerifySSL bool
	// CALocation is a PEM CA bundle that replaces the system roots.
	CALocation string
	// UseSSL enables TLS for kafka and nats (amqps, https, mqtts imply it).
	UseSSL bool
	// AckLevel is the scheme's ack level argument: amqp none|broker|routable,
	// kafka none|broker, nats none|broker, mqtt none|broker; for http it
	// holds http-ack-level (any|non-error|100–599), validated but not
	// enforced, as in RGW. Empty means the scheme's default.
	AckLevel string
	// AMQPExchange is the exchange to publish to; required for amqp.
	AMQPExchange string
	// AMQPVersion must be empty or "0-9-1".
	AMQPVersion string
	// CloudEvents adds CloudEvents headers to HTTP requests.
	CloudEvents bool
	// Mechanism is the Kafka SASL mechanism (PLAIN, SCRAM-SHA-256/512).
	Mechanism string
	// User and Password override the URI's Kafka credentials.
	User, Password string
	// KafkaBrokers lists extra bootstrap brokers: host[:port],...
	KafkaBrokers string
	// NATSJetStream publishes through JetStream and waits for its ack.
	NATSJetStream bool
	// ConnectTimeout and MessageTimeout override the scheme's defaults
	// when positive.
	ConnectTimeout time.Duration
	MessageTimeout time.Duration
	// MaxInflight overrides the in-flight cap (http, amqp) when non-zero;
	// negative means unlimited.
	MaxInflight int
}

// DefaultConfig returns the configuration of a topic with push endpoint uri
// and no endpoint arguments.
func DefaultConfig(uri string) Config {
	return Config{URI: uri, VerifySSL: true}
}

// Scheme returns the lower-cased URI scheme, or "" if there is none.
func (c Config) Scheme() string {
	s, _, ok := strings.Cut(c.URI, "://")
	if !ok {
		return ""
	}
	return strings.ToLower(s)
}

// String describes c without secrets.
func (c Config) String() string {
	return fmt.Sprintf("%s (ack %q, verify-ssl %t)", base.Redact(c.URI), c.AckLevel, c.VerifySSL)
}

// LogValue keeps passwords out of structured logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("uri", base.Redact(c.URI)),
		slog.String("ack_level", c.AckLevel),
		slog.Bool("verify_ssl", c.VerifySSL),
	)
}

// ParseArgs splits a topic's EndpointArgs string ("k1=v1&k2=v2") into a
// map. RGW stores values unescaped, so a value that does not unescape is
// taken verbatim; the last occurrence of a key wins.
func ParseArgs(s string) map[string]string {
	args := make(map[string]string)
	for kv := range strings.SplitSeq(s, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		args[k] = v
	}
	return args
}

// ackArg names the ack-level argument of each scheme.
var ackArg = map[string]string{
	"http":  "http-ack-level",
	"https": "http-ack-level",
	"amqp":  "amqp-ack-level",
	"amqps": "amqp-ack-level",
	"kafka": "kafka-ack-level",
	"nats":  "nats-ack-level",
	"mqtt":  "mqtt-ack-level",
	"mqtts": "mqtt-ack-level",
}

// ParseConfig builds a Config from a topic's push-endpoint and endpoint
// arguments (see ParseArgs). Invalid booleans are permanent errors; ack
// levels and other scheme-specific checks happen in Open.
func ParseConfig(pushEndpoint string, args map[string]string) (Config, error) {
	c := DefaultConfig(pushEndpoint)
	var err error
	boolArg := func(key string, dst *bool) {
		v, ok := args[key]
		if !ok || err != nil {
			return
		}
		b, perr := parseBool(v)
		if perr != nil {
			err = base.Permanentf("endpoint argument %s=%q: not a boolean", key, v)
			return
		}
		*dst = b
	}
	boolArg("verify-ssl", &c.VerifySSL)
	boolArg("use-ssl", &c.UseSSL)
	boolArg("cloudevents", &c.CloudEvents)
	boolArg("nats-jetstream", &c.NATSJetStream)
	if err != nil {
		return Config{}, err
	}
	c.CALocation = args["ca-location"]
	c.AckLevel = args[ackArg[c.Scheme()]]
	c.AMQPExchange = args["amqp-exchange"]
	c.AMQPVersion = args["amqp-version"]
	c.Mechanism = args["mechanism"]
	c.User = args["user-name"]
	c.Password = args["password"]
	c.KafkaBrokers = args["kafka-brokers"]
	return c, nil
}

// parseBool accepts what RGW's parser accepts, case-insensitively.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "1":
		return true, nil
	case "false", "no", "0":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", s)
}

// validHTTPAckLevel accepts any, non-error or an HTTP status code.
func validHTTPAckLevel(s string) bool {
	switch s {
	case "", "any", "non-error":
		return true
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 100 && n <= 599
}
