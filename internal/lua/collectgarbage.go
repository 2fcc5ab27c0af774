package lua

import (
	"errors"

	rt "github.com/arnodel/golua/runtime"
)

// collectGarbage is the sandbox's collectgarbage. golua's acts on the Go
// runtime of the whole gateway: "stop" turns the Go garbage collector off
// for the process, "collect" and "step" run a full collection of its heap,
// "count" stops the world to read its statistics. A script's state is
// dropped after its execution anyway (its __gc finalizers run then), so
// here the options only answer as Lua does: "count" is the memory the
// execution has allocated, in KiB; "stop"/"restart" flip a flag of this
// state that "isrunning" reports.
func (x *exec) collectGarbage(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	opt := "collect"
	if c.NArgs() > 0 {
		s, err := c.StringArg(0)
		if err != nil {
			return nil, err
		}
		opt = s
	}
	switch opt {
	case "collect", "restart", "incremental", "generational", "setpause", "setstepmul":
		if opt == "restart" {
			x.gcStopped = false
		}
		return c.PushingNext1(t.Runtime, rt.IntValue(0)), nil
	case "stop":
		x.gcStopped = true
		return c.PushingNext1(t.Runtime, rt.IntValue(0)), nil
	case "step":
		return c.PushingNext1(t.Runtime, rt.BoolValue(true)), nil
	case "isrunning":
		return c.PushingNext1(t.Runtime, rt.BoolValue(!x.gcStopped)), nil
	case "count":
		used := t.Runtime.RuntimeContext().UsedResources().Memory
		return c.PushingNext1(t.Runtime, rt.FloatValue(float64(used)/1024)), nil
	}
	return nil, errors.New("bad argument #1 to 'collectgarbage' (invalid option '" + opt + "')")
}
