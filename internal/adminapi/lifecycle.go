package adminapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// Lifecycle is the lifecycle worker as the admin API drives it
// (radosgw-admin lc list and lc process).
type Lifecycle interface {
	// List returns the lifecycle state of every bucket with a lifecycle
	// configuration.
	List(ctx context.Context) ([]LifecycleStatus, error)
	// Process runs a pass over the stored bucket name (every bucket with a
	// configuration if ""), now, and returns when it ends.
	Process(ctx context.Context, bucket string) error
}

// LifecycleStatus is one bucket's entry of lc list.
type LifecycleStatus struct {
	Bucket       string    `json:"bucket"`
	Tenant       string    `json:"tenant"`
	Status       string    `json:"status"` // "UNINITIAL" (never run), "PROCESSING", "COMPLETE", "FAILED"
	Error        string    `json:"error,omitempty"`
	Started      time.Time `json:"started,omitzero"`
	Finished     time.Time `json:"finished,omitzero"`
	Removed      int64     `json:"objects_removed"`
	Transitioned int64     `json:"objects_transitioned"`
	Aborted      int64     `json:"uploads_aborted"`
	Skipped      int64     `json:"skipped"`
	// Totals over every pass of the bucket.
	TotalRemoved      int64 `json:"total_objects_removed"`
	TotalTransitioned int64 `json:"total_objects_transitioned"`
	TotalAborted      int64 `json:"total_uploads_aborted"`
}

// listLifecycle: GET /admin/lc → {"buckets": [<status>]}.
func (a *API) listLifecycle(ctx context.Context, q query) (any, error) {
	if a.lifecycle == nil {
		return nil, errNotImplemented
	}
	sts, err := a.lifecycle.List(ctx)
	if err != nil {
		return nil, err
	}
	for i := range sts {
		b := sts[i].Bucket
		sts[i].Bucket, sts[i].Tenant = tenant.BucketName(b), tenant.OfBucket(b)
		if sts[i].Status == "" {
			sts[i].Status = "UNINITIAL"
		}
	}
	if sts == nil {
		sts = []LifecycleStatus{}
	}
	return map[string]any{"buckets": sts}, nil
}

// processLifecycle: POST /admin/lc?process[&bucket=B[&tenant=T]] runs a
// pass now, whatever the work window, and answers when it is done.
func (a *API) processLifecycle(ctx context.Context, q query) (any, error) {
	if a.lifecycle == nil {
		return nil, errNotImplemented
	}
	bucket := ""
	if q.Get("bucket") != "" {
		var err error
		if bucket, err = bucketParam(q); err != nil {
			return nil, err
		}
	}
	err := a.lifecycle.Process(ctx, bucket)
	if errors.Is(err, store.ErrNoSuchBucket) {
		return nil, errNoSuchBucket.with(fmt.Errorf("bucket %q", q.Get("bucket")))
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"processed": true}, nil
}
