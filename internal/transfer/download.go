package transfer

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

// Download copies bucket/key to the local file dst with parallel ranged
// GETs written in place into a pre-sized temporary file, which is renamed
// to dst once its size (and, where the ETag allows, its MD5) is verified.
// Missing directories of dst are created; dst gets the object's
// modification time (MtimeKey, else LastModified).
func (c *Client) Download(ctx context.Context, bucket, key, dst string) error {
	head, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	size := aws.ToInt64(head.ContentLength)
	ps := c.opts.PartSize
	if ps <= 0 {
		ps = DefaultPartSize
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".cairn-download"
	// Created afresh (O_EXCL after removing a leftover): a symlink planted
	// under this name would otherwise take the write outside dst's directory.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		f.Close()
		if !ok {
			os.Remove(tmp)
		}
	}()
	if err := f.Truncate(size); err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Parallel)
	for off := int64(0); off < size; off += ps {
		n := min(ps, size-off)
		g.Go(func() error {
			return c.retry(gctx, func() error { return c.getRange(gctx, f, bucket, key, head.ETag, off, n) })
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := c.verifyDownload(ctx, f, bucket, key, size, etag(head.ETag)); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	ok = true
	// The file gets the object's modification time, so that a later sync
	// sees it unchanged.
	if mt := ObjectMtime(head.Metadata, head.LastModified); !mt.IsZero() {
		return os.Chtimes(dst, mt, mt)
	}
	return nil
}

// getRange writes bytes off..off+n-1 of the object (of version ETag tag)
// at the same offset of f.
func (c *Client) getRange(ctx context.Context, f *os.File, bucket, key string, tag *string, off, n int64) error {
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), IfMatch: tag,
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1)),
	})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	got, err := io.Copy(io.NewOffsetWriter(f, off), io.LimitReader(out.Body, n))
	if err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("transfer: %s: range at %d: got %d bytes, want %d", key, off, got, n)
	}
	c.progress(n)
	return nil
}

// verifyDownload checks the size of the written file and, for an object
// uploaded in one part, that its MD5 is the ETag. For a multipart ETag it
// learns the part size from HEAD ?partNumber=1 and checks the md5 of part
// MD5s, if the endpoint answers that request.
func (c *Client) verifyDownload(ctx context.Context, f *os.File, bucket, key string, size int64, tag string) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != size {
		return fmt.Errorf("transfer: %s: downloaded %d bytes, want %d", key, fi.Size(), size)
	}
	md5Tag := func(s string) bool {
		_, err := hex.DecodeString(s)
		return len(s) == 32 && err == nil
	}
	if md5Tag(tag) {
		h := md5.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, size)); err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != tag {
			return fmt.Errorf("transfer: %s: MD5 %s, want ETag %s", key, got, tag)
		}
		return nil
	}
	base, _, multi := strings.Cut(tag, "-")
	if !multi || !md5Tag(base) {
		return nil // not an MD5-based ETag (e.g. SSE-KMS): size only
	}
	ph, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), PartNumber: aws.Int32(1)})
	if err != nil {
		return nil // the endpoint cannot tell the part size
	}
	ps := aws.ToInt64(ph.ContentLength)
	if ps <= 0 {
		return nil
	}
	var sums [][]byte
	for off := int64(0); off < size; off += ps {
		h := md5.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, off, min(ps, size-off))); err != nil {
			return err
		}
		sums = append(sums, h.Sum(nil))
	}
	if got := compositeETag(sums); got != tag {
		if strings.HasSuffix(tag, fmt.Sprintf("-%d", len(sums))) {
			return fmt.Errorf("transfer: %s: md5 of part MD5s %s, want ETag %s", key, got, tag)
		}
		// Parts of unequal sizes: the check does not apply.
	}
	return nil
}
