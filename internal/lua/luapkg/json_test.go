package luapkg

import (
	"context"
	"strings"
	"testing"
)

type luaCase struct{ name, src, want string }

func runCases(t *testing.T, cases []luaCase) {
	t.Helper()
	p := newTestPackages(t, Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustLua(t, p, tc.src); got != tc.want {
				t.Errorf("got %q, want %q\n%s", got, tc.want, tc.src)
			}
		})
	}
}

func runErrorCases(t *testing.T, cases []luaCase) {
	t.Helper()
	p := newTestPackages(t, Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runLua(t, p, tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q\n%s", err, tc.want, tc.src)
			}
		})
	}
}

func TestCJSONEncode(t *testing.T) {
	const j = "local cjson = require 'cjson'\n"
	runCases(t, []luaCase{
		{"array", j + "return cjson.encode({1, 'a', true})", `[1,"a",true]`},
		{"holes are null", j + "return cjson.encode({1, nil, 3})", `[1,null,3]`},
		{"empty table is an object", j + "return cjson.encode({})", `{}`},
		{"object", j + "return cjson.encode({a = 1})", `{"a":1}`},
		{"mixed keys make an object, numbers as strings", j + "local t = {10}; t.x = 1; local s = cjson.encode(t); return (s == '{\"1\":10,\"x\":1}' or s == '{\"x\":1,\"1\":10}') and 'ok' or s", "ok"},
		{"null", j + "return cjson.encode({cjson.null, 1})", `[null,1]`},
		{"null compares equal to itself", j + "return tostring(cjson.decode('[null]')[1] == cjson.null)", "true"},
		{"14 significant digits", j + "return cjson.encode({0.1, 1/3, 2^53, 1e20, 12, -0.5})", `[0.1,0.33333333333333,9.007199254741e+15,1e+20,12,-0.5]`},
		{"escapes slash and controls", j + `return cjson.encode("a/b\"c\\d\n\1")`, `"a\/b\"c\\d\n\u0001"`},
		{"nested", j + "return cjson.encode({a = {b = {1, 2}}})", `{"a":{"b":[1,2]}}`},
		{"sparse within safe", j + "local t = {}; t[5] = 1; return cjson.encode(t)", `[null,null,null,null,1]`},
		{"sparse convert", j + "cjson.encode_sparse_array(true); local t = {}; t[20] = 1; return cjson.encode(t)", `{"20":1}`},
		{"precision option", j + "cjson.encode_number_precision(3); return cjson.encode(3.14159)", `3.14`},
		{"safe returns nil, err", "local s = require 'cjson.safe'; local v, err = s.encode(function() end); return tostring(v) .. ' ' .. err",
			"nil Cannot serialise function: type not supported"},
		{"module fields", j + "return cjson._NAME .. ' ' .. cjson._VERSION", "cjson 2.1.0"},
	})
	runErrorCases(t, []luaCase{
		{"sparse refused", j + "local t = {}; t[20] = 1; return cjson.encode(t)", "Cannot serialise table: excessively sparse array"},
		{"nan", j + "return cjson.encode(0/0)", "Cannot serialise number: must not be NaN or Inf"},
		{"inf", j + "return cjson.encode(math.huge)", "must not be NaN or Inf"},
		{"function", j + "return cjson.encode({f = print})", "Cannot serialise function: type not supported"},
		{"bad key", j + "return cjson.encode({[true] = 1})", "Cannot serialise table: table key must be a number or string"},
		{"depth", j + "local t = {}; local c = t; for i = 1, 1100 do c[1] = {}; c = c[1] end; return cjson.encode(t)", "Cannot serialise, excessive nesting (1001)"},
	})
}

func TestCJSONDecode(t *testing.T) {
	const j = "local cjson = require 'cjson'\n"
	runCases(t, []luaCase{
		{"numbers are floats", j + "local v = cjson.decode('[1, 2.5, -3e2]'); return math.type(v[1]) .. ' ' .. tostring(v[1] == 1) .. ' ' .. math.type(v[3]) .. ' ' .. tostring(v[3] == -300) .. ' ' .. v[2]", "float true float true 2.5"},
		{"object and array", j + `local v = cjson.decode('{"a": [true, false, "x"], "b": {"c": "d"}}'); return tostring(v.a[1]) .. tostring(v.a[2]) .. v.a[3] .. v.b.c`, "truefalsexd"},
		{"null is cjson.null", j + "local v = cjson.decode('{\"a\": null}'); return tostring(v.a == cjson.null) .. ' ' .. type(v.a)", "true userdata"},
		{"empty array reencodes as object", j + "return cjson.encode(cjson.decode('[]'))", "{}"},
		{"unicode escapes", j + `return cjson.decode('"\\u00e9\\ud83d\\ude00\\/"')`, "é😀/"},
		{"scalar", j + "return tostring(cjson.decode(' \"x\" '))", "x"},
		{"round trip", j + `return cjson.encode(cjson.decode('{"k":[1,"2",null]}'))`, `{"k":[1,"2",null]}`},
		{"safe", "local s = require 'cjson.safe'; local v, err = s.decode('{'); return tostring(v) .. ' ' .. err", "nil Expected object key string but found T_END at character 2"},
	})
	runErrorCases(t, []luaCase{
		{"empty", j + "return cjson.decode('')", "Expected value but found T_END at character 1"},
		{"garbage", j + "return cjson.decode('[1 2]')", "Expected comma or array end but found T_NUMBER at character 4"},
		{"trailing", j + "return cjson.decode('1 x')", "Expected the end but found invalid token at character 3"},
		{"colon", j + `return cjson.decode('{"a" 1}')`, "Expected colon but found T_NUMBER at character 6"},
	})
}

func TestLunajson(t *testing.T) {
	const j = "local json = require 'lunajson'\n"
	runCases(t, []luaCase{
		{"array", j + "return json.encode({1, 'a', false})", `[1,"a",false]`},
		{"array stops at first nil", j + "return json.encode({1, nil, 3})", `[1]`},
		{"explicit length at [0]", j + "return json.encode({[0] = 3, 1, nil, 3})", `[1,null,3]`},
		{"empty table is an object", j + "return json.encode({})", `{}`},
		{"empty array with [0]", j + "return json.encode({[0] = 0})", `[]`},
		{"object", j + "return json.encode({a = 'b'})", `{"a":"b"}`},
		{"17 significant digits", j + "return json.encode({0.1, 12, 2^53, -0.5})", `[0.10000000000000001,12,9007199254740992,-0.5]`},
		{"escapes", j + `return json.encode("a/b\"\n\1")`, `"a/b\"\n\u0001"`},
		{"nullv", j + "local N = {}; return json.encode({1, N, 3}, N)", `[1,null,3]`},
		{"decode integers stay integers", j + "local v = json.decode('[1, 2.5, 1e2]'); return math.type(v[1]) .. ' ' .. math.type(v[2]) .. ' ' .. math.type(v[3])", "integer float float"},
		{"decode drops null", j + "local v = json.decode('{\"a\": null, \"b\": 1}'); return tostring(v.a) .. ' ' .. v.b", "nil 1"},
		{"decode nullv", j + "local N = {}; local v = json.decode('[null]', nil, N); return tostring(v[1] == N)", "true"},
		{"decode arraylen", j + "local v = json.decode('[1, null, 3]', nil, nil, true); return v[0] .. ' ' .. tostring(v[2])", "3 nil"},
		{"decode with pos", j + "local v, pos = json.decode('  [1] tail', 1); return v[1] .. ' ' .. pos", "1 6"},
		{"round trip", j + `return json.encode(json.decode('{"a":[1,2,{"b":"c"}]}'))`, `{"a":[1,2,{"b":"c"}]}`},
	})
	runErrorCases(t, []luaCase{
		{"non-string key", j + "return json.encode({[true] = 1})", "non-string key"},
		{"loop", j + "local t = {}; t.t = t; return json.encode(t)", "loop detected"},
		{"nan", j + "return json.encode(0/0)", "invalid number"},
		{"function", j + "return json.encode(print)", "invalid type value"},
		{"trailing", j + "return json.decode('[1] x')", "json ended"},
		{"bad", j + "return json.decode('{\"a\" 1}')", "parse error at 6: no colon after a key"},
	})
}

// TestJSONHonoursPairs: the gateway's tables (Request.HTTP.Metadata) are
// proxies iterated through __pairs; both encoders must see their entries.
func TestJSONHonoursPairs(t *testing.T) {
	const proxy = `
local data = {["x-amz-meta-a"] = "1"}
local meta = setmetatable({}, {__pairs = function(t) return next, data, nil end, __index = data})
`
	runCases(t, []luaCase{
		{"lunajson", proxy + "return require('lunajson').encode(meta)", `{"x-amz-meta-a":"1"}`},
		{"cjson", proxy + "return require('cjson').encode(meta)", `{"x-amz-meta-a":"1"}`},
	})
}

func TestNamesAndProviders(t *testing.T) {
	p := newTestPackages(t, Options{})
	if got := strings.Join(p.Names(), ","); got != "cjson,cjson.safe,lunajson,nats,socket.http" {
		t.Errorf("Names: %s", got)
	}
	if got := strings.Join(Shipped(), ","); got != "lua-cjson,lua-nats,luasocket,lunajson,nats" {
		t.Errorf("Shipped: %s", got)
	}
	if got := strings.Join(Providers("nats"), ","); got != "nats,lua-nats" {
		t.Errorf("Providers(nats): %s", got)
	}
	if Providers("socket.unix") != nil {
		t.Error("Providers of an unshipped module")
	}
	allowlist := map[string]bool{"lua-cjson": true, "lua-nats": true}
	allowed := ModuleAllowed(func(_ context.Context, pkg string) (bool, error) { return allowlist[pkg], nil })
	for module, want := range map[string]bool{"cjson": true, "cjson.safe": true, "nats": true, "lunajson": false, "socket.http": false, "posix": false} {
		if ok, err := allowed(context.Background(), module); ok != want || err != nil {
			t.Errorf("ModuleAllowed(%s) = %v, %v; want %v", module, ok, err, want)
		}
	}
	if _, err := runLua(t, p, "return require('luaposix')"); err == nil || !strings.Contains(err.Error(), "no such module") {
		t.Errorf("unknown module: %v", err)
	}
}
