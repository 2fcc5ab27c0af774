package luapkg

import (
	"context"
	"maps"
	"slices"
)

// modules maps each module name `require` can load to the packages (RGW's
// luarocks rock names, as `script-package add` takes them) that provide it.
// A module loads only when one of its packages is on the allowlist, as in
// RGW, where require finds only what luarocks installed.
var modules = map[string][]string{
	"cjson":       {"lua-cjson"},
	"cjson.safe":  {"lua-cjson"},
	"lunajson":    {"lunajson"},
	"nats":        {"nats", "lua-nats"},
	"socket.http": {"luasocket"},
}

// Shipped returns the package names Cairn ships built in, sorted: the names
// `script-package add` accepts (Cairn cannot install rocks).
func Shipped() []string {
	var out []string
	for _, pkgs := range modules {
		for _, p := range pkgs {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Providers returns the packages that provide module (nil for a module
// Cairn does not ship): `require(module)` is allowed when one of them is on
// the allowlist.
func Providers(module string) []string { return slices.Clone(modules[module]) }

// moduleNames returns the module names, sorted.
func moduleNames() []string { return slices.Sorted(maps.Keys(modules)) }

// ModuleAllowed adapts a package allowlist (script.Store.Allowed, by
// package name) to the modules `require` loads: a module is allowed when
// one of the packages providing it is on the allowlist ("cjson" when
// "lua-cjson" was added).
func ModuleAllowed(pkgAllowed func(ctx context.Context, pkg string) (bool, error)) func(ctx context.Context, module string) (bool, error) {
	return func(ctx context.Context, module string) (bool, error) {
		for _, pkg := range modules[module] {
			ok, err := pkgAllowed(ctx, pkg)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
}
