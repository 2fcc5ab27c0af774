package notify

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// A waiter collects the synchronous pushes a request started, so that the
// request's response can wait for them (spec §6.1: the push happens after
// the operation and before the response). Pushes start in AfterCommit and
// run outside the store's locks; only the response waits.
type waiter struct {
	mu    sync.Mutex
	chans []chan struct{}
	done  bool
}

type waiterKey struct{}

func waiterFrom(ctx context.Context) *waiter {
	w, _ := ctx.Value(waiterKey{}).(*waiter)
	return w
}

func (w *waiter) add(ch chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.chans = append(w.chans, ch)
	}
}

// WithPushWaiter returns a context under which changes register their
// synchronous pushes, and a wait function that blocks until those pushes
// finished or timeout passed. Call wait before writing the response; it is
// idempotent and only waits the first time. Without a waiter (background
// work), pushes run without anyone waiting.
func WithPushWaiter(ctx context.Context, timeout time.Duration) (context.Context, func()) {
	w := &waiter{}
	var once sync.Once
	wait := func() {
		once.Do(func() {
			w.mu.Lock()
			chans := w.chans
			w.done = true
			w.mu.Unlock()
			if len(chans) == 0 {
				return
			}
			t := time.NewTimer(timeout)
			defer t.Stop()
			for _, ch := range chans {
				select {
				case <-ch:
				case <-t.C:
					return
				}
			}
		})
	}
	return context.WithValue(ctx, waiterKey{}, w), wait
}

// SyncTimeout is how long a response may wait for its pushes.
func (d *Dispatcher) SyncTimeout() time.Duration { return d.cfg.SyncTimeout }

// cloudEvents derives the CloudEvents attribute values from a record body
// (spec §5.2), so that queued records need not store them.
func cloudEvents(body []byte) map[string]string {
	var env struct {
		Records []record `json:"Records"`
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Records) != 1 {
		return nil
	}
	r := &env.Records[0]
	return map[string]string{
		"ce-type":    "com.amazonaws." + r.EventName,
		"ce-time":    r.EventTime,
		"ce-id":      r.ResponseElements.RequestID + "." + r.ResponseElements.ID2,
		"ce-source":  "ceph:s3." + r.AWSRegion + "." + r.S3.Bucket.Name,
		"ce-subject": r.S3.Object.Key,
	}
}
