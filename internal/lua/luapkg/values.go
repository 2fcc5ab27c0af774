package luapkg

import (
	"fmt"

	rt "github.com/arnodel/golua/runtime"
)

// luaError is an error whose text is a module's own message, worded (and
// capitalized) as the C or Lua original words it.
type luaError string

func (e luaError) Error() string { return string(e) }

func luaErrorf(format string, args ...any) error { return luaError(fmt.Sprintf(format, args...)) }

// safeFlags are the compliance flags of the pure functions (JSON): they
// account their CPU and memory and do not block.
const safeFlags = rt.ComplyCpuSafe | rt.ComplyMemSafe | rt.ComplyTimeSafe | rt.ComplyIoSafe

// netFlags are those of the functions that talk to the network: bounded in
// time (opTimeout), so time-safe, but not IO-safe.
const netFlags = rt.ComplyCpuSafe | rt.ComplyMemSafe | rt.ComplyTimeSafe

// setFunc sets t[name] to a Go function with the given flags.
func setFunc(r *rt.Runtime, t *rt.Table, name string, f rt.GoFunctionFunc, nArgs int, etc bool, flags rt.ComplianceFlags) {
	r.SetEnvGoFunc(t, name, f, nArgs, etc).SolemnlyDeclareCompliance(flags)
}

// each calls yield with every key and value of v as `pairs(v)` gives them:
// through the __pairs metamethod when v has one (the gateway's tables such
// as Request.HTTP.Metadata), else the raw table.
func each(t *rt.Thread, v rt.Value, yield func(k, v rt.Value) error) error {
	res := rt.NewTerminationWith(t.CurrentCont(), 3, false)
	if err, ok := rt.Metacall(t, v, "__pairs", []rt.Value{v}, res); ok {
		if err != nil {
			return err
		}
		next, state, ctl := res.Get(0), res.Get(1), res.Get(2)
		for {
			t.RequireCPU(1)
			step := rt.NewTerminationWith(t.CurrentCont(), 2, false)
			if err := rt.Call(t, next, []rt.Value{state, ctl}, step); err != nil {
				return err
			}
			k := step.Get(0)
			if k.IsNil() {
				return nil
			}
			if err := yield(k, step.Get(1)); err != nil {
				return err
			}
			ctl = k
		}
	}
	tbl, ok := v.TryTable()
	if !ok {
		return nil
	}
	for k := rt.NilValue; ; {
		t.RequireCPU(1)
		nk, nv, ok := tbl.Next(k)
		if !ok || nk.IsNil() {
			return nil
		}
		if err := yield(nk, nv); err != nil {
			return err
		}
		k = nk
	}
}

// isTableLike reports whether v encodes as a JSON object or array: a table,
// or a userdata that can be iterated (__pairs).
func isTableLike(t *rt.Thread, v rt.Value) bool {
	if _, ok := v.TryTable(); ok {
		return true
	}
	if _, ok := v.TryUserData(); ok {
		meta := t.Runtime.RawMetatable(v)
		return meta != nil && !meta.Get(rt.StringValue("__pairs")).IsNil()
	}
	return false
}
