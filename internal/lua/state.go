package lua

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/arnodel/golua/lib/base"
	"github.com/arnodel/golua/lib/coroutine"
	"github.com/arnodel/golua/lib/iolib"
	"github.com/arnodel/golua/lib/mathlib"
	"github.com/arnodel/golua/lib/oslib"
	"github.com/arnodel/golua/lib/packagelib"
	"github.com/arnodel/golua/lib/stringlib"
	"github.com/arnodel/golua/lib/tablelib"
	"github.com/arnodel/golua/lib/utf8lib"
	rt "github.com/arnodel/golua/runtime"
)

// allFlags is what our own Go functions declare: under a CPU, memory or
// time limit golua refuses to call a Go function that does not declare it
// honours them. Ours are short and bounded (file IO confined to one
// directory, map lookups), so they may.
const allFlags = rt.ComplyCpuSafe | rt.ComplyMemSafe | rt.ComplyTimeSafe | rt.ComplyIoSafe

// libraries are the standard libraries RGW opens (all but debug), loaded
// into a state only when a script first names them: most scripts use a
// few, and loading all of them is most of an execution's cost.
var libraries = map[string]packagelib.Loader{
	"package": packagelib.LibLoader, "coroutine": coroutine.LibLoader, "string": stringlib.LibLoader,
	"table": tablelib.LibLoader, "math": mathlib.LibLoader, "io": iolib.LibLoader, "utf8": utf8lib.LibLoader,
	"os": oslib.LibLoader,
}

// baseNames are the globals of the base library, which is loaded whole
// when a script first reads one of them.
var baseNames = map[string]bool{
	"_G": true, "_VERSION": true, "next": true, "assert": true, "error": true, "getmetatable": true, "ipairs": true,
	"pairs": true, "pcall": true, "rawequal": true, "rawget": true, "rawlen": true, "rawset": true,
	"select": true, "setmetatable": true, "tonumber": true, "tostring": true, "type": true, "warn": true,
	"xpcall": true, "collectgarbage": true,
}

// newState returns a fresh Lua state with RGW's libraries and sandbox
// (spec §4): the standard libraries but the debug library, load, loadfile,
// loadstring, dofile and os.exit; io confined to IODir; require resolving
// only the built-in packages. Libraries and the gateway's globals (lazy,
// in x.lazy) are built when a script first reads them.
func (e *Engine) newState(x *exec) *rt.Runtime {
	r := rt.New(io.Discard)
	r.SetWarner(logWarner{e})
	x.r = r
	g := r.GlobalEnv()
	loaded := map[string]bool{}
	var load func(name string) bool
	load = func(name string) bool {
		if baseNames[name] {
			name = "base"
		}
		if loaded[name] {
			return false
		}
		switch l, ok := libraries[name]; {
		case name == "base":
			loaded[name] = true
			base.LibLoader.Run(r)
			for _, n := range []string{"load", "loadfile", "loadstring", "dofile"} {
				g.Set(rt.StringValue(n), rt.NilValue)
			}
			declareAll(g.Get(rt.StringValue("warn")), 0)
			g.Set(rt.StringValue("collectgarbage"), x.fn("collectgarbage", x.collectGarbage, 1, false))
			delete(x.lazy, "print")
			g.Set(rt.StringValue("print"), x.fn("print", e.luaPrint, 0, true))
		case ok:
			if name != "package" {
				load("package")
			}
			loaded[name] = true
			l.Run(r)
			e.sandbox(x, name, g)
		default:
			return false
		}
		return true
	}
	meta := rt.NewTable()
	meta.Set(rt.StringValue("__index"), x.fn("_ENV", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		k, _ := c.Arg(1).TryString()
		if build, ok := x.lazy[k]; ok {
			delete(x.lazy, k)
			v := build()
			g.Set(rt.StringValue(k), v)
			return c.PushingNext1(t.Runtime, v), nil
		}
		if load(k) {
			return c.PushingNext1(t.Runtime, g.Get(rt.StringValue(k))), nil
		}
		return c.PushingNext1(t.Runtime, rt.NilValue), nil
	}, 2, false))
	g.SetMetatable(meta)
	// Strings find their methods in the string library: load it when a
	// script first calls one.
	smeta := rt.NewTable()
	smeta.Set(rt.StringValue("__index"), x.fn("string", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		load("string")
		lib, _ := g.Get(rt.StringValue("string")).TryTable()
		if lib == nil {
			return c.PushingNext1(t.Runtime, rt.NilValue), nil
		}
		return c.PushingNext1(t.Runtime, lib.Get(c.Arg(1))), nil
	}, 2, false))
	r.SetStringMeta(smeta)
	x.lazy = map[string]func() rt.Value{
		"print": func() rt.Value { return x.fn("print", e.luaPrint, 0, true) },
	}
	return r
}

// sandbox restricts a library once loaded.
func (e *Engine) sandbox(x *exec, name string, g *rt.Table) {
	r := x.r
	switch name {
	case "package":
		// Only the gateway's require: no search of files or C libraries.
		delete(x.lazy, "require")
		g.Set(rt.StringValue("require"), x.fn("require", x.require, 1, false))
		if pkg, ok := g.Get(rt.StringValue("package")).TryTable(); ok {
			for _, k := range []string{"path", "cpath"} {
				pkg.Set(rt.StringValue(k), rt.StringValue(""))
			}
			pkg.Set(rt.StringValue("searchers"), rt.TableValue(rt.NewTable()))
			for _, k := range []string{"loadlib", "searchpath"} {
				e.setFunc(r, pkg, k, forbidden("package."+k), 0, true)
			}
		}
	case "string":
		e.sandboxString(x, g)
	case "coroutine":
		e.sandboxCoroutine(x, g)
	case "os":
		e.sandboxOS(r, g)
	case "io":
		e.sandboxIO(r, g)
	}
}

// logWarner sends Lua's warn() to the gateway's log, not to stderr.
type logWarner struct{ e *Engine }

func (w logWarner) Warn(msgs ...string) { w.e.log.Warn("Lua warning: " + strings.Join(msgs, "")) }

// setFunc installs a Go function declaring every compliance flag.
func (e *Engine) setFunc(r *rt.Runtime, t *rt.Table, name string, f rt.GoFunctionFunc, nArgs int, etc bool) {
	fn := rt.NewGoFunction(f, name, nArgs, etc)
	fn.SolemnlyDeclareCompliance(allFlags)
	t.Set(rt.StringValue(name), rt.FunctionValue(fn))
}

// sandboxOS keeps os.time, os.clock, os.date and os.difftime; the
// functions that reach the process or the file system outside the
// configured directory are replaced by ones that fail with a clear error.
func (e *Engine) sandboxOS(r *rt.Runtime, g *rt.Table) {
	osv, ok := g.Get(rt.StringValue("os")).TryTable()
	if !ok {
		return
	}
	for _, name := range []string{"exit", "execute", "getenv", "remove", "rename", "tmpname", "setlocale"} {
		e.setFunc(r, osv, name, forbidden("os."+name), 0, true)
	}
}

// sandboxIO keeps io.open, io.lines and io.type with file names confined
// to Config.IODir; the standard streams and processes are out of reach.
func (e *Engine) sandboxIO(r *rt.Runtime, g *rt.Table) {
	iov, ok := g.Get(rt.StringValue("io")).TryTable()
	if !ok {
		return
	}
	// The file methods (read, write, lines, close) declare no time
	// safety: a file of the confined directory is local, so they may.
	if meta := r.RawMetatable(iov.Get(rt.StringValue("stdout"))); meta != nil {
		declareAll(rt.TableValue(meta), 2)
	}
	for _, name := range []string{"open", "lines"} {
		orig, _ := iov.Get(rt.StringValue(name)).TryCallable()
		declareAll(rt.FunctionValue(orig), 0)
		e.setFunc(r, iov, name, e.confined(name, orig), 1, true)
	}
	for _, name := range []string{"popen", "tmpfile", "input", "output", "read", "write", "close", "flush"} {
		e.setFunc(r, iov, name, forbidden("io."+name), 0, true)
	}
	for _, name := range []string{"stdin", "stdout", "stderr"} {
		iov.Set(rt.StringValue(name), rt.NilValue)
	}
}

func forbidden(name string) rt.GoFunctionFunc {
	return func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		return nil, fmt.Errorf("%s is not allowed in Cairn's Lua sandbox", name)
	}
}

// confined calls io's function with the file name resolved inside
// Config.IODir; names escaping it (absolute, "..") are refused.
func (e *Engine) confined(name string, orig rt.Callable) rt.GoFunctionFunc {
	return func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		if err := c.Check1Arg(); err != nil {
			return nil, err
		}
		fname, err := c.StringArg(0)
		if err != nil {
			return nil, err
		}
		path, err := e.confine(fname)
		if err != nil {
			return nil, fmt.Errorf("io.%s: %w", name, err)
		}
		args := append([]rt.Value{rt.StringValue(path)}, c.Args()[1:]...)
		args = append(args, c.Etc()...)
		res := rt.NewTerminationWith(c, 0, true)
		if err := rt.Call(t, rt.FunctionValue(orig), args, res); err != nil {
			return nil, err
		}
		next := c.Next()
		t.Push(next, res.Etc()...)
		return next, nil
	}
}

// confine maps a script's file name into the configured directory.
func (e *Engine) confine(name string) (string, error) {
	if e.cfg.IODir == "" {
		return "", fmt.Errorf("file access is disabled (no Lua IO directory configured)")
	}
	if filepath.IsAbs(name) {
		rel, err := filepath.Rel(e.cfg.IODir, name)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", fmt.Errorf("%q is outside the Lua IO directory", name)
		}
		name = rel
	}
	if !filepath.IsLocal(name) {
		return "", fmt.Errorf("%q is outside the Lua IO directory", name)
	}
	path := filepath.Join(e.cfg.IODir, name)
	if err := insideAfterLinks(e.cfg.IODir, path); err != nil {
		return "", fmt.Errorf("%q: %w", name, err)
	}
	return path, nil
}

// insideAfterLinks checks that path, once its symbolic links are followed,
// is still inside dir: a link in the directory must not lead a script to
// the rest of the file system. The part of path that does not exist yet
// (a file being created) has no links to follow; a dangling link is
// refused, since creating through it would write wherever it points.
func insideAfterLinks(dir, path string) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	p, rest := path, ""
	for {
		real, err := filepath.EvalSymlinks(p)
		if err == nil {
			rel, err := filepath.Rel(root, filepath.Join(real, rest))
			if err != nil || !filepath.IsLocal(rel) {
				return errors.New("is outside the Lua IO directory (through a symbolic link)")
			}
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if fi, lerr := os.Lstat(p); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return errors.New("is a dangling symbolic link, possibly outside the Lua IO directory")
		}
		parent := filepath.Dir(p)
		if parent == p {
			return err
		}
		p, rest = parent, filepath.Join(filepath.Base(p), rest)
	}
}

// declareAll declares every compliance flag on the Go functions of v: a
// function, or a table (with its metatable) walked depth levels deep. The
// built-in packages' functions (JSON, NATS) are bounded by their own
// timeouts, not by golua's ticks.
func declareAll(v rt.Value, depth int) {
	if f, ok := v.TryCallable(); ok {
		if gf, ok := f.(*rt.GoFunction); ok {
			gf.SolemnlyDeclareCompliance(allFlags)
		}
		return
	}
	t, ok := v.TryTable()
	if !ok || depth < 0 {
		return
	}
	for k, val, ok := t.Next(rt.NilValue); ok && !k.IsNil(); k, val, ok = t.Next(k) {
		declareAll(val, depth-1)
	}
	if m := t.Metatable(); m != nil {
		declareAll(rt.TableValue(m), depth-1)
	}
}
