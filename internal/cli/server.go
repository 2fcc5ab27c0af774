package cli

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-s3/cairn/internal/server"
)

// Environment variables of the metrics and access-log flags.
const (
	EnvMetricsAddress = "CAIRN_METRICS_ADDRESS"
	EnvAccessLog      = "CAIRN_ACCESS_LOG"
	EnvPubSub         = "CAIRN_PUBSUB"
	// EnvTopicPublishWithoutPolicy is --topic-publish-without-policy.
	EnvTopicPublishWithoutPolicy = "CAIRN_TOPIC_PUBLISH_WITHOUT_POLICY"
	// Environment variables of the request body bounds.
	EnvBodyIdleTimeout    = "CAIRN_BODY_IDLE_TIMEOUT"
	EnvMaxAnonymousBodies = "CAIRN_MAX_ANONYMOUS_BODIES"
	// Environment variables of the background scrub.
	EnvScrubInterval = "CAIRN_SCRUB_INTERVAL"
	EnvScrubRate     = "CAIRN_SCRUB_RATE"
	// EnvDebugAddress is --debug-address, EnvDebugAllowRemote
	// --debug-allow-remote.
	EnvDebugAddress     = "CAIRN_DEBUG_ADDRESS"
	EnvDebugAllowRemote = "CAIRN_DEBUG_ALLOW_REMOTE"
	// EnvConsoleAddress is --console-address (set but empty: off), and
	// EnvConsoleSessionLifetime --console-session-lifetime.
	EnvConsoleAddress         = "CAIRN_CONSOLE_ADDRESS"
	EnvConsoleSessionLifetime = "CAIRN_CONSOLE_SESSION_LIFETIME"
	// EnvBallastSize is --ballast-size.
	EnvBallastSize = "CAIRN_BALLAST_SIZE"
	// Environment variables of the store flags.
	EnvStore      = "CAIRN_STORE"
	EnvCephConf   = "CAIRN_CEPH_CONF"
	EnvCephUser   = "CAIRN_CEPH_USER"
	EnvPoolPrefix = "CAIRN_POOL_PREFIX"
	EnvMonTimeout = "CAIRN_CEPH_MON_TIMEOUT"
	EnvOSDTimeout = "CAIRN_CEPH_OSD_TIMEOUT"
)

// Background scrub defaults of `cairn server`: weekly, as Ceph deep-scrubs,
// at 32 MiB/s, which reads 1 TiB in about 9 hours while leaving a disk's
// bandwidth to clients.
const (
	defaultScrubInterval = 7 * 24 * time.Hour
	defaultScrubRate     = 32 << 20
)

// serverFlags are the flags of `cairn server`.
type serverFlags struct {
	// store is --store; ceph holds --ceph-conf, --ceph-user, --pool-prefix.
	store     string
	ceph      server.CephConfig
	dataDir   string
	address   string
	domain    string
	region    string
	logLevel  string
	logFormat string
	// allowSecrets lets topics carry credentials over plain HTTP.
	allowSecrets bool
	// publishWithoutPolicy is --topic-publish-without-policy.
	publishWithoutPolicy bool
	// sseRequireTLS is --sse-require-tls.
	sseRequireTLS bool
	// metricsAddress is --metrics-address: a listener of its own for
	// /metrics (which the S3 listener serves too).
	metricsAddress string
	// debug holds --debug-address and --debug-allow-remote.
	debug server.DebugConfig
	// accessLog is --access-log: off, text or json.
	accessLog string
	// pubsub holds the --pubsub* flags.
	pubsub server.PubSubConfig
	// bodyIdleTimeout and maxAnonymousBodies are --body-idle-timeout and
	// --max-anonymous-bodies, as given (their environment variables are
	// read with the same syntax).
	bodyIdleTimeout, maxAnonymousBodies string
	// scrubInterval and scrubRate are --scrub-interval and --scrub-rate.
	scrubInterval, scrubRate string
	// cephMonTimeout and cephOSDTimeout are --ceph-mon-timeout and
	// --ceph-osd-timeout.
	cephMonTimeout, cephOSDTimeout string
	// ballastSize is --ballast-size: a size such as 64MiB, a percentage of
	// the disk such as 1%, or 0 (off).
	ballastSize string
	// lua holds the --lua-* flags.
	lua luaFlags
	// console holds --console-address; consoleLifetime is
	// --console-session-lifetime as given.
	console         server.ConsoleConfig
	consoleLifetime string
	lc              lcFlags
}

func newServerCmd(e env) *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the S3 gateway",
		Long: `Run the S3 gateway until interrupted (SIGINT or SIGTERM), then shut down
gracefully: in-flight requests finish before the store is closed.

On first start the root user (uid "root", admin) is created. Its key pair
comes from CAIRN_ROOT_ACCESS_KEY and CAIRN_ROOT_SECRET_KEY if both are set
(they are then ensured on every start), otherwise it is generated and the
secret key is printed once, on that first start only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServer(cmd, e, f) },
	}
	d := server.Default()
	fl := cmd.Flags()
	fl.StringVar(&f.store, "store", e.get(EnvStore, server.StoreLocal),
		"storage backend: local (the data directory) or rados (a Ceph cluster; needs a binary built with `make rados`) (env "+EnvStore+")")
	fl.StringVar(&f.dataDir, "data", e.get(EnvData, d.DataDir), "data directory of the local store (env "+EnvData+")")
	fl.StringVar(&f.ceph.ConfFile, "ceph-conf", e.get(EnvCephConf, ""),
		"--store rados: the cluster's ceph.conf (default: librados' search, /etc/ceph/ceph.conf) (env "+EnvCephConf+")")
	fl.StringVar(&f.ceph.User, "ceph-user", e.get(EnvCephUser, server.DefaultCephUser),
		"--store rados: the cephx user, client.NAME (env "+EnvCephUser+")")
	fl.StringVar(&f.ceph.PoolPrefix, "pool-prefix", e.get(EnvPoolPrefix, server.DefaultPoolPrefix),
		"--store rados: the store lives in pool PREFIX.cairn, created with the cluster's defaults if missing (env "+EnvPoolPrefix+")")
	fl.DurationVar(&f.ceph.DrainLease, "drain-lease", 0,
		"--store rados: how long a gateway's hold on delivering an index shard's events lasts unrenewed; a dead gateway's shards are taken over within it (default 10s)")
	fl.StringVar(&f.cephMonTimeout, "ceph-mon-timeout", e.get(EnvMonTimeout, server.DefaultMonTimeout.String()),
		"--store rados: a monitor command (cluster status) that gets no answer this long fails, e.g. when the monitors lost quorum (env "+EnvMonTimeout+")")
	fl.StringVar(&f.cephOSDTimeout, "ceph-osd-timeout", e.get(EnvOSDTimeout, server.DefaultOSDTimeout.String()),
		"--store rados: an object operation that gets no answer this long fails with 503 instead of hanging; keep it above the OSD failover time (env "+EnvOSDTimeout+")")
	fl.StringVar(&f.address, "address", e.get(EnvAddress, d.Address), "listen address host:port (env "+EnvAddress+")")
	fl.StringVar(&f.domain, "domain", e.get(EnvDomain, ""), "domain for virtual-hosted-style requests <bucket>.<domain> (env "+EnvDomain+")")
	fl.StringVar(&f.region, "region", e.get(EnvRegion, d.Region), "region (env "+EnvRegion+")")
	fl.BoolVar(&f.sseRequireTLS, "sse-require-tls", false, "refuse SSE-C (customer key) writes over plain HTTP")
	fl.StringVar(&f.logLevel, "log-level", e.get(EnvLogLevel, "info"), "log level: debug, info, warn or error (env "+EnvLogLevel+")")
	fl.StringVar(&f.logFormat, "log-format", e.get(EnvLogFormat, "text"), "log format: text or json (env "+EnvLogFormat+")")
	fl.StringVar(&f.metricsAddress, "metrics-address", e.get(EnvMetricsAddress, ""),
		"also serve GET /metrics on this host:port (it is always served on the S3 listener) (env "+EnvMetricsAddress+")")
	fl.StringVar(&f.debug.Address, "debug-address", e.get(EnvDebugAddress, ""),
		"serve Go's pprof profiles at /debug/pprof/ on this host:port, loopback only unless --debug-allow-remote (env "+EnvDebugAddress+")")
	fl.BoolVar(&f.debug.AllowRemote, "debug-allow-remote", e.get(EnvDebugAllowRemote, "") == "true",
		"let --debug-address be a non-loopback address: pprof is unauthenticated (env "+EnvDebugAllowRemote+"=true)")
	fl.StringVar(&f.accessLog, "access-log", e.get(EnvAccessLog, "off"),
		"access log on stderr, one line per S3 request: off, text or json (env "+EnvAccessLog+")")
	fl.StringVar(&f.bodyIdleTimeout, "body-idle-timeout", e.get(EnvBodyIdleTimeout, d.BodyIdleTimeout.String()),
		"a request body (or header) making no progress this long fails with RequestTimeout and its connection is closed (env "+EnvBodyIdleTimeout+")")
	fl.StringVar(&f.maxAnonymousBodies, "max-anonymous-bodies", e.get(EnvMaxAnonymousBodies, strconv.Itoa(d.MaxAnonymousBodies)),
		"unauthenticated request bodies (anonymous uploads, POST forms) read at once; more are answered 503 SlowDown (env "+EnvMaxAnonymousBodies+")")
	fl.StringVar(&f.scrubInterval, "scrub-interval", e.get(EnvScrubInterval, defaultScrubInterval.String()),
		"verify all stored data in the background this often, the first time one interval after start; 0 turns it off (env "+EnvScrubInterval+")")
	fl.StringVar(&f.scrubRate, "scrub-rate", e.get(EnvScrubRate, strconv.Itoa(defaultScrubRate)),
		"bytes per second the background scrub reads at most; 0 is unlimited (env "+EnvScrubRate+")")
	fl.StringVar(&f.ballastSize, "ballast-size", e.get(EnvBallastSize, "64MiB"),
		"free space kept in the data directory's disk, e.g. 64MiB or 1%: new data is answered 507 XMinioStorageFull below it, and a ballast file this big is released when the disk fills anyway; 0 turns both off (env "+EnvBallastSize+")")
	fl.BoolVar(&f.allowSecrets, "allow-notification-secrets-in-cleartext", e.get(EnvAllowNotificationSecretsInCleartext, "") == "true",
		"allow topics with credentials (user-name, password, user:pass@ in push-endpoint) over plain HTTP (env "+EnvAllowNotificationSecretsInCleartext+"=true)")
	fl.BoolVar(&f.publishWithoutPolicy, "topic-publish-without-policy", e.get(EnvTopicPublishWithoutPolicy, "") == "true",
		"let any user's bucket notification use a topic without a Policy, as RGW does (off: only the topic owner's buckets, or those its Policy allows sns:Publish) (env "+EnvTopicPublishWithoutPolicy+"=true)")
	fl.BoolVar(&f.pubsub.Enabled, "pubsub", e.get(EnvPubSub, "") == "true",
		"serve the pull-mode PubSub API (/topics, /subscriptions, /notifications) (env "+EnvPubSub+"=true)")
	fl.IntVar(&f.pubsub.RetentionDays, "pubsub-retention-days", 7, "keep unacked PubSub events this many days (events_retention_days)")
	fl.DurationVar(&f.pubsub.Retention, "pubsub-retention", 0, "keep unacked PubSub events this long (overrides --pubsub-retention-days)")
	fl.DurationVar(&f.pubsub.ExpireInterval, "pubsub-expire-interval", 0, "how often PubSub retention runs (default 1m)")
	fl.StringVar(&f.pubsub.DataBucketPrefix, "pubsub-data-bucket-prefix", "pubsub-", "data_bucket_prefix shown in subscriptions")
	fl.StringVar(&f.pubsub.DataOIDPrefix, "pubsub-data-oid-prefix", "", "data_oid_prefix: prefix of event names and markers")
	addLuaFlags(fl, &f.lua)
	consoleAddr, ok := e.lookup(EnvConsoleAddress)
	if !ok {
		consoleAddr = server.DefaultConsoleAddress
	}
	fl.StringVar(&f.console.Address, "console-address", consoleAddr,
		`serve the web console on this host:port; "" turns it off (env `+EnvConsoleAddress+`)`)
	fl.StringVar(&f.consoleLifetime, "console-session-lifetime", e.get(EnvConsoleSessionLifetime, "12h"),
		"how long a console sign-in lasts (env "+EnvConsoleSessionLifetime+")")
	addLifecycleFlags(fl, e, &f.lc)
	return cmd
}

func runServer(cmd *cobra.Command, e env, f serverFlags) error {
	log, err := newLogger(e.stderr, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	access, err := newAccessLog(e.stderr, f.accessLog)
	if err != nil {
		return err
	}
	idle, maxAnon, err := bodyBounds(f.bodyIdleTimeout, f.maxAnonymousBodies)
	if err != nil {
		return err
	}
	scrub, err := scrubConfig(f.scrubInterval, f.scrubRate)
	if err != nil {
		return err
	}
	if err := cephTimeouts(&f.ceph, f.cephMonTimeout, f.cephOSDTimeout); err != nil {
		return err
	}
	ballast, ballastPercent, err := parseBallast(f.ballastSize)
	if err != nil {
		return err
	}
	luaCfg, err := f.lua.config()
	if err != nil {
		return err
	}
	if f.console.SessionLifetime, err = time.ParseDuration(f.consoleLifetime); err != nil || f.console.SessionLifetime <= 0 {
		return fmt.Errorf("--console-session-lifetime %q: want a positive duration such as 12h", f.consoleLifetime)
	}
	lcCfg, err := f.lc.config()
	if err != nil {
		return err
	}
	cfg := server.Config{
		Console:     f.console,
		Store:       f.store,
		Ceph:        f.ceph,
		RadosOpener: e.ext.RadosStore,
		Lua:         luaCfg,
		Lifecycle:   lcCfg,
		Scrub:       scrub,
		BallastSize: ballast, BallastPercent: ballastPercent,
		DataDir:       f.dataDir,
		Address:       f.address,
		Domain:        f.domain,
		Region:        f.region,
		RootAccessKey: e.get(EnvRootAccessKey, ""),
		RootSecretKey: e.get(EnvRootSecretKey, ""),
		SSERequireTLS: f.sseRequireTLS,
		Logger:        log,
		Notifications: server.NotificationConfig{AllowSecretsInCleartext: f.allowSecrets, TopicPublishWithoutPolicy: f.publishWithoutPolicy},
		Metrics:       server.MetricsConfig{Address: f.metricsAddress},
		Debug:         f.debug,
		AccessLog:     access,
		PubSub:        f.pubsub,

		BodyIdleTimeout:    idle,
		MaxAnonymousBodies: maxAnon,
	}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	printBanner(e.stdout, srv, cfg)
	return srv.Run(cmd.Context())
}

// bodyBounds parses --body-idle-timeout and --max-anonymous-bodies.
func bodyBounds(idle, maxAnon string) (time.Duration, int, error) {
	d, err := time.ParseDuration(idle)
	if err != nil || d <= 0 {
		return 0, 0, fmt.Errorf("--body-idle-timeout %q: want a positive duration such as 20s", idle)
	}
	n, err := strconv.Atoi(maxAnon)
	if err != nil || n <= 0 {
		return 0, 0, fmt.Errorf("--max-anonymous-bodies %q: want a positive number", maxAnon)
	}
	return d, n, nil
}

// cephTimeouts parses --ceph-mon-timeout and --ceph-osd-timeout into c.
func cephTimeouts(c *server.CephConfig, mon, osd string) error {
	for _, t := range []struct {
		flag, v string
		to      *time.Duration
	}{{"--ceph-mon-timeout", mon, &c.MonTimeout}, {"--ceph-osd-timeout", osd, &c.OSDTimeout}} {
		d, err := time.ParseDuration(t.v)
		if err != nil || d < time.Second {
			return fmt.Errorf("%s %q: want a duration of at least 1s, such as 30s", t.flag, t.v)
		}
		*t.to = d
	}
	return nil
}

// scrubConfig parses --scrub-interval and --scrub-rate.
func scrubConfig(interval, rate string) (server.ScrubConfig, error) {
	d, err := time.ParseDuration(interval)
	if err != nil || d < 0 {
		return server.ScrubConfig{}, fmt.Errorf("--scrub-interval %q: want a duration such as 168h, or 0 for off", interval)
	}
	r, err := strconv.ParseInt(rate, 10, 64)
	if err != nil || r < 0 {
		return server.ScrubConfig{}, fmt.Errorf("--scrub-rate %q: want bytes per second, or 0 for unlimited", rate)
	}
	return server.ScrubConfig{Interval: d, Rate: r}, nil
}

// parseBallast parses --ballast-size into the server's BallastSize (negative:
// off) or BallastPercent.
func parseBallast(v string) (int64, float64, error) {
	if p, ok := strings.CutSuffix(strings.TrimSpace(v), "%"); ok {
		pct, err := strconv.ParseFloat(p, 64)
		if err != nil || pct < 0 || pct >= 50 {
			return 0, 0, fmt.Errorf("--ballast-size %q: want a percentage of the disk below 50%%, e.g. 1%%", v)
		}
		if pct == 0 {
			return -1, 0, nil
		}
		return 0, pct, nil
	}
	n, err := parseSize(v)
	if err != nil {
		return 0, 0, fmt.Errorf("--ballast-size %q: want a size such as 64MiB, a percentage such as 1%%, or 0", v)
	}
	if n == 0 {
		return -1, 0, nil
	}
	return n, 0, nil
}

// newLogger builds the server's logger on w.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// newAccessLog builds the access logger on w: nil for "off".
func newAccessLog(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "off", "":
		return nil, nil
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)).With("log", "access"), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)).With("log", "access"), nil
	}
	return nil, fmt.Errorf("--access-log %q: want off, text or json", format)
}

// printBanner tells the operator where the gateway is and how to sign in,
// like `cn cluster start`. A generated secret key is printed only on the
// start that generated it.
func printBanner(w io.Writer, srv *server.Server, cfg server.Config) {
	root := srv.Root()
	secret := "(generated at first start, not shown again; to replace it, restart with " +
		EnvRootAccessKey + " and " + EnvRootSecretKey + " set)"
	switch {
	case root.Generated:
		secret = root.SecretKey
	case root.FromConfig:
		secret = "(from " + EnvRootSecretKey + ")"
	}
	fmt.Fprintf(w, "Cairn S3 gateway is running.\n\n")
	fmt.Fprintf(w, "  S3 endpoint: %s\n", displayURL(srv.Addr()))
	fmt.Fprintf(w, "  Region:      %s\n", cfg.Region)
	fmt.Fprintf(w, "  Root user:   %s\n", root.UserID)
	fmt.Fprintf(w, "  Access key:  %s\n", root.AccessKey)
	fmt.Fprintf(w, "  Secret key:  %s\n", secret)
	if a := srv.ConsoleAddr(); a != nil {
		fmt.Fprintf(w, "  Console:     %s/\n", displayURL(a))
	}
	fmt.Fprintf(w, "  Metrics:     %s%s\n", displayURL(srv.Addr()), server.MetricsPath)
	if a := srv.MetricsAddr(); a != nil {
		fmt.Fprintf(w, "               %s%s\n", displayURL(a), server.MetricsPath)
	}
	if a := srv.DebugAddr(); a != nil {
		fmt.Fprintf(w, "  Profiling:   %s%s\n", displayURL(a), server.DebugPath)
	}
	if cfg.Store == server.StoreRados {
		fmt.Fprintf(w, "  Store:       RADOS pool %s (as %s)\n", cfg.Ceph.Pool(), cfg.Ceph.User)
	} else {
		fmt.Fprintf(w, "  Data dir:    %s\n", cfg.DataDir)
	}
	if root.Generated {
		fmt.Fprintf(w, "\n  The root key pair was generated now and its secret is shown only this once: save it.\n")
	}
	fmt.Fprintln(w)
}

// displayURL is the endpoint URL clients should use: a wildcard listen
// address is shown as loopback.
func displayURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return "http://" + host + ":" + port
}
