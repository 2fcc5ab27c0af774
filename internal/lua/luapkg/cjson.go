package luapkg

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	rt "github.com/arnodel/golua/runtime"
)

// cjsonNull is the data of cjson.null: a userdata equal to itself only,
// one per runtime (lua-cjson's is the light userdata NULL).
type cjsonNull struct{}

// nullRegistryKey keys the runtime's cjson.null in its registry.
var nullRegistryKey = rt.StringValue("cairn.luapkg.cjson.null")

// cjsonNullOf returns the runtime's cjson.null, making it on first use.
func cjsonNullOf(r *rt.Runtime) rt.Value {
	if v := r.Registry(nullRegistryKey); !v.IsNil() {
		return v
	}
	meta := rt.NewTable()
	r.SetEnv(meta, "__name", rt.StringValue("userdata"))
	r.SetEnvGoFunc(meta, "__tostring", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		return c.PushingNext1(t.Runtime, rt.StringValue("userdata: NULL")), nil
	}, 1, false).SolemnlyDeclareCompliance(safeFlags)
	v := r.NewUserDataValue(cjsonNull{}, meta)
	r.SetRegistry(nullRegistryKey, v)
	return v
}

func isCJSONNull(v rt.Value) bool {
	ud, ok := v.TryUserData()
	if !ok {
		return false
	}
	_, ok = ud.Value().(cjsonNull)
	return ok
}

// cjsonConfig is lua-cjson 2.1.0's per-module configuration, with its
// defaults.
type cjsonConfig struct {
	sparseConvert  bool
	sparseRatio    int64
	sparseSafe     int64
	encodeMaxDepth int64
	decodeMaxDepth int64
	precision      int64
	invalidNumbers bool
	safe           bool // cjson.safe: errors are returned, not raised
}

// newCJSON builds the cjson (or cjson.safe) module: encode, decode, null and
// the configuration functions, with lua-cjson 2.1.0's semantics: arrays are
// tables whose keys are all positive integers (holes encode as null,
// excessively sparse ones are refused), empty tables encode as {},
// numbers with 14 significant digits, decoded numbers are floats, JSON
// null is cjson.null.
func newCJSON(r *rt.Runtime, safe bool) *rt.Table {
	cfg := &cjsonConfig{sparseRatio: 2, sparseSafe: 10, encodeMaxDepth: 1000, decodeMaxDepth: 1000, precision: 14, safe: safe}
	m := rt.NewTable()
	name := "cjson"
	if safe {
		name = "cjson.safe"
	}
	r.SetEnv(m, "_NAME", rt.StringValue(name))
	r.SetEnv(m, "_VERSION", rt.StringValue("2.1.0"))
	r.SetEnv(m, "null", cjsonNullOf(r))
	setFunc(r, m, "encode", cfg.encode, 1, false, safeFlags)
	setFunc(r, m, "decode", cfg.decode, 1, false, safeFlags)
	setFunc(r, m, "new", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		return c.PushingNext1(t.Runtime, rt.TableValue(newCJSON(t.Runtime, safe))), nil
	}, 0, false, safeFlags)
	setFunc(r, m, "encode_sparse_array", cfg.encodeSparseArray, 3, false, safeFlags)
	setFunc(r, m, "encode_max_depth", intOption(&cfg.encodeMaxDepth, 1, math.MaxInt32), 1, false, safeFlags)
	setFunc(r, m, "decode_max_depth", intOption(&cfg.decodeMaxDepth, 1, math.MaxInt32), 1, false, safeFlags)
	setFunc(r, m, "encode_number_precision", intOption(&cfg.precision, 1, 14), 1, false, safeFlags)
	setFunc(r, m, "encode_invalid_numbers", boolOption(&cfg.invalidNumbers), 1, false, safeFlags)
	keep := true
	setFunc(r, m, "encode_keep_buffer", boolOption(&keep), 1, false, safeFlags)
	decodeInvalid := false // Cairn's decoder is strict JSON
	setFunc(r, m, "decode_invalid_numbers", boolOption(&decodeInvalid), 1, false, safeFlags)
	return m
}

// intOption is a cjson configuration function over an integer setting:
// it sets it when given a value and returns it.
func intOption(setting *int64, lo, hi int64) rt.GoFunctionFunc {
	return func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		if c.NArgs() > 0 && !c.Arg(0).IsNil() {
			n, err := c.IntArg(0)
			if err != nil {
				return nil, err
			}
			if n < lo || n > hi {
				return nil, fmt.Errorf("bad argument #1 (expected integer between %d and %d)", lo, hi)
			}
			*setting = n
		}
		return c.PushingNext1(t.Runtime, rt.IntValue(*setting)), nil
	}
}

func boolOption(setting *bool) rt.GoFunctionFunc {
	return func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		if c.NArgs() > 0 && !c.Arg(0).IsNil() {
			switch v := c.Arg(0); {
			case v.Type() == rt.BoolType:
				*setting = v.AsBool()
			case v.Type() == rt.StringType && (v.AsString() == "on" || v.AsString() == "off"):
				*setting = v.AsString() == "on"
			default:
				return nil, errors.New("bad argument #1 (invalid option)")
			}
		}
		return c.PushingNext1(t.Runtime, rt.BoolValue(*setting)), nil
	}
}

func (cfg *cjsonConfig) encodeSparseArray(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	if c.NArgs() > 0 && !c.Arg(0).IsNil() {
		cfg.sparseConvert = rt.Truth(c.Arg(0))
	}
	for i, p := range []*int64{&cfg.sparseRatio, &cfg.sparseSafe} {
		if c.NArgs() > i+1 && !c.Arg(i+1).IsNil() {
			n, err := c.IntArg(i + 1)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("bad argument #%d (expected integer between 0 and %d)", i+2, math.MaxInt32)
			}
			*p = n
		}
	}
	return c.PushingNext(t.Runtime, rt.BoolValue(cfg.sparseConvert), rt.IntValue(cfg.sparseRatio), rt.IntValue(cfg.sparseSafe)), nil
}

// result returns v, or under cjson.safe turns err into (nil, message).
func (cfg *cjsonConfig) result(t *rt.Thread, c *rt.GoCont, v rt.Value, err error) (rt.Cont, error) {
	if err == nil {
		return c.PushingNext1(t.Runtime, v), nil
	}
	if cfg.safe {
		return c.PushingNext(t.Runtime, rt.NilValue, rt.StringValue(err.Error())), nil
	}
	return nil, err
}

func (cfg *cjsonConfig) encode(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	if err := c.Check1Arg(); err != nil {
		return nil, err
	}
	e := &cjsonEncoder{t: t, cfg: cfg}
	if err := e.value(c.Arg(0), 0); err != nil {
		return cfg.result(t, c, rt.NilValue, err)
	}
	t.RequireBytes(e.b.Len())
	return c.PushingNext1(t.Runtime, rt.StringValue(e.b.String())), nil
}

func (cfg *cjsonConfig) decode(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	s, err := c.StringArg(0)
	if err != nil {
		return nil, err
	}
	t.RequireCPU(uint64(len(s)))
	d := &jsonDecoder{t: t, src: s, null: cjsonNullOf(t.Runtime), maxDepth: int(cfg.decodeMaxDepth)}
	v, err := d.decodeValue()
	if err == nil && !d.atEnd() {
		err = d.fail("the end", "")
	}
	if de, ok := errors.AsType[*decodeError](err); ok {
		if de.expected == "depth" {
			err = luaErrorf("Found too many nested data structures (%s) at character %d", de.found, de.pos)
		} else {
			err = luaErrorf("Expected %s but found %s at character %d", de.expected, de.found, de.pos)
		}
	}
	return cfg.result(t, c, v, err)
}

// cjsonEncoder writes one value as lua-cjson does.
type cjsonEncoder struct {
	t   *rt.Thread
	cfg *cjsonConfig
	b   strings.Builder
}

func (e *cjsonEncoder) fail(v rt.Value, reason string) error {
	return luaErrorf("Cannot serialise %s: %s", v.TypeName(), reason)
}

func (e *cjsonEncoder) value(v rt.Value, depth int64) error {
	e.t.RequireCPU(1)
	switch v.Type() {
	case rt.NilType:
		e.b.WriteString("null")
	case rt.BoolType:
		e.b.WriteString(strconv.FormatBool(v.AsBool()))
	case rt.IntType, rt.FloatType:
		return e.number(v)
	case rt.StringType:
		writeCJSONString(&e.b, v.AsString())
	default:
		if isCJSONNull(v) {
			e.b.WriteString("null")
			return nil
		}
		if !isTableLike(e.t, v) {
			return e.fail(v, "type not supported")
		}
		return e.table(v, depth+1)
	}
	return nil
}

func (e *cjsonEncoder) number(v rt.Value) error {
	f, _ := rt.ToFloat(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if !e.cfg.invalidNumbers {
			return e.fail(v, "must not be NaN or Inf")
		}
	}
	e.b.WriteString(formatG(f, int(e.cfg.precision)))
	return nil
}

// formatG is C's printf("%.<prec>g"), as lua-cjson formats numbers.
func formatG(f float64, prec int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', prec, 64)
}

type jsonEntry struct{ k, v rt.Value }

func (e *cjsonEncoder) table(v rt.Value, depth int64) error {
	if depth > e.cfg.encodeMaxDepth {
		return luaErrorf("Cannot serialise, excessive nesting (%d)", depth)
	}
	var entries []jsonEntry
	isArray, maxIndex := true, int64(0)
	err := each(e.t, v, func(k, val rt.Value) error {
		entries = append(entries, jsonEntry{k, val})
		if n, ok := arrayIndex(k); ok {
			maxIndex = max(maxIndex, n)
		} else {
			isArray = false
		}
		return nil
	})
	if err != nil {
		return err
	}
	items := int64(len(entries))
	if isArray && e.cfg.sparseRatio > 0 && maxIndex > items*e.cfg.sparseRatio && maxIndex > e.cfg.sparseSafe {
		if !e.cfg.sparseConvert {
			return e.fail(v, "excessively sparse array")
		}
		isArray = false
	}
	if isArray && maxIndex > 0 {
		return e.array(entries, maxIndex, depth)
	}
	return e.object(v, entries, depth)
}

// arrayIndex returns k as an array index: a positive integer (or integral
// float).
func arrayIndex(k rt.Value) (int64, bool) {
	if n, ok := k.TryInt(); ok {
		return n, n >= 1
	}
	if f, ok := k.TryFloat(); ok && f >= 1 && f == math.Floor(f) && f < 1<<62 {
		return int64(f), true
	}
	return 0, false
}

func (e *cjsonEncoder) array(entries []jsonEntry, n, depth int64) error {
	byIndex := make(map[int64]rt.Value, len(entries))
	for _, en := range entries {
		i, _ := arrayIndex(en.k)
		byIndex[i] = en.v
	}
	e.b.WriteByte('[')
	for i := int64(1); i <= n; i++ {
		if i > 1 {
			e.b.WriteByte(',')
		}
		v, ok := byIndex[i]
		if !ok {
			v = rt.NilValue
		}
		if err := e.value(v, depth); err != nil {
			return err
		}
	}
	e.b.WriteByte(']')
	return nil
}

func (e *cjsonEncoder) object(tbl rt.Value, entries []jsonEntry, depth int64) error {
	e.b.WriteByte('{')
	for i, en := range entries {
		if i > 0 {
			e.b.WriteByte(',')
		}
		switch en.k.Type() {
		case rt.StringType:
			writeCJSONString(&e.b, en.k.AsString())
		case rt.IntType, rt.FloatType:
			f, _ := rt.ToFloat(en.k)
			writeCJSONString(&e.b, formatG(f, int(e.cfg.precision)))
		default:
			return e.fail(tbl, "table key must be a number or string")
		}
		e.b.WriteByte(':')
		if err := e.value(en.v, depth); err != nil {
			return err
		}
	}
	e.b.WriteByte('}')
	return nil
}

// writeCJSONString quotes s as lua-cjson does: it escapes '/' and DEL
// too, and passes other bytes through unchanged (no UTF-8 check).
func writeCJSONString(b *strings.Builder, s string) {
	writeJSONString(b, s, true, `\u%04x`)
}
