package cli

import (
	"net/http"

	"github.com/spf13/cobra"
)

// newCapsCmd is radosgw-admin's caps add|rm: they change a user's
// capabilities and print the user.
func newCapsCmd(e env, f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "caps", Short: "Add or remove user capabilities"}
	sub := func(name, short, method string) *cobra.Command {
		var uid, tenant, caps string
		c := &cobra.Command{
			Use: name + ` --uid UID [--tenant T] --caps "users=read;buckets=*"`, Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, err := f.client(e)
				if err != nil {
					return err
				}
				q := userQuery(uid, tenant)
				q.Set("user-caps", caps)
				if _, err := c.call(cmd.Context(), method, "/admin/user", "caps", q); err != nil {
					return err
				}
				return c.printUser(cmd.Context(), q)
			},
		}
		addUserIDFlags(c, &uid, &tenant)
		c.Flags().StringVar(&caps, "caps", "", `capabilities, such as "users=read,write;buckets=*" (required)`)
		_ = c.MarkFlagRequired("caps")
		return c
	}
	cmd.AddCommand(sub("add", "Add capabilities to a user", http.MethodPut), sub("rm", "Remove capabilities from a user", http.MethodDelete))
	return cmd
}
