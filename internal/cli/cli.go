// Package cli is Cairn's command line: `cairn server`, `cairn admin ...`
// and `cairn version`, one file per subcommand. Main takes its arguments,
// standard streams and environment from the caller, so every command runs
// in-process in tests.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cairn-s3/cairn/internal/server"
)

// Environment variables read by the commands.
const (
	EnvData          = "CAIRN_DATA"
	EnvAddress       = "CAIRN_ADDRESS"
	EnvDomain        = "CAIRN_DOMAIN"
	EnvRegion        = "CAIRN_REGION"
	EnvLogLevel      = "CAIRN_LOG_LEVEL"
	EnvLogFormat     = "CAIRN_LOG_FORMAT"
	EnvRootAccessKey = "CAIRN_ROOT_ACCESS_KEY"
	EnvRootSecretKey = "CAIRN_ROOT_SECRET_KEY"
	EnvEndpoint      = "CAIRN_ENDPOINT"

	EnvAllowNotificationSecretsInCleartext = "CAIRN_ALLOW_NOTIFICATION_SECRETS_IN_CLEARTEXT"
)

// env is what the commands need from the process besides arguments.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookup         func(string) (string, bool)
	ext            Extensions
}

// Extensions are the parts of the binary built only with build tags.
type Extensions struct {
	// RadosStore opens `cairn server --store rados` (radosopen.Open, in
	// binaries built with the rados tag).
	RadosStore server.StoreOpener
}

// get returns the variable's value, or def if it is unset or empty.
func (e env) get(name, def string) string {
	if v, ok := e.lookup(name); ok && v != "" {
		return v
	}
	return def
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return MainWith(ctx, Extensions{}, args, stdin, stdout, stderr)
}

// MainWith is Main in a binary with extensions.
func MainWith(ctx context.Context, ext Extensions, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, args, env{stdin: stdin, stdout: stdout, stderr: stderr, lookup: os.LookupEnv, ext: ext})
}

// run is Main with an injected environment.
func run(ctx context.Context, args []string, e env) int {
	root := newRoot(e)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		if !errors.Is(err, errSilent) {
			fmt.Fprintf(e.stderr, "cairn: %s\n", describeError(err))
		}
		if ee, ok := errors.AsType[*exitError](err); ok {
			return ee.code
		}
		return 1
	}
	return 0
}

// errSilent is returned by commands that already reported their failure.
var errSilent = errors.New("failed")

func newRoot(e env) *cobra.Command {
	root := &cobra.Command{
		Use:           "cairn",
		Short:         "Cairn is an S3-compatible object gateway",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.AddCommand(newServerCmd(e), newAdminCmd(e), newVersionCmd(e))
	root.AddCommand(newCpCmd(e), newMvCmd(e), newSyncCmd(e), newLsCmd(e), newMbCmd(e), newRbCmd(e), newRmCmd(e), newCatCmd(e))
	root.AddCommand(newStatCmd(e), newPresignCmd(e), newDuCmd(e))
	root.AddCommand(newProbeCmd(e), newWatchCmd(e))
	return root
}
