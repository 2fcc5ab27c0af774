package adminapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/cairn-s3/cairn/internal/script"
)

// Scripts is what the Lua script operations need (radosgw-admin script and
// script-package; RGW has no REST op for them, the hook names are Cairn's).
type Scripts struct {
	Store *script.Store
	// Check compiles a script and returns the Lua error message (lua.Check).
	Check func(source string) error
	// Shipped are the package names script-package add accepts: Cairn
	// cannot install rocks, it ships built-in modules under their names.
	Shipped []string
}

// MaxScriptSize bounds a script's source.
const MaxScriptSize = 1 << 20

// rgwMessage is an error worded as radosgw-admin words it.
type rgwMessage string

func (m rgwMessage) Error() string { return string(m) }

var errNoSuchScript = &apiError{"NoSuchScript", http.StatusNotFound, "no script exists", nil}

// scriptRoutes are the script and script-package operations. Scripts run
// inside the gateway, so only admin and system users manage them (no
// capability grants them).
func scriptRoutes() []route {
	const s, p = "/admin/script", "/admin/script-package"
	return []route{
		admin("ListScripts", get, s, "list", "", false, "admin_script_list", (*API).listScripts),
		unsupported(s, "list"),
		admin("GetScript", get, s, "", "", false, "admin_script_get", (*API).getScript),
		admin("PutScript", put, s, "", "", true, "admin_script_put", (*API).putScript),
		admin("RemoveScript", del, s, "", "", true, "admin_script_rm", (*API).removeScript),
		admin("ReloadScriptPackages", post, p, "reload", "", true, "admin_script_package_reload", (*API).reloadPackages),
		unsupported(p, "reload"),
		admin("ListScriptPackages", get, p, "", "", false, "admin_script_package_list", (*API).listPackages),
		admin("AddScriptPackage", put, p, "", "", true, "admin_script_package_add", (*API).addPackage),
		admin("RemoveScriptPackage", del, p, "", "", true, "admin_script_package_rm", (*API).removePackage),
	}
}

func (a *API) scriptOps() (*Scripts, error) {
	if a.scripts == nil || a.scripts.Store == nil {
		return nil, errNotImplemented.with(errors.New("scripting is not enabled"))
	}
	return a.scripts, nil
}

// scriptAddress is a request's context (required), tenant and script name.
type scriptAddress struct{ context, tenant, name string }

func scriptCall(a *API, q query) (*Scripts, scriptAddress, error) {
	sc, err := a.scriptOps()
	if err != nil {
		return nil, scriptAddress{}, err
	}
	ad := scriptAddress{q.Get("context"), q.Get("tenant"), q.Get("script-name")}
	if ad.context == "" {
		return nil, ad, errInvalidArgument.with(errors.New("context was not provided (via --context)"))
	}
	return sc, ad, nil
}

// scriptError maps the store's validation errors onto InvalidArgument
// with radosgw-admin's message.
func scriptError(ad scriptAddress, err error) error {
	switch {
	case errors.Is(err, script.ErrNamedDataScript):
		return errInvalidArgument.with(fmt.Errorf("cannot create more than one Lua script in the %s context; remove the --script-name flag",
			strings.ToLower(ad.context)))
	case errors.Is(err, script.ErrInvalidContext), errors.Is(err, script.ErrBackgroundTenant),
		errors.Is(err, script.ErrInvalidPackage):
		return errInvalidArgument.with(err)
	}
	return err
}

// getScript: GET /admin/script?context=C[&tenant=T][&script-name=N]
// answers {"script": source}, or NoSuchScript with radosgw-admin's text.
func (a *API) getScript(ctx context.Context, q query) (any, error) {
	sc, ad, err := scriptCall(a, q)
	if err != nil {
		return nil, err
	}
	src, ok, err := sc.Store.GetNamed(ctx, ad.context, ad.tenant, ad.name)
	if err != nil {
		return nil, scriptError(ad, err)
	}
	if !ok {
		return nil, errNoSuchScript.with(errors.New(missingScript(ad)))
	}
	return map[string]string{"script": src}, nil
}

// missingScript is radosgw-admin's message for a missing script.
func missingScript(ad scriptAddress) string {
	msg := "no script exists for context: " + ad.context
	if ad.name != "" {
		msg = "'" + ad.name + "' script does not exist in context: " + ad.context
	}
	if ad.tenant != "" {
		msg += " in tenant: " + ad.tenant
	}
	return msg
}

// putScript: PUT /admin/script?context=C[&tenant=T][&script-name=N] with
// the source as body. The script is compiled first; one that does not
// compile is refused with the Lua error and nothing is stored.
func (a *API) putScript(ctx context.Context, q query) (any, error) {
	sc, ad, err := scriptCall(a, q)
	if err != nil {
		return nil, err
	}
	if q.body == nil {
		return nil, errInvalidArgument.with(errors.New("the script is the request body"))
	}
	src, err := io.ReadAll(io.LimitReader(q.body, MaxScriptSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > MaxScriptSize {
		return nil, errInvalidArgument.with(fmt.Errorf("script larger than %d bytes", MaxScriptSize))
	}
	// The address first: a bad context is reported before the source.
	if _, _, err := sc.Store.GetNamed(ctx, ad.context, ad.tenant, ad.name); err != nil {
		return nil, scriptError(ad, err)
	}
	if sc.Check != nil {
		if err := sc.Check(string(src)); err != nil {
			return nil, errInvalidArgument.with(fmt.Errorf("script verification failed: %w", err))
		}
	}
	return nil, scriptError(ad, sc.Store.Put(ctx, ad.context, ad.tenant, ad.name, string(src)))
}

// removeScript: DELETE /admin/script?context=C[&tenant=T][&script-name=N];
// removing a missing script succeeds.
func (a *API) removeScript(ctx context.Context, q query) (any, error) {
	sc, ad, err := scriptCall(a, q)
	if err != nil {
		return nil, err
	}
	return nil, scriptError(ad, sc.Store.Remove(ctx, ad.context, ad.tenant, ad.name))
}

// listScripts: GET /admin/script?list&context=C[&tenant=T] answers
// {"scripts": [names]}: the named scripts in name order.
func (a *API) listScripts(ctx context.Context, q query) (any, error) {
	sc, ad, err := scriptCall(a, q)
	if err != nil {
		return nil, err
	}
	list, err := sc.Store.List(ctx, ad.context, ad.tenant)
	if err != nil {
		return nil, scriptError(ad, err)
	}
	names := []string{}
	for _, s := range list {
		if s.Name != "" {
			names = append(names, s.Name)
		}
	}
	return map[string][]string{"scripts": names}, nil
}

// packageArg parses ?package=NAME or ?package=NAME%20VERSION.
func packageArg(q query) (script.Package, error) {
	spec := q.Get("package")
	if strings.TrimSpace(spec) == "" {
		return script.Package{}, errInvalidArgument.with(rgwMessage("Lua package name was not provided (via --package)"))
	}
	p, err := script.ParsePackage(spec)
	if err != nil {
		return p, errInvalidArgument.with(err)
	}
	return p, nil
}

// addPackage: PUT /admin/script-package?package=P[&allow-compilation].
// Only a package Cairn ships can be added.
func (a *API) addPackage(ctx context.Context, q query) (any, error) {
	sc, err := a.scriptOps()
	if err != nil {
		return nil, err
	}
	p, err := packageArg(q)
	if err != nil {
		return nil, err
	}
	if p.AllowCompilation, _, err = q.boolean("allow-compilation"); err != nil {
		return nil, err
	}
	if !slices.Contains(sc.Shipped, p.Name) {
		return nil, errInvalidArgument.with(fmt.Errorf(
			"failed to add Lua package: %s .error: -22 (Cairn cannot install packages; it ships these built in: %s)",
			p, strings.Join(sc.Shipped, ", ")))
	}
	return nil, scriptError(scriptAddress{}, sc.Store.AddPackage(ctx, p))
}

// removePackage: DELETE /admin/script-package?package=P (every version
// when P has none) answers {"removed": bool}.
func (a *API) removePackage(ctx context.Context, q query) (any, error) {
	sc, err := a.scriptOps()
	if err != nil {
		return nil, err
	}
	p, err := packageArg(q)
	if err != nil {
		return nil, err
	}
	removed, err := sc.Store.RemovePackage(ctx, p)
	if err != nil {
		return nil, err
	}
	return map[string]bool{"removed": removed}, nil
}

// listPackages: GET /admin/script-package answers {"packages": ["name",
// "name version", ...]}.
func (a *API) listPackages(ctx context.Context, _ query) (any, error) {
	sc, err := a.scriptOps()
	if err != nil {
		return nil, err
	}
	ps, err := sc.Store.Packages(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, p := range ps {
		out = append(out, p.String())
	}
	return map[string][]string{"packages": out}, nil
}

// reloadPackages: POST /admin/script-package?reload makes every gateway
// re-read its scripts and packages (nothing to install here).
func (a *API) reloadPackages(ctx context.Context, _ query) (any, error) {
	sc, err := a.scriptOps()
	if err != nil {
		return nil, err
	}
	return nil, sc.Store.Reload(ctx)
}
