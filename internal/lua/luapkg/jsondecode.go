package luapkg

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	rt "github.com/arnodel/golua/runtime"
)

// decodeError is a JSON syntax error; each module words it its own way.
type decodeError struct {
	pos      int    // 1-based byte offset
	expected string // what the grammar wanted ("value", "colon", ...)
	found    string // cjson's token name of what came instead
	msg      string // lunajson's wording
}

func (e *decodeError) Error() string { return e.msg }

// jsonDecoder turns JSON text into Lua values.
type jsonDecoder struct {
	t        *rt.Thread
	src      string
	pos      int
	null     rt.Value // the value of JSON null (nil: dropped)
	ints     bool     // integer literals become Lua integers (else floats)
	arrayLen bool     // store an array's length at [0] (lunajson's arraylen)
	maxDepth int
	depth    int
}

// decodeValue parses one value (and the whitespace before it).
func (d *jsonDecoder) decodeValue() (rt.Value, error) {
	d.skipSpace()
	if d.pos >= len(d.src) {
		return rt.NilValue, d.fail("value", "unexpected termination")
	}
	d.t.RequireCPU(1)
	var v rt.Value
	var err error
	switch c := d.src[d.pos]; {
	case c == '{':
		v, err = d.decodeObject()
	case c == '[':
		v, err = d.decodeArray()
	case c == '"':
		var s string
		s, err = d.decodeString()
		v = rt.StringValue(s)
	case c == '-' || c >= '0' && c <= '9':
		v, err = d.decodeNumber()
	default:
		v, err = d.decodeLiteral()
	}
	if err != nil {
		return rt.NilValue, err
	}
	return v, nil
}

// atEnd skips trailing whitespace and reports whether the text ends there.
func (d *jsonDecoder) atEnd() bool {
	d.skipSpace()
	return d.pos >= len(d.src)
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.src) && strings.IndexByte(" \t\n\r", d.src[d.pos]) >= 0 {
		d.pos++
	}
}

// fail returns the error for an unexpected token at the current position.
func (d *jsonDecoder) fail(expected, msg string) error {
	return &decodeError{pos: d.pos + 1, expected: expected, found: d.tokenName(), msg: msg}
}

// tokenName is cjson's name of the token at the current position.
func (d *jsonDecoder) tokenName() string {
	if d.pos >= len(d.src) {
		return "T_END"
	}
	switch c := d.src[d.pos]; {
	case c == '{':
		return "T_OBJ_BEGIN"
	case c == '}':
		return "T_OBJ_END"
	case c == '[':
		return "T_ARR_BEGIN"
	case c == ']':
		return "T_ARR_END"
	case c == ':':
		return "T_COLON"
	case c == ',':
		return "T_COMMA"
	case c == '"':
		return "T_STRING"
	case c == '-' || c >= '0' && c <= '9':
		return "T_NUMBER"
	case strings.HasPrefix(d.src[d.pos:], "true") || strings.HasPrefix(d.src[d.pos:], "false"):
		return "T_BOOLEAN"
	case strings.HasPrefix(d.src[d.pos:], "null"):
		return "T_NULL"
	}
	return "invalid token"
}

func (d *jsonDecoder) decodeLiteral() (rt.Value, error) {
	for _, l := range []struct {
		word string
		v    rt.Value
	}{{"true", rt.BoolValue(true)}, {"false", rt.BoolValue(false)}, {"null", d.null}} {
		if strings.HasPrefix(d.src[d.pos:], l.word) {
			d.pos += len(l.word)
			return l.v, nil
		}
	}
	return rt.NilValue, d.fail("value", "invalid value")
}

// enter counts one level of nesting against the limit.
func (d *jsonDecoder) enter() error {
	d.depth++
	if d.depth > d.maxDepth {
		return &decodeError{pos: d.pos + 1, expected: "depth", found: strconv.Itoa(d.depth),
			msg: "too many nested data structures"}
	}
	d.t.RequireBytes(64)
	return nil
}

func (d *jsonDecoder) decodeArray() (rt.Value, error) {
	if err := d.enter(); err != nil {
		return rt.NilValue, err
	}
	defer func() { d.depth-- }()
	d.pos++ // [
	arr := rt.NewTable()
	n := int64(0)
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == ']' {
		d.pos++
	} else {
		for {
			v, err := d.decodeValue()
			if err != nil {
				return rt.NilValue, err
			}
			n++
			d.t.RequireBytes(16)
			arr.Set(rt.IntValue(n), v)
			d.skipSpace()
			if d.pos < len(d.src) && d.src[d.pos] == ',' {
				d.pos++
				continue
			}
			if d.pos < len(d.src) && d.src[d.pos] == ']' {
				d.pos++
				break
			}
			return rt.NilValue, d.fail("comma or array end", "no closing bracket of an array")
		}
	}
	if d.arrayLen {
		arr.Set(rt.IntValue(0), rt.IntValue(n))
	}
	return rt.TableValue(arr), nil
}

func (d *jsonDecoder) decodeObject() (rt.Value, error) {
	if err := d.enter(); err != nil {
		return rt.NilValue, err
	}
	defer func() { d.depth-- }()
	d.pos++ // {
	obj := rt.NewTable()
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == '}' {
		d.pos++
		return rt.TableValue(obj), nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.src) || d.src[d.pos] != '"' {
			return rt.NilValue, d.fail("object key string", "not key")
		}
		k, err := d.decodeString()
		if err != nil {
			return rt.NilValue, err
		}
		d.skipSpace()
		if d.pos >= len(d.src) || d.src[d.pos] != ':' {
			return rt.NilValue, d.fail("colon", "no colon after a key")
		}
		d.pos++
		v, err := d.decodeValue()
		if err != nil {
			return rt.NilValue, err
		}
		d.t.RequireBytes(32)
		obj.Set(rt.StringValue(k), v)
		d.skipSpace()
		if d.pos < len(d.src) && d.src[d.pos] == ',' {
			d.pos++
			continue
		}
		if d.pos < len(d.src) && d.src[d.pos] == '}' {
			d.pos++
			return rt.TableValue(obj), nil
		}
		return rt.NilValue, d.fail("comma or object end", "no closing bracket of an object")
	}
}

// decodeNumber parses JSON's number grammar; integer literals become Lua
// integers when d.ints (and they fit), everything else a float.
func (d *jsonDecoder) decodeNumber() (rt.Value, error) {
	start := d.pos
	digits := func() int {
		n := 0
		for d.pos < len(d.src) && d.src[d.pos] >= '0' && d.src[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.src[d.pos] == '-' {
		d.pos++
	}
	intStart := d.pos
	if digits() == 0 || d.src[intStart] == '0' && d.pos-intStart > 1 {
		d.pos = start
		return rt.NilValue, d.fail("value", "invalid number")
	}
	isInt := true
	if d.pos < len(d.src) && d.src[d.pos] == '.' {
		isInt = false
		d.pos++
		if digits() == 0 {
			d.pos = start
			return rt.NilValue, d.fail("value", "invalid number")
		}
	}
	if d.pos < len(d.src) && (d.src[d.pos] == 'e' || d.src[d.pos] == 'E') {
		isInt = false
		d.pos++
		if d.pos < len(d.src) && (d.src[d.pos] == '+' || d.src[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			d.pos = start
			return rt.NilValue, d.fail("value", "invalid number")
		}
	}
	lit := d.src[start:d.pos]
	if isInt && d.ints {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return rt.IntValue(n), nil
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !isRangeError(err) {
		d.pos = start
		return rt.NilValue, d.fail("value", "invalid number")
	}
	return rt.FloatValue(f), nil
}

func isRangeError(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// decodeString parses a string at d.pos (on its opening quote).
func (d *jsonDecoder) decodeString() (string, error) {
	start := d.pos
	d.pos++
	var b strings.Builder
	for {
		if d.pos >= len(d.src) {
			d.pos = start
			return "", d.fail("value", "unterminated string")
		}
		c := d.src[d.pos]
		switch {
		case c == '"':
			d.pos++
			d.t.RequireBytes(b.Len())
			return b.String(), nil
		case c < 0x20:
			return "", d.fail("value", "unescaped control string")
		case c != '\\':
			b.WriteByte(c)
			d.pos++
			continue
		}
		if err := d.decodeEscape(&b); err != nil {
			return "", err
		}
	}
}

// decodeEscape decodes the escape at d.pos (on its backslash).
func (d *jsonDecoder) decodeEscape(b *strings.Builder) error {
	if d.pos+1 >= len(d.src) {
		return d.fail("value", "invalid escape sequence")
	}
	e := d.src[d.pos+1]
	if i := strings.IndexByte(`"\/bfnrt`, e); i >= 0 {
		b.WriteByte("\"\\/\b\f\n\r\t"[i])
		d.pos += 2
		return nil
	}
	if e != 'u' {
		return d.fail("value", "invalid escape sequence")
	}
	r, n := d.hex4(d.pos + 2)
	if n < 0 {
		return d.fail("value", "invalid unicode codepoint literal")
	}
	d.pos += 6
	if utf16.IsSurrogate(r) {
		if r >= 0xDC00 || !strings.HasPrefix(d.src[d.pos:], `\u`) {
			return d.fail("value", "invalid surrogate pair")
		}
		r2, n2 := d.hex4(d.pos + 2)
		if n2 < 0 || r2 < 0xDC00 || r2 > 0xDFFF {
			return d.fail("value", "invalid surrogate pair")
		}
		r = utf16.DecodeRune(r, r2)
		d.pos += 6
	}
	b.WriteString(string(utf8.AppendRune(nil, r)))
	return nil
}

// hex4 reads four hex digits at i; n is -1 if they are not.
func (d *jsonDecoder) hex4(i int) (rune, int) {
	if i+4 > len(d.src) {
		return 0, -1
	}
	v, err := strconv.ParseUint(d.src[i:i+4], 16, 32)
	if err != nil {
		return 0, -1
	}
	return rune(v), 4
}
