// Package transfer moves files between the local disk and any S3 endpoint,
// and between S3 locations, on aws-sdk-go-v2 alone: parallel multipart
// uploads that verify every part and resume after an interruption, parallel
// ranged downloads into a pre-sized file, and server-side copies.
//
// Memory is bounded by Parallel × PartSize: a part is read into one of
// Parallel buffers, never the whole file.
package transfer

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3 multipart limits.
const (
	MinPartSize     = 5 << 20
	MaxPartSize     = 5 << 30
	MaxParts        = 10000
	DefaultPartSize = 8 << 20
)

// Options tune a Client; zero values are fine.
type Options struct {
	// Parallel is the number of parts in flight; 0 means DefaultParallel().
	Parallel int
	// PartSize is the part size; 0 picks one (≥ 8 MiB, ≤ 10,000 parts).
	PartSize int64
	// Retries is how often a failed part is retried (0 means 3, <0 none).
	Retries int
	// StateDir holds upload state files for resume; empty means
	// <user cache dir>/cairn/uploads.
	StateDir string
	// CopyThreshold is the size above which a copy uses UploadPartCopy
	// instead of CopyObject; 0 means 5 GiB.
	CopyThreshold int64
	// Progress, if set, is called with the number of bytes just moved; it
	// must be safe for concurrent use.
	Progress func(n int64)
	// PartDone, if set, is called after each part is uploaded and
	// verified (a test hook).
	PartDone func(part int32)
	// Object is set on every object uploaded or copied; uploads of files
	// also store the file's modification time (MtimeKey).
	Object ObjectOptions
}

// Client runs transfers with one S3 client.
type Client struct {
	s3   *s3.Client
	opts Options
}

// New returns a Client. The S3 client should not compute flexible request
// checksums (RequestChecksumCalculation WhenRequired): parts carry
// Content-MD5, which any S3 endpoint checks.
func New(c *s3.Client, opts Options) *Client {
	if opts.Parallel <= 0 {
		opts.Parallel = DefaultParallel()
	}
	if opts.Retries == 0 {
		opts.Retries = 3
	}
	if opts.CopyThreshold <= 0 {
		opts.CopyThreshold = MaxPartSize
	}
	return &Client{s3: c, opts: opts}
}

// DefaultParallel is the number of CPUs clamped to 4..8.
func DefaultParallel() int {
	return min(8, max(4, runtime.NumCPU()))
}

// PartSize returns the part size for an object of size bytes: want if set
// (it must be within the S3 limits), else DefaultPartSize doubled until the
// object fits in MaxParts parts.
func PartSize(size, want int64) (int64, error) {
	ps := want
	if ps == 0 {
		ps = DefaultPartSize
		for ps < MaxPartSize && (size+ps-1)/ps > MaxParts {
			ps *= 2
		}
		ps = min(ps, MaxPartSize)
	}
	if ps < MinPartSize || ps > MaxPartSize {
		return 0, fmt.Errorf("transfer: part size %d outside %d..%d", ps, MinPartSize, MaxPartSize)
	}
	if (size+ps-1)/ps > MaxParts {
		return 0, fmt.Errorf("transfer: %d bytes need more than %d parts of %d bytes", size, MaxParts, ps)
	}
	return ps, nil
}

// Location is either a local path or an S3 bucket and key.
type Location struct {
	Bucket, Key string // set for s3://bucket/key
	Path        string // set for a local path
}

// IsS3 reports whether l names an S3 location.
func (l Location) IsS3() bool { return l.Bucket != "" }

func (l Location) String() string {
	if l.IsS3() {
		return "s3://" + l.Bucket + "/" + l.Key
	}
	return l.Path
}

// ParseLocation parses "s3://bucket/key" (key may be empty) or a local path.
func ParseLocation(s string) (Location, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		if s == "" {
			return Location{}, errors.New("transfer: empty path")
		}
		return Location{Path: s}, nil
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return Location{}, fmt.Errorf("transfer: %q has no bucket", s)
	}
	return Location{Bucket: bucket, Key: key}, nil
}

// retry runs f until it succeeds, the context ends or the retries are used
// up, with exponential backoff and jitter between attempts.
func (c *Client) retry(ctx context.Context, f func() error) error {
	var err error
	for attempt := 0; ; attempt++ {
		if err = f(); err == nil || ctx.Err() != nil || attempt >= c.opts.Retries {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		d := time.Duration(100<<attempt)*time.Millisecond + rand.N(50*time.Millisecond)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
}

func (c *Client) progress(n int64) {
	if c.opts.Progress != nil && n > 0 {
		c.opts.Progress(n)
	}
}

// etag strips the quotes of an ETag header.
func etag(s *string) string { return strings.Trim(aws.ToString(s), `"`) }

// compositeETag is the multipart ETag S3 reports for parts with these MD5s:
// md5(md5_1 || … || md5_n)-n.
func compositeETag(sums [][]byte) string {
	h := md5.New()
	for _, s := range sums {
		h.Write(s)
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(sums))
}
