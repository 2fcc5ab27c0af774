package cli

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

func newScriptPackageCmd(e env, f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "script-package",
		Short: "Manage the allowlist of Lua packages scripts may require (radosgw-admin script-package)",
		Long: `Manage the allowlist of packages Lua scripts may require. Cairn cannot
install rocks with luarocks: it ships Go-native modules under the names
RGW's example scripts use, and only those packages can be added.`,
	}
	var pkg string
	var allowCompilation bool
	pkgQuery := func() (url.Values, error) {
		if pkg == "" {
			return nil, rgwFail(e, exitEINVAL, "Lua package name was not provided (via --package)")
		}
		return url.Values{"package": {pkg}}, nil
	}
	add := &cobra.Command{
		Use:   "add --package NAME|'NAME VERSION' [--allow-compilation]",
		Short: "Allow scripts to require a package (a version replaces any other)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := pkgQuery()
			if err != nil {
				return err
			}
			if allowCompilation {
				q.Set("allow-compilation", "true")
			}
			c, err := f.client(e)
			if err != nil {
				return err
			}
			_, err = c.call(cmd.Context(), http.MethodPut, "/admin/script-package", "", q)
			return rgwAPIFail(e, err)
		},
	}
	add.Flags().BoolVar(&allowCompilation, "allow-compilation", false, "accepted for radosgw-admin compatibility (Cairn compiles nothing)")
	rm := &cobra.Command{
		Use:   "rm --package NAME|'NAME VERSION'",
		Short: "Remove a package from the allowlist (every version when none is given)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := pkgQuery()
			if err != nil {
				return err
			}
			c, err := f.client(e)
			if err != nil {
				return err
			}
			var doc struct {
				Removed bool `json:"removed"`
			}
			body, err := c.call(cmd.Context(), http.MethodDelete, "/admin/script-package", "", q)
			if err != nil {
				return rgwAPIFail(e, err)
			}
			if err := decodeJSON(body, &doc); err != nil {
				return err
			}
			if !doc.Removed {
				fmt.Fprintf(e.stderr, "WARNING: package %s did not exists or already removed\n", pkg)
			}
			return nil
		},
	}
	for _, c := range []*cobra.Command{add, rm} {
		c.Flags().StringVar(&pkg, "package", "", "package name, optionally with a version: 'NAME VERSION'")
	}
	cmd.AddCommand(add, rm, newScriptPackageListCmd(e, f), newScriptPackageReloadCmd(e, f))
	return cmd
}

func newScriptPackageListCmd(e env, f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Print the allowlisted packages, one per line ('NAME' or 'NAME VERSION')",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var doc struct {
				Packages []string `json:"packages"`
			}
			if err := adminGetJSON(e, f, cmd, "/admin/script-package", "", url.Values{}, &doc); err != nil {
				return rgwAPIFail(e, err)
			}
			if len(doc.Packages) == 0 {
				_, err := fmt.Fprintln(e.stdout, "no Lua packages in allowlist")
				return err
			}
			return printLines(e, doc.Packages)
		},
	}
}

func newScriptPackageReloadCmd(e env, f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "reload",
		Short: "Make every gateway re-read its scripts and packages",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(e)
			if err != nil {
				return err
			}
			_, err = c.call(cmd.Context(), http.MethodPost, "/admin/script-package", "reload", url.Values{})
			return rgwAPIFail(e, err)
		},
	}
}
