package cli

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/spf13/cobra"
)

func newDuCmd(e env) *cobra.Command {
	var (
		f     s3Flags
		human bool
	)
	cmd := &cobra.Command{
		Use:   "du s3://bucket[/prefix]",
		Short: "Total size and object count under a prefix",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client(cmd.Context(), e)
			if err != nil {
				return err
			}
			for _, a := range args {
				l, err := s3Arg(a)
				if err != nil {
					return err
				}
				var size, count int64
				if err := listObjects(cmd.Context(), c, l.Bucket, l.Key, func(o types.Object) error {
					size += aws.ToInt64(o.Size)
					count++
					return nil
				}); err != nil {
					return err
				}
				total := fmt.Sprint(size)
				if human {
					total = formatSize(size)
				}
				fmt.Fprintf(e.stdout, "%s\t%d objects\t%s\n", total, count, l)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVarP(&human, "human-readable", "H", false, "sizes in KiB, MiB, GiB")
	return cmd
}
