// Package server is Cairn's composition root: it opens the store, builds
// the account service, the verifier and the protocol adapters, and serves
// them on one listener until its context ends. It is the only package that
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
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cairn-s3/cairn/internal/account"
	"github.com/cairn-s3/cairn/internal/adminapi"
	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/s3api"
	"github.com/cairn-s3/cairn/internal/sse"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// Server is a running Cairn gateway: built by New, served by Run.
type Server struct {
	cfg      Config
	log      *slog.Logger
	store    *local.Store
	accounts *account.Service
	s3       *s3api.API
	ln       net.Listener
	root     Root
	handler  http.Handler

	inflight sync.WaitGroup // requests being served
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
	st, err := local.Open(cfg.DataDir, local.Options{Logger: log.With("component", "store")})
	if err != nil {
		return nil, fmt.Errorf("server: open store in %s: %w", cfg.DataDir, err)
	}
	defer func() {
		if err != nil {
			_ = st.Close()
		}
	}()

	accts := account.New(st.KV(), account.Options{})
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
	// The SSE master key lives in the data dir (created at first start,
	// mode 0600); SSE-S3 and the testing KMS derive their keys from it.
	keys, err := sse.LoadOrCreateKeyring(filepath.Join(cfg.DataDir, sseKeyFile))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	api = s3api.New(st, verifier, s3api.Config{
		Domain: cfg.Domain, Region: cfg.Region, Logger: log.With("component", "s3api"),
		SSE: keys, SSECRequireTLS: cfg.SSERequireTLS,
	})
	admin := adminapi.New(accts, verifier, adminapi.Config{Logger: log.With("component", "adminapi")})

	ln, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("server: listen on %s: %w", cfg.Address, err)
	}
	s = &Server{cfg: cfg, log: log, store: st, accounts: accts, s3: api, ln: ln, root: root}
	s.handler = s.track(route(api, admin))
	return s, nil
}

// route sends path-style requests under /admin/ to the admin API and
// everything else to the S3 API. (So, as in RGW, no bucket can be named
// "admin" usefully; virtual-hosted requests are never admin requests.)
func route(s3 *s3api.API, admin http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, adminapi.Prefix) && s3.VirtualHostBucket(r) == "" {
			admin.ServeHTTP(w, r)
			return
		}
		s3.ServeHTTP(w, r)
	})
}

// track counts in-flight requests, so that the store is closed only after
// the last handler returned, even after a forced shutdown.
func (s *Server) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Done()
		h.ServeHTTP(w, r)
	})
}

// Addr returns the address the listener is bound to.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL returns the S3 endpoint URL, http://<Addr>.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Root reports what start-up did with the root user.
func (s *Server) Root() Root { return s.root }

// Handler returns the server's HTTP handler (S3 and admin routing), for
// embedding in another listener.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves until ctx is done, then shuts down gracefully: the listener
// stops accepting, in-flight requests get up to Config.ShutdownTimeout to
// finish (after which their connections are closed and their contexts
// canceled), and only when every handler has returned is the store
// closed. Run may be called once; it returns nil after a clean shutdown.
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
		Handler:           s.handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("serving", "address", s.Addr().String(), "data_dir", s.cfg.DataDir)

	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(s.ln) }()

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		runErr = fmt.Errorf("server: serve: %w", err)
	}

	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	if err := hs.Shutdown(sctx); err != nil {
		s.log.Warn("graceful shutdown timed out; closing connections", "err", err)
		_ = hs.Close()
		cancelBase()
	}
	cancel()
	if runErr == nil {
		if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("server: serve: %w", err)
		}
	}
	s.inflight.Wait() // handlers outlive a forced Close; the store must not
	if err := s.store.Close(); err != nil {
		return errors.Join(runErr, fmt.Errorf("server: close store: %w", err))
	}
	s.log.Info("stopped")
	return runErr
}

// Close releases a server whose Run was never called.
func (s *Server) Close() error {
	err := errors.New("server: Close after Run")
	s.runOnce.Do(func() {
		err = errors.Join(s.ln.Close(), s.store.Close())
	})
	return err
}
