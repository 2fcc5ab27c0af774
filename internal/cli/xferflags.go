package cli

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/cairn-s3/cairn/internal/transfer"
)

// transferFlags are the flags shared by cp, mv and sync.
type transferFlags struct {
	s3            s3Flags
	object        objectFlags
	filters       filters
	recursive     bool
	dryrun, quiet bool
	parallel      int
	concurrency   int
	partSize      string
	stateDir      string
	copyThreshold string
}

// DefaultConcurrency is the number of files moved at once.
const DefaultConcurrency = 4

func (t *transferFlags) register(cmd *cobra.Command, recursive bool) {
	t.s3.register(cmd)
	fs := cmd.Flags()
	t.object.register(fs)
	t.filters.register(fs)
	if recursive {
		fs.BoolVarP(&t.recursive, "recursive", "r", false, "copy every file under a directory or every object under a prefix")
	}
	fs.BoolVar(&t.dryrun, "dryrun", false, "print what would be done, do nothing")
	fs.BoolVarP(&t.quiet, "quiet", "q", false, "no progress bar and no per-file lines (the summary stays)")
	fs.IntVar(&t.parallel, "parallel", transfer.DefaultParallel(), "parts of one file in flight")
	fs.IntVar(&t.concurrency, "concurrency", DefaultConcurrency, "files transferred at once")
	fs.StringVar(&t.partSize, "part-size", "", "part size, e.g. 16MiB (default: 8MiB or more, so that there are at most 10,000 parts)")
	fs.StringVar(&t.stateDir, "state-dir", "", "where resumable upload state is kept (default: the user cache dir)")
	fs.StringVar(&t.copyThreshold, "multipart-copy-threshold", "", "size above which an s3→s3 copy uses UploadPartCopy (default 5GiB, the CopyObject limit)")
	_ = fs.MarkHidden("multipart-copy-threshold")
}

// setup validates the flags and returns the S3 client and a runner whose
// per-file lines and summary go to log.
func (t *transferFlags) setup(ctx context.Context, e env, log io.Writer) (*s3.Client, *runner, error) {
	obj, err := t.object.options()
	if err != nil {
		return nil, nil, err
	}
	ps, err := parseSize(t.partSize)
	if err != nil {
		return nil, nil, err
	}
	threshold, err := parseSize(t.copyThreshold)
	if err != nil {
		return nil, nil, err
	}
	if t.concurrency < 1 || t.parallel < 1 {
		return nil, nil, errors.New("--concurrency and --parallel must be at least 1")
	}
	c, err := t.s3.client(ctx, e)
	if err != nil {
		return nil, nil, err
	}
	bar := newProgress(e.stderr, t.quiet)
	tc := transfer.New(c, transfer.Options{Parallel: t.parallel, PartSize: ps, StateDir: t.stateDir,
		CopyThreshold: threshold, Progress: bar.add, Object: obj})
	r := &runner{tc: tc, c: c, stdin: e.stdin, stdout: e.stdout, log: log, errs: e.stderr,
		dryrun: t.dryrun, quiet: t.quiet, concurrency: t.concurrency, bar: bar, begin: time.Now()}
	return c, r, nil
}

// expander returns the source expander of these flags.
func (t *transferFlags) expander(c *s3.Client, recursive bool) expander {
	return expander{c: c, filters: &t.filters, recursive: recursive}
}
