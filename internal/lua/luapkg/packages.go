// Package luapkg holds the built-in modules Lua scripts `require`: Cairn
// cannot load C rocks into its pure-Go VM, so it ships Go-native modules
// under the names RGW's example scripts use (spec lua.md §3, §9): cjson
// and cjson.safe (lua-cjson 2.1.0), lunajson, nats (lua-nats' client over
// nats.go, connections pooled across executions) and socket.http (POST).
package luapkg

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	rt "github.com/arnodel/golua/runtime"
)

// Options configure the modules.
type Options struct {
	Logger *slog.Logger
	// Timeout bounds a NATS connect or publish flush and an HTTP request
	// (5 s if zero); a script's own time limit, when shorter, wins.
	Timeout time.Duration
	// MaxNATSConns bounds the pooled NATS connections, one per server and
	// credentials (32 if zero); the least recently used is closed beyond.
	MaxNATSConns int
	// NATSReconnectWait is the pause between reconnection attempts of a
	// pooled connection whose server went away (1 s if zero).
	NATSReconnectWait time.Duration
}

// Packages makes the modules' tables for scripts and owns what outlives an
// execution: the pooled NATS connections and the HTTP client.
type Packages struct {
	log     *slog.Logger
	timeout time.Duration
	nats    *natsPool
	http    *http.Client
}

// New returns the modules; Close releases their connections.
func New(opts Options) *Packages {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.MaxNATSConns <= 0 {
		opts.MaxNATSConns = 32
	}
	if opts.NATSReconnectWait <= 0 {
		opts.NATSReconnectWait = time.Second
	}
	return &Packages{
		log:     opts.Logger,
		timeout: opts.Timeout,
		nats:    newNATSPool(opts.MaxNATSConns, opts.NATSReconnectWait, opts.Logger),
		http:    &http.Client{Timeout: opts.Timeout},
	}
}

// Close closes the pooled connections. Scripts still running may open
// new ones, which their executions close.
func (p *Packages) Close() error {
	p.http.CloseIdleConnections()
	return p.nats.close()
}

// Names returns the module names `require` can load, sorted.
func (p *Packages) Names() []string { return moduleNames() }

// ErrNoModule is returned by Open for a name Cairn does not ship.
var ErrNoModule = errors.New("luapkg: no such module")

// Open returns a fresh table of the module name for the thread's runtime
// (what `require(name)` returns). Whether the script may load it (the
// allowlist) is the caller's to check, with Providers.
func (p *Packages) Open(t *rt.Thread, name string) (rt.Value, error) {
	r := t.Runtime
	switch name {
	case "cjson":
		return rt.TableValue(newCJSON(r, false)), nil
	case "cjson.safe":
		return rt.TableValue(newCJSON(r, true)), nil
	case "lunajson":
		return rt.TableValue(newLunajson(r)), nil
	case "nats":
		return rt.TableValue(p.newNATS(r)), nil
	case "socket.http":
		return rt.TableValue(p.newHTTP(r)), nil
	}
	return rt.NilValue, fmt.Errorf("%w: %s", ErrNoModule, name)
}

// clockTicks is golua's cpuThresholdIncrement: the CPU ticks between two
// readings of the clock for its time limit.
const clockTicks = 10000

// opTimeout is the time an outside operation may take: the configured
// timeout, or less when the script's time limit ends sooner.
func (p *Packages) opTimeout(t *rt.Thread) time.Duration {
	d := p.timeout
	// golua reads the clock only every clockTicks ticks of CPU: a script
	// that mostly waits on calls like this one would see a stale time used
	// and give every call the whole limit. Requiring that many ticks makes
	// it read the clock now (and stop the script if its time is up).
	t.RequireCPU(clockTicks)
	rc := t.Runtime.RuntimeContext()
	if limit := rc.HardLimits().Millis; limit > 0 {
		left := time.Duration(limit-rc.UsedResources().Millis) * time.Millisecond
		d = max(min(d, left), time.Millisecond)
	}
	return d
}
