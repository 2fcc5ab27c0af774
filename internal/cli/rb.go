package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/spf13/cobra"
)

func newRbCmd(e env) *cobra.Command {
	var (
		f     s3Flags
		force bool
	)
	cmd := &cobra.Command{
		Use:   "rb [--force] s3://bucket",
		Short: "Remove a bucket (with --force, everything in it first)",
		Long: `Remove an empty bucket. With --force, first remove every object version
and delete marker (all of a versioned bucket's history) and abort its
incomplete multipart uploads. Objects under a retention or legal hold
stay, and then so does the bucket.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := s3Arg(args[0])
			if err != nil {
				return err
			}
			if l.Key != "" {
				return fmt.Errorf("rb takes a bucket, not a key: %s", args[0])
			}
			c, err := f.client(cmd.Context(), e)
			if err != nil {
				return err
			}
			if force {
				if err := emptyBucket(cmd.Context(), c, l.Bucket, e.stdout); err != nil {
					return err
				}
			}
			if _, err := c.DeleteBucket(cmd.Context(), &s3.DeleteBucketInput{Bucket: aws.String(l.Bucket)}); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "remove_bucket: %s\n", l.Bucket)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "remove all objects, versions and incomplete uploads first")
	return cmd
}

// emptyBucket deletes every version and delete marker of bucket, a page
// at a time, then aborts its multipart uploads.
func emptyBucket(ctx context.Context, c *s3.Client, bucket string, w io.Writer) error {
	p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		var ids []types.ObjectIdentifier
		for _, v := range out.Versions {
			ids = append(ids, types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			ids = append(ids, types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if _, err := deleteObjects(ctx, c, bucket, ids, false, w); err != nil {
			return err
		}
	}
	up := s3.NewListMultipartUploadsPaginator(c, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	for up.HasMorePages() {
		out, err := up.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, u := range out.Uploads {
			if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: u.Key, UploadId: u.UploadId}); err != nil {
				return err
			}
		}
	}
	return nil
}
