package cli

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"
)

// newScrubCmd verifies every stored object through POST /admin/scrub.
func newScrubCmd(e env, f *adminFlags) *cobra.Command {
	var rate int64
	var upgrade bool
	cmd := &cobra.Command{
		Use:   "scrub [--rate BYTES_PER_SECOND] [--upgrade-legacy]",
		Short: `Verify every object's data and list the damaged: {"objects":n,...,"damaged":[{"bucket","key","version_id","block",...}]}`,
		Long: `Verify every block checksum of every object version's data files and print
a report: counts, the damaged files (bucket, key, version id, part, file,
first bad block, reason) and the legacy files written before data files had
checksums (read unverified; see the README's Integrity section).
With --upgrade-legacy those are rewritten with a header and checksums, each
in one atomic step, and counted as "upgraded".

The command waits for the scrub to finish: unless --timeout is given it
waits as long as it takes, and interrupting it stops the scrub.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("timeout") {
				f.timeout = 0 // no client timeout: a scrub reads every object
			}
			q := url.Values{}
			if rate > 0 {
				q.Set("rate", strconv.FormatInt(rate, 10))
			}
			if upgrade {
				q.Set("upgrade-legacy", "true")
			}
			return adminPrint(e, f, cmd, http.MethodPost, "/admin/scrub", "", q)
		},
	}
	cmd.Flags().Int64Var(&rate, "rate", 0, "bytes read per second at most (0: as fast as the disk allows)")
	cmd.Flags().BoolVar(&upgrade, "upgrade-legacy", false, "rewrite data files written before checksums existed with checksums")
	return cmd
}
