package cli

import (
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

// newLCCmd is radosgw-admin's lc list and lc process, through /admin/lc.
func newLCCmd(e env, f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "lc", Short: "Show and run bucket lifecycle processing (like radosgw-admin lc)"}
	list := &cobra.Command{
		Use:   "list",
		Short: `List the buckets with lifecycle rules: {"buckets":[{"bucket","tenant","status","started","finished","objects_removed",...}]}`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return adminPrint(e, f, cmd, http.MethodGet, "/admin/lc", "", url.Values{})
		},
	}
	var bucket, tenantName string
	process := &cobra.Command{
		Use:   "process [--bucket B [--tenant T]]",
		Short: "Run a lifecycle pass now, over one bucket or all, whatever the work window; waits for it to end",
		Long: `Run a lifecycle pass now over --bucket (T/B or --tenant for a tenant's
bucket), or over every bucket with lifecycle rules, ignoring --lc-work-window,
as radosgw-admin lc process does. It waits for the pass to end: unless
--timeout is given it waits as long as it takes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("timeout") {
				f.timeout = 0 // a pass examines every object of the bucket
			}
			q := url.Values{}
			if bucket != "" {
				q.Set("bucket", bucket)
			}
			if tenantName != "" {
				q.Set("tenant", tenantName)
			}
			return adminPrint(e, f, cmd, http.MethodPost, "/admin/lc", "process", q)
		},
	}
	process.Flags().StringVar(&bucket, "bucket", "", "the bucket (T/B for a tenant's); all buckets if empty")
	process.Flags().StringVar(&tenantName, "tenant", "", "the bucket's tenant")
	cmd.AddCommand(list, process)
	return cmd
}
