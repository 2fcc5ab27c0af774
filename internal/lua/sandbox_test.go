package lua

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/lua/luapkg"
)

// A symbolic link inside the IO directory must not lead a script to files
// outside it, for reading or writing.
func TestIOSymlinkOutsideDirectoryRefused(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"filelink": secret, "dirlink": outside} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(outside, "new"), filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	e, s, log := testEngine(t, Config{IODir: dir})
	s.Put("postrequest", "", `
for _, name in ipairs({"filelink", "dirlink/secret"}) do
  local ok, err = pcall(io.open, name)
  assert(not ok and string.find(tostring(err), "outside"), name .. ": " .. tostring(err))
  local ok2, err2 = pcall(io.lines, name)
  assert(not ok2 and string.find(tostring(err2), "outside"), name .. ": " .. tostring(err2))
end
for _, name in ipairs({"dangling", "dirlink/new"}) do
  local ok, err = pcall(io.open, name, "w")
  assert(not ok and string.find(tostring(err), "outside"), name .. ": " .. tostring(err))
end
local f = assert(io.open("inside.log", "a"))
f:write("ok\n")
f:close()
`)
	e.PostRequest(context.Background(), testRequest())
	if e.Counters()["lua_script_ok"] != 1 {
		t.Fatalf("script failed: %s", log.String())
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); err == nil {
		t.Fatal("a script created a file outside the IO directory")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "inside.log")); !strings.Contains(string(b), "ok") {
		t.Fatalf("inside.log = %q", b)
	}
}

// Pattern matching backtracks in Go, where golua's time limit is not
// checked: a pattern that backtracks exponentially on the subject (which
// an S3 client controls when it is, e.g., the URI) must still stop at the
// script's limit.
func TestPatternMatchingStopsAtTimeLimit(t *testing.T) {
	e, s, log := testEngine(t, Config{MaxRuntime: 200 * time.Millisecond})
	for _, src := range []string{
		"string.find(string.rep('a', 40), string.rep('a*', 40) .. 'b')",
		"string.match(string.rep('a', 40), string.rep('a*', 40) .. 'b')",
		"string.gsub(string.rep('a', 40), string.rep('a*', 40) .. 'b', 'x')",
		"for m in string.gmatch(string.rep('a', 40), string.rep('a*', 40) .. 'b') do end",
		"local ok = pcall(string.find, string.rep('a', 40), string.rep('a*', 40) .. 'b') while true do end",
		"local s = Request.HTTP.URI s:find(string.rep('a*', 40) .. 'b')",
	} {
		before := e.Counters()["lua_script_fail"]
		s.Put("postrequest", "", src)
		done := make(chan struct{})
		go func() {
			defer close(done)
			req := testRequest()
			req.HTTP.URL.Path = "/" + strings.Repeat("a", 40)
			e.PostRequest(context.Background(), req)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: still running 30 s after its 200 ms limit", src)
		}
		if got := e.Counters()["lua_script_fail"]; got != before+1 {
			t.Fatalf("%s: lua_script_fail = %d, want %d:\n%s", src, got, before+1, log.String())
		}
	}
	if !strings.Contains(log.String(), "limit") {
		t.Fatalf("log names no limit:\n%s", log.String())
	}
}

// golua runs each coroutine on a goroutine that waits until the coroutine
// is resumed: one left suspended (or never started) when the script ends
// must not keep its goroutine, and the state, alive forever.
func TestCoroutinesEndWithTheExecution(t *testing.T) {
	e, s, log := testEngine(t, Config{})
	s.Put("postrequest", "", `
local gen = coroutine.wrap(function() for i = 1, 10 do coroutine.yield(i) end end)
assert(gen() == 1)
local co = coroutine.create(function() coroutine.yield() end)
coroutine.resume(co)
coroutine.create(function() end)
`)
	const runs = 50
	before := runtime.NumGoroutine()
	for range runs {
		e.PostRequest(context.Background(), testRequest())
	}
	if ok := e.Counters()["lua_script_ok"]; ok != runs {
		t.Fatalf("lua_script_ok = %d, want %d:\n%s", ok, runs, log.String())
	}
	after := runtime.NumGoroutine()
	for i := 0; i < 100 && after-before >= runs; i++ {
		time.Sleep(10 * time.Millisecond) // a closed coroutine's goroutine is on its way out
		after = runtime.NumGoroutine()
	}
	if after-before >= runs {
		t.Fatalf("goroutines: %d before %d executions, %d after", before, runs, after)
	}
}

// Coroutines left suspended by a script that a limit stopped end too.
func TestCoroutinesEndWhenALimitStopsTheScript(t *testing.T) {
	e, s, _ := testEngine(t, Config{MaxRuntime: 50 * time.Millisecond})
	const runs = 10
	before := runtime.NumGoroutine()
	for i := range runs {
		src := "local gen = coroutine.wrap(function() coroutine.yield() end) gen() while true do end"
		if i%2 == 1 {
			src = "local gen = coroutine.wrap(function() coroutine.yield() end) gen() local t = {} for i = 1, 1e9 do t[i] = i end"
		}
		s.Put("postrequest", "", src)
		e.PostRequest(context.Background(), testRequest())
	}
	if fail := e.Counters()["lua_script_fail"]; fail != runs {
		t.Fatalf("lua_script_fail = %d, want %d", fail, runs)
	}
	after := runtime.NumGoroutine()
	for i := 0; i < 100 && after-before >= runs; i++ {
		time.Sleep(10 * time.Millisecond)
		after = runtime.NumGoroutine()
	}
	if after-before >= runs {
		t.Fatalf("goroutines: %d before %d executions, %d after", before, runs, after)
	}
}

// A gsub replacement function (or a table's __index) runs Lua code while
// the matcher's budget applies: a coroutine finishing there, or frames of
// the script returning, must not upset golua's memory accounting (which
// panics, killing the process, when a context releases more than it
// holds), and a runaway pattern must still stop.
func TestGsubCallbacksRunOutsideThePatternBudget(t *testing.T) {
	e, s, log := testEngine(t, Config{MaxRuntime: 200 * time.Millisecond})
	s.Put("postrequest", "", `
local gen = coroutine.wrap(function() coroutine.yield(1) return 2 end)
gen()
local out = string.gsub("abc", "%w", function(c) return c .. gen() end, 1)
assert(out == "a2bc", out)
local mt = setmetatable({}, {__index = function(_, k) return k:upper() end})
assert(string.gsub("ab", "%w", mt) == "AB")
RGW.gsub = "ok"
`)
	e.PostRequest(context.Background(), testRequest())
	if e.Counters()["lua_script_ok"] != 1 {
		t.Fatalf("script failed: %s", log.String())
	}
	s.Put("postrequest", "", "string.gsub(string.rep('a', 40), string.rep('a*', 40) .. 'b', function(x) return x end)")
	done := make(chan struct{})
	go func() { defer close(done); e.PostRequest(context.Background(), testRequest()) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("gsub with a function still running 30 s after its 200 ms limit")
	}
	if e.Counters()["lua_script_fail"] != 1 {
		t.Fatalf("runaway gsub not stopped: %s", log.String())
	}
}

// A script that mostly waits on a package call (an HTTP POST to an
// endpoint that never answers) runs very little Lua code, so golua reads
// its clock rarely: each call must still get only the time left, and the
// execution must end near its limit, not after one limit per call.
func TestPackageCallsShareTheTimeLimit(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	pkgs := luapkg.New(luapkg.Options{Timeout: 10 * time.Second})
	t.Cleanup(func() { _ = pkgs.Close() })
	e, s, log := testEngine(t, Config{MaxRuntime: 200 * time.Millisecond, Packages: pkgs})
	s.Put("postrequest", "", fmt.Sprintf(`
local http = require("socket.http")
for i = 1, 50 do http.request(%q, "x") end`, srv.URL))
	done := make(chan struct{})
	go func() { defer close(done); e.PostRequest(context.Background(), testRequest()) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("50 calls to a silent endpoint held the script 5 s past its 200 ms limit")
	}
	if e.Counters()["lua_script_fail"] != 1 || !strings.Contains(log.String(), "time limit") {
		t.Fatalf("not stopped by its time limit:\n%s", log.String())
	}
}

// golua's collectgarbage acts on the Go runtime of the whole gateway:
// "stop" turned the Go garbage collector off for every request (memory
// grows until the process dies) and "collect" ran a full collection of
// the gateway's heap per call; under limits golua refused to call it at
// all, failing RGW scripts that do. A script's collectgarbage works and
// touches only its own state, with or without limits.
func TestCollectGarbageStaysInTheState(t *testing.T) {
	for name, cfg := range map[string]Config{"default limits": {}, "no limits": {MaxMemory: -1, MaxRuntime: -1}} {
		t.Run(name, func(t *testing.T) {
			e, s, log := testEngine(t, cfg)
			s.Put("postrequest", "", `
collectgarbage("stop")
assert(collectgarbage("isrunning") == false)
collectgarbage("restart")
assert(collectgarbage("isrunning") == true)
collectgarbage("stop")
for i = 1, 100 do collectgarbage() collectgarbage("collect") collectgarbage("step") end
local kb = collectgarbage("count")
assert(type(kb) == "number" and kb >= 0 and kb < 1e6, tostring(kb))`)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			e.PostRequest(context.Background(), testRequest())
			runtime.ReadMemStats(&after)
			percent := debug.SetGCPercent(100)
			debug.SetGCPercent(percent)
			if percent < 0 {
				debug.SetGCPercent(100)
				t.Fatal("a script turned the gateway's garbage collector off")
			}
			if e.Counters()["lua_script_ok"] != 1 {
				t.Fatalf("script failed: %s", log.String())
			}
			if n := after.NumGC - before.NumGC; n >= 100 {
				t.Fatalf("300 collectgarbage calls ran %d collections of the gateway's heap", n)
			}
		})
	}
}

// A to-be-closed variable of a coroutine whose __close hits the limit
// while the coroutine is closed made golua panic outside any recover: the
// gateway process died. Lua 5.3 (RGW's) has no such variables; Cairn
// refuses them when a script is compiled (and at script put).
func TestToBeClosedVariablesRefused(t *testing.T) {
	e, s, log := testEngine(t, Config{MaxRuntime: 100 * time.Millisecond})
	crash := `
local co = coroutine.create(function()
  local x <close> = setmetatable({}, {__close = function() while true do end end})
  coroutine.yield()
end)
coroutine.resume(co)
coroutine.close(co)`
	for _, src := range []string{crash, "local a, b <close> = 1, nil", "local f <const>, g <close> = 1, nil"} {
		if err := Check(src); err == nil || !strings.Contains(err.Error(), "<close>") {
			t.Errorf("Check accepted a to-be-closed variable (%v):\n%s", err, src)
		}
	}
	s.Put("postrequest", "", crash)
	e.PostRequest(context.Background(), testRequest())
	if e.Counters()["lua_script_fail"] != 1 || !strings.Contains(log.String(), "not supported") {
		t.Fatalf("script with <close> not refused:\n%s", log.String())
	}
	s.Put("postrequest", "", `local k <const> = 1 local x, y = 2, 3 local function f() return k end assert(f() + x + y == 6) local z = 1 < 2`)
	e.PostRequest(context.Background(), testRequest())
	if e.Counters()["lua_script_ok"] != 1 {
		t.Fatalf("a script without <close> failed:\n%s", log.String())
	}
}

// The generic for's fourth value is a to-be-closed value in Lua 5.4 (RGW's
// Lua 5.3 ignores it): its __close hitting the limit while a coroutine is
// closed crashed the gateway as a <close> variable did, and when a limit
// stopped the coroutine it ran with no limit at all. Cairn ignores it as
// Lua 5.3 does.
func TestForInClosingValueIgnored(t *testing.T) {
	e, s, log := testEngine(t, Config{MaxRuntime: 100 * time.Millisecond})
	loop := `setmetatable({}, {__close = function() while true do end end})`
	for _, src := range []string{
		`local co = coroutine.create(function()
  for _ in function() return 1 end, nil, nil, ` + loop + ` do coroutine.yield() end
end)
coroutine.resume(co)
coroutine.close(co)`,
		`local co = coroutine.create(function()
  for _ in function() return 1 end, nil, nil, ` + loop + ` do coroutine.yield() end
end)
coroutine.resume(co)`,
		`coroutine.wrap(function()
  for _ in function() return 1 end, nil, nil, ` + loop + ` do while true do end end
end)()`,
		`local n = 0
for _ in function() if n < 3 then n = n + 1 return n end end, nil, nil, setmetatable({}, {__close = function() RGW.closed = true end}) do end
assert(n == 3)
local t = {} for k, v in pairs({a = 1, b = 2}) do t[#t + 1] = k end assert(#t == 2)`,
	} {
		s.Put("postrequest", "", src)
		done := make(chan struct{})
		go func() { defer close(done); e.PostRequest(context.Background(), testRequest()) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("still running 30 s after its 100 ms limit:\n%s", src)
		}
	}
	if _, closed := e.global.get("closed"); closed {
		t.Error("a for loop's fourth value was closed (Lua 5.3 ignores it)")
	}
	if ok, fail := e.Counters()["lua_script_ok"], e.Counters()["lua_script_fail"]; ok+fail != 4 {
		t.Fatalf("ok %d fail %d:\n%s", ok, fail, log.String())
	}
}
