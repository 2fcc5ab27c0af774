// Package server is Cairn's composition root: it opens the store, builds
// the account service, the verifier, the notification subsystem (the
// dispatcher as the store's change hook, the durable queue of persistent
// topics, the endpoint pool) and the protocol adapters (S3 with the SNS
// topic API, admin), and serves them on one listener until its context
// ends. It is the only package that
// knows the concrete types; tests start the real server in-process through
// server/servertest.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-s3/cairn/internal/account"
	"github.com/cairn-s3/cairn/internal/adminapi"
	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/lifecycle"
	"github.com/cairn-s3/cairn/internal/live"
	"github.com/cairn-s3/cairn/internal/lua"
	"github.com/cairn-s3/cairn/internal/lua/luapkg"
	"github.com/cairn-s3/cairn/internal/metrics"
	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/notify/endpoint"
	"github.com/cairn-s3/cairn/internal/psapi"
	"github.com/cairn-s3/cairn/internal/pubsub"
	"github.com/cairn-s3/cairn/internal/queue"
	"github.com/cairn-s3/cairn/internal/s3api"
	"github.com/cairn-s3/cairn/internal/script"
	"github.com/cairn-s3/cairn/internal/snsapi"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// Server is a running Cairn gateway: built by New, served by Run.
type Server struct {
	cfg      Config
	log      *slog.Logger
	store    Backend
	where    string // the store's directory or pool, for the log
	accounts *account.Service
	s3       *s3api.API
	notify   *notify.Dispatcher
	queue    *queue.Queue
	drainer  Drainer        // nil but on a store several gateways share (drain.go)
	notifs   *notifications // what drained shards' queues are made of
	pool     *endpoint.Pool
	ln       net.Listener
	root     Root
	handler  http.Handler
	metrics  *metrics.Metrics // nil when disabled
	history  *metrics.History // nil when metrics are disabled
	mln      net.Listener     // the metrics listener, if any
	dln      net.Listener     // the debug (pprof) listener, if any
	cln      net.Listener     // the console listener, if any
	console  http.Handler     // the web console, if any
	pubsub   *pubsub.Service  // nil unless the PubSub API is enabled
	live     *live.Hub
	// scripts are the Lua scripts and package allowlist (on the metadata kv).
	scripts *script.Store
	lc      *lifecycle.Worker
	lua     *lua.Engine      // nil without scripting
	luaPkgs *luapkg.Packages // the shipped packages the engine uses, owned here

	inflight sync.WaitGroup // requests being served
	active   atomic.Int64   // the same, countable
	runOnce  sync.Once
}

// sseKeyFile is the name, in the data dir, of the SSE master key file.
const sseKeyFile = "sse-master.key"

// New opens the data directory, bootstraps the root user and binds the
// listener. The caller must call Run (which closes everything when it
// returns) or Close.
func New(cfg Config) (s *Server, err error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	// The store calls the dispatcher inside every commit (events are written
	// in the commit of their change); the dispatcher needs the store.
	var disp *notify.Dispatcher
	var ps *pubsub.Service
	hub, err := newLive(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	hook := func(ctx context.Context, c store.Change, w store.RecordWriter) error {
		if disp == nil { // only while opening: no change is made then
			return nil
		}
		if err := disp.Hook(ctx, c, w); err != nil {
			return err
		}
		if ps != nil {
			if err := ps.Hook(ctx, c, w); err != nil {
				return err
			}
		}
		return hub.Hook(ctx, c, w)
	}
	// Integrity errors are counted in the metrics, created below.
	var m *metrics.Metrics
	onCorrupt := func(*local.CorruptError) {
		if m != nil {
			m.ObserveIntegrityError()
		}
	}
	opened, err := openStore(context.Background(), storeOpen{cfg: cfg, log: log, hook: hook, onCorrupt: onCorrupt})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	st := opened.Backend
	defer func() {
		if err != nil {
			_ = st.Close()
		}
	}()

	var onChange func(context.Context, []string)
	if opened.Peers != nil {
		onChange = opened.Peers.Changed
	}
	accts := account.New(st.KV(), account.Options{OnChange: onChange})
	if opened.Peers != nil {
		opened.Peers.Listen(accts.Forget)
	}
	if opened.Live != nil {
		hub.SetRelay(opened.Live)
		opened.Live.Attach(hub)
	}
	scripts := script.New(st.KV(), script.Options{})
	root, err := bootstrapRoot(context.Background(), accts, cfg.RootAccessKey, cfg.RootSecretKey)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}

	// The verifier needs the adapter's virtual-host rule (for SigV2's
	// canonical resource) and the adapter needs the verifier.
	var api *s3api.API
	verifier := auth.New(accts, auth.Options{
		Region:            cfg.Region,
		VirtualHostBucket: func(r *http.Request) string { return api.VirtualHostBucket(r) },
	})
	// SSE-S3 and the testing KMS derive their keys from the store's
	// master key.
	keys := opened.Keys
	// The metrics read the notification subsystem at scrape time.
	var n *notifications
	if !cfg.Metrics.Disabled {
		m = newMetrics(st, &n)
	}
	// Lua scripts run in the S3 adapter's request flow.
	luaEngine, luaPkgs := newLuaEngine(cfg, log, scripts)
	var scripting s3api.Scripting
	if luaEngine != nil {
		scripting = luaEngine
		if m != nil {
			m.Registry().MustRegister(luaCollector{luaEngine})
		}
	}
	api = s3api.New(st, verifier, s3api.Config{
		Domain: cfg.Domain, Region: cfg.Region, Logger: log.With("component", "s3api"),
		Users: aclUsers{accts}, SSE: keys, SSECRequireTLS: cfg.SSERequireTLS,
		ReservedBuckets: []string{strings.Trim(adminapi.Prefix, "/"), strings.Trim(MetricsPath, "/"), minioBucket},
		Observe:         observer(m, cfg.AccessLog),
		BodyIdleTimeout: cfg.BodyIdleTimeout, MaxAnonymousBodies: cfg.MaxAnonymousBodies,
		Scripting: scripting,
	})

	n, err = newNotifications(st, cfg, log, m)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	disp = n.disp
	n.shared = opened.Drainer != nil
	defer func() {
		if err != nil {
			n.close()
		}
	}()
	api.EnableNotifications(n.disp)
	var psvc *pubsub.Service
	var adminPubSub adminapi.PubSub
	if cfg.PubSub.Enabled {
		var rest *psapi.API
		if psvc, rest, err = newPubSub(st, cfg, n, api, log); err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		adminPubSub = rest.Admin()
		n.pubsub = psvc
	}
	enableLive(api, hub, m)
	lc := newLifecycle(st, cfg, m)
	enableClusterMetrics(m, opened.Cluster, log)
	enableDrainMetrics(m, opened.Drainer)
	api.Handle(s3api.OpSNS, snsapi.New(n.disp.Topics(), snsapi.Config{Options: *n.disp.Options(), Queues: n.queue,
		Logger: log.With("component", "snsapi")}).Serve)
	admin := adminapi.New(accts, verifier, adminapi.Config{Logger: log.With("component", "adminapi"),
		Notifications: &adminapi.Notifications{Dispatcher: n.disp, Queues: n.queue, Buckets: st},
		PubSub:        adminPubSub, Counters: n.counters, LuaCounters: luaCounters(luaEngine), Buckets: st,
		Scripts: &adminapi.Scripts{Store: scripts, Check: lua.Check, Shipped: luapkg.Shipped()},
		Cluster: clusterAPI(opened.Cluster), Lifecycle: lifecycleAdmin{lc},
		Scrub: scrubAPI(st, func(ctx context.Context, rate int64, upgrade bool) (any, error) {
			return s.scrubNow(ctx, local.ScrubOptions{Rate: rate, UpgradeLegacy: upgrade})
		})})

	ln, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("server: listen on %s: %w", cfg.Address, err)
	}
	var mh http.Handler
	var mln net.Listener
	if m != nil {
		mh = metricsHandler(m, log, true)
		if cfg.Metrics.Address != "" {
			if mln, err = net.Listen("tcp", cfg.Metrics.Address); err != nil {
				_ = ln.Close()
				return nil, fmt.Errorf("server: listen on metrics address %s: %w", cfg.Metrics.Address, err)
			}
		}
	}
	var dln net.Listener
	if cfg.Debug.Address != "" {
		if dln, err = net.Listen("tcp", cfg.Debug.Address); err != nil {
			_ = ln.Close()
			if mln != nil {
				_ = mln.Close()
			}
			return nil, fmt.Errorf("server: listen on debug address %s: %w", cfg.Debug.Address, err)
		}
	}
	s = &Server{cfg: cfg, log: log, store: st, accounts: accts, s3: api, notify: n.disp, queue: n.queue, pool: n.pool,
		ln: ln, root: root, where: opened.Where, metrics: m, mln: mln, dln: dln, pubsub: psvc, live: hub,
		scripts: scripts, lua: luaEngine, luaPkgs: luaPkgs, drainer: opened.Drainer, notifs: n,
		history: newHistory(m, cfg.Metrics, log), lc: lc}
	ps = psvc
	s.handler = s.track(route(api, s3api.WaitForPushes(n.disp, api), admin, mh))
	// The console forwards to s.handler and charts the metrics history.
	if s.cln, err = s.newConsole(s.consoleHistory()); err != nil {
		_ = ln.Close()
		if mln != nil {
			_ = mln.Close()
		}
		if dln != nil {
			_ = dln.Close()
		}
		return nil, fmt.Errorf("server: %w", err)
	}
	return s, nil
}

// notifications is the notification subsystem: the dispatcher (the store's
// change hook), the durable queue of persistent topics and the endpoint
// pool both deliver through.
type notifications struct {
	disp   *notify.Dispatcher
	queue  *queue.Queue
	pool   *endpoint.Pool
	pubsub *pubsub.Service // nil unless PubSub is enabled
	qcfg   queue.Config    // the queue's, also each drained shard's (drain.go)
	shared bool            // several gateways share the store (drain.go)
}

func newNotifications(st Backend, cfg Config, log *slog.Logger, m *metrics.Metrics) (*notifications, error) {
	nc := cfg.Notifications
	n := &notifications{pool: endpoint.NewPool(endpoint.PoolOptions{Logger: log.With("component", "endpoint"), Extensions: true})}
	var err error
	pusher := poolPusher{pool: n.pool}
	var onAck func(string, time.Duration)
	if m != nil {
		pusher.observe = m.ObserveEndpoint
		onAck = func(_ string, d time.Duration) { m.ObserveDelivery(d) }
	}
	n.disp, err = notify.NewDispatcher(notify.Config{
		Options:     notify.Options{AllowSecretsInCleartext: nc.AllowSecretsInCleartext, PublishWithoutPolicy: nc.TopicPublishWithoutPolicy},
		Topics:      notify.NewTopics(st.KV()),
		Queue:       enqueuer{n},
		Pusher:      pusher,
		SyncTimeout: nc.SyncTimeout,
		Logger:      log.With("component", "notify"),
	})
	if err != nil {
		_ = n.pool.Close()
		return nil, err
	}
	n.qcfg = queue.Config{
		KV: st.KV(), Sender: n.disp, Policy: n.disp.QueuePolicy,
		SendTimeout: nc.SendTimeout, BackoffMin: nc.RetryBackoffMin, BackoffMax: nc.RetryBackoffMax,
		PollInterval: nc.PollInterval, Logger: log.With("component", "queue"), OnDelivered: onAck,
	}
	if sq, ok := st.(recordSequencer); ok {
		n.qcfg.Sequence = sq.RecordSequence
	}
	n.queue, err = queue.New(n.qcfg)
	if err != nil {
		n.close()
		return nil, fmt.Errorf("open notification queue: %w", err)
	}
	return n, nil
}

// close cancels synchronous pushes still running and closes the endpoints.
// The queue must not be running.
func (n *notifications) close() {
	_ = n.disp.Close()
	_ = n.pool.Close()
}

// enqueuer forwards the dispatcher's Enqueue to the queue, which is built
// after the dispatcher (it needs it as its Sender).
type enqueuer struct{ n *notifications }

func (e enqueuer) Enqueue(w store.RecordWriter, ev queue.Event) error {
	return e.n.queue.Enqueue(w, ev)
}

// poolPusher delivers notify's messages through the endpoint pool: the
// adapter between notify (which knows no driver) and notify/endpoint. It
// reports each result to observe, if set (the endpoint metrics).
type poolPusher struct {
	pool    *endpoint.Pool
	observe func(pushEndpoint string, err error)
}

func (p poolPusher) Push(ctx context.Context, m notify.Push) error {
	err := p.pool.Push(ctx, m.Endpoint, m.Args, endpoint.Message{Body: m.Body, Topic: m.Topic, ID: m.ID, Attributes: m.Attributes})
	if p.observe != nil {
		p.observe(m.Endpoint, err)
	}
	return err
}

// minioBucket is reserved as MinIO reserves it: its path-style URLs under
// /minio/admin/ belong to MinIO's admin API (mc admin).
const minioBucket = "minio"

// route sends path-style requests under /admin/ (and MinIO's /minio/admin/,
// which it answers NotImplemented) to the admin API, exactly GET /metrics
// to the metrics (if not nil) and everything else to the S3 API. (So, as
// in RGW, no bucket can be named "admin" usefully; virtual-hosted requests
// are never admin requests. "metrics" and "minio" are reserved alike.)
func route(api *s3api.API, s3 http.Handler, admin http.Handler, metrics http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if metrics != nil && isMetricsRequest(api, r) {
			api.GuardBodies(metrics).ServeHTTP(w, r)
			return
		}
		if (strings.HasPrefix(r.URL.Path, adminapi.Prefix) || strings.HasPrefix(r.URL.Path, adminapi.MinIOPrefix)) &&
			api.VirtualHostBucket(r) == "" {
			api.GuardBodies(admin).ServeHTTP(w, r)
			return
		}
		s3.ServeHTTP(w, r)
	})
}

// InFlight returns the number of requests being served.
func (s *Server) InFlight() int64 { return s.active.Load() }

// track counts in-flight requests, so that the store is closed only after
// the last handler returned, even after a forced shutdown.
func (s *Server) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		s.active.Add(1)
		defer s.inflight.Done()
		defer s.active.Add(-1)
		if s.metrics != nil {
			defer s.metrics.Begin()()
		}
		h.ServeHTTP(w, r)
	})
}

// Addr returns the address the listener is bound to.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL returns the S3 endpoint URL, http://<Addr>.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// MetricsAddr returns the address of the metrics listener, or nil if
// there is none.
func (s *Server) MetricsAddr() net.Addr {
	if s.mln == nil {
		return nil
	}
	return s.mln.Addr()
}

// DebugAddr returns the address of the debug (pprof) listener, or nil if
// there is none.
func (s *Server) DebugAddr() net.Addr {
	if s.dln == nil {
		return nil
	}
	return s.dln.Addr()
}

// Root reports what start-up did with the root user.
func (s *Server) Root() Root { return s.root }

// Handler returns the server's HTTP handler (S3 and admin routing), for
// embedding in another listener.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves until ctx is done, then shuts down gracefully: the listener
// stops accepting, in-flight requests get up to Config.ShutdownTimeout to
// finish (after which their connections are closed and their contexts
// canceled), and only when every handler has returned is the store
// closed. The delivery workers of persistent topics run for as long as
// Run: they stop after the last request finished (events still queued stay
// on disk and are delivered after the next start), then synchronous pushes
// still running are canceled and the endpoints closed. Run may be called
// once; it returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	err := errors.New("server: Run called twice")
	s.runOnce.Do(func() { err = s.run(ctx) })
	return err
}

func (s *Server) run(ctx context.Context) error {
	// Request contexts do not derive from ctx: a shutdown lets in-flight
	// requests finish instead of canceling them.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	hs := &http.Server{
		Handler: s.handler,
		// A client stalling in its headers is cut like one stalling in
		// its body (the S3 adapter bounds bodies).
		ReadHeaderTimeout: s.cfg.BodyIdleTimeout,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(s.live.Close) // live streams never end by themselves
	if s.pubsub != nil {
		hs.RegisterOnShutdown(s.pubsub.EndWaits) // long-polls answer at once
	}
	s.log.Info("serving", "address", s.Addr().String(), "store", s.cfg.Store, "at", s.where)

	// Persistent topics are delivered while the server runs, and stopped
	// only once every request is done (so no commit wakes a stopped queue).
	qctx, stopQueue := context.WithCancel(context.WithoutCancel(ctx))
	defer stopQueue()
	queueErr := make(chan error, 1)
	go func() { queueErr <- s.runQueues(qctx) }()
	pubsubDone := make(chan error, 1)
	go func() { pubsubDone <- runPubSub(qctx, s.pubsub) }()

	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(s.ln) }()
	stopMetrics := s.serveMetrics()
	defer stopMetrics()
	defer s.startHistory(ctx)()
	stopScrub := s.startScrub(ctx)
	defer stopScrub() // also below, before the store closes
	stopLifecycle := s.startLifecycle(ctx)
	defer stopLifecycle() // also below, before the store closes
	if s.lua != nil {
		s.lua.Start()      // the background script
		defer s.closeLua() // also below, before the store closes
	}
	if s.dln != nil {
		defer serveListener(s.dln, debugHandler(), s.log, "debug")()
	}
	stopConsole := s.serveConsole(base)

	var runErr error
	queueStopped := false
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		runErr = fmt.Errorf("server: serve: %w", err)
	case err := <-queueErr: // delivery cannot stop alone: shut down
		queueStopped = true
		runErr = fmt.Errorf("server: notification queue stopped: %w", err)
	}

	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	consoleStopped := make(chan struct{})
	go func() { defer close(consoleStopped); stopConsole(sctx) }()
	if err := hs.Shutdown(sctx); err != nil {
		s.log.Warn("graceful shutdown timed out; closing connections", "err", err)
		_ = hs.Close()
		cancelBase()
	}
	<-consoleStopped // its live streams ended with hs's shutdown (live.Close)
	cancel()
	if runErr == nil {
		if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("server: serve: %w", err)
		}
	}
	s.inflight.Wait() // handlers outlive a forced Close; the store must not
	stopLifecycle()   // its commits queue events too
	stopQueue()
	if !queueStopped {
		if err := <-queueErr; err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("server: notification queue: %w", err))
		}
	}
	<-pubsubDone
	stopScrub()
	s.closeLua()
	_ = s.notify.Close() // synchronous pushes of requests that gave up waiting
	if s.pubsub != nil {
		s.pubsub.Close()
	}
	_ = s.pool.Close()
	if err := s.store.Close(); err != nil {
		return errors.Join(runErr, fmt.Errorf("server: close store: %w", err))
	}
	s.log.Info("stopped")
	return runErr
}

// serveMetrics serves the metrics listener, if any, until the returned
// func is called (which waits for it).
func (s *Server) serveMetrics() (stop func()) {
	if s.mln == nil {
		return func() {}
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+MetricsPath, metricsHandler(s.metrics, s.log, false))
	return serveListener(s.mln, mux, s.log, "metrics")
}

// Close releases a server whose Run was never called.
func (s *Server) Close() error {
	err := errors.New("server: Close after Run")
	s.runOnce.Do(func() {
		s.closeLua()
		_ = s.notify.Close()
		_ = s.pool.Close()
		if s.mln != nil {
			_ = s.mln.Close()
		}
		if s.dln != nil {
			_ = s.dln.Close()
		}
		if s.cln != nil {
			_ = s.cln.Close()
		}
		err = errors.Join(s.ln.Close(), s.store.Close())
	})
	return err
}

// aclUsers adapts the account service to s3api.Users.
type aclUsers struct{ accts *account.Service }

func (u aclUsers) DisplayName(ctx context.Context, id string) (string, bool) {
	usr, err := u.accts.Info(ctx, id)
	if err != nil {
		return "", false
	}
	return usr.DisplayName, true
}

func (u aclUsers) ByEmail(ctx context.Context, email string) (string, bool) {
	usr, err := u.accts.InfoByEmail(ctx, email)
	if err != nil {
		return "", false
	}
	return usr.ID, true
}
