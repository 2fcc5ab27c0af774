package transfer

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// Upload copies the local file src to bucket/key. A file larger than one
// part goes up as a parallel multipart upload whose state is saved after
// every part; calling Upload again after an interruption resumes it and
// sends only the parts the server does not have.
func (c *Client) Upload(ctx context.Context, src, bucket, key string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("transfer: %s is not a regular file", src)
	}
	ps, err := PartSize(fi.Size(), c.opts.PartSize)
	if err != nil {
		return err
	}
	if fi.Size() <= ps {
		buf := make([]byte, fi.Size())
		if _, err := io.ReadFull(f, buf); err != nil {
			return err
		}
		return c.putBytes(ctx, buf, bucket, key, fi.ModTime())
	}
	return c.multipartUpload(ctx, f, fi, ps, src, bucket, key)
}

// putBytes uploads at most one part with a single PutObject; mtime (if
// set) is stored as MtimeKey.
func (c *Client) putBytes(ctx context.Context, buf []byte, bucket, key string, mtime time.Time) error {
	size := int64(len(buf))
	sum := md5.Sum(buf)
	err := c.retry(ctx, func() error {
		in := &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key),
			Body: bytes.NewReader(buf), ContentLength: aws.Int64(size),
			ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		}
		c.opts.Object.applyPut(in, mtime)
		out, err := c.s3.PutObject(ctx, in)
		if err != nil {
			return err
		}
		if got, want := etag(out.ETag), hex.EncodeToString(sum[:]); got != want && c.etagIsMD5() {
			return fmt.Errorf("transfer: %s: ETag %s, want MD5 %s", key, got, want)
		}
		return nil
	})
	if err == nil {
		c.progress(size)
	}
	return err
}

func (c *Client) multipartUpload(ctx context.Context, f *os.File, fi os.FileInfo, ps int64, src, bucket, key string) error {
	size := fi.Size()
	nparts := int32((size + ps - 1) / ps)
	partLen := func(p int32) int64 { return min(ps, size-int64(p-1)*ps) }
	sums := make([][]byte, nparts)

	path, err := c.statePath(src, bucket, key)
	if err != nil {
		return err
	}
	st := loadState(path)
	if st != nil && (st.Bucket != bucket || st.Key != key || st.PartSize != ps || st.Size != size || st.MtimeNs != fi.ModTime().UnixNano()) {
		// The file or the part size changed: the old upload is useless.
		_, _ = c.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(st.Bucket), Key: aws.String(st.Key), UploadId: aws.String(st.UploadID)})
		st = nil
	}
	if st != nil {
		if st, err = c.resume(ctx, f, st, partLen, sums); err != nil {
			return err
		}
	}
	if st == nil {
		in := &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}
		c.opts.Object.applyCreate(in, fi.ModTime())
		out, err := c.s3.CreateMultipartUpload(ctx, in)
		if err != nil {
			return err
		}
		st = &uploadState{Bucket: bucket, Key: key, UploadID: aws.ToString(out.UploadId), PartSize: ps, Size: size,
			MtimeNs: fi.ModTime().UnixNano(), Parts: map[int32]string{}, path: path}
		if err := st.save(); err != nil {
			return err
		}
	}

	jobs := make(chan int32)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(jobs)
		for p := int32(1); p <= nparts; p++ {
			if sums[p-1] != nil {
				continue
			}
			select {
			case jobs <- p:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range c.opts.Parallel {
		g.Go(func() error {
			buf := make([]byte, ps) // one part buffer per worker bounds memory
			for p := range jobs {
				sum, err := c.uploadPart(gctx, f, st, p, int64(p-1)*ps, buf[:partLen(p)])
				if err != nil {
					return err
				}
				sums[p-1] = sum
				if c.opts.PartDone != nil {
					c.opts.PartDone(p)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("transfer: upload of %s interrupted (run again to resume): %w", src, ctx.Err())
		}
		return fmt.Errorf("transfer: upload of %s failed (run again to resume): %w", src, err)
	}

	if err := c.complete(ctx, bucket, key, st.UploadID, sums); err != nil {
		return err
	}
	st.remove()
	return nil
}

// uploadPart sends one part with its Content-MD5, checks the returned ETag
// and records the part in the state file.
func (c *Client) uploadPart(ctx context.Context, f *os.File, st *uploadState, p int32, off int64, buf []byte) ([]byte, error) {
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil, err
	}
	sum, err := c.sendPart(ctx, st.Bucket, st.Key, st.UploadID, p, buf)
	if err != nil {
		return nil, err
	}
	if err := st.done(p, hex.EncodeToString(sum)); err != nil {
		return nil, err
	}
	return sum, nil
}

// sendPart uploads buf as part p with its Content-MD5, checks the returned
// ETag and returns the part's MD5.
func (c *Client) sendPart(ctx context.Context, bucket, key, uploadID string, p int32, buf []byte) ([]byte, error) {
	sum := md5.Sum(buf)
	want := hex.EncodeToString(sum[:])
	err := c.retry(ctx, func() error {
		out, err := c.s3.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(uploadID),
			PartNumber: aws.Int32(p), Body: bytes.NewReader(buf), ContentLength: aws.Int64(int64(len(buf))),
			ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		})
		if err != nil {
			return err
		}
		if got := etag(out.ETag); got != want && c.etagIsMD5() {
			return fmt.Errorf("transfer: part %d: ETag %s, want MD5 %s", p, got, want)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.progress(int64(len(buf)))
	return sum[:], nil
}

// resume lists the parts the server holds for st's upload and marks in sums
// those whose ETag is the MD5 of the local part, so they are not sent again.
// It returns nil state if the upload no longer exists.
func (c *Client) resume(ctx context.Context, f *os.File, st *uploadState, partLen func(int32) int64, sums [][]byte) (*uploadState, error) {
	remote := map[int32]string{}
	in := &s3.ListPartsInput{Bucket: aws.String(st.Bucket), Key: aws.String(st.Key), UploadId: aws.String(st.UploadID)}
	for range MaxParts { // bounded: every page holds at least one part
		out, err := c.s3.ListParts(ctx, in)
		if err != nil {
			if _, ok := errors.AsType[*types.NoSuchUpload](err); ok {
				st.remove()
				return nil, nil
			}
			return nil, err
		}
		for _, p := range out.Parts {
			if n := aws.ToInt32(p.PartNumber); n >= 1 && int(n) <= len(sums) && aws.ToInt64(p.Size) == partLen(n) {
				remote[n] = etag(p.ETag)
			}
		}
		if !aws.ToBool(out.IsTruncated) || len(out.Parts) == 0 {
			break
		}
		in.PartNumberMarker = out.NextPartNumberMarker
	}
	st.Parts = map[int32]string{}
	var part []byte
	for n, tag := range remote {
		if part == nil {
			part = make([]byte, st.PartSize)
		}
		buf := part[:partLen(n)]
		if _, err := f.ReadAt(buf, int64(n-1)*st.PartSize); err != nil {
			return nil, err
		}
		sum := md5.Sum(buf)
		if hex.EncodeToString(sum[:]) == tag {
			sums[n-1] = sum[:]
			st.Parts[n] = tag
			c.progress(int64(len(buf)))
		}
	}
	return st, st.save()
}
