package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-s3/cairn/internal/adminapi"
	"github.com/cairn-s3/cairn/internal/lifecycle"
	"github.com/cairn-s3/cairn/internal/metrics"
)

// LifecycleConfig tunes the lifecycle worker, which applies every bucket's
// lifecycle rules while the server runs.
type LifecycleConfig struct {
	// DebugInterval, if set, is the length of a lifecycle "day" (RGW's
	// rgw_lc_debug_interval): rule days last that long and the worker
	// runs continuously. Zero is S3's day.
	DebugInterval time.Duration
	// Window is when the scheduled walk runs, "HH:MM-HH:MM" UTC (RGW's
	// rgw_lifecycle_work_time); "" is all day.
	Window string
	// Rate bounds the object versions and uploads examined per second
	// (0: unlimited).
	Rate float64
	// PageSize is how many entries one step lists before it saves the
	// cursor (1000 if zero).
	PageSize int
}

func (c LifecycleConfig) validate() error {
	var errs []error
	if _, err := lifecycle.ParseWindow(c.Window); err != nil {
		errs = append(errs, err)
	}
	if c.DebugInterval < 0 {
		errs = append(errs, fmt.Errorf("lifecycle debug interval %s: want a positive duration or 0", c.DebugInterval))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("lifecycle rate %g: want objects per second, 0 for unlimited", c.Rate))
	}
	return errors.Join(errs...)
}

// newLifecycle builds the worker on the store; m, if set, counts what it
// does.
func newLifecycle(st Backend, cfg Config, m *metrics.Metrics) *lifecycle.Worker {
	win, _ := lifecycle.ParseWindow(cfg.Lifecycle.Window) // validated
	opts := lifecycle.Options{Day: cfg.Lifecycle.DebugInterval, Window: win, Rate: cfg.Lifecycle.Rate,
		PageSize: cfg.Lifecycle.PageSize,
		Logger:   cfg.Logger.With("component", "lifecycle")}
	if m != nil {
		opts.Observe = func(a lifecycle.Action, size int64) { m.ObserveLifecycle(metricAction(a), size) }
	}
	if l, ok := st.(locker); ok { // gateways sharing the store step one at a time
		ttl := lockTTL(cfg.Lifecycle)
		opts.Lock = func(ctx context.Context) (func(), bool, error) { return l.TryLock(ctx, "lc", ttl) }
	}
	return lifecycle.New(st, st.KV(), opts)
}

// locker is a store several gateways share, with a lock of its own (RADOS).
type locker interface {
	TryLock(ctx context.Context, name string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// lockTTL outlasts a lifecycle step (one page, paced at the rate) by far,
// so only a dead gateway's lock lapses.
func lockTTL(c LifecycleConfig) time.Duration {
	ttl := 10 * time.Minute
	if c.Rate > 0 {
		page := c.PageSize
		if page <= 0 {
			page = 1000
		}
		ttl = max(ttl, 2*time.Duration(float64(page)/c.Rate*float64(time.Second)))
	}
	return ttl
}

// metricAction is the metrics label of a lifecycle action.
func metricAction(a lifecycle.Action) string {
	switch a {
	case lifecycle.TransitionCurrent, lifecycle.TransitionNoncurrent:
		return "transition"
	case lifecycle.AbortUpload:
		return "abort"
	}
	return "expire"
}

// startLifecycle runs the worker until the returned func is called (which
// waits for it to stop).
func (s *Server) startLifecycle(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.lc.Run(ctx)
	}()
	return func() { cancel(); <-done }
}

// lifecycleAdmin adapts the worker to the admin API.
type lifecycleAdmin struct{ w *lifecycle.Worker }

func (a lifecycleAdmin) List(ctx context.Context) ([]adminapi.LifecycleStatus, error) {
	sts, err := a.w.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]adminapi.LifecycleStatus, 0, len(sts))
	for _, st := range sts {
		out = append(out, adminapi.LifecycleStatus{Bucket: st.Bucket, Status: st.Status, Error: st.Error,
			Started: st.Started, Finished: st.Finished, Removed: st.Removed, Transitioned: st.Transitioned,
			Aborted: st.Aborted, Skipped: st.Skipped, TotalRemoved: st.Totals.Removed,
			TotalTransitioned: st.Totals.Transitioned, TotalAborted: st.Totals.Aborted})
	}
	return out, nil
}

func (a lifecycleAdmin) Process(ctx context.Context, bucket string) error {
	return a.w.Process(ctx, bucket)
}
