package cli

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"
)

func newMbCmd(e env) *cobra.Command {
	var f s3Flags
	cmd := &cobra.Command{
		Use: "mb s3://bucket", Short: "Make a bucket", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := s3Arg(args[0])
			if err != nil {
				return err
			}
			c, err := f.client(cmd.Context(), e)
			if err != nil {
				return err
			}
			if _, err := c.CreateBucket(cmd.Context(), &s3.CreateBucketInput{Bucket: aws.String(l.Bucket)}); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "make_bucket: %s\n", l.Bucket)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
