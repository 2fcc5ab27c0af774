package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/cairn-s3/cairn/internal/transfer"
)

const timeLayout = "2006-01-02 15:04:05"

func newLsCmd(e env) *cobra.Command {
	var (
		f                   s3Flags
		recursive, versions bool
	)
	cmd := &cobra.Command{
		Use:   "ls [s3://bucket[/prefix]]",
		Short: "List buckets, or the objects and common prefixes under a prefix",
		Long: `List buckets, or one level of a bucket (prefixes as PRE name/), or with
--recursive every key under the prefix. Names are shown relative to the
listed "directory" (the prefix up to its last "/"), as aws s3 ls does.
--versions lists every version and delete marker.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client(cmd.Context(), e)
			if err != nil {
				return err
			}
			if len(args) == 0 || args[0] == "s3://" {
				return listBuckets(cmd.Context(), c, e.stdout)
			}
			l, err := s3Arg(args[0])
			if err != nil {
				return err
			}
			if versions {
				return listVersions(cmd.Context(), c, l, recursive, e.stdout)
			}
			return listPrefix(cmd.Context(), c, l, recursive, e.stdout)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "list every key under the prefix, not one level")
	cmd.Flags().BoolVar(&versions, "versions", false, "list object versions and delete markers")
	return cmd
}

func listBuckets(ctx context.Context, c *s3.Client, w io.Writer) error {
	out, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		return err
	}
	for _, b := range out.Buckets {
		fmt.Fprintf(w, "%s  s3://%s\n", aws.ToTime(b.CreationDate).UTC().Format(timeLayout), aws.ToString(b.Name))
	}
	return nil
}

// listDir is the part of a listed prefix names are shown relative to.
func listDir(prefix string) string { return prefix[:strings.LastIndex(prefix, "/")+1] }

func delimiter(recursive bool) *string {
	if recursive {
		return nil
	}
	return aws.String("/")
}

func listPrefix(ctx context.Context, c *s3.Client, l transfer.Location, recursive bool, w io.Writer) error {
	dir := listDir(l.Key)
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(l.Bucket), Prefix: aws.String(l.Key), Delimiter: delimiter(recursive)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, cp := range out.CommonPrefixes {
			fmt.Fprintf(w, "%19s %12s  %s\n", "", "PRE", strings.TrimPrefix(aws.ToString(cp.Prefix), dir))
		}
		for _, o := range out.Contents {
			fmt.Fprintf(w, "%s %12d  %s\n", aws.ToTime(o.LastModified).UTC().Format(timeLayout), aws.ToInt64(o.Size), strings.TrimPrefix(aws.ToString(o.Key), dir))
		}
	}
	return nil
}

// listVersions prints every version and delete marker, by key and newest
// first: time, size (DELETE for a marker), name, version id, "latest".
func listVersions(ctx context.Context, c *s3.Client, l transfer.Location, recursive bool, w io.Writer) error {
	type row struct {
		key, id, size string
		when          time.Time
		latest        bool
	}
	dir := listDir(l.Key)
	p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: aws.String(l.Bucket), Prefix: aws.String(l.Key), Delimiter: delimiter(recursive)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, cp := range out.CommonPrefixes {
			fmt.Fprintf(w, "%19s %12s  %s\n", "", "PRE", strings.TrimPrefix(aws.ToString(cp.Prefix), dir))
		}
		var rows []row
		for _, v := range out.Versions {
			rows = append(rows, row{aws.ToString(v.Key), aws.ToString(v.VersionId), fmt.Sprint(aws.ToInt64(v.Size)), aws.ToTime(v.LastModified), aws.ToBool(v.IsLatest)})
		}
		for _, m := range out.DeleteMarkers {
			rows = append(rows, row{aws.ToString(m.Key), aws.ToString(m.VersionId), "DELETE", aws.ToTime(m.LastModified), aws.ToBool(m.IsLatest)})
		}
		slices.SortStableFunc(rows, func(a, b row) int {
			return cmp.Or(strings.Compare(a.key, b.key), b.when.Compare(a.when))
		})
		for _, r := range rows {
			latest := ""
			if r.latest {
				latest = "  latest"
			}
			fmt.Fprintf(w, "%s %12s  %s  %s%s\n", r.when.UTC().Format(timeLayout), r.size, strings.TrimPrefix(r.key, dir), r.id, latest)
		}
	}
	return nil
}
