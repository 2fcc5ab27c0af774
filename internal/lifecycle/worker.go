package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
)

// Store is what the worker needs of the storage backend: listings, and
// the ordinary removals and updates whose commits carry the events.
type Store interface {
	ListBuckets(ctx context.Context) ([]store.Bucket, error)
	GetBucket(ctx context.Context, name string) (store.Bucket, error)
	ListObjectVersions(ctx context.Context, bucket string, opts store.ListVersionsOptions) (store.ListVersionsResult, error)
	ListMultipartUploads(ctx context.Context, bucket string, opts store.ListUploadsOptions) (store.ListUploadsResult, error)
	DeleteObjects(ctx context.Context, bucket string, entries []store.DeleteEntry) []store.DeleteOutcome
	AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error
	TransitionObject(ctx context.Context, bucket, key, versionID, storageClass string, check func(store.ObjectInfo) error) (store.ObjectInfo, error)
}

// Options tune the worker.
type Options struct {
	// Day is the length of a lifecycle day: 24h (the default) or a debug
	// interval (RGW's rgw_lc_debug_interval), with which rule days last
	// that long and the walk runs continuously.
	Day time.Duration
	// Window is when the scheduled walk runs (all day by default).
	Window Window
	// Rate bounds the versions and uploads examined per second (0:
	// unlimited).
	Rate float64
	// PageSize is the number of entries one step lists and applies before
	// it saves the cursor (1000).
	PageSize int
	Logger   *slog.Logger
	// Observe, if set, counts what the worker did (metrics).
	Observe func(a Action, size int64)
	Now     func() time.Time
	// Lock, if set, is taken around every step: gateways sharing a store
	// (RADOS) step one at a time, as each step reads and writes the cursor
	// and two walks of one bucket would repeat its actions. ok is false
	// while another gateway holds it.
	Lock func(ctx context.Context) (unlock func(), ok bool, err error)
}

// errBusy means another gateway holds the lock of the steps.
var errBusy = errors.New("lifecycle: another gateway is stepping")

// Worker applies every bucket's lifecycle rules.
type Worker struct {
	st   Store
	kv   kv.Store
	opts Options
	clk  Clock
	log  *slog.Logger
	// mu serializes steps (the scheduled walk and admin runs share the
	// cursors); it is held for one step, never across S3 requests.
	mu   sync.Mutex
	next time.Time // pacing: the earliest time of the next entry
}

// New returns a worker on the store and the kv store its cursors live in.
func New(st Store, kvs kv.Store, opts Options) *Worker {
	if opts.Day <= 0 {
		opts.Day = realDay
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 1000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Worker{st: st, kv: kvs, opts: opts, clk: Clock{Day: opts.Day}, log: opts.Logger}
}

// Clock returns the worker's day clock.
func (w *Worker) Clock() Clock { return w.clk }

// cycle is the number of the lifecycle day t falls in.
func (w *Worker) cycle(t time.Time) int64 { return t.UnixNano() / int64(w.opts.Day) }

// poll is how often the scheduled walk looks for due work.
func (w *Worker) poll() time.Duration {
	return min(max(w.opts.Day/4, 50*time.Millisecond), time.Minute)
}

// Run walks the buckets whenever a lifecycle day has begun and the window
// is open, until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTicker(w.poll())
	defer t.Stop()
	for {
		if w.opts.Window.Contains(w.opts.Now()) {
			if err := w.walkAll(ctx, false); err != nil && ctx.Err() == nil {
				w.log.Warn("lifecycle walk failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Process runs a pass over bucket (every bucket with a lifecycle
// configuration if ""), now and whatever the window, as radosgw-admin lc
// process does: a finished pass is followed by a new one.
func (w *Worker) Process(ctx context.Context, bucket string) error {
	if bucket != "" {
		if _, err := w.st.GetBucket(ctx, bucket); err != nil {
			return err
		}
		return w.walkBucket(ctx, bucket, true)
	}
	return w.walkAll(ctx, true)
}

// walkAll walks every bucket that has a lifecycle configuration and
// forgets the cursors of buckets that no longer exist.
func (w *Worker) walkAll(ctx context.Context, force bool) error {
	bs, err := w.st.ListBuckets(ctx)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if len(b.Config[ConfigKey]) == 0 {
			continue
		}
		if !force && !w.opts.Window.Contains(w.opts.Now()) {
			return nil
		}
		if err := w.walkBucket(ctx, b.Name, force); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.log.Warn("lifecycle pass failed", "bucket", b.Name, "err", err)
		}
	}
	return w.forgetGone(ctx, bs)
}

// walkBucket steps a bucket's pass to its end (starting one if due, or if
// force).
func (w *Worker) walkBucket(ctx context.Context, name string, force bool) error {
	startNew := force
	for {
		done, err := w.advance(ctx, name, startNew)
		if errors.Is(err, errBusy) {
			if !force {
				return nil // the next round tries again
			}
			if err := sleep(ctx, 100*time.Millisecond); err != nil {
				return err
			}
			continue // the same step again
		}
		if err != nil || done {
			return err
		}
		startNew = false
		if !force && !w.opts.Window.Contains(w.opts.Now()) {
			return nil
		}
	}
}

// advance runs one step of a bucket's pass and saves the cursor; it
// starts a new pass if the last one finished and a new day began (or
// startNew). It reports whether the pass is finished.
func (w *Worker) advance(ctx context.Context, name string, startNew bool) (finished bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if w.opts.Lock != nil {
		unlock, ok, err := w.opts.Lock(ctx)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, errBusy
		}
		defer unlock()
	}
	b, err := w.st.GetBucket(ctx, name)
	if errors.Is(err, store.ErrNoSuchBucket) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	st, err := loadState(ctx, w.kv, name)
	if err != nil {
		return false, err
	}
	now := w.opts.Now()
	if !st.Created.Equal(b.Created) {
		st = State{Bucket: name, Created: b.Created}
	}
	if st.Phase == "" || st.Phase == phaseDone {
		if !startNew && st.Phase == phaseDone && st.Cycle >= w.cycle(now) {
			return true, nil
		}
		st = State{Bucket: name, Created: b.Created, Cycle: w.cycle(now), Phase: phaseVersions,
			Status: StatusProcessing, Started: now, Totals: st.Totals}
	}
	if err := w.step(ctx, &b, &st); err != nil {
		if ctx.Err() != nil {
			// Stopped while deciding a page: nothing of it was applied,
			// the saved cursor is where the next start resumes.
			return false, ctx.Err()
		}
		st.Phase, st.Status, st.Error, st.Finished = phaseDone, StatusFailed, err.Error(), w.opts.Now()
	}
	if st.Phase == phaseDone && st.Status == StatusProcessing {
		st.Status, st.Finished = StatusComplete, w.opts.Now()
	}
	// Saved even if the server is stopping: the page's changes are made.
	if err := saveState(context.WithoutCancel(ctx), w.kv, &st); err != nil {
		return false, fmt.Errorf("lifecycle: save cursor of %s: %w", name, err)
	}
	return st.Phase == phaseDone, nil
}

// step lists and applies one page of the pass's current phase.
func (w *Worker) step(ctx context.Context, b *store.Bucket, st *State) error {
	raw := b.Config[ConfigKey]
	if len(raw) == 0 { // the configuration was removed mid-pass
		st.Phase = phaseDone
		return nil
	}
	cfg, err := Parse(raw)
	if err != nil {
		return err
	}
	if st.Phase == phaseVersions {
		return w.stepVersions(ctx, b, cfg, st)
	}
	return w.stepUploads(ctx, b, cfg, st)
}

// List returns the state of every bucket that has a lifecycle
// configuration (a bucket never walked has Status "").
func (w *Worker) List(ctx context.Context) ([]State, error) {
	bs, err := w.st.ListBuckets(ctx)
	if err != nil {
		return nil, err
	}
	var out []State
	for _, b := range bs {
		if len(b.Config[ConfigKey]) == 0 {
			continue
		}
		st, err := loadState(ctx, w.kv, b.Name)
		if err != nil {
			return nil, err
		}
		if !st.Created.Equal(b.Created) {
			st = State{Bucket: b.Name}
		}
		out = append(out, st)
	}
	return out, nil
}

// forgetGone drops the cursors of buckets that no longer exist.
func (w *Worker) forgetGone(ctx context.Context, bs []store.Bucket) error {
	have := make(map[string]bool, len(bs))
	for _, b := range bs {
		have[b.Name] = true
	}
	var gone kv.Batch
	for p, err := range w.kv.Scan(ctx, []byte(statePrefix), nil) {
		if err != nil {
			return err
		}
		if !have[string(p.Key[len(statePrefix):])] {
			gone.Delete(p.Key)
		}
	}
	if len(gone.Ops) == 0 {
		return nil
	}
	return w.kv.Apply(ctx, &gone)
}

// pace waits until the rate allows one more entry.
func (w *Worker) pace(ctx context.Context) error {
	if w.opts.Rate <= 0 {
		return nil
	}
	now := time.Now()
	if w.next.Before(now) {
		w.next = now
	}
	wait := w.next.Sub(now)
	w.next = w.next.Add(time.Duration(float64(time.Second) / w.opts.Rate))
	return sleep(ctx, wait)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
