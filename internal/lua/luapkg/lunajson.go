package luapkg

import (
	"errors"
	"fmt"
	"math"
	"strings"

	rt "github.com/arnodel/golua/runtime"
)

// newLunajson builds the lunajson module with lunajson 1.2's semantics:
// encode(value[, nullv]) writes a table as an array when t[0] is a number
// (its length) or t[1] is not nil (up to the first nil), else as an object
// whose keys must all be strings; an empty table is {}; numbers with 17
// significant digits; decode(json[, pos[, nullv[, arraylen]]]) drops null
// unless nullv is given, and keeps integer literals integers.
func newLunajson(r *rt.Runtime) *rt.Table {
	m := rt.NewTable()
	r.SetEnv(m, "_VERSION", rt.StringValue("1.2.3"))
	setFunc(r, m, "encode", lunaEncode, 2, false, safeFlags)
	setFunc(r, m, "decode", lunaDecode, 4, false, safeFlags)
	return m
}

func lunaEncode(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	if err := c.Check1Arg(); err != nil {
		return nil, err
	}
	e := &lunaEncoder{t: t, visited: map[rt.Value]bool{}}
	if c.NArgs() > 1 {
		e.null = c.Arg(1)
	}
	if err := e.value(c.Arg(0)); err != nil {
		return nil, err
	}
	t.RequireBytes(e.b.Len())
	return c.PushingNext1(t.Runtime, rt.StringValue(e.b.String())), nil
}

func lunaDecode(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	s, err := c.StringArg(0)
	if err != nil {
		return nil, err
	}
	t.RequireCPU(uint64(len(s)))
	d := &jsonDecoder{t: t, src: s, ints: true, maxDepth: 1000}
	withPos := c.NArgs() > 1 && !c.Arg(1).IsNil()
	if withPos {
		p, err := c.IntArg(1)
		if err != nil {
			return nil, err
		}
		d.pos = int(max(p-1, 0))
	}
	if c.NArgs() > 2 {
		d.null = c.Arg(2)
	}
	d.arrayLen = c.NArgs() > 3 && rt.Truth(c.Arg(3))
	v, err := d.decodeValue()
	if err == nil && !withPos && !d.atEnd() {
		err = errors.New("json ended")
	}
	if de, ok := errors.AsType[*decodeError](err); ok {
		err = fmt.Errorf("parse error at %d: %s", de.pos, de.msg)
	}
	if err != nil {
		return nil, err
	}
	if withPos {
		return c.PushingNext(t.Runtime, v, rt.IntValue(int64(d.pos+1))), nil
	}
	return c.PushingNext1(t.Runtime, v), nil
}

// lunaEncoder writes one value as lunajson's encoder does.
type lunaEncoder struct {
	t       *rt.Thread
	null    rt.Value
	visited map[rt.Value]bool
	b       strings.Builder
}

func (e *lunaEncoder) value(v rt.Value) error {
	e.t.RequireCPU(1)
	if v.Equals(e.null) {
		e.b.WriteString("null")
		return nil
	}
	switch v.Type() {
	case rt.BoolType:
		if v.AsBool() {
			e.b.WriteString("true")
		} else {
			e.b.WriteString("false")
		}
	case rt.IntType, rt.FloatType:
		f, _ := rt.ToFloat(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return errors.New("invalid number")
		}
		e.b.WriteString(formatG(f, 17))
	case rt.StringType:
		writeLunaString(&e.b, v.AsString())
	default:
		if !isTableLike(e.t, v) {
			return errors.New("invalid type value")
		}
		return e.table(v)
	}
	return nil
}

func (e *lunaEncoder) table(v rt.Value) error {
	if e.visited[v] {
		return errors.New("loop detected")
	}
	e.visited[v] = true
	defer delete(e.visited, v)
	n, err := rt.Index(e.t, v, rt.IntValue(0))
	if err != nil {
		return err
	}
	if _, ok := n.TryInt(); ok || n.Type() == rt.FloatType {
		f, _ := rt.ToFloat(n)
		return e.array(v, int64(f))
	}
	first, err := rt.Index(e.t, v, rt.IntValue(1))
	if err != nil {
		return err
	}
	if !first.IsNil() {
		return e.array(v, -1)
	}
	return e.object(v)
}

// array writes v[1..n], or up to the first nil when n < 0.
func (e *lunaEncoder) array(v rt.Value, n int64) error {
	e.b.WriteByte('[')
	for i := int64(1); n < 0 || i <= n; i++ {
		el, err := rt.Index(e.t, v, rt.IntValue(i))
		if err != nil {
			return err
		}
		if n < 0 && el.IsNil() {
			break
		}
		if i > 1 {
			e.b.WriteByte(',')
		}
		if err := e.value(el); err != nil {
			return err
		}
	}
	e.b.WriteByte(']')
	return nil
}

func (e *lunaEncoder) object(v rt.Value) error {
	e.b.WriteByte('{')
	first := true
	err := each(e.t, v, func(k, val rt.Value) error {
		if k.Type() != rt.StringType {
			return errors.New("non-string key")
		}
		if !first {
			e.b.WriteByte(',')
		}
		first = false
		writeLunaString(&e.b, k.AsString())
		e.b.WriteByte(':')
		return e.value(val)
	})
	if err != nil {
		return err
	}
	e.b.WriteByte('}')
	return nil
}

// writeLunaString quotes s as lunajson does: control characters, '"' and
// '\' escaped, everything else as is.
func writeLunaString(b *strings.Builder, s string) {
	writeJSONString(b, s, false, `\u00%02X`)
}

// writeJSONString quotes s the way both JSON modules share: '"', '\\' and
// control characters escaped (the short forms where JSON has them, else
// controlFormat), bytes passed through unchecked; slashAndDEL also escapes
// '/' and DEL, as lua-cjson does.
func writeJSONString(b *strings.Builder, s string, slashAndDEL bool, controlFormat string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '/' && slashAndDEL:
			b.WriteString(`\/`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f && slashAndDEL:
			fmt.Fprintf(b, controlFormat, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
