package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/spf13/cobra"

	"github.com/cairn-s3/cairn/internal/transfer"
)

func newSyncCmd(e env) *cobra.Command {
	var (
		t   transferFlags
		del bool
	)
	cmd := &cobra.Command{
		Use:   "sync [flags] SRC DST",
		Short: "Make a directory or prefix like another (local↔s3, s3↔s3)",
		Long: `Copy every file or object of SRC that DST lacks or holds with another
size or modification time. The modification time of an object is the one
cairn stored in its metadata ("mtime", as rclone does) when it was
uploaded, else its LastModified (then only a newer source counts as
changed); a multipart ETag is not a file's MD5, so ETags are not compared.
Downloads get the object's modification time, so a sync back finds
nothing to do. With --delete, what DST holds and SRC does not is removed
(filters apply to both sides: excluded files are neither copied nor
deleted).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSync(cmd.Context(), e, &t, args[0], args[1], del)
		},
	}
	t.register(cmd, false)
	cmd.Flags().BoolVar(&del, "delete", false, "remove from DST what SRC does not hold")
	return cmd
}

func runSync(ctx context.Context, e env, t *transferFlags, srcArg, dstArg string, del bool) error {
	dst, err := transfer.ParseLocation(dstArg)
	if err != nil {
		return err
	}
	c, r, err := t.setup(ctx, e, e.stdout)
	if err != nil {
		return err
	}
	x := t.expander(c, true)
	src, err := x.expand(ctx, srcArg)
	switch {
	case err != nil:
		return err
	case !src.many:
		return errors.New("sync: SRC must be a directory or a prefix (use cp for one file)")
	case !src.loc.IsS3() && !dst.IsS3():
		return errors.New("sync: one side must be s3://bucket/prefix")
	}
	have, err := x.existing(ctx, dst)
	if err != nil {
		return err
	}
	var jobs []job
	for _, en := range src.entries {
		d, found := have[en.rel]
		delete(have, en.rel)
		if found {
			if changed, err := differs(ctx, c, en, d); err != nil || !changed {
				if err != nil {
					return err
				}
				continue
			}
		}
		to, err := target(dst, en, true)
		if err != nil {
			return err
		}
		jobs = append(jobs, job{src: en.loc, dst: to, size: en.size})
	}
	if err := distinctTargets(jobs); err != nil {
		return err
	}
	if len(jobs) > 0 {
		err = r.run(ctx, jobs)
	}
	if del && err == nil {
		err = r.deleteAll(ctx, have)
	}
	r.summary()
	return err
}

// existing lists what dst holds (none if it does not exist yet), by
// relative name.
func (x expander) existing(ctx context.Context, dst transfer.Location) (map[string]entry, error) {
	have := map[string]entry{}
	if dst.IsS3() {
		// The destination is a prefix taken literally, never a wildcard:
		// a "*" in it is part of the keys sync writes, and as a pattern it
		// would let --delete reach keys outside the prefix.
		root := dst.Key
		if root != "" && !strings.HasSuffix(root, "/") {
			root += "/"
		}
		err := walkS3(ctx, x.c, dst.Bucket, root, root, nil, false, func(en entry) error {
			if x.filters.included(en.rel) {
				have[en.rel] = en
			}
			return nil
		})
		return have, err
	}
	fi, err := os.Stat(dst.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return have, nil
	case err == nil && !fi.IsDir():
		// A file is no tree to mirror; listed, it would be "extra" and
		// --delete would remove it.
		return nil, fmt.Errorf("sync: %s is a file, not a directory", dst.Path)
	}
	d, err := x.expand(ctx, dst.String())
	if err != nil {
		return nil, err
	}
	for _, en := range d.entries {
		have[en.rel] = en
	}
	return have, nil
}

// differs reports whether src must be copied over dst of the same name:
// another size, or another modification time. When both times are exact
// (a file's, or an object's stored mtime) they must match to the
// millisecond; against an object's LastModified only a newer source counts.
func differs(ctx context.Context, c *s3.Client, src, dst entry) (bool, error) {
	if src.size != dst.size {
		return true, nil
	}
	st, sExact, err := entryMtime(ctx, c, src)
	if err != nil {
		return false, err
	}
	dt, dExact, err := entryMtime(ctx, c, dst)
	if err != nil {
		return false, err
	}
	if sExact && dExact {
		return st.Sub(dt).Abs() >= time.Millisecond, nil
	}
	return st.After(dt.Add(time.Second)), nil
}

func entryMtime(ctx context.Context, c *s3.Client, en entry) (time.Time, bool, error) {
	if !en.loc.IsS3() {
		return en.mtime, true, nil
	}
	return objectMtime(ctx, c, en)
}

// deleteAll removes sync's extraneous files or objects (--delete).
func (r *runner) deleteAll(ctx context.Context, extra map[string]entry) error {
	byBucket := map[string][]types.ObjectIdentifier{}
	for _, en := range extra {
		if en.loc.IsS3() {
			byBucket[en.loc.Bucket] = append(byBucket[en.loc.Bucket], types.ObjectIdentifier{Key: aws.String(en.loc.Key)})
			continue
		}
		if r.dryrun {
			r.printf(r.log, "(dryrun) delete: %s\n", en.loc)
			continue
		}
		if err := os.Remove(en.loc.Path); err != nil {
			return err
		}
		r.deleted.Add(1)
		r.printf(r.log, "delete: %s\n", en.loc)
	}
	for bucket, ids := range byBucket {
		r.mu.Lock()
		n, err := deleteObjects(ctx, r.c, bucket, ids, r.dryrun, r.log)
		r.mu.Unlock()
		r.deleted.Add(int64(n))
		if err != nil {
			return err
		}
	}
	return nil
}
