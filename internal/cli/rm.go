package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/spf13/cobra"

	"github.com/cairn-s3/cairn/internal/transfer"
)

func newRmCmd(e env) *cobra.Command {
	var (
		f                 s3Flags
		fl                filters
		recursive, dryrun bool
	)
	cmd := &cobra.Command{
		Use:   "rm [--recursive] s3://bucket/key...",
		Short: "Remove objects (with --recursive, every object under a prefix)",
		Long: `Remove objects. A prefix (an argument ending in "/", or a name under which
objects exist) needs --recursive, which removes every object under it with
batched DeleteObjects; --exclude/--include filter the keys (relative to the
prefix). A wildcard (s3://b/logs/*.gz) removes the matching objects.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client(cmd.Context(), e)
			if err != nil {
				return err
			}
			x := expander{c: c, filters: &fl, recursive: recursive, markers: true}
			for _, a := range args {
				if _, err := s3Arg(a); err != nil {
					return err
				}
				src, err := x.expand(cmd.Context(), a)
				if err != nil {
					return err
				}
				ids := make([]types.ObjectIdentifier, len(src.entries))
				for i, en := range src.entries {
					ids[i] = types.ObjectIdentifier{Key: aws.String(en.loc.Key)}
				}
				if _, err := deleteObjects(cmd.Context(), c, src.loc.Bucket, ids, dryrun, e.stdout); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f.register(cmd)
	fl.register(cmd.Flags())
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "remove every object under the prefix")
	cmd.Flags().BoolVar(&dryrun, "dryrun", false, "print what would be removed, remove nothing")
	return cmd
}

// deleteBatch is the most keys one DeleteObjects takes.
const deleteBatch = 1000

// deleteObjects deletes ids (keys, or versions) from bucket in batches,
// printing "delete: s3://bucket/key" for each, and returns how many were
// deleted; a key the server refuses is reported and makes it fail.
func deleteObjects(ctx context.Context, c *s3.Client, bucket string, ids []types.ObjectIdentifier, dryrun bool, out io.Writer) (int, error) {
	name := func(id types.ObjectIdentifier) string {
		s := transfer.Location{Bucket: bucket, Key: aws.ToString(id.Key)}.String()
		if id.VersionId != nil {
			s += " (version " + aws.ToString(id.VersionId) + ")"
		}
		return s
	}
	deleted := 0
	var failures []string
	for len(ids) > 0 {
		batch := ids[:min(deleteBatch, len(ids))]
		ids = ids[len(batch):]
		if dryrun {
			for _, id := range batch {
				fmt.Fprintf(out, "(dryrun) delete: %s\n", name(id))
			}
			continue
		}
		res, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)}})
		if err != nil {
			return deleted, err
		}
		bad := map[string]bool{}
		for _, f := range res.Errors {
			bad[aws.ToString(f.Key)+"\x00"+aws.ToString(f.VersionId)] = true
			failures = append(failures, fmt.Sprintf("%s: %s: %s", name(types.ObjectIdentifier{Key: f.Key, VersionId: f.VersionId}), aws.ToString(f.Code), aws.ToString(f.Message)))
		}
		for _, id := range batch {
			if !bad[aws.ToString(id.Key)+"\x00"+aws.ToString(id.VersionId)] {
				deleted++
				fmt.Fprintf(out, "delete: %s\n", name(id))
			}
		}
	}
	if len(failures) > 0 {
		return deleted, fmt.Errorf("%d not deleted: %s", len(failures), strings.Join(failures, "; "))
	}
	return deleted, nil
}
