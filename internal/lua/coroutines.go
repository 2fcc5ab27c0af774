package lua

import (
	"errors"

	rt "github.com/arnodel/golua/runtime"
)

// golua runs every coroutine on its own goroutine, parked until the
// coroutine is resumed. A coroutine the script leaves suspended (a
// generator not run to its end, one never resumed) would keep its
// goroutine, and the whole state, forever: one leak per execution. The
// sandbox's coroutine.create and coroutine.wrap record the coroutines of
// an execution so that closeCoroutines ends them with it.

// sandboxCoroutine replaces create and wrap with recording ones.
func (e *Engine) sandboxCoroutine(x *exec, g *rt.Table) {
	lib, ok := g.Get(rt.StringValue("coroutine")).TryTable()
	if !ok {
		return
	}
	lib.Set(rt.StringValue("create"), x.fn("create", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		co, err := x.newCoroutine(t, c)
		if err != nil {
			return nil, err
		}
		return c.PushingNext1(t.Runtime, rt.ThreadValue(co)), nil
	}, 1, false))
	lib.Set(rt.StringValue("wrap"), x.fn("wrap", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		co, err := x.newCoroutine(t, c)
		if err != nil {
			return nil, err
		}
		w := x.fn("wrap", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
			res, err := resumeSynced(t, co, c.Etc())
			if err != nil {
				return nil, err
			}
			return c.PushingNext(t.Runtime, res...), nil
		}, 0, true)
		return c.PushingNext1(t.Runtime, w), nil
	}, 1, false))
	lib.Set(rt.StringValue("resume"), x.fn("resume", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		if err := c.Check1Arg(); err != nil {
			return nil, err
		}
		co, err := c.ThreadArg(0)
		if err != nil {
			return nil, err
		}
		res, err := resumeSynced(t, co, c.Etc())
		if err != nil {
			return c.PushingNext(t.Runtime, rt.BoolValue(false), rt.ErrorValue(err)), nil
		}
		return c.PushingNext(t.Runtime, append([]rt.Value{rt.BoolValue(true)}, res...)...), nil
	}, 1, true))
	lib.Set(rt.StringValue("close"), x.fn("close", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		if err := c.Check1Arg(); err != nil {
			return nil, err
		}
		co, err := c.ThreadArg(0)
		if err != nil {
			return nil, err
		}
		ok, err := closeSynced(t, co)
		if !ok {
			return nil, errors.New("cannot close a running coroutine")
		}
		if err != nil {
			return c.PushingNext(t.Runtime, rt.BoolValue(false), rt.ErrorValue(err)), nil
		}
		return c.PushingNext1(t.Runtime, rt.BoolValue(true)), nil
	}, 1, false))
}

// golua's coroutine, when it ends, hands its results back to its caller
// and only then returns its goroutine's memory to the runtime's shared
// accounting: a data race with the caller, which has moved on (and may be
// popping the execution's context). It does so holding the coroutine's
// lock, which Resume and Close of a dead coroutine take: calling Close
// once more waits for that end. resumeSynced and closeSynced do.

func resumeSynced(t, co *rt.Thread, args []rt.Value) ([]rt.Value, error) {
	defer waitEnded(t, co) // also when a limit stops the script
	return co.Resume(t, args)
}

func closeSynced(t, co *rt.Thread) (bool, error) {
	defer waitEnded(t, co)
	return co.Close(t)
}

func waitEnded(t, co *rt.Thread) {
	if co.Status() == rt.ThreadDead {
		_, _ = co.Close(t)
	}
}

// newCoroutine starts a coroutine of the function argument, as golua's
// create does, and records it. Coroutines run one at a time, so the
// record needs no lock even when a coroutine creates another.
func (x *exec) newCoroutine(t *rt.Thread, c *rt.GoCont) (*rt.Thread, error) {
	if err := c.Check1Arg(); err != nil {
		return nil, err
	}
	f, err := c.CallableArg(0)
	if err != nil {
		return nil, err
	}
	co := rt.NewThread(t.Runtime)
	co.Start(f)
	x.coroutines = append(x.coroutines, co)
	return co, nil
}

// closeCoroutines closes the coroutines the script left suspended, which
// ends their goroutines. Closing runs their pending __close metamethods
// (Lua code), so it runs under a fresh budget of the execution's limits
// (if that runs out the remaining coroutines are left as they are). The
// frames and goroutines it frees were counted in the execution's context,
// used bytes of memory at its end: the fresh context first counts those
// bytes itself, since golua refuses to release more than a context holds.
func (e *Engine) closeCoroutines(x *exec, main *rt.Thread, used uint64) {
	if len(x.coroutines) == 0 {
		return
	}
	def := e.limits()
	if def.HardLimits.Memory > 0 {
		def.HardLimits.Memory += used
	}
	_, _ = main.CallContext(def, func() error {
		main.RequireMem(used)
		for i := len(x.coroutines) - 1; i >= 0; i-- {
			if co := x.coroutines[i]; co.Status() == rt.ThreadSuspended {
				_, _ = closeSynced(main, co)
			}
		}
		return nil
	})
	x.coroutines = nil
}
