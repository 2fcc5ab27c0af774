package cli

import "github.com/spf13/cobra"

func newMvCmd(e env) *cobra.Command {
	var t transferFlags
	cmd := &cobra.Command{
		Use:   "mv [flags] SRC... DST",
		Short: "Move files and objects: cp, then remove each source once its copy succeeded",
		Long: `Move takes the arguments and flags of cp. Each source file or object is
removed only after its copy completed and was verified; a failed copy
leaves its source in place.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return runCopy(cmd.Context(), e, &t, args, true) },
	}
	t.register(cmd, true)
	return cmd
}
