package transfer

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// Copy copies an object inside the endpoint without moving its bytes
// through the client: CopyObject up to Options.CopyThreshold, parallel
// UploadPartCopy above it.
func (c *Client) Copy(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string) error {
	head, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(srcBucket), Key: aws.String(srcKey)})
	if err != nil {
		return err
	}
	size := aws.ToInt64(head.ContentLength)
	source := srcBucket + "/" + escapeKey(srcKey)
	if size <= c.opts.CopyThreshold {
		in := &s3.CopyObjectInput{
			Bucket: aws.String(dstBucket), Key: aws.String(dstKey),
			CopySource: aws.String(source), CopySourceIfMatch: head.ETag,
		}
		c.opts.Object.applyCopy(in)
		out, err := c.s3.CopyObject(ctx, in)
		if err != nil {
			return err
		}
		if src := etag(head.ETag); !strings.Contains(src, "-") && out.CopyObjectResult != nil && etag(out.CopyObjectResult.ETag) != src {
			return fmt.Errorf("transfer: copy of %s: ETag %s, want %s", srcKey, etag(out.CopyObjectResult.ETag), src)
		}
		c.progress(size)
		return nil
	}

	ps, err := PartSize(size, c.opts.PartSize)
	if err != nil {
		return err
	}
	create := &s3.CreateMultipartUploadInput{Bucket: aws.String(dstBucket), Key: aws.String(dstKey)}
	c.opts.Object.forMultipartCopy(head).applyCreate(create, time.Time{})
	up, err := c.s3.CreateMultipartUpload(ctx, create)
	if err != nil {
		return err
	}
	nparts := int((size + ps - 1) / ps)
	parts := make([]types.CompletedPart, nparts)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Parallel)
	for i := range nparts {
		off := int64(i) * ps
		n := min(ps, size-off)
		g.Go(func() error {
			return c.retry(gctx, func() error {
				out, err := c.s3.UploadPartCopy(gctx, &s3.UploadPartCopyInput{
					Bucket: aws.String(dstBucket), Key: aws.String(dstKey), UploadId: up.UploadId,
					PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String(source), CopySourceIfMatch: head.ETag,
					CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1)),
				})
				if err != nil {
					return err
				}
				parts[i] = types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag}
				c.progress(n)
				return nil
			})
		})
	}
	if err := g.Wait(); err != nil {
		_, _ = c.s3.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: aws.String(dstBucket), Key: aws.String(dstKey), UploadId: up.UploadId})
		return err
	}
	if _, err := c.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(dstBucket), Key: aws.String(dstKey), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		return err
	}
	dst, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(dstBucket), Key: aws.String(dstKey)})
	if err != nil {
		return err
	}
	if got := aws.ToInt64(dst.ContentLength); got != size {
		return fmt.Errorf("transfer: copy of %s: %d bytes, want %d", srcKey, got, size)
	}
	return nil
}

// escapeKey URL-encodes a key for x-amz-copy-source, keeping its slashes.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
