package cli

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-s3/cairn/internal/transfer"
)

func newCpCmd(e env) *cobra.Command {
	var (
		f        s3Flags
		parallel int
		partSize string
		stateDir string
		quiet    bool
	)
	cmd := &cobra.Command{
		Use:   "cp [--parallel N] [--part-size SIZE] SRC DST",
		Short: "Copy a file to, from or within S3 (SRC and DST: s3://bucket/key or a local path)",
		Long: `Copy local→s3 (parallel multipart upload, each part verified by Content-MD5
and ETag, resumable: run the same command again after an interruption),
s3→local (parallel ranged GETs, verified) or s3→s3 (server-side copy).
A DST ending in "/" (or an existing directory) takes SRC's base name.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := transfer.ParseLocation(args[0])
			if err != nil {
				return err
			}
			dst, err := transfer.ParseLocation(args[1])
			if err != nil {
				return err
			}
			ps, err := parseSize(partSize)
			if err != nil {
				return err
			}
			c, err := f.client(cmd.Context(), e)
			if err != nil {
				return err
			}
			bar := newProgress(e.stderr, quiet)
			defer bar.stop()
			tc := transfer.New(c, transfer.Options{Parallel: parallel, PartSize: ps, StateDir: stateDir, Progress: bar.add})
			ctx := cmd.Context()
			base := func(l transfer.Location) string {
				if l.IsS3() {
					return path.Base(l.Key)
				}
				return filepath.Base(l.Path)
			}
			switch {
			case !src.IsS3() && !dst.IsS3():
				return errors.New("cp: one side must be s3://bucket/key")
			case !src.IsS3():
				fi, err := os.Stat(src.Path)
				if err != nil {
					return err
				}
				bar.start(fi.Size())
				if dst.Key == "" || strings.HasSuffix(dst.Key, "/") {
					dst.Key += base(src)
				}
				return tc.Upload(ctx, src.Path, dst.Bucket, dst.Key)
			case src.Key == "" || strings.HasSuffix(src.Key, "/"):
				return errors.New("cp: source must name an object: " + args[0])
			case !dst.IsS3():
				if fi, err := os.Stat(dst.Path); (err == nil && fi.IsDir()) || strings.HasSuffix(dst.Path, string(filepath.Separator)) {
					dst.Path = filepath.Join(dst.Path, base(src))
				}
				bar.start(0)
				return tc.Download(ctx, src.Bucket, src.Key, dst.Path)
			default:
				if dst.Key == "" || strings.HasSuffix(dst.Key, "/") {
					dst.Key += base(src)
				}
				bar.start(0)
				return tc.Copy(ctx, src.Bucket, src.Key, dst.Bucket, dst.Key)
			}
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&parallel, "parallel", transfer.DefaultParallel(), "parts in flight")
	cmd.Flags().StringVar(&partSize, "part-size", "", "part size, e.g. 16MiB (default: 8MiB or more, so that there are at most 10,000 parts)")
	cmd.Flags().StringVar(&stateDir, "state-dir", "", "where resumable upload state is kept (default: the user cache dir)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}
