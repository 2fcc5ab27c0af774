package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/cairn-s3/cairn/internal/transfer"
)

func newStatCmd(e env) *cobra.Command {
	var (
		f         s3Flags
		versionID string
	)
	cmd := &cobra.Command{
		Use:   "stat s3://bucket[/key]",
		Short: "Show an object's size, times, ETag, type, encryption, lock state and metadata (or a bucket's region and versioning)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := s3Arg(args[0])
			if err != nil {
				return err
			}
			c, err := f.client(cmd.Context(), e)
			if err != nil {
				return err
			}
			if l.Key == "" {
				return statBucket(cmd.Context(), c, l.Bucket, e.stdout)
			}
			return statObject(cmd.Context(), c, l, versionID, e.stdout)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&versionID, "version-id", "", "a version of the object")
	return cmd
}

func statObject(ctx context.Context, c *s3.Client, l transfer.Location, versionID string, w io.Writer) error {
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(l.Key), VersionId: optionalString(versionID)})
	if err != nil {
		if notFound(err) {
			if isPrefix(ctx, c, l.Bucket, l.Key) {
				return errPrefix(l)
			}
			return fmt.Errorf("%s: %w", l, errNoObject)
		}
		return err
	}
	row := func(name, value string) {
		if value != "" {
			fmt.Fprintf(w, "%-14s %s\n", name+":", value)
		}
	}
	row("Name", l.String())
	row("Size", fmt.Sprintf("%d (%s)", aws.ToInt64(h.ContentLength), formatSize(aws.ToInt64(h.ContentLength))))
	row("LastModified", aws.ToTime(h.LastModified).UTC().Format(time.RFC3339))
	if t, ok := transfer.ParseMtime(h.Metadata[transfer.MtimeKey]); ok {
		row("FileModified", t.UTC().Format(time.RFC3339Nano))
	}
	row("ETag", aws.ToString(h.ETag))
	row("ContentType", aws.ToString(h.ContentType))
	row("VersionId", aws.ToString(h.VersionId))
	row("StorageClass", string(h.StorageClass))
	row("Encryption", string(h.ServerSideEncryption))
	row("KMSKeyId", aws.ToString(h.SSEKMSKeyId))
	row("ObjectLock", string(h.ObjectLockMode))
	if h.ObjectLockRetainUntilDate != nil {
		row("RetainUntil", h.ObjectLockRetainUntilDate.UTC().Format(time.RFC3339))
	}
	row("LegalHold", string(h.ObjectLockLegalHoldStatus))
	for _, k := range slices.Sorted(maps.Keys(h.Metadata)) {
		row("Meta "+k, h.Metadata[k])
	}
	return nil
}

func statBucket(ctx context.Context, c *s3.Client, bucket string, w io.Writer) error {
	h, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err != nil {
		if notFound(err) {
			return fmt.Errorf("s3://%s: no such bucket", bucket)
		}
		return err
	}
	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		return err
	}
	status := string(v.Status)
	if status == "" {
		status = "Unversioned"
	}
	fmt.Fprintf(w, "%-14s s3://%s\n%-14s %s\n%-14s %s\n", "Name:", bucket, "Region:", aws.ToString(h.BucketRegion), "Versioning:", status)
	return nil
}

func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
