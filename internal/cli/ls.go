package cli

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"
)

func newLsCmd(e env) *cobra.Command {
	var (
		f         s3Flags
		recursive bool
	)
	cmd := &cobra.Command{
		Use:   "ls [s3://bucket[/prefix]]",
		Short: "List buckets, or the objects and common prefixes under a prefix",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client(cmd.Context(), e)
			if err != nil {
				return err
			}
			if len(args) == 0 || args[0] == "s3://" {
				out, err := c.ListBuckets(cmd.Context(), &s3.ListBucketsInput{})
				if err != nil {
					return err
				}
				for _, b := range out.Buckets {
					fmt.Fprintf(e.stdout, "%s  s3://%s\n", aws.ToTime(b.CreationDate).UTC().Format("2006-01-02 15:04:05"), aws.ToString(b.Name))
				}
				return nil
			}
			l, err := s3Arg(args[0])
			if err != nil {
				return err
			}
			in := &s3.ListObjectsV2Input{Bucket: aws.String(l.Bucket), Prefix: aws.String(l.Key)}
			if !recursive {
				in.Delimiter = aws.String("/")
			}
			p := s3.NewListObjectsV2Paginator(c, in)
			for p.HasMorePages() {
				out, err := p.NextPage(cmd.Context())
				if err != nil {
					return err
				}
				for _, cp := range out.CommonPrefixes {
					fmt.Fprintf(e.stdout, "%19s %12s  %s\n", "", "PRE", strings.TrimPrefix(aws.ToString(cp.Prefix), l.Key))
				}
				for _, o := range out.Contents {
					fmt.Fprintf(e.stdout, "%s %12d  %s\n", aws.ToTime(o.LastModified).UTC().Format("2006-01-02 15:04:05"), aws.ToInt64(o.Size), aws.ToString(o.Key))
				}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "list every key under the prefix, not one level")
	return cmd
}
