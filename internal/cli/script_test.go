package cli

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// writeScript writes a Lua script to a temporary file.
func writeScript(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "script.lua")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// failsWith runs a command that must exit with code and print wantErr.
func failsWith(t *testing.T, vars map[string]string, code int, wantErr string, args ...string) {
	t.Helper()
	r := runCLI(t, vars, args...)
	if r.code != code || !strings.Contains(r.stderr, wantErr) {
		t.Errorf("cairn %s: exit %d, stderr %q; want exit %d mentioning %q", strings.Join(args, " "), r.code, r.stderr, code, wantErr)
	}
}

func TestScriptPutGetRm(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := adminEnv(srv)
	const src = `RGWDebugLog("op was: " .. Request.RGWOp)`
	f := writeScript(t, src)

	if out := ok(t, vars, "admin", "script", "get", "--context", "preRequest"); out != "no script exists for context: preRequest\n" {
		t.Errorf("get before put: %q", out)
	}
	ok(t, vars, "admin", "script", "put", "--infile", f, "--context", "preRequest")
	for _, c := range []string{"prerequest", "PreRequest", "PREREQUEST"} {
		if out := ok(t, vars, "admin", "script", "get", "--context", c); out != src+"\n" {
			t.Errorf("get --context %s: %q", c, out)
		}
	}
	// Tenants: no inheritance either way.
	if out := ok(t, vars, "admin", "script", "get", "--context", "prerequest", "--tenant", "t1"); out != "no script exists for context: prerequest in tenant: t1\n" {
		t.Errorf("get tenant before put: %q", out)
	}
	ok(t, vars, "admin", "script", "put", "--infile", writeScript(t, "-- t1"), "--context", "prerequest", "--tenant", "t1")
	if out := ok(t, vars, "admin", "script", "get", "--context", "prerequest", "--tenant", "t1"); out != "-- t1\n" {
		t.Errorf("get tenant: %q", out)
	}
	if out := ok(t, vars, "admin", "script", "get", "--context", "prerequest"); out != src+"\n" {
		t.Errorf("global script after tenant put: %q", out)
	}
	// rm, and rm of a missing script, succeed.
	for range 2 {
		ok(t, vars, "admin", "script", "rm", "--context", "prerequest")
	}
	if out := ok(t, vars, "admin", "script", "get", "--context", "prerequest"); !strings.HasPrefix(out, "no script exists") {
		t.Errorf("get after rm: %q", out)
	}
	if out := ok(t, vars, "admin", "script", "get", "--context", "prerequest", "--tenant", "t1"); out != "-- t1\n" {
		t.Errorf("rm of the global script removed the tenant's: %q", out)
	}
}

func TestScriptPutRefusals(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := adminEnv(srv)
	good := writeScript(t, "-- fine")

	// A syntax error: the Lua message, exit EINVAL, nothing stored.
	bad := writeScript(t, "local x = = 1")
	failsWith(t, vars, 22, "has error: \nscript:1:11: unexpected symbol near '='",
		"admin", "script", "put", "--infile", bad, "--context", "postrequest")
	if out := ok(t, vars, "admin", "script", "get", "--context", "postrequest"); !strings.HasPrefix(out, "no script exists") {
		t.Errorf("a script with errors was stored: %q", out)
	}
	failsWith(t, vars, 22, "ERROR: cannot specify tenant in background context",
		"admin", "script", "put", "--infile", good, "--context", "background", "--tenant", "t1")
	failsWith(t, vars, 22, "ERROR: invalid script context: nope. must be one of: prerequest, postauth, postrequest, background, getdata, putdata",
		"admin", "script", "put", "--infile", good, "--context", "nope")
	failsWith(t, vars, 22, "ERROR: invalid script context: nope",
		"admin", "script", "get", "--context", "nope")
	failsWith(t, vars, 22, "ERROR: context was not provided (via --context)",
		"admin", "script", "put", "--infile", good)
	failsWith(t, vars, 22, "ERROR: infile was not provided (via --infile)",
		"admin", "script", "put", "--context", "prerequest")
	failsWith(t, vars, 2, "ERROR: failed to read script: '/nonexistent/x.lua'",
		"admin", "script", "put", "--context", "prerequest", "--infile", "/nonexistent/x.lua")
	failsWith(t, vars, 22, "ERROR: cannot create more than one Lua script in the getdata context; remove the --script-name flag",
		"admin", "script", "put", "--infile", good, "--context", "getData", "--script-name", "x")
	if out := ok(t, vars, "admin", "script", "get", "--context", "background"); !strings.HasPrefix(out, "no script exists") {
		t.Errorf("a refused background script was stored: %q", out)
	}
}

func TestNamedScripts(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := adminEnv(srv)
	for _, n := range []string{"c", "b", "a"} {
		ok(t, vars, "admin", "script", "put", "--infile", writeScript(t, "-- "+n), "--context", "postRequest", "--script-name", n)
	}
	ok(t, vars, "admin", "script", "put", "--infile", writeScript(t, "-- unnamed"), "--context", "postrequest")
	if out := ok(t, vars, "admin", "script", "list", "--context", "postrequest"); out != "a\nb\nc\n" {
		t.Errorf("list: %q", out)
	}
	if out := ok(t, vars, "admin", "script", "get", "--context", "postrequest", "--script-name", "b"); out != "-- b\n" {
		t.Errorf("get b: %q", out)
	}
	ok(t, vars, "admin", "script", "rm", "--context", "postrequest", "--script-name", "b")
	if out := ok(t, vars, "admin", "script", "list", "--context", "postrequest"); out != "a\nc\n" {
		t.Errorf("list after rm: %q", out)
	}
	if out := ok(t, vars, "admin", "script", "get", "--context", "postrequest", "--script-name", "b"); out != "'b' script does not exist in context: postrequest\n" {
		t.Errorf("get removed b: %q", out)
	}
	if out := ok(t, vars, "admin", "script", "get", "--context", "postrequest"); out != "-- unnamed\n" {
		t.Errorf("unnamed: %q", out)
	}
}

func TestScriptPackages(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := adminEnv(srv)
	if out := ok(t, vars, "admin", "script-package", "list"); out != "no Lua packages in allowlist\n" {
		t.Errorf("empty list: %q", out)
	}
	ok(t, vars, "admin", "script-package", "add", "--package", "nats", "--allow-compilation")
	ok(t, vars, "admin", "script-package", "add", "--package=lunajson")
	ok(t, vars, "admin", "script-package", "add", "--package", "lua-cjson 2.1.0-1")
	if out := ok(t, vars, "admin", "script-package", "list"); out != "lua-cjson 2.1.0-1\nlunajson\nnats\n" {
		t.Errorf("list: %q", out)
	}
	// Not shipped: refused, naming what is.
	failsWith(t, vars, 22, "ERROR: failed to add Lua package: luaposix .error: -22 (Cairn cannot install packages; it ships these built in: lua-cjson, lua-nats, luasocket, lunajson, nats)",
		"admin", "script-package", "add", "--package", "luaposix")
	failsWith(t, vars, 22, "ERROR: Lua package name was not provided (via --package)", "admin", "script-package", "add")
	// A version replaces the other; rm without version removes it.
	ok(t, vars, "admin", "script-package", "add", "--package", "lua-cjson")
	r := runCLI(t, vars, "admin", "script-package", "rm", "--package", "lua-cjson")
	if r.code != 0 || r.stderr != "" {
		t.Errorf("rm: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, vars, "admin", "script-package", "rm", "--package", "lua-cjson")
	if r.code != 0 || r.stderr != "WARNING: package lua-cjson did not exists or already removed\n" {
		t.Errorf("rm missing: exit %d, stderr %q", r.code, r.stderr)
	}
	if out := ok(t, vars, "admin", "script-package", "list"); out != "lunajson\nnats\n" {
		t.Errorf("list after rm: %q", out)
	}
	ok(t, vars, "admin", "script-package", "reload")
}

// TestScriptCommandsNeedAdmin: scripts run inside the gateway, so a user
// without admin rights may not manage them.
func TestScriptCommandsNeedAdmin(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := adminEnv(srv)
	ok(t, vars, "admin", "user", "create", "--uid", "plain", "--display-name", "P", "--access-key", "PLAIN", "--secret", "plainsecret")
	ok(t, vars, "admin", "caps", "add", "--uid", "plain", "--caps", "buckets=*;users=*")
	f := writeScript(t, "-- x")
	user := []string{"--access-key", "PLAIN", "--secret-key", "plainsecret"}
	fails(t, vars, "AccessDenied", append([]string{"admin", "script", "put", "--infile", f, "--context", "prerequest"}, user...)...)
	fails(t, vars, "AccessDenied", append([]string{"admin", "script", "get", "--context", "prerequest"}, user...)...)
	fails(t, vars, "AccessDenied", append([]string{"admin", "script-package", "add", "--package", "nats"}, user...)...)
}

// TestServerRefusesUncompilableScript: the admin API compiles too, so a
// client other than `cairn admin` cannot store a broken script.
func TestServerRefusesUncompilableScript(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := adminEnv(srv)
	e := env{stdout: io.Discard, stderr: io.Discard, lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	f := &adminFlags{endpoint: srv.URL, accessKey: srv.RootAccessKey, secretKey: srv.RootSecretKey, region: "us-east-1", timeout: 10 * time.Second}
	c, err := f.client(e)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"context": {"postRequest"}}
	_, err = c.callBody(context.Background(), http.MethodPut, "/admin/script", "", q, []byte("if x then"))
	ae, isAPI := errors.AsType[*apiError](err)
	if !isAPI || ae.Status != http.StatusBadRequest || ae.Code != "InvalidArgument" || !strings.Contains(ae.Message, "script verification failed: script:1:") {
		t.Fatalf("put of a broken script: %v", err)
	}
	if out := ok(t, vars, "admin", "script", "get", "--context", "postrequest"); !strings.HasPrefix(out, "no script exists") {
		t.Errorf("broken script stored: %q", out)
	}
	if _, err := c.callBody(context.Background(), http.MethodPut, "/admin/script", "", url.Values{"context": {"postRequest"}}, []byte("return 1")); err != nil {
		t.Fatalf("put: %v", err)
	}
	if out := ok(t, vars, "admin", "script", "get", "--context", "postrequest"); out != "return 1\n" {
		t.Errorf("get: %q", out)
	}
}
