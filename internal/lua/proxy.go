package lua

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	rt "github.com/arnodel/golua/runtime"
)

// exec is one execution: its fresh state and what its tables read.
type exec struct {
	ctx context.Context
	e   *Engine
	c   Context
	r   *rt.Runtime
	// coroutines are the coroutines the script created (coroutines.go).
	coroutines []*rt.Thread
	// gcStopped is collectgarbage("stop")'s flag (collectgarbage.go).
	gcStopped bool
	// start is when the script began, for budgets from the time left.
	start time.Time
	req   *Request
	// tables are the sub-tables built on first access, so that a script
	// sees one table per field (and its writes stay).
	tables map[string]rt.Value
	// modules are the packages require returned, once per execution.
	modules map[string]rt.Value
	// lazy are the globals built when a script first reads them.
	lazy map[string]func() rt.Value
	// bucket is the bucket's record, read once when a script asks.
	bucket               BucketInfo
	bucketRead, bucketOK bool
}

// fn returns a Go function as a Lua value, declaring every compliance flag.
func (x *exec) fn(name string, f rt.GoFunctionFunc, nArgs int, etc bool) rt.Value {
	g := rt.NewGoFunction(f, name, nArgs, etc)
	g.SolemnlyDeclareCompliance(allFlags)
	return rt.FunctionValue(g)
}

// field is one field of a gateway table: a getter and, when writable, a
// setter. Field names are case-insensitive (schemas are keyed lower-case).
type field struct {
	get func(x *exec) rt.Value
	set func(x *exec, v rt.Value) error
}

type schema map[string]field

// object returns a read-only proxy table over a schema: reading an unknown
// field or writing a field without setter is a script error, as in RGW.
func (x *exec) object(name string, s schema) rt.Value {
	meta := rt.NewTable()
	meta.Set(rt.StringValue("__index"), x.fn("__index", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		if err := c.CheckNArgs(2); err != nil {
			return nil, err
		}
		k, _ := c.Arg(1).ToString()
		f, ok := s[strings.ToLower(k)]
		if !ok {
			return nil, fmt.Errorf("unknown field name: %s provided to: %s", k, name)
		}
		return c.PushingNext1(t.Runtime, f.get(x)), nil
	}, 2, false))
	meta.Set(rt.StringValue("__newindex"), x.fn("__newindex", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		if err := c.CheckNArgs(3); err != nil {
			return nil, err
		}
		k, _ := c.Arg(1).ToString()
		f, ok := s[strings.ToLower(k)]
		if !ok {
			return nil, fmt.Errorf("unknown field name: %s provided to: %s", k, name)
		}
		if f.set == nil {
			return nil, fmt.Errorf("field %s of %s is read-only", k, name)
		}
		if err := f.set(x, c.Arg(2)); err != nil {
			return nil, fmt.Errorf("field %s of %s: %w", k, name, err)
		}
		return c.Next(), nil
	}, 3, false))
	t := rt.NewTable()
	t.SetMetatable(meta)
	return rt.TableValue(t)
}

// sub returns the sub-table key, building it once per execution.
func (x *exec) sub(key string, build func() rt.Value) rt.Value {
	if v, ok := x.tables[key]; ok {
		return v
	}
	if x.tables == nil {
		x.tables = map[string]rt.Value{}
	}
	v := build()
	x.tables[key] = v
	return v
}

// stringMap returns a proxy over a string map: iterable with pairs() and
// #, indexable with []; set, if not nil, makes entries writable.
func (x *exec) stringMap(name string, m func() map[string]string, set func(k, v string, del bool) error) rt.Value {
	meta := rt.NewTable()
	meta.Set(rt.StringValue("__index"), x.fn("__index", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		k, _ := c.Arg(1).ToString()
		v, ok := m()[k]
		if !ok {
			return c.PushingNext1(t.Runtime, rt.NilValue), nil
		}
		return c.PushingNext1(t.Runtime, rt.StringValue(v)), nil
	}, 2, false))
	meta.Set(rt.StringValue("__newindex"), x.fn("__newindex", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		if set == nil {
			return nil, fmt.Errorf("%s is read-only", name)
		}
		k, ok := c.Arg(1).TryString()
		if !ok {
			return nil, fmt.Errorf("%s: keys must be strings", name)
		}
		if c.Arg(2).IsNil() {
			return c.Next(), set(k, "", true)
		}
		v, ok := c.Arg(2).ToString()
		if !ok {
			return nil, fmt.Errorf("%s: values must be strings", name)
		}
		return c.Next(), set(k, v, false)
	}, 3, false))
	meta.Set(rt.StringValue("__len"), x.fn("__len", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		return c.PushingNext1(t.Runtime, rt.IntValue(int64(len(m())))), nil
	}, 1, false))
	meta.Set(rt.StringValue("__pairs"), x.fn("__pairs", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		snap := m()
		keys := make([]string, 0, len(snap))
		for k := range snap {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		vals := make([]rt.Value, len(keys))
		for i, k := range keys {
			vals[i] = rt.StringValue(snap[k])
		}
		return c.PushingNext(t.Runtime, x.iterator(keys, vals), c.Arg(0), rt.NilValue), nil
	}, 1, false))
	t := rt.NewTable()
	t.SetMetatable(meta)
	return rt.TableValue(t)
}

// iterator returns a stateful pairs() iterator over a snapshot.
func (x *exec) iterator(keys []string, vals []rt.Value) rt.Value {
	i := 0
	return x.fn("next", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		if i >= len(keys) {
			return c.PushingNext1(t.Runtime, rt.NilValue), nil
		}
		k, v := keys[i], vals[i]
		i++
		return c.PushingNext(t.Runtime, rt.StringValue(k), v), nil
	}, 2, false)
}
