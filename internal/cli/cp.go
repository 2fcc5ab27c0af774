package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/cairn-s3/cairn/internal/transfer"
)

func newCpCmd(e env) *cobra.Command {
	var t transferFlags
	cmd := &cobra.Command{
		Use:   "cp [flags] SRC... DST",
		Short: "Copy files and objects to, from or within S3 (s3://bucket/key, a local path, or - for stdin/stdout)",
		Long: `Copy local→s3 (parallel multipart upload, each part verified by Content-MD5
and ETag, resumable: run the same command again after an interruption),
s3→local (parallel ranged GETs, verified; missing directories are created)
or s3→s3 (server-side copy; UploadPartCopy above 5 GiB).

The last argument is the destination; with several sources, a directory,
a prefix (--recursive) or a wildcard ('s3://b/logs/*.gz'), it is a
directory or prefix that keeps the sources' relative names. A DST ending
in "/" (or an existing directory) takes SRC's base name. "-" as SRC
streams standard input up as a multipart upload (memory: --parallel
part buffers); "-" as DST writes the object to standard output.
Uploads store the file's modification time as metadata "mtime" (used by
sync). The run ends with a summary line: files, bytes, time and rate.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return runCopy(cmd.Context(), e, &t, args, false) },
	}
	t.register(cmd, true)
	return cmd
}

// runCopy is cp, and mv when move is set.
func runCopy(ctx context.Context, e env, t *transferFlags, args []string, move bool) error {
	dst, err := transfer.ParseLocation(args[len(args)-1])
	if err != nil {
		return err
	}
	if move && slices.Contains(args, "-") {
		return errors.New("mv: - (standard input or output) cannot be moved")
	}
	log := e.stdout
	if dst.Path == "-" {
		log = e.stderr // standard output carries the object
	}
	c, r, err := t.setup(ctx, e, log)
	if err != nil {
		return err
	}
	r.move = move
	jobs, err := planCopy(ctx, t.expander(c, t.recursive), args[:len(args)-1], dst)
	if err != nil {
		return err
	}
	if move {
		for _, j := range jobs {
			// With new metadata the server takes a copy onto itself, and
			// removing the source would then remove the only copy.
			if j.src == j.dst {
				return fmt.Errorf("mv: %s is its own destination: nothing moved", j.src)
			}
		}
	}
	if len(jobs) > 0 {
		err = r.run(ctx, jobs)
	}
	r.summary()
	return err
}

// planCopy expands the sources and pairs each file or object with its
// destination.
func planCopy(ctx context.Context, x expander, srcs []string, dst transfer.Location) ([]job, error) {
	var jobs []job
	for _, a := range srcs {
		s, err := x.expand(ctx, a)
		if err != nil {
			return nil, err
		}
		many := s.many || len(srcs) > 1
		switch {
		case !s.loc.IsS3() && !dst.IsS3():
			return nil, errors.New("cp: one side must be s3://bucket/key")
		case s.loc.Path == "-" && len(srcs) > 1:
			return nil, errors.New("cp: - (standard input) must be the only source")
		case dst.Path == "-" && (many || !s.loc.IsS3()):
			return nil, errors.New("cp: - (standard output) takes one object")
		case s.loc.Path == "-" && (dst.Key == "" || dst.Key[len(dst.Key)-1] == '/'):
			return nil, fmt.Errorf("cp: standard input needs a full key, got %s", dst)
		}
		for _, en := range s.entries {
			d, err := target(dst, en, many)
			if err != nil {
				return nil, err
			}
			jobs = append(jobs, job{src: en.loc, dst: d, size: en.size})
		}
	}
	return jobs, distinctTargets(jobs)
}

// distinctTargets refuses two sources with one destination (keys "a/../b"
// and "b" both become the file b; x/f and y/f copied to z/ both become
// z/f): run at once they race on one file, and mv would remove both
// sources while only one copy survives.
func distinctTargets(jobs []job) error {
	from := make(map[transfer.Location]transfer.Location, len(jobs))
	for _, j := range jobs {
		if j.dst.Path == "-" {
			continue
		}
		if other, dup := from[j.dst]; dup {
			return fmt.Errorf("%s and %s would both be written to %s: nothing copied", other, j.src, j.dst)
		}
		from[j.dst] = j.src
	}
	return nil
}
