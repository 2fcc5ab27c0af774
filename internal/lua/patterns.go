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
		orig, ok := lib.Get(rt.StringValue(name)).TryCallable()
		switch {
		case !ok:
		case name == "gsub":
			lib.Set(rt.StringValue(name), x.fn(name, x.budgetedGsub(orig), 4, true))
		default:
			lib.Set(rt.StringValue(name), x.fn(name, x.budgeted("string."+name, orig, name == "gmatch"), 4, true))
		}
	}
}

// budgeted calls orig within a CPU budget from the remaining time; for
// gmatch (iter) the iterator it returns is budgeted the same way.
func (x *exec) budgeted(name string, orig rt.Callable, iter bool) rt.GoFunctionFunc {
	return func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		args := allArgs(c)
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

// budgetedGsub budgets gsub. A replacement function or table runs Lua
// code, which must not run inside the matcher's nested context: golua
// accounts memory per context and panics when one releases more than it
// holds, as a frame or coroutine begun outside it would. So with such a
// replacement the matching is first done alone, within the budget, with
// the whole match as replacement (the same matches: they do not depend on
// the replacement); the real call then does known-bounded matching.
func (x *exec) budgetedGsub(orig rt.Callable) rt.GoFunctionFunc {
	plain := x.budgeted("string.gsub", orig, false)
	return func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		args := allArgs(c)
		if len(args) < 3 {
			return plain(t, c)
		}
		switch args[2].Type() {
		case rt.StringType, rt.IntType, rt.FloatType:
			return plain(t, c)
		case rt.FunctionType, rt.TableType:
			args := append([]rt.Value{}, args...)
			args[2] = rt.StringValue("%0")
			dry := rt.NewTerminationWith(c, 0, true)
			if err := x.withPatternBudget(t, "string.gsub", func() error {
				return rt.Call(t, rt.FunctionValue(orig), args, dry)
			}); err != nil {
				return nil, err
			}
		}
		res := rt.NewTerminationWith(c, 0, true)
		if err := rt.Call(t, rt.FunctionValue(orig), args, res); err != nil {
			return nil, err
		}
		next := c.Next()
		t.Push(next, res.Etc()...)
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

// allArgs are a Go function's arguments, fixed and variadic, in a new slice.
func allArgs(c *rt.GoCont) []rt.Value {
	return append(append([]rt.Value{}, c.Args()...), c.Etc()...)
}
