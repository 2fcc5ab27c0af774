package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"
)

// DebugConfig configures the profiling listener. It is off unless Address
// is set.
type DebugConfig struct {
	// Address, if set, is a host:port where a listener of its own serves
	// Go's pprof handlers under /debug/pprof/.
	Address string
	// AllowRemote lets Address be other than a loopback address. Off by
	// default: pprof is unauthenticated, shows command lines and memory
	// contents, and a CPU or trace profile can slow the whole server.
	AllowRemote bool
}

// DebugPath is where the debug listener serves pprof's index.
const DebugPath = "/debug/pprof/"

// validate reports why c cannot be used, or nil.
func (c DebugConfig) validate() error {
	if c.Address == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(c.Address)
	if err != nil {
		return fmt.Errorf("debug address %q: want host:port: %w", c.Address, err)
	}
	if !c.AllowRemote && !isLoopbackHost(host) {
		return fmt.Errorf("debug address %q is not a loopback address: pprof is unauthenticated and exposes the process's memory; "+
			"bind it to 127.0.0.1, ::1 or localhost, or allow remote access explicitly (--debug-allow-remote)", c.Address)
	}
	return nil
}

// isLoopbackHost reports whether host names only loopback interfaces. An
// empty host or an unspecified address (all interfaces) is not loopback,
// nor is any name but localhost: it could resolve anywhere.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// debugHandler serves the pprof handlers on a mux of its own. Importing
// net/http/pprof also registers them on http.DefaultServeMux, which Cairn
// never serves, so they are reachable only through this listener.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(DebugPath, pprof.Index) // also serves the named profiles (heap, goroutine, ...)
	mux.HandleFunc(DebugPath+"cmdline", pprof.Cmdline)
	mux.HandleFunc(DebugPath+"profile", pprof.Profile)
	mux.HandleFunc(DebugPath+"symbol", pprof.Symbol)
	mux.HandleFunc(DebugPath+"trace", pprof.Trace)
	return mux
}

// serveListener serves h on ln until the returned func is called (which
// waits for it). No write timeout: a CPU profile or trace takes as long as
// its seconds parameter asks.
func serveListener(ln net.Listener, h http.Handler, log *slog.Logger, name string) (stop func()) {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn(name+" listener stopped", "err", err)
		}
	}()
	log.Info("serving "+name, "address", ln.Addr().String())
	return func() {
		_ = hs.Close()
		<-done
	}
}
