package lua

import (
	"fmt"
	"log/slog"
	"strings"

	rt "github.com/arnodel/golua/runtime"
)

// AbortRequest is RGW_ABORT_REQUEST (-EPERM): a prerequest script
// returning it denies the request (spec §6.3).
const AbortRequest = -1

// debugLevel is where RGWDebugLog writes: RGW's verbosity 20 is debug.
const debugLevel = slog.LevelDebug

// setGlobals installs the globals of every context (spec §5).
func (e *Engine) setGlobals(x *exec) {
	x.lazy["RGWDebugLog"] = func() rt.Value {
		return x.fn("RGWDebugLog", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
			msg := ""
			if c.NArgs() > 0 {
				msg, _ = c.Arg(0).ToString()
			}
			e.log.Log(x.ctx, debugLevel, "Lua INFO: "+msg, slog.String("context", string(x.c)))
			return c.Next(), nil
		}, 1, false)
	}
	x.lazy["RGW"] = x.globalValue
	x.lazy["require"] = func() rt.Value { return x.fn("require", x.require, 1, false) }
	if x.c != Background {
		x.r.GlobalEnv().Set(rt.StringValue("RGW_ABORT_REQUEST"), rt.IntValue(AbortRequest))
	}
}

// luaPrint writes print()'s arguments to the debug log.
func (e *Engine) luaPrint(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	parts := make([]string, 0, c.NArgs())
	for _, v := range c.Etc() {
		s, _ := v.ToString()
		parts = append(parts, s)
	}
	e.log.Debug("Lua print: " + strings.Join(parts, "\t"))
	return c.Next(), nil
}

// require resolves only the built-in packages on the allowlist; scripts
// cannot load files (spec §4, §3: Cairn loads no rock from disk).
func (x *exec) require(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	name, err := c.StringArg(0)
	if err != nil {
		return nil, err
	}
	if v, ok := x.modules[name]; ok {
		return c.PushingNext1(t.Runtime, v), nil
	}
	if x.e.cfg.Packages == nil {
		return nil, fmt.Errorf("module '%s' not found: no packages are available", name)
	}
	if allow := x.e.cfg.AllowPackage; allow != nil {
		ok, err := allow(x.ctx, name)
		if err != nil {
			return nil, fmt.Errorf("module '%s': %w", name, err)
		}
		if !ok {
			return nil, fmt.Errorf("module '%s' is not on the package allowlist (script-package add)", name)
		}
	}
	v, err := x.e.cfg.Packages.Open(t, name)
	if err != nil {
		return nil, fmt.Errorf("module '%s' not found: %w", name, err)
	}
	declareAll(v, 3)
	if x.modules == nil {
		x.modules = map[string]rt.Value{}
	}
	x.modules[name] = v
	return c.PushingNext1(t.Runtime, v), nil
}
