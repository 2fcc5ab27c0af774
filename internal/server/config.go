package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/s3api"
)

// Config is everything the server needs to start.
type Config struct {
	// Store names the storage backend: StoreLocal (the default) or
	// StoreRados (only in a binary built with the rados tag).
	Store string
	// DataDir holds the local store (metadata and object data).
	DataDir string
	// Ceph locates the cluster of the RADOS store.
	Ceph CephConfig
	// RadosOpener opens the RADOS store (radosopen.Open in binaries built
	// with the rados tag); without it, Store "rados" is refused.
	RadosOpener StoreOpener
	// Address is the host:port the S3 (and admin) listener binds; port 0
	// picks a free port (see Server.Addr).
	Address string
	// Domain enables virtual-hosted-style requests for <bucket>.<Domain>.
	Domain string
	// Region is the region Cairn reports and signs for.
	Region string
	// RootAccessKey and RootSecretKey, if set, are ensured as a key pair
	// of the root user at every start. If both are empty, a key pair is
	// generated when the root user is created (and reported once, in
	// Server.Root).
	RootAccessKey string
	RootSecretKey string
	// SSERequireTLS refuses SSE-C (customer-key) writes over plain HTTP.
	// Off by default, so that clients and test suites on HTTP can use it.
	SSERequireTLS bool
	// ShutdownTimeout bounds how long Run waits for in-flight requests
	// once its context is done.
	ShutdownTimeout time.Duration
	// Logger receives the server's logs; slog.Default() if nil.
	Logger *slog.Logger
	// Notifications tunes bucket notifications.
	Notifications NotificationConfig
	// Metrics configures the Prometheus metrics.
	Metrics MetricsConfig
	// Debug configures the pprof listener (off by default).
	Debug DebugConfig
	// PubSub enables the pull-mode PubSub API.
	PubSub PubSubConfig
	// Live tunes the live event stream.
	Live LiveConfig
	// AccessLog, if set, gets one "request" line per S3 request (request
	// id, user, op, bucket, key, status, code, bytes in/out, duration).
	AccessLog *slog.Logger
	// BodyIdleTimeout is how long a request body may make no progress
	// before the request fails with RequestTimeout and its connection is
	// closed; it also bounds the reading of request headers (20s).
	BodyIdleTimeout time.Duration
	// Scrub configures the background scrub (off when zero).
	Scrub ScrubConfig
	// MaxAnonymousBodies bounds the unauthenticated request bodies
	// (anonymous uploads, POST forms) read at once; more are answered
	// 503 SlowDown (64).
	MaxAnonymousBodies int
	// BallastSize is the free-space reserve of the data directory in
	// bytes: new data is answered 507 XMinioStorageFull while less would
	// remain free, and a ballast file of this size is released when the
	// disk fills anyway (64 MiB if zero; negative turns it off).
	// BallastPercent, if positive, sizes it as a percentage of the disk.
	BallastSize    int64
	BallastPercent float64
	// Lua configures request scripting.
	Lua LuaConfig
	// Console configures the web console (off unless Console.Address).
	Console ConsoleConfig
	// Lifecycle tunes the lifecycle worker (always running).
	Lifecycle LifecycleConfig
}

// Storage backends (Config.Store).
const (
	StoreLocal = "local"
	StoreRados = "rados"
)

// CephConfig locates the Ceph cluster of the RADOS store.
type CephConfig struct {
	// ConfFile is the cluster's ceph.conf; empty searches librados'
	// default places (/etc/ceph/ceph.conf, $CEPH_CONF).
	ConfFile string
	// User is the cephx user, "client.NAME" (client.admin if empty).
	User string
	// PoolPrefix names the pools: the store lives in PoolPrefix+".cairn",
	// created with the cluster's defaults if missing.
	PoolPrefix string
	// DrainLease is how long a gateway's hold on draining an index
	// shard's events lasts unrenewed: a dead gateway's shards are taken
	// over within it (zero: rados.DefaultDrainTTL, 10 s).
	DrainLease time.Duration
	// MonTimeout bounds every monitor command (cluster status, pool
	// creation): without it librados waits forever for a quorum that is
	// gone. Zero takes DefaultMonTimeout.
	MonTimeout time.Duration
	// OSDTimeout bounds every object operation, so a request against
	// placement groups no OSD serves fails instead of hanging. It must
	// outlast an OSD failover (the heartbeat grace and peering), or
	// requests that would have completed fail. Zero takes
	// DefaultOSDTimeout.
	OSDTimeout time.Duration
}

// Defaults of CephConfig.
const (
	DefaultCephUser   = "client.admin"
	DefaultPoolPrefix = "default"
	// A monitor election takes seconds; a mon command that has waited
	// 15 s waits for a quorum that is not coming back soon.
	DefaultMonTimeout = 15 * time.Second
	// Ceph's default heartbeat grace is 20 s, peering a few more: a
	// minute lets every failover finish.
	DefaultOSDTimeout = 60 * time.Second
)

// Pool returns the name of the RADOS store's pool.
func (c CephConfig) Pool() string { return c.PoolPrefix + ".cairn" }

// MetricsConfig configures the Prometheus metrics. By default they are
// served at GET /metrics on the S3 listener.
type MetricsConfig struct {
	// Disabled turns metrics collection and both endpoints off.
	Disabled bool
	// Address, if set, is a host:port where a listener of its own serves
	// GET /metrics too.
	Address string
	// HistoryStep is how often the in-memory history the console charts
	// is sampled (metrics.DefaultHistoryStep, 10s, if zero); it keeps
	// metrics.DefaultHistoryPoints samples.
	HistoryStep time.Duration
}

// NotificationConfig tunes bucket notifications and the delivery of
// persistent topics. Zero values take the defaults of packages notify and
// queue.
type NotificationConfig struct {
	// AllowSecretsInCleartext lets topics with credentials (user-name,
	// password, or userinfo in push-endpoint) be created and read over
	// plain HTTP (RGW's rgw_allow_notification_secrets_in_cleartext).
	AllowSecretsInCleartext bool
	// TopicPublishWithoutPolicy lets any user's bucket notification use a
	// topic that has no Policy (RGW's default,
	// rgw_topic_require_publish_policy=false). Off (the default), a
	// notification may use a topic only when the topic's owner owns the
	// bucket or the topic's Policy allows sns:Publish for the bucket owner.
	TopicPublishWithoutPolicy bool
	// SyncTimeout bounds how long an S3 response waits for the pushes of
	// synchronous topics (10s).
	SyncTimeout time.Duration
	// RetryBackoffMin and RetryBackoffMax bound the exponential backoff
	// between delivery attempts of a persistent event (100ms, 30s).
	RetryBackoffMin, RetryBackoffMax time.Duration
	// PollInterval is the fallback rescan period of the persistent queues
	// (1s); workers are otherwise woken by commits.
	PollInterval time.Duration
	// SendTimeout bounds one delivery attempt of a persistent event (30s).
	SendTimeout time.Duration
}

// Defaults.
const (
	DefaultDataDir         = "./cairn-data"
	DefaultAddress         = "127.0.0.1:7480"
	DefaultRegion          = "us-east-1"
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultBodyIdleTimeout and DefaultMaxAnonymousBodies are the S3
	// adapter's.
	DefaultBodyIdleTimeout    = s3api.DefaultBodyIdleTimeout
	DefaultMaxAnonymousBodies = s3api.DefaultMaxAnonymousBodies
)

// Default returns the default configuration.
func Default() Config {
	return Config{
		DataDir:            DefaultDataDir,
		Address:            DefaultAddress,
		Region:             DefaultRegion,
		ShutdownTimeout:    DefaultShutdownTimeout,
		BodyIdleTimeout:    DefaultBodyIdleTimeout,
		MaxAnonymousBodies: DefaultMaxAnonymousBodies,
	}
}

// withDefaults fills the zero fields of c from Default().
func (c Config) withDefaults() Config {
	d := Default()
	if c.Store == "" {
		c.Store = StoreLocal
	}
	if c.Store == StoreRados {
		if c.Ceph.User == "" {
			c.Ceph.User = DefaultCephUser
		}
		if c.Ceph.PoolPrefix == "" {
			c.Ceph.PoolPrefix = DefaultPoolPrefix
		}
		if c.Ceph.MonTimeout == 0 {
			c.Ceph.MonTimeout = DefaultMonTimeout
		}
		if c.Ceph.OSDTimeout == 0 {
			c.Ceph.OSDTimeout = DefaultOSDTimeout
		}
	}
	if c.DataDir == "" {
		c.DataDir = d.DataDir
	}
	if c.Address == "" {
		c.Address = d.Address
	}
	if c.Region == "" {
		c.Region = d.Region
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = d.ShutdownTimeout
	}
	if c.BodyIdleTimeout == 0 {
		c.BodyIdleTimeout = d.BodyIdleTimeout
	}
	if c.MaxAnonymousBodies == 0 {
		c.MaxAnonymousBodies = d.MaxAnonymousBodies
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	switch c.Store {
	case StoreLocal, "":
		if c.DataDir == "" {
			errs = append(errs, errors.New("data dir is empty"))
		}
	case StoreRados:
		if !strings.HasPrefix(c.Ceph.User, "client.") || len(c.Ceph.User) == len("client.") {
			errs = append(errs, fmt.Errorf("ceph user %q: want client.NAME", c.Ceph.User))
		}
		if p := c.Ceph.PoolPrefix; p == "" || strings.ContainsAny(p, "/ \t\n") {
			errs = append(errs, fmt.Errorf("pool prefix %q: want a non-empty name without '/' or spaces", p))
		}
		// librados counts whole seconds.
		if t := c.Ceph.MonTimeout; t < time.Second {
			errs = append(errs, fmt.Errorf("ceph mon timeout %s: want at least 1s", t))
		}
		if t := c.Ceph.OSDTimeout; t < time.Second {
			errs = append(errs, fmt.Errorf("ceph osd timeout %s: want at least 1s", t))
		}
	default:
		errs = append(errs, fmt.Errorf("store %q: want %s or %s", c.Store, StoreLocal, StoreRados))
	}
	if _, port, err := net.SplitHostPort(c.Address); err != nil {
		errs = append(errs, fmt.Errorf("address %q: want host:port: %w", c.Address, err))
	} else if port == "" {
		errs = append(errs, fmt.Errorf("address %q: missing port", c.Address))
	}
	if c.Domain != "" && (strings.ContainsAny(c.Domain, ":/ ") || strings.HasPrefix(c.Domain, ".")) {
		errs = append(errs, fmt.Errorf("domain %q: want a bare host name such as s3.example.com", c.Domain))
	}
	if c.Metrics.Address != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Address); err != nil {
			errs = append(errs, fmt.Errorf("metrics address %q: want host:port: %w", c.Metrics.Address, err))
		}
	}
	if err := c.Console.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Lifecycle.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Debug.validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Region == "" {
		errs = append(errs, errors.New("region is empty"))
	}
	if (c.RootAccessKey == "") != (c.RootSecretKey == "") {
		errs = append(errs, errors.New("root access key and secret key must be set together"))
	}
	n := c.Notifications
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"sync timeout", n.SyncTimeout}, {"retry backoff min", n.RetryBackoffMin}, {"retry backoff max", n.RetryBackoffMax},
		{"poll interval", n.PollInterval}, {"send timeout", n.SendTimeout}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("notification %s %v is negative", d.name, d.v))
		}
	}
	if n.RetryBackoffMin > 0 && n.RetryBackoffMax > 0 && n.RetryBackoffMin > n.RetryBackoffMax {
		errs = append(errs, fmt.Errorf("notification retry backoff min %v exceeds max %v", n.RetryBackoffMin, n.RetryBackoffMax))
	}
	if p := c.PubSub; p.RetentionDays < 0 || p.Retention < 0 || p.ExpireInterval < 0 {
		errs = append(errs, fmt.Errorf("pubsub retention %d days / %v, expire interval %v: must not be negative", p.RetentionDays, p.Retention, p.ExpireInterval))
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("shutdown timeout %v is negative", c.ShutdownTimeout))
	}
	if c.BodyIdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("body idle timeout %v is negative", c.BodyIdleTimeout))
	}
	if c.BallastPercent < 0 || c.BallastPercent >= 50 {
		errs = append(errs, fmt.Errorf("ballast %v%% of the disk: want less than 50%%", c.BallastPercent))
	}
	if c.MaxAnonymousBodies < 0 {
		errs = append(errs, fmt.Errorf("max anonymous bodies %d is negative", c.MaxAnonymousBodies))
	}
	if len(errs) > 0 {
		return fmt.Errorf("server: invalid config: %w", errors.Join(errs...))
	}
	return nil
}
