package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/cairn-s3/cairn/internal/account"
	"github.com/cairn-s3/cairn/internal/console"
)

// ConsoleConfig configures the web console. It is off unless Address is
// set (`cairn server` sets console.DefaultAddress).
type ConsoleConfig struct {
	// Address is the host:port of the console's own listener.
	Address string
	// SessionLifetime is how long a sign-in lasts (12h if zero).
	SessionLifetime time.Duration
	// Endpoint is the S3 endpoint URL the console shows and presigns
	// for; the S3 listener's address (loopback for a wildcard) if empty.
	Endpoint string
	// MaxSessions bounds the sessions kept in memory (10000 if zero).
	MaxSessions int
}

// DefaultConsoleAddress is the console address of `cairn server`.
const DefaultConsoleAddress = console.DefaultAddress

func (c ConsoleConfig) validate() error {
	if c.Address == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		return fmt.Errorf("console address %q: want host:port: %w", c.Address, err)
	}
	if c.SessionLifetime < 0 || c.MaxSessions < 0 {
		return fmt.Errorf("console session lifetime %v or max sessions %d is negative", c.SessionLifetime, c.MaxSessions)
	}
	return nil
}

// newConsole binds the console's listener and builds the console over the
// server's whole handler (nil, nil when the console is off).
func (s *Server) newConsole(history console.History) (net.Listener, error) {
	cc := s.cfg.Console
	if cc.Address == "" {
		return nil, nil
	}
	endpoint := cc.Endpoint
	if endpoint == "" {
		endpoint = loopbackURL(s.ln.Addr())
	}
	c, err := console.New(console.Config{
		S3: s.handler, Accounts: consoleAccounts{s.accounts}, Endpoint: endpoint, Region: s.cfg.Region, History: history,
		LocalHostsOnly:  isLoopbackAddress(cc.Address),
		SessionLifetime: cc.SessionLifetime, MaxSessions: cc.MaxSessions, Logger: s.log.With("component", "console"),
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cc.Address)
	if err != nil {
		return nil, fmt.Errorf("listen on console address %s: %w", cc.Address, err)
	}
	s.console = c
	return ln, nil
}

// serveConsole serves the console listener, if any, with request contexts
// from base; the returned func shuts it down gracefully within ctx (then
// closes it). Forwarded requests are counted by the S3 handler's tracking,
// so the store outlives them.
func (s *Server) serveConsole(base context.Context) (shutdown func(ctx context.Context)) {
	if s.cln == nil {
		return func(context.Context) {}
	}
	hs := &http.Server{Handler: s.console, ReadHeaderTimeout: s.cfg.BodyIdleTimeout, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return base },
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(s.cln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("console listener stopped", "err", err)
		}
	}()
	s.log.Info("serving console", "address", s.cln.Addr().String())
	return func(ctx context.Context) {
		if err := hs.Shutdown(ctx); err != nil {
			_ = hs.Close()
		}
		<-done
	}
}

// ConsoleAddr returns the address of the console listener, or nil if the
// console is off.
func (s *Server) ConsoleAddr() net.Addr {
	if s.cln == nil {
		return nil
	}
	return s.cln.Addr()
}

// loopbackURL is http://<a>, a wildcard host shown as loopback.
func loopbackURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// consoleAccounts adapts the account service to console.Accounts.
type consoleAccounts struct{ accts *account.Service }

func (a consoleAccounts) KeyOwner(ctx context.Context, accessKey string) (console.KeyOwner, error) {
	u, err := a.accts.InfoByAccessKey(ctx, accessKey)
	if errors.Is(err, account.ErrNoSuchKey) {
		return console.KeyOwner{}, console.ErrUnknownKey
	}
	if err != nil {
		return console.KeyOwner{}, err
	}
	o := console.KeyOwner{UserID: u.ID, DisplayName: u.DisplayName, Suspended: u.Suspended,
		// adminapi's rule for letting a user in at all.
		Admin: u.Admin || u.System || u.HasCap("users", "read") || u.HasCap("users", "write")}
	for _, k := range u.Keys {
		if k.AccessKey == accessKey {
			o.SecretKey = k.SecretKey
		}
	}
	if o.SecretKey == "" {
		return console.KeyOwner{}, console.ErrUnknownKey
	}
	return o, nil
}

// isLoopbackAddress reports whether a host:port listens on loopback only.
func isLoopbackAddress(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	return err == nil && isLoopbackHost(host)
}
