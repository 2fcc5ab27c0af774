package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

// userParams maps `admin user` flags onto Admin Ops query parameters.
var userParams = map[string]string{
	"display-name": "display-name",
	"email":        "email",
	"access-key":   "access-key",
	"secret":       "secret-key",
	"secret-key":   "secret-key",
	"gen-key":      "generate-key",
	"max-buckets":  "max-buckets",
	"suspended":    "suspended",
	"caps":         "user-caps",
	"system":       "system",
	"admin":        "admin",
}

// addUserFlags defines the radosgw-admin flags shared by create and modify.
func addUserFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.String("display-name", "", "display name")
	fl.String("email", "", "e-mail address")
	fl.String("access-key", "", "S3 access key to add")
	fl.String("secret", "", "S3 secret key to add")
	fl.String("secret-key", "", "alias of --secret")
	fl.Bool("gen-key", false, "generate a key pair")
	fl.Int("max-buckets", 0, "maximum number of buckets")
	fl.Bool("suspended", false, "suspend the user")
	fl.String("caps", "", `capabilities, such as "users=read,write;buckets=*"`)
	fl.Bool("system", false, "make the user a system user")
	fl.Bool("admin", false, "make the user an admin")
}

func newUserCmd(e env, f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users"}
	cmd.AddCommand(
		newUserCreateCmd(e, f),
		newUserInfoCmd(e, f),
		newUserListCmd(e, f),
		newUserRmCmd(e, f),
		newUserModifyCmd(e, f),
		newUserSuspendCmd(e, f, "suspend", "1"),
		newUserSuspendCmd(e, f, "enable", "0"),
		newUserStatsCmd(e, f),
	)
	return cmd
}

// newUserStatsCmd is radosgw-admin's user stats: the storage the user's
// buckets hold, {"stats":{"size":...,"num_objects":...}}.
func newUserStatsCmd(e env, f *adminFlags) *cobra.Command {
	var uid, tenant string
	cmd := &cobra.Command{
		Use:   "stats --uid UID [--tenant T]",
		Short: `Show the storage a user's buckets hold: {"stats":{...}}`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(e)
			if err != nil {
				return err
			}
			q := userQuery(uid, tenant)
			q.Set("stats", "true")
			body, err := c.call(cmd.Context(), http.MethodGet, "/admin/user", "", q)
			if err != nil {
				return err
			}
			var info struct {
				Stats json.RawMessage `json:"stats"`
			}
			if err := json.Unmarshal(body, &info); err != nil || info.Stats == nil {
				return fmt.Errorf("no stats in the server's answer: %s", body)
			}
			out, _ := json.Marshal(map[string]json.RawMessage{"stats": info.Stats})
			return c.print(out)
		},
	}
	addUserIDFlags(cmd, &uid, &tenant)
	return cmd
}

func newUserCreateCmd(e env, f *adminFlags) *cobra.Command {
	var uid, tenant string
	cmd := &cobra.Command{
		Use:   "create --uid UID [--tenant T] --display-name NAME",
		Short: "Create a user (a key pair is generated unless --access-key is given)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := userQuery(uid, tenant)
			setIf(cmd, q, userParams)
			return adminPrint(e, f, cmd, http.MethodPut, "/admin/user", "", q)
		},
	}
	addUserIDFlags(cmd, &uid, &tenant)
	addUserFlags(cmd)
	_ = cmd.MarkFlagRequired("display-name")
	return cmd
}

func newUserInfoCmd(e env, f *adminFlags) *cobra.Command {
	var uid, tenant string
	cmd := &cobra.Command{
		Use:   "info --uid UID [--tenant T]",
		Short: "Show a user",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(e)
			if err != nil {
				return err
			}
			return c.printUser(cmd.Context(), userQuery(uid, tenant))
		},
	}
	addUserIDFlags(cmd, &uid, &tenant)
	return cmd
}

// addUserIDFlags defines --uid (required) and --tenant, which name a user.
func addUserIDFlags(cmd *cobra.Command, uid, tenant *string) {
	cmd.Flags().StringVar(uid, "uid", "", "user id (required)")
	cmd.Flags().StringVar(tenant, "tenant", "", tenantUsage)
	_ = cmd.MarkFlagRequired("uid")
}

func newUserListCmd(e env, f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list [--tenant T]",
		Short: `List user ids ("tenant$uid" for a tenant's users), all or one tenant's (--tenant "" for the default tenant)`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			setTenantIf(cmd, q)
			return adminPrint(e, f, cmd, http.MethodGet, "/admin/metadata/user", "", q)
		},
	}
	cmd.Flags().String("tenant", "", "list only this tenant's users")
	return cmd
}

func newUserRmCmd(e env, f *adminFlags) *cobra.Command {
	var uid, tenant string
	var purge bool
	cmd := &cobra.Command{
		Use:   "rm --uid UID [--tenant T]",
		Short: "Remove a user and its keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(e)
			if err != nil {
				return err
			}
			q := userQuery(uid, tenant)
			if purge {
				q.Set("purge-data", "true")
			}
			_, err = c.call(cmd.Context(), http.MethodDelete, "/admin/user", "", q)
			return err
		},
	}
	addUserIDFlags(cmd, &uid, &tenant)
	cmd.Flags().BoolVar(&purge, "purge-data", false, "accepted for radosgw-admin compatibility; buckets are kept")
	return cmd
}

func newUserModifyCmd(e env, f *adminFlags) *cobra.Command {
	var uid, tenant string
	cmd := &cobra.Command{
		Use:   "modify --uid UID [--tenant T] [flags]",
		Short: "Change a user; only the flags given are changed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(e)
			if err != nil {
				return err
			}
			q := userQuery(uid, tenant)
			named := len(q)
			setIf(cmd, q, userParams)
			if len(q) == named {
				return errors.New("nothing to modify: give at least one of the flags")
			}
			return c.callPrint(cmd.Context(), http.MethodPost, "/admin/user", "", q)
		},
	}
	addUserIDFlags(cmd, &uid, &tenant)
	addUserFlags(cmd)
	return cmd
}

func newUserSuspendCmd(e env, f *adminFlags, name, suspended string) *cobra.Command {
	var uid, tenant string
	short := map[string]string{"suspend": "Suspend a user", "enable": "Re-enable a suspended user"}[name]
	cmd := &cobra.Command{
		Use:   name + " --uid UID [--tenant T]",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := userQuery(uid, tenant)
			q.Set("suspended", suspended)
			return adminPrint(e, f, cmd, http.MethodPost, "/admin/user", "", q)
		},
	}
	addUserIDFlags(cmd, &uid, &tenant)
	return cmd
}
