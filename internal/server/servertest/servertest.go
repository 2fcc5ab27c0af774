// Package servertest starts the real Cairn server in-process on a loopback
// port, for integration tests:
//
//	srv := servertest.Start(t, servertest.Options{})
//	// use srv.URL with srv.RootAccessKey / srv.RootSecretKey
//
// The server stops when the test ends (or at srv.Stop()).
package servertest

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/server"
)

// Root credentials used when Options leaves them empty.
const (
	DefaultRootAccessKey = "CAIRNTESTROOTKEY0000"
	DefaultRootSecretKey = "cairn-test-root-secret-key-0000000000000"
)

// Options tune the test server; zero values are fine.
type Options struct {
	// DataDir is the data directory; a fresh t.TempDir() if empty. Reuse
	// one across Start calls to test restarts.
	DataDir string
	// RootAccessKey/RootSecretKey default to DefaultRootAccessKey and
	// DefaultRootSecretKey.
	RootAccessKey string
	RootSecretKey string
	// Domain enables virtual-hosted-style requests.
	Domain string
	// Region defaults to us-east-1.
	Region string
	// ShutdownTimeout defaults to 10s.
	ShutdownTimeout time.Duration
	// Logger defaults to one that discards.
	Logger *slog.Logger
	// Notifications tunes bucket notifications (server defaults if zero).
	Notifications server.NotificationConfig
	// Address is the listen address; 127.0.0.1:0 (a free port) if empty.
	// Set it to restart a server on the address of a stopped one.
	Address string
	// Metrics configures the metrics (on, at GET /metrics, if zero).
	Metrics server.MetricsConfig
	// AccessLog, if set, receives the access log.
	AccessLog *slog.Logger
	// PubSub enables and tunes the pull-mode PubSub API.
	PubSub server.PubSubConfig
	// Live tunes the live event stream (server defaults if zero).
	Live server.LiveConfig
	// BodyIdleTimeout and MaxAnonymousBodies bound request bodies (server
	// defaults if zero).
	BodyIdleTimeout    time.Duration
	MaxAnonymousBodies int
	// Lua configures request scripting (off without Lua.Scripts).
	Lua server.LuaConfig
	// Scrub configures the background scrub (off if zero).
	Scrub server.ScrubConfig
	// BallastSize is the data directory's free-space reserve (server
	// default if zero, off if negative).
	BallastSize int64
	// Store, Ceph and RadosOpener select another store than the local
	// one in DataDir (see server.Config).
	Store       string
	Ceph        server.CephConfig
	RadosOpener server.StoreOpener
	// Console configures the web console (off if Console.Address is
	// empty; use 127.0.0.1:0 for a free port, see Running.ConsoleURL).
	Console server.ConsoleConfig
	// Lifecycle tunes the lifecycle worker (a real day if zero).
	Lifecycle server.LifecycleConfig
}

// Running is a started server.
type Running struct {
	URL           string // http://127.0.0.1:<port>
	ConsoleURL    string // http://127.0.0.1:<port> of the console, if on
	RootAccessKey string
	RootSecretKey string
	DataDir       string
	Server        *server.Server

	t      testing.TB
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// Start starts a server and registers its Stop with t.Cleanup.
func Start(t testing.TB, opts Options) *Running {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.RootAccessKey == "" && opts.RootSecretKey == "" {
		opts.RootAccessKey, opts.RootSecretKey = DefaultRootAccessKey, DefaultRootSecretKey
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Address == "" {
		opts.Address = "127.0.0.1:0"
	}
	srv, err := server.New(server.Config{
		DataDir:         opts.DataDir,
		Address:         opts.Address,
		Domain:          opts.Domain,
		Region:          opts.Region,
		RootAccessKey:   opts.RootAccessKey,
		RootSecretKey:   opts.RootSecretKey,
		ShutdownTimeout: opts.ShutdownTimeout,
		Logger:          opts.Logger,
		Notifications:   opts.Notifications,
		Metrics:         opts.Metrics,
		AccessLog:       opts.AccessLog,
		PubSub:          opts.PubSub,
		Live:            opts.Live,
		BodyIdleTimeout: opts.BodyIdleTimeout, MaxAnonymousBodies: opts.MaxAnonymousBodies,
		Scrub:       opts.Scrub,
		BallastSize: opts.BallastSize,
		Lua:         opts.Lua,
		Store:       opts.Store, Ceph: opts.Ceph, RadosOpener: opts.RadosOpener,
		Console:   opts.Console,
		Lifecycle: opts.Lifecycle,
	})
	if err != nil {
		t.Fatalf("servertest: start: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{
		URL:           srv.URL(),
		RootAccessKey: opts.RootAccessKey,
		RootSecretKey: opts.RootSecretKey,
		DataDir:       opts.DataDir,
		Server:        srv,
		t:             t,
		cancel:        cancel,
		done:          make(chan error, 1),
	}
	if a := srv.ConsoleAddr(); a != nil {
		r.ConsoleURL = "http://" + a.String()
	}
	go func() { r.done <- srv.Run(ctx) }()
	t.Cleanup(r.Stop)
	return r
}

// Stop shuts the server down gracefully and waits for it; it reports a
// failed shutdown as a test error. Calling it again does nothing.
func (r *Running) Stop() {
	r.once.Do(func() {
		r.cancel()
		if err := <-r.done; err != nil {
			r.t.Errorf("servertest: stop: %v", err)
		}
	})
}
