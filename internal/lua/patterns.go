package lua

import (
	"fmt"
	"time"

	rt "github.com/arnodel/golua/runtime"
)

// patternTicksPerMilli is how many golua CPU ticks pattern matching is
// given per millisecond of an execution's remaining time. golua checks its
// time limit only when Lua code runs, not while a pattern backtracks in
// Go; it stops the matcher on a CPU budget instead. A backtracking step
// costs a tick and takes some 80 ns on a loaded 2-core machine, so this
// budget ends a runaway match near the time limit (sooner on a faster
// machine).
const patternTicksPerMilli = 10000

// patternFuncs are the string functions that run the pattern matcher.
var patternFuncs = []string{"find", "match", "gmatch", "gsub"}

// sandboxString bounds the pattern functions by the execution's remaining
// time (spec §4: a script never runs past its limit).
func (e *Engine) sandboxString(x *exec, g *rt.Table) {
	if e.cfg.MaxRuntime <= 0 {
		return // no time limit: MaxCPU, if any, already bounds the matcher
	}
	lib, ok := g.Get(rt.StringValue("string")).TryTable()
	if !ok {
		return
	}
	for _, name := range patternFuncs {
		if orig, ok := lib.Get(rt.StringValue(name)).TryCallable(); ok {
			lib.Set(rt.StringValue(name), x.fn(name, x.budgeted("string."+name, orig, name == "gmatch"), 0, true))
		}
	}
}

// budgeted calls orig within a CPU budget from the remaining time; for
// gmatch (iter) the iterator it returns is budgeted the same way.
func (x *exec) budgeted(name string, orig rt.Callable, iter bool) rt.GoFunctionFunc {
	return func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		args := append([]rt.Value{}, c.Etc()...)
		res := rt.NewTerminationWith(c, 0, true)
		if err := x.withPatternBudget(t, name, func() error { return rt.Call(t, rt.FunctionValue(orig), args, res) }); err != nil {
			return nil, err
		}
		out := res.Etc()
		if iter && len(out) > 0 {
			if f, ok := out[0].TryCallable(); ok {
				out[0] = x.fn(name, x.budgeted(name, f, false), 0, true)
			}
		}
		next := c.Next()
		t.Push(next, out...)
		return next, nil
	}
}

func (x *exec) withPatternBudget(t *rt.Thread, name string, f func() error) error {
	left := x.e.cfg.MaxRuntime - time.Since(x.start)
	budget := uint64(max(left.Milliseconds(), 1)) * patternTicksPerMilli
	_, err := t.CallContext(rt.RuntimeContextDef{HardLimits: rt.RuntimeResources{Cpu: budget}}, f)
	if _, killed := err.(rt.ContextTerminationError); killed {
		return fmt.Errorf("%s: time limit of %d ms exceeded while matching a pattern", name, x.e.cfg.MaxRuntime.Milliseconds())
	}
	return err
}
