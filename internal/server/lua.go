package server

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-s3/cairn/internal/lua"
	"github.com/cairn-s3/cairn/internal/lua/luapkg"
	"github.com/cairn-s3/cairn/internal/script"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// LuaConfig configures Lua request scripting (lua.md). For the limits 0
// takes RGW's default and a negative value disables the limit (the CLI
// maps RGW's 0 to that).
type LuaConfig struct {
	// Disabled turns Lua off (RGW's rgw_lua_enable=false).
	Disabled bool
	// MaxMemory is rgw_lua_max_memory_per_state in bytes (128000).
	MaxMemory int64
	// MaxRuntime is rgw_lua_max_runtime_per_state (1s).
	MaxRuntime time.Duration
	// MaxCPU bounds the VM's instruction ticks of one execution (0: none).
	MaxCPU int64
	// IODir is the only directory scripts' io.open reaches; "" disables
	// file IO.
	IODir string
	// FailClosed denies requests whose prerequest script fails.
	FailClosed bool
	// BackgroundInterval is the pause between background runs (5s).
	BackgroundInterval time.Duration
	// Scripts is where scripts are read; nil: the script store on the
	// metadata store (what `cairn admin script put` writes).
	Scripts lua.Scripts
	// Packages are the modules require resolves (nil: the shipped ones,
	// luapkg); AllowPackage the allowlist (nil: `script-package add`).
	Packages     lua.Packages
	AllowPackage func(ctx context.Context, name string) (bool, error)
}

// newLuaEngine builds the Lua engine over the server's script store, and
// the shipped packages the server then owns (nil for given ones); both
// are nil when Lua is disabled.
func newLuaEngine(cfg Config, log *slog.Logger, scripts *script.Store) (*lua.Engine, *luapkg.Packages) {
	lc := cfg.Lua
	if lc.Disabled {
		return nil, nil
	}
	if lc.Scripts == nil {
		lc.Scripts = namedScripts{scripts}
	}
	if lc.AllowPackage == nil {
		lc.AllowPackage = luapkg.ModuleAllowed(scripts.Allowed)
	}
	var owned *luapkg.Packages
	if lc.Packages == nil {
		owned = luapkg.New(luapkg.Options{Logger: log.With("component", "lua")})
		lc.Packages = owned
	}
	host, _ := os.Hostname()
	return lua.New(lua.Config{
		Scripts: lc.Scripts, Packages: lc.Packages, AllowPackage: lc.AllowPackage,
		MaxMemory: lc.MaxMemory, MaxRuntime: lc.MaxRuntime, MaxCPU: lc.MaxCPU,
		IODir: lc.IODir, FailClosed: lc.FailClosed, BackgroundInterval: lc.BackgroundInterval,
		RGWId: host + "-default-default", ZoneGroup: cfg.Region, Domain: cfg.Domain,
		Logger: log.With("component", "lua"), OpsLog: luaOpsLog(cfg.AccessLog),
	}), owned
}

// namedScripts gives the engine the store's named scripts too (RGW
// main's --script-name): the request contexts run the unnamed script, then
// the named ones by name.
type namedScripts struct{ *script.Store }

func (s namedScripts) Sources(ctx context.Context, luaContext, tenant string) ([]string, error) {
	list, err := s.List(ctx, luaContext, tenant)
	if err != nil {
		return nil, err
	}
	sources := make([]string, len(list))
	for i, sc := range list {
		sources[i] = sc.Source
	}
	return sources, nil
}

// closeLua stops the engine (and its background script), then the
// packages' pooled connections, which executions use until then.
func (s *Server) closeLua() {
	if s.lua != nil {
		_ = s.lua.Close()
	}
	if s.luaPkgs != nil {
		_ = s.luaPkgs.Close()
	}
}

// luaOpsLog is Request.Log(): a "request" line in the access log (Cairn's
// ops log), marked as written by a script; nil without an access log (the
// engine then writes to its own log).
func luaOpsLog(access *slog.Logger) func(context.Context, *lua.Request) error {
	if access == nil {
		return nil
	}
	return func(ctx context.Context, r *lua.Request) error {
		user := ""
		if r.User != nil {
			user = tenant.User(r.User.Tenant, r.User.ID)
		}
		access.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("request_id", r.ID), slog.String("user", user),
			slog.String("op", r.RGWOp), slog.String("bucket", tenant.Bucket(r.Tenant, r.Bucket)), slog.String("key", r.Key),
			slog.Int("status", r.Response.HTTPStatusCode), slog.String("code", r.Response.HTTPStatus), slog.String("source", "lua"))
		return nil
	}
}

// luaCollector exports the failed executions per context.
type luaCollector struct{ e *lua.Engine }

var (
	descLuaErrors = prometheus.NewDesc("cairn_lua_errors_total",
		"Failed Lua script executions (compile error, runtime error, limit), per context.", []string{"context"}, nil)
	descLuaOK   = prometheus.NewDesc("cairn_lua_script_ok_total", "Successful Lua script executions (RGW lua_script_ok).", nil, nil)
	descLuaFail = prometheus.NewDesc("cairn_lua_script_fail_total", "Failed Lua script executions (RGW lua_script_fail).", nil, nil)
	descLuaVMs  = prometheus.NewDesc("cairn_lua_current_vms", "Lua states executing now (RGW lua_current_vms).", nil, nil)
)

func (c luaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLuaErrors, descLuaOK, descLuaFail, descLuaVMs} {
		ch <- d
	}
}

func (c luaCollector) Collect(ch chan<- prometheus.Metric) {
	for ctx, n := range c.e.Errors() {
		ch <- prometheus.MustNewConstMetric(descLuaErrors, prometheus.CounterValue, float64(n), string(ctx))
	}
	k := c.e.Counters()
	ch <- prometheus.MustNewConstMetric(descLuaOK, prometheus.CounterValue, float64(k["lua_script_ok"]))
	ch <- prometheus.MustNewConstMetric(descLuaFail, prometheus.CounterValue, float64(k["lua_script_fail"]))
	ch <- prometheus.MustNewConstMetric(descLuaVMs, prometheus.GaugeValue, float64(k["lua_current_vms"]))
}

// luaCounters returns RGW's Lua counters for GET /admin/counters.
func luaCounters(e *lua.Engine) func() map[string]int64 {
	if e == nil {
		return nil
	}
	return e.Counters
}
