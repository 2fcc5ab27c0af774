package cli

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"
)

func newMbCmd(e env) *cobra.Command {
	return newBucketCmd(e, "mb", "Make a bucket", "make_bucket", func(ctx context.Context, c *s3.Client, bucket string) error {
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
		return err
	})
}

// newBucketCmd builds a command that does one thing to one bucket and
// reports it as awscli does ("make_bucket: b").
func newBucketCmd(e env, name, short, verb string, do func(context.Context, *s3.Client, string) error) *cobra.Command {
	var f s3Flags
	cmd := &cobra.Command{
		Use: name + " s3://bucket", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := s3Arg(args[0])
			if err != nil {
				return err
			}
			c, err := f.client(cmd.Context(), e)
			if err != nil {
				return err
			}
			if err := do(cmd.Context(), c, l.Bucket); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: %s\n", verb, l.Bucket)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
