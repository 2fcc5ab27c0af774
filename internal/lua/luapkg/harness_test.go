package luapkg

import (
	"bytes"
	"sync"
	"testing"

	"github.com/arnodel/golua/lib"
	rt "github.com/arnodel/golua/runtime"
)

// libLoad serializes golua's library loading across test goroutines.
var libLoad sync.Mutex

// limits are what a gateway gives a script: running under hard limits
// makes golua require the compliance flags the modules declare.
var limits = rt.RuntimeContextDef{HardLimits: rt.RuntimeResources{Cpu: 50_000_000, Memory: 64 << 20, Millis: 10_000}}

// runLua runs src in a fresh runtime whose require loads p's modules
// (every module allowed) and returns its first result as a string, or
// the Lua error.
func runLua(t *testing.T, p *Packages, src string) (string, error) {
	t.Helper()
	return runLuaWith(t, p, src, nil)
}

// runLuaWith is runLua that also hands the first result's userdata value
// (if any) to inspect.
func runLuaWith(t *testing.T, p *Packages, src string, inspect func(any)) (string, error) {
	t.Helper()
	var out bytes.Buffer
	r := rt.New(&out)
	// golua's library loaders set flags on package-level functions: loading
	// in two runtimes at once is a data race (in golua, not here).
	libLoad.Lock()
	lib.LoadAll(r)
	libLoad.Unlock()
	r.SetEnvGoFunc(r.GlobalEnv(), "require", func(th *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		name, err := c.StringArg(0)
		if err != nil {
			return nil, err
		}
		m, err := p.Open(th, name)
		if err != nil {
			return nil, err
		}
		return c.PushingNext1(th.Runtime, m), nil
	}, 1, false).SolemnlyDeclareCompliance(safeFlags)
	var res rt.Value
	_, err := r.MainThread().CallContext(limits, func() error {
		clos, err := r.CompileAndLoadLuaChunk("test", []byte(src), rt.TableValue(r.GlobalEnv()))
		if err != nil {
			return err
		}
		res, err = rt.Call1(r.MainThread(), rt.FunctionValue(clos))
		return err
	})
	if err != nil {
		return "", err
	}
	if ud, ok := res.TryUserData(); ok && inspect != nil {
		inspect(ud.Value())
	}
	s, _ := res.ToString()
	return s, nil
}

// mustLua is runLua for scripts that must succeed.
func mustLua(t *testing.T, p *Packages, src string) string {
	t.Helper()
	out, err := runLua(t, p, src)
	if err != nil {
		t.Fatalf("script failed: %v\n%s", err, src)
	}
	return out
}

func newTestPackages(t *testing.T, opts Options) *Packages {
	t.Helper()
	p := New(opts)
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return p
}
