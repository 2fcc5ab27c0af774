package lua

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/syncbuf"
)

// testEngine returns an engine over in-memory scripts whose log is buf.
func testEngine(t testing.TB, cfg Config) (*Engine, *memScripts, *syncbuf.Buffer) {
	t.Helper()
	s := newMemScripts()
	buf := &syncbuf.Buffer{}
	cfg.Scripts = s
	cfg.RefreshInterval = -1 // poll at every execution
	cfg.Logger = slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := New(cfg)
	t.Cleanup(func() { _ = e.Close() })
	return e, s, buf
}

func testRequest() *Request {
	r := httptest.NewRequest("PUT", "http://s3.local/bkt/dir/obj%20x?x-id=PutObject", strings.NewReader("hello"))
	r.Header.Set("X-Amz-Meta-Color", "blue")
	return &Request{HTTP: r, ID: "REQ1", RGWOp: "put_obj", Start: time.Now(), Bucket: "bkt", Key: "dir/obj x"}
}

func TestSandboxLimitsStopScripts(t *testing.T) {
	e, s, log := testEngine(t, Config{MaxRuntime: 200 * time.Millisecond})
	for _, tc := range []struct{ name, src, want string }{
		{"infinite loop", "while true do end", "time limit"},
		{"memory bomb", "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end", "memory limit"},
		{"os.execute", "os.execute('touch /tmp/pwned')", "os.execute is not allowed"},
		{"io.popen", "io.popen('id')", "io.popen is not allowed"},
		{"loadfile", "loadfile('/etc/passwd')", "attempt to call a nil value"},
		{"io.open outside", "io.open('/etc/passwd')", "file access is disabled"},
		{"runtime error", "error('boom')", "boom"},
		{"finalizer loop", "setmetatable({}, {__gc = function() while true do end end})", "time limit"},
		{"deep recursion", "local function f(n) return f(n + 1) + 1 end f(1)", "limit"},
		{"huge string", "local s = string.rep('x', 1e10)", "limit"},
		{"coroutines", "while true do coroutine.wrap(function() coroutine.yield() end)() end", "limit"},
		{"compile error", "if then", "compile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.Counters()["lua_script_fail"]
			logStart := len(log.String())
			s.Put("postRequest", "", tc.src)
			start := time.Now()
			e.PostRequest(context.Background(), testRequest())
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("script ran %v", d)
			}
			if got := e.Counters()["lua_script_fail"]; got != before+1 {
				t.Fatalf("lua_script_fail = %d, want %d", got, before+1)
			}
			if logged := log.String()[logStart:]; !strings.Contains(logged, tc.want) {
				t.Fatalf("log lacks %q:\n%s", tc.want, logged)
			}
		})
	}
	if n := e.Errors()[PostRequest]; n != 12 {
		t.Fatalf("errors{postrequest} = %d, want 12", n)
	}
}

func TestIOConfinedToDirectory(t *testing.T) {
	dir := t.TempDir()
	e, s, log := testEngine(t, Config{IODir: dir})
	s.Put("postrequest", "", `
local f = assert(io.open("access.log", "a"))
f:write(Request.Id, "\n")
f:close()
local ok, err = pcall(io.open, "../escape", "w")
assert(not ok and string.find(tostring(err), "outside"), tostring(err))
local ok2, err2 = pcall(io.open, "/etc/passwd")
assert(not ok2, "absolute path outside must fail")
`)
	e.PostRequest(context.Background(), testRequest())
	if e.Counters()["lua_script_ok"] != 1 {
		t.Fatalf("script failed: %s", log.String())
	}
}

func TestRGWTableConcurrent(t *testing.T) {
	e, s, log := testEngine(t, Config{})
	s.Put("postrequest", "", `
RGW.increment("n")
RGW.increment("f", 0.5)
RGW["last"] = Request.Id
RGW.decrement("d", 2)
`)
	var wg sync.WaitGroup
	const n = 50
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.PostRequest(context.Background(), testRequest())
		}()
	}
	wg.Wait()
	s.Put("postrequest", "", `
assert(RGW.n == 50 and math.type(RGW.n) == "integer", tostring(RGW.n))
assert(RGW.f == 25.0, tostring(RGW.f))
assert(RGW.d == -100)
local keys = 0
for k, v in pairs(RGW) do keys = keys + 1 end
assert(keys == 4 and #RGW == 4, keys)
RGW.last = nil
assert(#RGW == 3)
local ok, err = pcall(function() RGW.t = {} end)
assert(not ok)
local ok2 = pcall(function() RGW.increment("last2"); RGW.s = "x"; RGW.increment("s") end)
assert(not ok2)
`)
	e.PostRequest(context.Background(), testRequest())
	if c := e.Counters(); c["lua_script_ok"] != n+1 || c["lua_script_fail"] != 0 {
		t.Fatalf("counters %v: %s", c, log.String())
	}
}

func TestFreshStatePerExecution(t *testing.T) {
	e, s, log := testEngine(t, Config{})
	s.Put("postrequest", "", `assert(leaked == nil, "global survived") leaked = 1`)
	e.PostRequest(context.Background(), testRequest())
	e.PostRequest(context.Background(), testRequest())
	if c := e.Counters(); c["lua_script_ok"] != 2 {
		t.Fatalf("counters %v: %s", c, log.String())
	}
}

func TestRequireOnlyBuiltins(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "evil.lua"), []byte("return {}"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, s, log := testEngine(t, Config{IODir: dir})
	// Loading libraries first must not bring back golua's file searchers
	// nor the base library's print to stdout.
	s.Put("postrequest", "", `
assert(string.len("abc") == 3 and ("x"):rep(2) == "xx" and pairs and package)
print("to the log")
local ok, err = pcall(require, "evil")
assert(not ok and tostring(err):find("no packages"), tostring(err))
assert(load == nil and loadfile == nil and dofile == nil and debug == nil)
assert(not pcall(package.loadlib, "x", "y"))
`)
	e.PostRequest(context.Background(), testRequest())
	if c := e.Counters(); c["lua_script_ok"] != 1 || !strings.Contains(log.String(), "to the log") {
		t.Fatalf("counters %v: %s", c, log.String())
	}
}

func TestPreRequestDenial(t *testing.T) {
	e, s, log := testEngine(t, Config{})
	for _, tc := range []struct {
		src  string
		want *Denial
	}{
		{`return RGW_ABORT_REQUEST`, &Denial{Status: 403, Code: "AccessDenied", Message: "Access Denied"}},
		{`Request.Response.HTTPStatusCode = 404 return RGW_ABORT_REQUEST`, &Denial{Status: 404, Code: "NotFound", Message: "Not Found"}},
		{`Request.Response.HTTPStatusCode = 503 Request.Response.HTTPStatus = "SlowDown" Request.Response.Message = "later"
		  return RGW_ABORT_REQUEST`, &Denial{Status: 503, Code: "SlowDown", Message: "later"}},
		{`Request.Response.HTTPStatusCode = 200 return RGW_ABORT_REQUEST`, &Denial{Status: 403, Code: "AccessDenied", Message: "Access Denied"}},
		{`return 0`, nil},
		{`return "x"`, nil},
		{`Request.Response.HTTPStatusCode = 409`, nil},
		{`error("x")`, nil}, // fails open
	} {
		s.Put("prerequest", "", tc.src)
		d := e.PreRequest(context.Background(), testRequest())
		if (d == nil) != (tc.want == nil) || d != nil && *d != *tc.want {
			t.Errorf("%s: denial %+v, want %+v", tc.src, d, tc.want)
		}
	}
	closed, s2, _ := testEngine(t, Config{FailClosed: true})
	s2.Put("prerequest", "", `error("x")`)
	if d := closed.PreRequest(context.Background(), testRequest()); d == nil || d.Status != 403 {
		t.Errorf("fail closed: %+v", d)
	}
	_ = log
}

// TestScriptChangesSeenWithinRefresh: a cached script is replaced once the
// store's generation moves, within the refresh interval.
func TestScriptChangesSeenWithinRefresh(t *testing.T) {
	e, s, log := testEngine(t, Config{})
	e.chunks.interval = 20 * time.Millisecond
	s.Put("postrequest", "", `RGW.version = 1`)
	e.PostRequest(context.Background(), testRequest())
	s.Put("postrequest", "", `RGW.version = 2`)
	s.Put("background", "", `assert(RGW.version == 2, "old script")`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.PostRequest(context.Background(), testRequest())
		_, err := e.execute(context.Background(), Background, "", nil)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("new script not seen: %s", log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := e.Counters()["lua_current_vms"]; n != 0 {
		t.Fatalf("lua_current_vms = %d after all executions ended", n)
	}
}

// TestChunkCacheBounded: tenants that have no script (any name a URL may
// carry) do not grow the cache without bound.
func TestChunkCacheBounded(t *testing.T) {
	e, s, _ := testEngine(t, Config{})
	e.chunks.interval = time.Hour
	s.Put("postrequest", "", "-- nothing")
	for i := 0; i < 3*maxChunkEntries; i++ {
		req := testRequest()
		req.Tenant = fmt.Sprint("t", i)
		e.PostRequest(context.Background(), req)
	}
	e.chunks.mu.RLock()
	n := len(e.chunks.entries)
	e.chunks.mu.RUnlock()
	if n > maxChunkEntries {
		t.Fatalf("%d cache entries", n)
	}
}
