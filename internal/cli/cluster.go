package cli

import (
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

// newClusterCmd groups the commands about the gateway's Ceph cluster.
func newClusterCmd(e env, f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Show the Ceph cluster of a gateway running with --store rados",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Print the Ceph cluster's health, monitors, OSDs, pools and usage as JSON (admins only)",
		Long: `Print the status of the Ceph cluster the gateway's RADOS store lives in,
read by the gateway with mon commands (ceph status, osd pool ls detail, df,
pg dump): health with each check's summary, monitors and quorum, OSDs up/in
/total, PG states, every pool's size, min_size, pg_num, PG states, stored
bytes and objects, and the raw capacity. A gateway on the local store
answers NotImplemented.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return adminPrint(e, f, cmd, http.MethodGet, "/admin/cluster", "", url.Values{})
		},
	})
	return cmd
}
