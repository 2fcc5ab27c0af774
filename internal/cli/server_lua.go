package cli

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/cairn-s3/cairn/internal/lua"
	"github.com/cairn-s3/cairn/internal/server"
)

// luaFlags are the --lua-* flags of the server command, named after RGW's
// options (rgw_lua_enable, rgw_lua_max_memory_per_state, ...).
type luaFlags struct {
	enable             bool
	maxMemory          int64
	maxRuntime         time.Duration
	maxCPU             int64
	ioDir              string
	failClosed         bool
	backgroundInterval time.Duration
}

func addLuaFlags(fl *pflag.FlagSet, f *luaFlags) {
	fl.BoolVar(&f.enable, "lua-enable", true, "run Lua request scripts (rgw_lua_enable)")
	fl.Int64Var(&f.maxMemory, "lua-max-memory-per-state", lua.DefaultMaxMemory,
		"bytes one Lua script execution may allocate; 0 disables the limit (rgw_lua_max_memory_per_state)")
	fl.DurationVar(&f.maxRuntime, "lua-max-runtime-per-state", lua.DefaultMaxRuntime,
		"wall time one Lua script execution may run; 0 disables the limit (rgw_lua_max_runtime_per_state)")
	fl.Int64Var(&f.maxCPU, "lua-max-cpu-per-state", 0, "VM instruction ticks one Lua script execution may use; 0: no limit")
	fl.StringVar(&f.ioDir, "lua-io-dir", "", "the only directory Lua scripts may open files in (io.open); empty: no file access")
	fl.BoolVar(&f.failClosed, "lua-fail-closed", false, "deny a request (403) when its prerequest script fails; RGW lets it through")
	fl.DurationVar(&f.backgroundInterval, "lua-background-interval", lua.DefaultBackgroundInterval,
		"pause between two runs of the background script")
}

// config maps the flags to the server's Lua configuration: RGW's 0
// (disabled) is the server's negative limit.
func (f luaFlags) config() (server.LuaConfig, error) {
	if f.maxMemory < 0 || f.maxRuntime < 0 || f.maxCPU < 0 {
		return server.LuaConfig{}, fmt.Errorf("--lua-max-*-per-state: want a positive limit, or 0 for none")
	}
	if f.backgroundInterval <= 0 {
		return server.LuaConfig{}, fmt.Errorf("--lua-background-interval %v: want a positive duration", f.backgroundInterval)
	}
	c := server.LuaConfig{Disabled: !f.enable, MaxMemory: f.maxMemory, MaxRuntime: f.maxRuntime, MaxCPU: f.maxCPU,
		FailClosed: f.failClosed, BackgroundInterval: f.backgroundInterval}
	if c.MaxMemory == 0 {
		c.MaxMemory = -1
	}
	if c.MaxRuntime == 0 {
		c.MaxRuntime = -1
	}
	if f.ioDir != "" {
		dir, err := filepath.Abs(f.ioDir)
		if err != nil {
			return server.LuaConfig{}, fmt.Errorf("--lua-io-dir %q: %w", f.ioDir, err)
		}
		c.IODir = dir
	}
	return c, nil
}
