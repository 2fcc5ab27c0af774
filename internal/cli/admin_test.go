package cli

import (
	"testing"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

func TestAdminCredentials(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := adminEnv(srv)
	ok(t, vars, "admin", "user", "create", "--uid", "plain", "--display-name", "P", "--access-key", "PLAIN", "--secret", "plainsecret")

	// Flags override the environment; a plain user is refused.
	fails(t, vars, "AccessDenied", "admin", "user", "info", "--uid", "root", "--access-key", "PLAIN", "--secret-key", "plainsecret")
	fails(t, vars, "AccessDenied", "admin", "user", "create", "--uid", "x", "--display-name", "X",
		"--admin-access-key", "PLAIN", "--admin-secret-key", "plainsecret")
	fails(t, vars, "SignatureDoesNotMatch", "admin", "user", "list", "--secret-key", "wrong")
	fails(t, map[string]string{EnvEndpoint: srv.URL}, "admin credentials missing", "admin", "user", "list")
	fails(t, vars, "--endpoint", "admin", "user", "list", "--endpoint", "localhost:1")

	// Without an endpoint flag or env, the default endpoint is used.
	r := runCLI(t, map[string]string{EnvRootAccessKey: "a", EnvRootSecretKey: "b"}, "admin", "user", "list", "--endpoint", "http://127.0.0.1:1")
	if r.code == 0 || r.stderr == "" {
		t.Errorf("unreachable endpoint: exit %d, stderr %q", r.code, r.stderr)
	}
}
