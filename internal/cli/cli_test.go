package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/syncbuf"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// result is one in-process run of the command line.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs cairn with args and the given environment (nothing else of
// the process environment is visible).
func runCLI(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	return runCLIContext(context.Background(), vars, args...)
}

func runCLIContext(ctx context.Context, vars map[string]string, args ...string) result {
	var stdout, stderr syncbuf.Buffer
	code := run(ctx, args, env{
		stdin:  strings.NewReader(""),
		stdout: &stdout,
		stderr: &stderr,
		lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
	})
	return result{code, stdout.String(), stderr.String()}
}

// adminEnv returns the environment that points `cairn admin` at srv as root.
func adminEnv(srv *servertest.Running) map[string]string {
	return map[string]string{
		EnvEndpoint:      srv.URL,
		EnvRootAccessKey: srv.RootAccessKey,
		EnvRootSecretKey: srv.RootSecretKey,
	}
}

// ok runs a command that must succeed and returns its stdout.
func ok(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	r := runCLI(t, vars, args...)
	if r.code != 0 {
		t.Fatalf("cairn %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must fail with wantErr in its stderr.
func fails(t *testing.T, vars map[string]string, wantErr string, args ...string) {
	t.Helper()
	r := runCLI(t, vars, args...)
	if r.code == 0 || !strings.Contains(r.stderr, wantErr) {
		t.Errorf("cairn %s: exit %d, stderr %q; want failure mentioning %q", strings.Join(args, " "), r.code, r.stderr, wantErr)
	}
}

// decode parses a command's JSON output into v.
func decode(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
}

func TestVersion(t *testing.T) {
	out := ok(t, nil, "version")
	if !strings.HasPrefix(out, "cairn ") || !strings.Contains(out, " commit ") {
		t.Errorf("version: %q", out)
	}
}

func TestUnknownCommand(t *testing.T) {
	fails(t, nil, "unknown command", "nope")
}
