package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/transfer"
)

// entry is one file or object found under a source or destination.
type entry struct {
	rel   string // path below the walked root, "/"-separated
	loc   transfer.Location
	size  int64
	mtime time.Time // a file's mtime; an object's LastModified (see objectMtime)
}

// listObjects calls fn for every object under prefix, all pages.
func listObjects(ctx context.Context, c *s3.Client, bucket, prefix string, fn func(types.Object) error) error {
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range out.Contents {
			if err := fn(o); err != nil {
				return err
			}
		}
	}
	return nil
}

// walkS3 calls fn for the objects under prefix whose key keep accepts,
// each relative to root (a prefix of prefix). Directory marker objects
// ("dir/") are left out unless markers is set (rm removes them too).
func walkS3(ctx context.Context, c *s3.Client, bucket, prefix, root string, keep func(key string) bool, markers bool, fn func(entry) error) error {
	return listObjects(ctx, c, bucket, prefix, func(o types.Object) error {
		key := aws.ToString(o.Key)
		if keep != nil && !keep(key) {
			return nil
		}
		rel := strings.TrimPrefix(key, root)
		if !markers && (rel == "" || strings.HasSuffix(key, "/")) {
			return nil // a "directory marker" object has no file to become
		}
		return fn(entry{rel: rel, loc: transfer.Location{Bucket: bucket, Key: key}, size: aws.ToInt64(o.Size), mtime: aws.ToTime(o.LastModified)})
	})
}

// walkLocal calls fn for every regular file under root (following
// symbolic links to files), relative to root with rel prepended.
func walkLocal(root, rel string, fn func(entry) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() || strings.HasSuffix(p, downloadSuffix) {
			return nil
		}
		r, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		return fn(entry{rel: path.Join(rel, filepath.ToSlash(r)), loc: transfer.Location{Path: p}, size: fi.Size(), mtime: fi.ModTime()})
	})
}

// downloadSuffix marks transfer's partial downloads, never a source.
const downloadSuffix = ".cairn-download"

// objectMtime is an object's modification time as cairn stored it
// (transfer.MtimeKey), read with a HEAD, else its LastModified; exact
// reports whether it came from the metadata.
func objectMtime(ctx context.Context, c *s3.Client, e entry) (t time.Time, exact bool, err error) {
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(e.loc.Bucket), Key: aws.String(e.loc.Key)})
	if err != nil {
		return time.Time{}, false, err
	}
	if t, ok := transfer.ParseMtime(head.Metadata[transfer.MtimeKey]); ok {
		return t, true, nil
	}
	return aws.ToTime(head.LastModified), false, nil
}

// isPrefix reports whether objects exist under key + "/", to tell a
// mistyped directory from a missing object.
func isPrefix(ctx context.Context, c *s3.Client, bucket, key string) bool {
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(strings.TrimSuffix(key, "/") + "/"), MaxKeys: aws.Int32(1)})
	return err == nil && len(out.Contents) > 0
}

// errPrefix is the error for a prefix given without --recursive.
func errPrefix(l transfer.Location) error {
	return fmt.Errorf("%s is a prefix (a directory), not an object: add --recursive", l)
}

var errNoObject = errors.New("no such object")
