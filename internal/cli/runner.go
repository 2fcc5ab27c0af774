package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/cairn-s3/cairn/internal/transfer"
)

// job is one file or object to move.
type job struct {
	src, dst transfer.Location
	size     int64 // for the progress total; 0 if unknown
}

// verb names a job as `aws s3` does in its per-file lines.
func (j job) verb(move bool) string {
	switch {
	case move:
		return "move"
	case !j.src.IsS3():
		return "upload"
	case !j.dst.IsS3():
		return "download"
	default:
		return "copy"
	}
}

// runner runs jobs, at most concurrency at once, reports each on log and
// ends with a summary line.
type runner struct {
	tc           *transfer.Client
	c            *s3.Client
	stdin        io.Reader // the source "-"
	stdout       io.Writer // the destination "-"
	log, errs    io.Writer
	dryrun, move bool
	quiet        bool // no per-file lines
	concurrency  int
	bar          *progress
	mu           sync.Mutex // one line at a time on log and errs
	files, bytes atomic.Int64
	failed       atomic.Int64
	deleted      atomic.Int64
	begin        time.Time
	lastErr      error
}

// run runs the jobs; a failed job does not stop the others. With one job
// its error is returned as is, else a count of failures.
func (r *runner) run(ctx context.Context, jobs []job) error {
	var total int64
	for _, j := range jobs {
		total += j.size
	}
	if !r.dryrun {
		r.bar.start(total)
	}
	var g errgroup.Group
	g.SetLimit(r.concurrency)
	for _, j := range jobs {
		g.Go(func() error {
			r.one(ctx, j, len(jobs) > 1)
			return nil
		})
	}
	_ = g.Wait()
	r.bar.stop()
	switch n := r.failed.Load(); {
	case n == 1 && len(jobs) == 1:
		return r.lastErr
	case n > 0:
		return fmt.Errorf("%d of %d transfers failed", n, len(jobs))
	}
	return ctx.Err()
}

func (r *runner) one(ctx context.Context, j job, report bool) {
	verb := j.verb(r.move)
	if r.dryrun {
		r.printf(r.log, "(dryrun) %s: %s to %s\n", verb, j.src, j.dst)
		r.files.Add(1)
		r.bytes.Add(j.size)
		return
	}
	n, err := r.transfer(ctx, j)
	if err == nil && r.move {
		err = r.remove(ctx, j.src)
	}
	if err != nil {
		r.failed.Add(1)
		r.mu.Lock()
		r.lastErr = fmt.Errorf("%s %s to %s: %w", verb, j.src, j.dst, err)
		r.mu.Unlock()
		if report {
			r.printf(r.errs, "cairn: %s failed: %s to %s: %s\n", verb, j.src, j.dst, describeError(err))
		}
		return
	}
	r.files.Add(1)
	r.bytes.Add(n)
	if !r.quiet {
		r.printf(r.log, "%s: %s to %s\n", verb, j.src, j.dst)
	}
}

// transfer moves one file or object and returns its byte count.
func (r *runner) transfer(ctx context.Context, j job) (int64, error) {
	switch {
	case j.src.Path == "-":
		return r.tc.UploadStream(ctx, r.stdin, j.dst.Bucket, j.dst.Key)
	case j.dst.Path == "-":
		return r.tc.DownloadTo(ctx, j.src.Bucket, j.src.Key, r.stdout)
	case !j.src.IsS3():
		return j.size, r.tc.Upload(ctx, j.src.Path, j.dst.Bucket, j.dst.Key)
	case !j.dst.IsS3():
		return j.size, r.tc.Download(ctx, j.src.Bucket, j.src.Key, j.dst.Path)
	default:
		return j.size, r.tc.Copy(ctx, j.src.Bucket, j.src.Key, j.dst.Bucket, j.dst.Key)
	}
}

// remove deletes a moved source.
func (r *runner) remove(ctx context.Context, l transfer.Location) error {
	if !l.IsS3() {
		return os.Remove(l.Path)
	}
	_, err := r.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(l.Key)})
	return err
}

func (r *runner) printf(w io.Writer, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(w, format, args...)
}

// summary prints the final line: files, bytes, time and rate.
func (r *runner) summary() {
	files, bytes := r.files.Load(), r.bytes.Load()
	if r.dryrun {
		r.printf(r.log, "(dryrun) %d files, %s\n", files, formatSize(bytes))
		return
	}
	elapsed := time.Since(r.begin)
	rate := float64(bytes) / max(elapsed.Seconds(), 1e-3)
	line := fmt.Sprintf("%d files, %s in %s (%s/s)", files, formatSize(bytes), elapsed.Round(time.Millisecond), formatSize(int64(rate)))
	if n := r.failed.Load(); n > 0 {
		line += fmt.Sprintf(", %d failed", n)
	}
	if n := r.deleted.Load(); n > 0 {
		line += fmt.Sprintf(", %d deleted", n)
	}
	r.printf(r.log, "%s\n", line)
}
