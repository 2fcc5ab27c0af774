package cli

import (
	"net/http"

	"github.com/spf13/cobra"
)

func newKeyCmd(e env, f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "Manage S3 access keys"}
	cmd.AddCommand(newKeyCreateCmd(e, f), newKeyRmCmd(e, f))
	return cmd
}

func newKeyCreateCmd(e env, f *adminFlags) *cobra.Command {
	var uid, tenant string
	cmd := &cobra.Command{
		Use:   "create --uid UID [--tenant T] [--access-key KEY --secret SECRET]",
		Short: "Add a key pair to a user (missing parts are generated) and print the user",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(e)
			if err != nil {
				return err
			}
			q := userQuery(uid, tenant)
			q.Set("key-type", "s3")
			setIf(cmd, q, userParams)
			if q.Get("access-key") == "" && q.Get("secret-key") == "" {
				q.Set("generate-key", "true")
			}
			if _, err := c.call(cmd.Context(), http.MethodPut, "/admin/user", "key", q); err != nil {
				return err
			}
			return c.printUser(cmd.Context(), q)
		},
	}
	addUserIDFlags(cmd, &uid, &tenant)
	fl := cmd.Flags()
	fl.String("access-key", "", "access key (generated if empty)")
	fl.String("secret", "", "secret key (generated if empty)")
	fl.String("secret-key", "", "alias of --secret")
	fl.Bool("gen-key", false, "generate the key pair")
	return cmd
}

func newKeyRmCmd(e env, f *adminFlags) *cobra.Command {
	var uid, tenant, accessKey string
	cmd := &cobra.Command{
		Use:   "rm --uid UID [--tenant T] --access-key KEY",
		Short: "Remove a key pair from a user and print the user",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(e)
			if err != nil {
				return err
			}
			q := userQuery(uid, tenant)
			q.Set("access-key", accessKey)
			q.Set("key-type", "s3")
			if _, err := c.call(cmd.Context(), http.MethodDelete, "/admin/user", "key", q); err != nil {
				return err
			}
			return c.printUser(cmd.Context(), q)
		},
	}
	addUserIDFlags(cmd, &uid, &tenant)
	cmd.Flags().StringVar(&accessKey, "access-key", "", "access key to remove (required)")
	_ = cmd.MarkFlagRequired("access-key")
	return cmd
}
