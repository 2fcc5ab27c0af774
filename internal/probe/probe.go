// Package probe checks live S3 endpoints the way a client sees them: every
// interval it runs one cycle of real requests against each target (create
// a bucket, write, list, read back, delete) and exports their durations and
// failures as Prometheus metrics.
//
// It is built on aws-sdk-go-v2 only, never on Cairn's own auth or S3 code,
// so a bug there cannot hide itself from the probe.
package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
)

// Task names one kind of request of the cycle; it is the task label.
type Task string

// The tasks of a cycle, in order.
const (
	TaskCreate      Task = "create"
	TaskPut         Task = "put"
	TaskListBuckets Task = "list_buckets"
	TaskListObjects Task = "list_objects"
	TaskGet         Task = "get"
	TaskDelete      Task = "delete"
	TaskDeleteMany  Task = "delete_many"
	TaskRemove      Task = "remove"
)

// Tasks of the optional event-delivery check; they appear only in
// s3_probe_failures_total, so the request metrics keep their task set.
const (
	TaskEventSetup Task = "event_setup" // CreateTopic, PutBucketNotificationConfiguration
	TaskEvent      Task = "event"       // the event of the PUT did not arrive
)

// Tasks lists every task of a cycle.
var Tasks = []Task{TaskCreate, TaskPut, TaskListBuckets, TaskListObjects, TaskGet, TaskDelete, TaskDeleteMany, TaskRemove}

// Failure codes that are not S3 error codes.
const (
	CodeConnection = "connection" // the target could not be reached
	CodeTimeout    = "timeout"    // the per-request timeout expired
	CodeIntegrity  = "integrity"  // an object read back differs from what was written
	CodeMissing    = "missing"    // an expected event did not arrive
	CodeOther      = "other"
)

// Config configures a Prober. Defaults fills the zero fields.
type Config struct {
	// Endpoints are the targets' base URLs, e.g. http://127.0.0.1:7480.
	Endpoints []string
	// Interval between cycles.
	Interval time.Duration
	// ObjectSize is the size in bytes of every object written.
	ObjectSize int
	// Objects is how many objects are written and then removed with one
	// DeleteObjects request.
	Objects int
	// BucketPrefix starts every bucket name; each cycle uses a new bucket.
	BucketPrefix string
	// RequestTimeout bounds each request.
	RequestTimeout time.Duration
	// AWS carries credentials, region and HTTP client; the endpoint is set
	// per target. Requests are not retried: the probe measures each one.
	AWS aws.Config
	// Logger defaults to one that discards.
	Logger *slog.Logger

	// EventListen, if set, enables the event-delivery check: the probe
	// listens there (host:port) for events pushed by the targets.
	EventListen string
	// EventURL is the push endpoint given to the targets' topics;
	// http://<EventListen's address> if empty.
	EventURL string
	// EventTimeout is how long after a PUT its event may arrive.
	EventTimeout time.Duration
}

// Defaults.
const (
	DefaultInterval       = 120 * time.Second
	DefaultObjectSize     = 4096
	DefaultObjects        = 10
	DefaultBucketPrefix   = "cairn-probe"
	DefaultRequestTimeout = 10 * time.Second
	DefaultRegion         = "us-east-1"
	DefaultEventTimeout   = 10 * time.Second
)

func (c *Config) defaults() {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.ObjectSize < 0 {
		c.ObjectSize = 0
	}
	if c.Objects <= 0 {
		c.Objects = DefaultObjects
	}
	if c.BucketPrefix == "" {
		c.BucketPrefix = DefaultBucketPrefix
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.AWS.Region == "" {
		c.AWS.Region = DefaultRegion
	}
	if c.EventTimeout <= 0 {
		c.EventTimeout = DefaultEventTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) validate() error {
	var errs []error
	if len(c.Endpoints) == 0 {
		errs = append(errs, errors.New("probe: no endpoint"))
	}
	for _, e := range c.Endpoints {
		if !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
			errs = append(errs, fmt.Errorf("probe: endpoint %q: want http:// or https:// URL", e))
		}
	}
	// Bucket names are at most 63 characters; the cycle adds 1+16+1+8.
	if n := len(c.BucketPrefix); n > 36 || strings.ToLower(c.BucketPrefix) != c.BucketPrefix {
		errs = append(errs, fmt.Errorf("probe: bucket prefix %q: want at most 36 lowercase characters", c.BucketPrefix))
	}
	return errors.Join(errs...)
}

// Prober runs cycles against its targets.
type Prober struct {
	cfg     Config
	m       *metrics
	targets []target
	events  *events // nil without EventListen
}

type target struct {
	endpoint string
	client   *s3.Client
	sns      *sns.Client
}

// New returns a Prober for cfg; its metrics are on its own registry,
// served by Handler. With Config.EventListen it listens for events at
// once; Close stops that listener.
func New(cfg Config) (*Prober, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := &Prober{cfg: cfg, m: newMetrics()}
	for _, ep := range cfg.Endpoints {
		client := s3.NewFromConfig(cfg.AWS, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(ep)
			o.UsePathStyle = true
			o.Retryer = aws.NopRetryer{}
		})
		snsClient := sns.NewFromConfig(cfg.AWS, func(o *sns.Options) {
			o.BaseEndpoint = aws.String(ep)
			o.Retryer = aws.NopRetryer{}
		})
		p.targets = append(p.targets, target{endpoint: ep, client: client, sns: snsClient})
		p.m.init(ep)
	}
	if cfg.EventListen != "" {
		ev, err := startEvents(cfg.EventListen, cfg.EventURL, cfg.EventTimeout)
		if err != nil {
			return nil, fmt.Errorf("probe: event listener: %w", err)
		}
		p.events = ev
		for _, ep := range cfg.Endpoints {
			p.m.initEvents(ep)
		}
	}
	return p, nil
}

// Close stops the event listener, if any.
func (p *Prober) Close() error {
	if p.events == nil {
		return nil
	}
	return p.events.close()
}

// EventURL is the push endpoint the targets' probe topics are given, or
// "" without the event-delivery check.
func (p *Prober) EventURL() string {
	if p.events == nil {
		return ""
	}
	return p.events.url
}

// Handler serves the probe's metrics (mount it at /metrics).
func (p *Prober) Handler() http.Handler { return p.m.handler() }

// Run runs a cycle at once and then every interval until ctx ends.
func (p *Prober) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		p.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce runs one cycle against every target concurrently and returns
// their results, in the order of Config.Endpoints.
func (p *Prober) RunOnce(ctx context.Context) []Result {
	res := make([]Result, len(p.targets))
	var wg sync.WaitGroup
	for i, t := range p.targets {
		wg.Go(func() {
			res[i] = p.cycle(ctx, t)
			for _, f := range res[i].Failures {
				p.cfg.Logger.Warn("probe failure", "target", t.endpoint, "task", f.Task, "code", f.Code, "err", f.Err)
			}
		})
	}
	wg.Wait()
	return res
}

// Result is the outcome of one cycle against one target.
type Result struct {
	Target   string
	Bucket   string
	Duration time.Duration
	Failures []Failure
}

// OK reports whether every request of the cycle succeeded.
func (r Result) OK() bool { return len(r.Failures) == 0 }

// Failure is one failed request (or integrity check) of a cycle.
type Failure struct {
	Task Task
	Code string
	Err  error
}

func (f Failure) Error() string { return fmt.Sprintf("%s: %s: %v", f.Task, f.Code, f.Err) }

// run is one cycle in progress.
type run struct {
	p   *Prober
	t   target
	res *Result
}

// do runs one request under the per-request timeout, and records its
// duration (on success) or its failure.
func (r *run) do(ctx context.Context, task Task, fn func(context.Context) error) error {
	reqCtx, cancel := context.WithTimeout(ctx, r.p.cfg.RequestTimeout)
	defer cancel()
	start := time.Now()
	err := fn(reqCtx)
	if err == nil {
		r.p.m.observe(r.t.endpoint, task, time.Since(start).Seconds())
		return nil
	}
	if ctx.Err() != nil {
		// The probe is stopping; that is not the target's failure.
		return err
	}
	code := Code(err)
	r.p.m.fail(r.t.endpoint, task, code)
	r.res.Failures = append(r.res.Failures, Failure{Task: task, Code: code, Err: err})
	return err
}

// doAux is do for the requests of the event-delivery check: a failure is
// counted in s3_probe_failures_total only, and durations are not recorded.
func (r *run) doAux(ctx context.Context, task Task, fn func(context.Context) error) error {
	reqCtx, cancel := context.WithTimeout(ctx, r.p.cfg.RequestTimeout)
	defer cancel()
	err := fn(reqCtx)
	if err == nil || ctx.Err() != nil {
		return err
	}
	code := Code(err)
	r.p.m.failures.WithLabelValues(r.t.endpoint, string(task), code).Inc()
	r.res.Failures = append(r.res.Failures, Failure{Task: task, Code: code, Err: err})
	return err
}

// cycle runs the requests of one cycle. A failed step skips only the
// steps that depend on it: what was created is always deleted.
func (p *Prober) cycle(ctx context.Context, t target) Result {
	start := time.Now()
	res := Result{Target: t.endpoint, Bucket: bucketName(p.cfg.BucketPrefix)}
	defer func() { res.Duration = time.Since(start) }()
	r := &run{p: p, t: t, res: &res}
	c, bucket := t.client, aws.String(res.Bucket)

	if r.do(ctx, TaskCreate, func(ctx context.Context) error {
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})
		return err
	}) != nil {
		return res
	}

	data := payload(p.cfg.ObjectSize)
	key := "probe-object"
	left := map[string]bool{} // keys written and not yet deleted
	var event chan time.Time
	if p.events != nil && p.events.setup(ctx, r, res.Bucket, key) == nil {
		event = p.events.expect(res.Bucket, key)
		defer p.events.forget(res.Bucket, key)
	}
	putStart := time.Now()
	if r.do(ctx, TaskPut, func(ctx context.Context) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: bytes.NewReader(data)})
		return err
	}) == nil {
		left[key] = true
	} else {
		event = nil // no PUT, no event to wait for
	}
	r.do(ctx, TaskListBuckets, func(ctx context.Context) error {
		_, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
		return err
	})
	r.do(ctx, TaskListObjects, func(ctx context.Context) error {
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
		return err
	})
	if left[key] {
		var got []byte
		if r.do(ctx, TaskGet, func(ctx context.Context) error {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key)})
			if err != nil {
				return err
			}
			defer out.Body.Close()
			got, err = readAll(out.Body, len(data))
			return err
		}) == nil && !bytes.Equal(got, data) {
			p.m.integrity.WithLabelValues(t.endpoint).Inc()
			res.Failures = append(res.Failures, Failure{Task: TaskGet, Code: CodeIntegrity,
				Err: fmt.Errorf("read %d bytes back, want the %d written", len(got), len(data))})
		}
		if r.do(ctx, TaskDelete, func(ctx context.Context) error {
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String(key)})
			return err
		}) == nil {
			delete(left, key)
		}
	}

	for i := range p.cfg.Objects {
		k := fmt.Sprintf("probe-many-%04d", i)
		if r.do(ctx, TaskPut, func(ctx context.Context) error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(k), Body: bytes.NewReader(data)})
			return err
		}) == nil {
			left[k] = true
		}
	}
	if event != nil {
		p.events.wait(ctx, r, event, putStart)
	}
	if len(left) > 0 {
		var ids []s3types.ObjectIdentifier
		for k := range left {
			ids = append(ids, s3types.ObjectIdentifier{Key: aws.String(k)})
		}
		r.do(ctx, TaskDeleteMany, func(ctx context.Context) error {
			out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
			if err != nil {
				return err
			}
			if len(out.Errors) > 0 {
				e := out.Errors[0]
				return &smithy.GenericAPIError{Code: aws.ToString(e.Code),
					Message: fmt.Sprintf("%d of %d keys not deleted; %s: %s", len(out.Errors), len(ids), aws.ToString(e.Key), aws.ToString(e.Message))}
			}
			return nil
		})
	}
	r.do(ctx, TaskRemove, func(ctx context.Context) error {
		_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: bucket})
		return err
	})
	return res
}

// Code classifies a request error: its S3 error code if the target
// answered, otherwise CodeTimeout, CodeConnection or CodeOther.
func Code(err error) string {
	if ae, ok := errors.AsType[smithy.APIError](err); ok && ae.ErrorCode() != "" {
		return ae.ErrorCode()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return CodeTimeout
	}
	if ne, ok := errors.AsType[net.Error](err); ok {
		if ne.Timeout() {
			return CodeTimeout
		}
		return CodeConnection
	}
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return CodeConnection
	}
	return CodeOther
}

// bucketName returns a new bucket name: prefix, time and random suffix.
func bucketName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%016x-%s", prefix, time.Now().UnixNano(), hex.EncodeToString(b[:]))
}

// payload returns n random bytes, so a target cannot pass by returning
// zeros or a cached object.
func payload(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// readAll reads a body expected to hold want bytes; it stops one byte
// past that, so a huge wrong answer is not read whole.
func readAll(r io.Reader, want int) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, int64(want)+1))
}
