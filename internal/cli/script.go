package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-s3/cairn/internal/lua"
)

// Exit codes radosgw-admin's script commands use (errno values).
const (
	exitENOENT = 2
	exitEINVAL = 22
)

// rgwFail reports a failure as radosgw-admin does: "ERROR: ..." on stderr
// and an errno exit code.
func rgwFail(e env, code int, format string, args ...any) error {
	fmt.Fprintf(e.stderr, "ERROR: "+format+"\n", args...)
	return &exitError{code: code, err: errSilent}
}

// rgwAPIFail reports an admin API refusal of bad input like radosgw-admin
// (EINVAL); other failures keep the usual report.
func rgwAPIFail(e env, err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
		return rgwFail(e, exitEINVAL, "%s", ae.Message)
	}
	return err
}

// scriptFlags are the flags naming a script.
type scriptFlags struct{ context, tenant, name string }

func (sf *scriptFlags) add(cmd *cobra.Command, withName bool) {
	cmd.Flags().StringVar(&sf.context, "context", "", "prerequest, postauth, postrequest, background, getdata or putdata (any case)")
	cmd.Flags().StringVar(&sf.tenant, "tenant", "", "tenant the script runs for (none: the default tenant; not with background)")
	if withName {
		cmd.Flags().StringVar(&sf.name, "script-name", "", "name of one of several scripts of the context (run in name order)")
	}
}

func (sf *scriptFlags) query(e env) (url.Values, error) {
	if sf.context == "" {
		return nil, rgwFail(e, exitEINVAL, "context was not provided (via --context)")
	}
	q := url.Values{"context": {sf.context}}
	if sf.tenant != "" {
		q.Set("tenant", sf.tenant)
	}
	if sf.name != "" {
		q.Set("script-name", sf.name)
	}
	return q, nil
}

func newScriptCmd(e env, f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "script", Short: "Manage the Lua scripts run on requests (radosgw-admin script)"}
	cmd.AddCommand(newScriptPutCmd(e, f), newScriptGetCmd(e, f), newScriptRmCmd(e, f), newScriptListCmd(e, f))
	return cmd
}

func newScriptPutCmd(e env, f *adminFlags) *cobra.Command {
	var sf scriptFlags
	var infile string
	cmd := &cobra.Command{
		Use:   "put --infile F --context C [--tenant T] [--script-name N]",
		Short: "Store a script for a context (compiled first: a script with errors is not stored)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if infile == "" {
				return rgwFail(e, exitEINVAL, "infile was not provided (via --infile)")
			}
			q, err := sf.query(e)
			if err != nil {
				return err
			}
			src, err := os.ReadFile(infile)
			if err != nil {
				return rgwFail(e, exitENOENT, "failed to read script: '%s'. error: %v", infile, err)
			}
			if err := lua.Check(string(src)); err != nil {
				return rgwFail(e, exitEINVAL, "script: '%s' has error: \n%v", infile, err)
			}
			c, err := f.client(e)
			if err != nil {
				return err
			}
			_, err = c.callBody(cmd.Context(), http.MethodPut, "/admin/script", "", q, src)
			return rgwAPIFail(e, err)
		},
	}
	sf.add(cmd, true)
	cmd.Flags().StringVar(&infile, "infile", "", "file holding the Lua script (required)")
	return cmd
}

func newScriptGetCmd(e env, f *adminFlags) *cobra.Command {
	var sf scriptFlags
	cmd := &cobra.Command{
		Use:   "get --context C [--tenant T] [--script-name N]",
		Short: "Print a context's script (or that none exists)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := sf.query(e)
			if err != nil {
				return err
			}
			c, err := f.client(e)
			if err != nil {
				return err
			}
			body, err := c.call(cmd.Context(), http.MethodGet, "/admin/script", "", q)
			// A missing script is not an error: radosgw-admin says so and exits 0.
			if ae, ok := errors.AsType[*apiError](err); ok && ae.Status == http.StatusNotFound && ae.Code == "NoSuchScript" {
				_, err = fmt.Fprintln(e.stdout, ae.Message)
				return err
			}
			if err != nil {
				return rgwAPIFail(e, err)
			}
			var doc struct {
				Script string `json:"script"`
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				return fmt.Errorf("bad JSON from server: %w", err)
			}
			_, err = fmt.Fprintln(e.stdout, doc.Script)
			return err
		},
	}
	sf.add(cmd, true)
	return cmd
}

func newScriptRmCmd(e env, f *adminFlags) *cobra.Command {
	var sf scriptFlags
	cmd := &cobra.Command{
		Use:     "rm --context C [--tenant T] [--script-name N]",
		Aliases: []string{"remove"},
		Short:   "Remove a context's script (removing a missing script succeeds)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := sf.query(e)
			if err != nil {
				return err
			}
			c, err := f.client(e)
			if err != nil {
				return err
			}
			_, err = c.call(cmd.Context(), http.MethodDelete, "/admin/script", "", q)
			return rgwAPIFail(e, err)
		},
	}
	sf.add(cmd, true)
	return cmd
}

func newScriptListCmd(e env, f *adminFlags) *cobra.Command {
	var sf scriptFlags
	cmd := &cobra.Command{
		Use:   "list --context C [--tenant T]",
		Short: "Print the names of a context's named scripts, one per line, sorted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := sf.query(e)
			if err != nil {
				return err
			}
			var doc struct {
				Scripts []string `json:"scripts"`
			}
			if err := adminGetJSON(e, f, cmd, "/admin/script", "list", q, &doc); err != nil {
				return rgwAPIFail(e, err)
			}
			return printLines(e, doc.Scripts)
		},
	}
	sf.add(cmd, false)
	return cmd
}

// adminGetJSON sends one GET and decodes its JSON answer into v.
func adminGetJSON(e env, f *adminFlags, cmd *cobra.Command, path, sub string, q url.Values, v any) error {
	c, err := f.client(e)
	if err != nil {
		return err
	}
	body, err := c.call(cmd.Context(), http.MethodGet, path, sub, q)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("bad JSON from server: %w", err)
	}
	return nil
}

// printLines prints one line per item.
func printLines(e env, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	_, err := fmt.Fprintln(e.stdout, strings.Join(lines, "\n"))
	return err
}

// decodeJSON decodes an admin API answer.
func decodeJSON(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("bad JSON from server: %w", err)
	}
	return nil
}
