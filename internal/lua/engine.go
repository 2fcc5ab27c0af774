// Package lua runs RGW-compatible Lua scripts (spec lua.md) on a pure-Go
// Lua 5.4 VM (github.com/arnodel/golua): per request context (prerequest,
// postauth, postrequest, getdata, putdata) and in the background. Each
// execution gets a fresh state (compiled chunks are cached, never
// globals), runs under memory, CPU and wall-time limits, and sees RGW's
// tables (Request, RGW, Data). No Lua type leaves this package: the S3
// layer hands in a Request and gets plain Go values back.
package lua

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arnodel/golua/code"
	rt "github.com/arnodel/golua/runtime"
)

// Context is a script context, lower-case as RGW prints it.
type Context string

// The contexts of spec §1.
const (
	PreRequest  Context = "prerequest"
	PostAuth    Context = "postauth"
	PostRequest Context = "postrequest"
	GetData     Context = "getdata"
	PutData     Context = "putdata"
	Background  Context = "background"
)

// Contexts lists every context, for metrics labels.
var Contexts = []Context{PreRequest, PostAuth, PostRequest, GetData, PutData, Background}

// Scripts is where scripts are stored (script.Store): one source per
// (context, tenant), and a generation that moves on every change so that
// compiled chunks can be cached.
type Scripts interface {
	Get(ctx context.Context, luaContext, tenant string) (source string, ok bool, err error)
	Generation(ctx context.Context) (uint64, error)
}

// NamedScripts is a Scripts that also keeps named scripts (RGW main's
// --script-name): the request contexts run every script of their
// (context, tenant), in the order Sources returns them (the unnamed one,
// then by name).
type NamedScripts interface {
	Sources(ctx context.Context, luaContext, tenant string) ([]string, error)
}

// Packages are the built-in modules `require` resolves (luapkg.Packages).
type Packages interface {
	Open(t *rt.Thread, name string) (rt.Value, error)
}

// Defaults (spec §4: rgw_lua_max_memory_per_state, rgw_lua_max_runtime_per_state).
const (
	DefaultMaxMemory          = 128000
	DefaultMaxRuntime         = time.Second
	DefaultBackgroundInterval = 5 * time.Second
	DefaultRefreshInterval    = time.Second
)

// Config configures the engine. For the limits 0 takes the default and a
// negative value disables the limit (RGW's 0).
type Config struct {
	Scripts  Scripts
	Packages Packages // nil: require finds no module
	// AllowPackage reports whether a shipped package is on the allowlist
	// (script-package add); nil allows every shipped package.
	AllowPackage func(ctx context.Context, name string) (bool, error)
	MaxMemory    int64         // bytes allocated by one execution
	MaxRuntime   time.Duration // wall time of one execution
	MaxCPU       int64         // golua CPU ticks of one execution (0: none)
	// IODir is the only directory io.open reaches; "" disables file IO.
	IODir string
	// FailClosed denies a request whose prerequest script fails
	// (RGW fails open).
	FailClosed bool
	// BackgroundInterval is the pause between background runs.
	BackgroundInterval time.Duration
	// RefreshInterval bounds how often the scripts' generation is polled.
	RefreshInterval time.Duration
	RGWId           string // Request.RGWId
	ZoneGroup       string // Request.ZoneGroup.Name
	Domain          string // Request.HTTP.Domain
	Logger          *slog.Logger
	// OpsLog, if set, writes a request to the operations log
	// (Request.Log()); otherwise Log() writes a log line.
	OpsLog func(ctx context.Context, req *Request) error
}

// Engine runs scripts. It is safe for concurrent use.
type Engine struct {
	cfg    Config
	log    *slog.Logger
	chunks *chunkCache
	global *globalTable
	stats  stats

	started        atomic.Bool
	stopBackground context.CancelFunc
	backgroundDone chan struct{}
	closeOnce      sync.Once
}

// New returns an engine. Call Start to run background scripts and Close
// to stop them.
func New(cfg Config) *Engine {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxMemory == 0 {
		cfg.MaxMemory = DefaultMaxMemory
	}
	if cfg.MaxRuntime == 0 {
		cfg.MaxRuntime = DefaultMaxRuntime
	}
	if cfg.BackgroundInterval <= 0 {
		cfg.BackgroundInterval = DefaultBackgroundInterval
	}
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, global: newGlobalTable()}
	e.chunks = newChunkCache(cfg.Scripts, cfg.RefreshInterval)
	return e
}

// ScriptError is a failed execution: compile error, runtime error or limit.
type ScriptError struct {
	Context Context
	Tenant  string
	Err     error
}

func (e *ScriptError) Error() string {
	return fmt.Sprintf("lua %s script (tenant %q): %v", e.Context, e.Tenant, e.Err)
}

func (e *ScriptError) Unwrap() error { return e.Err }

// errNoScript is returned by execute when the context has no script.
var errNoScript = errors.New("no script")

// limits is the runtime context of one execution.
func (e *Engine) limits() rt.RuntimeContextDef {
	var l rt.RuntimeResources
	if e.cfg.MaxMemory > 0 {
		l.Memory = uint64(e.cfg.MaxMemory)
	}
	if e.cfg.MaxRuntime > 0 {
		l.Millis = uint64(max(e.cfg.MaxRuntime.Milliseconds(), 1))
	}
	if e.cfg.MaxCPU > 0 {
		l.Cpu = uint64(e.cfg.MaxCPU)
	}
	return rt.RuntimeContextDef{HardLimits: l}
}

// execute runs the scripts of (c, tenant), if any, in order, each in a
// fresh state; setup installs the context's globals. It returns
// AbortRequest as soon as a script returns it, else 0 and the first
// failure; it never panics.
func (e *Engine) execute(ctx context.Context, c Context, tenant string, setup func(x *exec)) (int64, error) {
	scripts, err := e.chunks.get(ctx, c, tenant)
	if err != nil {
		return 0, e.failed(ctx, c, tenant, err)
	}
	if len(scripts) == 0 {
		return 0, errNoScript
	}
	var first error
	for _, s := range scripts {
		var ret int64
		err := s.err
		if err != nil {
			err = e.failed(ctx, c, tenant, err)
		} else {
			ret, err = e.run(ctx, c, tenant, s.unit, setup)
		}
		if err == nil && ret == AbortRequest {
			return ret, nil
		}
		if first == nil {
			first = err
		}
	}
	return 0, first
}

// run runs one compiled script in a fresh state. It returns the script's
// first return value as an integer (0 when it returned none or no
// integer), and never panics.
func (e *Engine) run(ctx context.Context, c Context, tenant string, unit *code.Unit, setup func(x *exec)) (ret int64, err error) {
	e.stats.vms.Add(1)
	defer e.stats.vms.Add(-1)
	defer func() {
		if p := recover(); p != nil {
			err = e.failed(ctx, c, tenant, fmt.Errorf("panic: %v", p))
		}
	}()
	x := &exec{ctx: ctx, e: e, c: c}
	r := e.newState(x)
	e.setGlobals(x)
	if setup != nil {
		setup(x)
	}
	clos := r.LoadLuaUnit(unit, rt.TableValue(r.GlobalEnv()))
	thread := r.MainThread()
	var result rt.Value
	x.start = time.Now()
	used, err := thread.CallContext(e.limits(), func() error {
		term := rt.NewTerminationWith(nil, 1, false)
		if err := rt.Call(thread, rt.FunctionValue(clos), nil, term); err != nil {
			return err
		}
		result = term.Get(0)
		return nil
	})
	e.closeCoroutines(x, thread, used.UsedResources().Memory)
	if err != nil {
		return 0, e.failed(ctx, c, tenant, err)
	}
	e.stats.ok.Add(1)
	n, _ := result.TryInt()
	return n, nil
}

// failed logs and counts a failed execution.
func (e *Engine) failed(ctx context.Context, c Context, tenant string, err error) error {
	e.stats.fail.Add(1)
	e.stats.failures(c).Add(1)
	serr := &ScriptError{Context: c, Tenant: tenant, Err: err}
	e.log.LogAttrs(ctx, slog.LevelWarn, "lua script failed", slog.String("context", string(c)),
		slog.String("tenant", tenant), slog.String("error", err.Error()))
	return serr
}

// Close stops the background script and waits for it.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		if e.stopBackground != nil {
			e.stopBackground()
			<-e.backgroundDone
		}
	})
	return nil
}

// stats are RGW's perf counters (spec §10) and the failures per context.
type stats struct {
	ok, fail, vms atomic.Int64
	byContext     [6]atomic.Int64
}

func (s *stats) failures(c Context) *atomic.Int64 {
	for i, k := range Contexts {
		if k == c {
			return &s.byContext[i]
		}
	}
	return &s.byContext[0]
}

// Counters returns RGW's Lua perf counters (spec §10).
func (e *Engine) Counters() map[string]int64 {
	return map[string]int64{"lua_script_ok": e.stats.ok.Load(), "lua_script_fail": e.stats.fail.Load(),
		"lua_current_vms": e.stats.vms.Load()}
}

// Errors returns the failed executions per context (cairn_lua_errors_total).
func (e *Engine) Errors() map[Context]int64 {
	m := make(map[Context]int64, len(Contexts))
	for i, c := range Contexts {
		m[c] = e.stats.byContext[i].Load()
	}
	return m
}
