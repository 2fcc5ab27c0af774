package lua

import (
	"context"
	"sync"
	"testing"
)

// namedMemScripts adds named scripts (NamedScripts) to memScripts: the
// unnamed script of memScripts, then names[context] in order.
type namedMemScripts struct {
	*memScripts
	mu    sync.Mutex
	named map[string][]string
}

func (s *namedMemScripts) Sources(ctx context.Context, c, tenant string) ([]string, error) {
	var out []string
	if src, ok, _ := s.Get(ctx, c, tenant); ok {
		out = append(out, src)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(out, s.named[c]...), nil
}

// TestNamedScriptsRunInOrder: the request contexts run every script in
// order, each in a fresh state; a failing one (compile or runtime error) is
// counted and the next still runs; the first RGW_ABORT_REQUEST ends the
// chain. The data contexts run only the unnamed script.
func TestNamedScriptsRunInOrder(t *testing.T) {
	e, mem, log := testEngine(t, Config{})
	named := &namedMemScripts{memScripts: mem, named: map[string][]string{
		"postrequest": {
			`assert(leaked == nil, "globals leaked from the previous script") leaked = 1 RGW.order = RGW.order .. ",a"`,
			`this is not lua`,
			`error("runtime")`,
			`RGW.order = RGW.order .. ",c"`,
		},
		"prerequest": {`RGW.pre = "a"`, `RGW.pre = RGW.pre .. "b" return RGW_ABORT_REQUEST`, `RGW.pre = RGW.pre .. "c"`},
		"putdata":    {`RGW.data = "named"`},
	}}
	e.chunks.scripts = named
	mem.Put("postrequest", "", `leaked = 1 RGW.order = "unnamed"`)
	mem.Put("putdata", "", `RGW.unnamedData = true`)

	e.PostRequest(context.Background(), testRequest())
	if got, _ := e.global.get("order"); got != "unnamed,a,c" {
		t.Errorf("postrequest order %v, want unnamed,a,c; log:\n%s", got, log.String())
	}
	if c := e.Counters(); c["lua_script_ok"] != 3 || c["lua_script_fail"] != 2 {
		t.Errorf("counters %v, want 3 ok and 2 failed", c)
	}
	if d := e.PreRequest(context.Background(), testRequest()); d == nil || d.Status != 403 {
		t.Errorf("a named script's RGW_ABORT_REQUEST: denial %+v", d)
	}
	if got, _ := e.global.get("pre"); got != "ab" {
		t.Errorf("prerequest ran %v, want ab (the chain ends at the abort)", got)
	}
	e.Data(context.Background(), PutData, testRequest(), []byte("x"), 0)
	_, namedRan := e.global.get("data")
	_, unnamedRan := e.global.get("unnamedData")
	if namedRan || !unnamedRan {
		t.Errorf("putdata: named script ran %v, unnamed %v; want only the unnamed", namedRan, unnamedRan)
	}
}
