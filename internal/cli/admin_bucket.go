package cli

import (
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

// newAdminBucketCmd is radosgw-admin's bucket list and bucket stats. A
// tenant's buckets are listed by their S3 names; a listing of every
// bucket names another tenant's bucket "tenant/bucket", as radosgw-admin
// does.
func newAdminBucketCmd(e env, f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "bucket", Short: "List buckets and show their stats"}
	var uid, tenant, bucket string
	selection := func(cmd *cobra.Command) url.Values {
		q := url.Values{}
		if uid != "" {
			q = userQuery(uid, tenant)
		} else {
			setTenantIf(cmd, q)
		}
		return q
	}
	list := &cobra.Command{
		Use: "list [--tenant T] [--uid U]", Short: `Bucket names: all, a tenant's (--tenant "" for the default tenant) or a user's`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return adminCall(e, f, cmd, http.MethodGet, "/admin/bucket", "", selection(cmd))
		},
	}
	stats := &cobra.Command{
		Use: "stats [--bucket B] [--tenant T] [--uid U]", Short: "A bucket's stats (exit 2 if missing), or those of the buckets selected as by list",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := selection(cmd)
			if bucket != "" {
				q = url.Values{"bucket": {bucket}}
				if tenant != "" {
					q.Set("tenant", tenant)
				}
			} else {
				q.Set("stats", "true")
			}
			return adminCall(e, f, cmd, http.MethodGet, "/admin/bucket", "", q)
		},
	}
	stats.Flags().StringVar(&bucket, "bucket", "", `bucket name ("tenant/bucket" names another tenant's)`)
	for _, c := range []*cobra.Command{list, stats} {
		c.Flags().StringVar(&tenant, "tenant", "", "tenant of the buckets (and of --uid)")
		c.Flags().StringVar(&uid, "uid", "", "only this user's buckets")
	}
	cmd.AddCommand(list, stats)
	return cmd
}
