package transfer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// UploadStream uploads everything r yields (a pipe, of unknown length) to
// bucket/key and returns the byte count. Input of at most one part goes up
// with one PutObject; longer input as a multipart upload whose parts are
// read into at most Parallel part buffers, reused as parts complete, so
// memory stays at Parallel × PartSize whatever the input's length.
func (c *Client) UploadStream(ctx context.Context, r io.Reader, bucket, key string) (int64, error) {
	ps := c.opts.PartSize
	if ps == 0 {
		ps = DefaultPartSize
	}
	if ps < MinPartSize || ps > MaxPartSize {
		return 0, fmt.Errorf("transfer: part size %d outside %d..%d", ps, MinPartSize, MaxPartSize)
	}
	first := make([]byte, ps)
	n, err := io.ReadFull(r, first)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return int64(n), c.putBytes(ctx, first[:n], bucket, key, time.Time{})
	}
	if err != nil {
		return 0, err
	}
	in := &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	c.opts.Object.applyCreate(in, time.Time{})
	up, err := c.s3.CreateMultipartUpload(ctx, in)
	if err != nil {
		return 0, err
	}
	s := &stream{c: c, r: r, bucket: bucket, key: key, uploadID: aws.ToString(up.UploadId), free: make(chan []byte, c.opts.Parallel)}
	total, sums, err := s.run(ctx, first)
	if err != nil {
		_, _ = c.s3.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId})
		return total, err
	}
	return total, c.complete(ctx, bucket, key, s.uploadID, sums)
}

// stream is one multipart upload from a reader.
type stream struct {
	c                     *Client
	r                     io.Reader
	bucket, key, uploadID string
	free                  chan []byte // part buffers whose part is sent
	allocated             int

	mu   sync.Mutex
	sums [][]byte
}

// run reads parts into buffers and sends each in its own goroutine, at
// most Parallel at a time (there are no more buffers than that).
func (s *stream) run(ctx context.Context, first []byte) (int64, [][]byte, error) {
	g, gctx := errgroup.WithContext(ctx)
	buf, total, last := first, int64(len(first)), false
	s.allocated = 1
	for p := int32(1); ; p++ {
		if p > MaxParts {
			_ = g.Wait()
			return total, nil, fmt.Errorf("transfer: input longer than %d parts of %d bytes (raise --part-size)", MaxParts, len(first))
		}
		part := buf
		g.Go(func() error {
			defer func() { s.free <- part[:cap(part)] }()
			sum, err := s.c.sendPart(gctx, s.bucket, s.key, s.uploadID, p, part)
			if err == nil {
				s.record(p, sum)
			}
			return err
		})
		if last {
			break
		}
		next, err := s.buffer(gctx, cap(first))
		if err != nil {
			break // a part failed; g.Wait reports it
		}
		n, err := io.ReadFull(s.r, next)
		total += int64(n)
		if errors.Is(err, io.EOF) {
			s.free <- next
			break
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			_ = g.Wait()
			return total, nil, err
		}
		buf, last = next[:n], err != nil
	}
	if err := g.Wait(); err != nil {
		return total, nil, err
	}
	return total, s.sums, nil
}

// buffer returns a free part buffer, allocating one while fewer than
// Parallel exist, else waiting for a part to finish.
func (s *stream) buffer(ctx context.Context, size int) ([]byte, error) {
	select {
	case b := <-s.free:
		return b, nil
	default:
	}
	if s.allocated < s.c.opts.Parallel {
		s.allocated++
		return make([]byte, size), nil
	}
	select {
	case b := <-s.free:
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *stream) record(p int32, sum []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for int32(len(s.sums)) < p {
		s.sums = append(s.sums, nil)
	}
	s.sums[p-1] = sum
}

// complete finishes a multipart upload of parts with these MD5s and
// checks the object's ETag.
func (c *Client) complete(ctx context.Context, bucket, key, uploadID string, sums [][]byte) error {
	parts := make([]types.CompletedPart, len(sums))
	for i, s := range sums {
		parts[i] = types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: aws.String(`"` + hex.EncodeToString(s) + `"`)}
	}
	out, err := c.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return err
	}
	if got, want := etag(out.ETag), compositeETag(sums); got != want && c.etagIsMD5() {
		return fmt.Errorf("transfer: %s: ETag %s, want %s (md5 of part MD5s)", key, got, want)
	}
	return nil
}

// DownloadTo writes bucket/key to w with one GET (w may be a pipe, which
// ranged parallel GETs cannot fill in order without buffering) and returns
// the byte count.
func (c *Client) DownloadTo(ctx context.Context, bucket, key string, w io.Writer) (int64, error) {
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return 0, err
	}
	defer out.Body.Close()
	n, err := io.Copy(w, io.TeeReader(out.Body, progressWriter(c.progress)))
	if err == nil && out.ContentLength != nil && n != *out.ContentLength {
		err = fmt.Errorf("transfer: %s: got %d bytes, want %d", key, n, *out.ContentLength)
	}
	return n, err
}

// progressWriter reports the length of every write to f.
type progressWriter func(int64)

func (f progressWriter) Write(p []byte) (int, error) { f(int64(len(p))); return len(p), nil }
