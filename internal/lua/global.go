package lua

import (
	"fmt"
	"sort"
	"sync"

	rt "github.com/arnodel/golua/runtime"
)

// The RGW table's limits (spec §7).
const (
	maxGlobalEntries   = 100000
	maxGlobalEntrySize = 1024
)

// globalTable is the RGW table: one per gateway process, shared by every
// execution of every context. Values are Go strings, int64, float64 and
// bools, so no Lua value outlives the state that wrote it.
type globalTable struct {
	mu sync.Mutex
	m  map[string]any
}

func newGlobalTable() *globalTable { return &globalTable{m: map[string]any{}} }

func toGo(v rt.Value) (any, error) {
	switch v.Type() {
	case rt.StringType:
		s, _ := v.TryString()
		return s, nil
	case rt.IntType:
		n, _ := v.TryInt()
		return n, nil
	case rt.FloatType:
		f, _ := v.TryFloat()
		return f, nil
	case rt.BoolType:
		b, _ := v.TryBool()
		return b, nil
	}
	return nil, fmt.Errorf("RGW table values must be strings, numbers or booleans, not %s", v.TypeName())
}

func toLua(v any) rt.Value {
	switch v := v.(type) {
	case string:
		return rt.StringValue(v)
	case int64:
		return rt.IntValue(v)
	case float64:
		return rt.FloatValue(v)
	case bool:
		return rt.BoolValue(v)
	}
	return rt.NilValue
}

func entrySize(k string, v any) int {
	n := len(k)
	if s, ok := v.(string); ok {
		n += len(s)
	} else {
		n += 8
	}
	return n
}

func (g *globalTable) set(k string, v any, del bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if del {
		delete(g.m, k)
		return nil
	}
	if entrySize(k, v) > maxGlobalEntrySize {
		return fmt.Errorf("RGW table entry %q exceeds %d bytes", k, maxGlobalEntrySize)
	}
	if _, ok := g.m[k]; !ok && len(g.m) >= maxGlobalEntries {
		return fmt.Errorf("RGW table is full (%d entries)", maxGlobalEntries)
	}
	g.m[k] = v
	return nil
}

// add adds delta to the numeric value of k atomically (a missing key is
// 0); integers stay integers unless a float is involved.
func (g *globalTable) add(k string, delta any) (any, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	cur, ok := g.m[k]
	if !ok {
		cur = int64(0)
	}
	var res any
	switch c := cur.(type) {
	case int64:
		switch d := delta.(type) {
		case int64:
			res = c + d
		case float64:
			res = float64(c) + d
		}
	case float64:
		switch d := delta.(type) {
		case int64:
			res = c + float64(d)
		case float64:
			res = c + d
		}
	default:
		return nil, fmt.Errorf("RGW table value of %q is not a number", k)
	}
	if res == nil {
		return nil, fmt.Errorf("increment of %q is not a number", k)
	}
	if !ok && len(g.m) >= maxGlobalEntries {
		return nil, fmt.Errorf("RGW table is full (%d entries)", maxGlobalEntries)
	}
	g.m[k] = res
	return res, nil
}

// luaAdd is RGW.increment (sign 1) or RGW.decrement (sign -1).
func (g *globalTable) luaAdd(sign int64) rt.GoFunctionFunc {
	return func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		k, err := c.StringArg(0)
		if err != nil {
			return nil, err
		}
		var delta any = sign
		if c.NArgs() > 1 {
			switch d := c.Arg(1); d.Type() {
			case rt.IntType:
				n, _ := d.TryInt()
				delta = sign * n
			case rt.FloatType:
				f, _ := d.TryFloat()
				delta = float64(sign) * f
			default:
				return nil, fmt.Errorf("RGW increment/decrement: delta must be a number")
			}
		}
		v, err := g.add(k, delta)
		if err != nil {
			return nil, err
		}
		return c.PushingNext1(t.Runtime, toLua(v)), nil
	}
}

// snapshot returns the entries sorted by key, for pairs().
func (g *globalTable) snapshot() ([]string, []rt.Value) {
	g.mu.Lock()
	defer g.mu.Unlock()
	keys := make([]string, 0, len(g.m))
	for k := range g.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make([]rt.Value, len(keys))
	for i, k := range keys {
		vals[i] = toLua(g.m[k])
	}
	return keys, vals
}

func (g *globalTable) get(k string) (any, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.m[k]
	return v, ok
}

func (g *globalTable) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.m)
}

// globalValue is the RGW table as a Lua proxy.
func (x *exec) globalValue() rt.Value {
	g := x.e.global
	helpers := map[string]rt.Value{
		"increment": x.fn("increment", g.luaAdd(1), 2, false),
		"decrement": x.fn("decrement", g.luaAdd(-1), 2, false),
	}
	meta := rt.NewTable()
	meta.Set(rt.StringValue("__index"), x.fn("__index", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		k, _ := c.Arg(1).TryString()
		if v, ok := g.get(k); ok {
			return c.PushingNext1(t.Runtime, toLua(v)), nil
		}
		return c.PushingNext1(t.Runtime, helpers[k]), nil
	}, 2, false))
	meta.Set(rt.StringValue("__newindex"), x.fn("__newindex", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		k, ok := c.Arg(1).TryString()
		if !ok {
			return nil, fmt.Errorf("RGW table keys must be strings")
		}
		if c.Arg(2).IsNil() {
			return c.Next(), g.set(k, nil, true)
		}
		v, err := toGo(c.Arg(2))
		if err != nil {
			return nil, err
		}
		return c.Next(), g.set(k, v, false)
	}, 3, false))
	meta.Set(rt.StringValue("__len"), x.fn("__len", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		return c.PushingNext1(t.Runtime, rt.IntValue(int64(g.len()))), nil
	}, 1, false))
	meta.Set(rt.StringValue("__pairs"), x.fn("__pairs", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		keys, vals := g.snapshot()
		return c.PushingNext(t.Runtime, x.iterator(keys, vals), c.Arg(0), rt.NilValue), nil
	}, 1, false))
	t := rt.NewTable()
	t.SetMetatable(meta)
	return rt.TableValue(t)
}
