package lua

import (
	"context"
	"errors"
	"testing"

	rt "github.com/arnodel/golua/runtime"
)

// stubPackages stands in for luapkg.Packages: one module "echo" whose
// function declares no compliance flag, as a package's Go code may not.
type stubPackages struct{ opened int }

func (p *stubPackages) Open(t *rt.Thread, name string) (rt.Value, error) {
	if name != "echo" && name != "secret" {
		return rt.NilValue, errors.New("no such package")
	}
	p.opened++
	mod := rt.NewTable()
	mod.Set(rt.StringValue("say"), rt.FunctionValue(rt.NewGoFunction(func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		s, _ := c.Arg(0).ToString()
		return c.PushingNext1(t.Runtime, rt.StringValue("echo: "+s)), nil
	}, "say", 1, false)))
	return rt.TableValue(mod), nil
}

func TestRequireBuiltinPackages(t *testing.T) {
	pkgs := &stubPackages{}
	allow := func(_ context.Context, name string) (bool, error) { return name == "echo", nil }
	e, s, log := testEngine(t, Config{Packages: pkgs, AllowPackage: allow})
	s.Put("postrequest", "", `
local echo = require("echo")
assert(require("echo") == echo, "require caches the module")
assert(echo.say("hi") == "echo: hi")
local ok, err = pcall(require, "secret")
assert(not ok and tostring(err):find("allowlist"), tostring(err))
local ok2, err2 = pcall(require, "missing")
assert(not ok2, "a package Cairn does not ship")
`)
	e.PostRequest(context.Background(), testRequest())
	if c := e.Counters(); c["lua_script_ok"] != 1 {
		t.Fatalf("counters %v: %s", c, log.String())
	}
	if pkgs.opened != 1 {
		t.Fatalf("opened %d times", pkgs.opened)
	}
}
