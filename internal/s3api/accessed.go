package s3api

import (
	"context"
	"net/http"

	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/store"
)

// accessReporter reports served reads to the live stream as
// s3:ObjectAccessed events (MinIO's names; mc watch asks for them by
// default). Only the live stream gets them: bucket notifications have no
// read events in S3's and RGW's configurations.
type accessReporter interface {
	WantsAccess(bucket string) bool
	Accessed(ctx context.Context, ev notify.EventType, b store.Bucket, obj store.ObjectInfo)
}

// reportAccess wraps the handler of a read so that, once it has served
// the object, the read is published to the bucket's listeners. The object
// is looked up again (the version served, from the answer's header) only
// when a listener of the bucket asked for reads.
func (a *API) reportAccess(next Handler, ev notify.EventType, hub accessReporter) Handler {
	return func(w http.ResponseWriter, r *http.Request, req *Request) error {
		if err := next(w, r, req); err != nil || !hub.WantsAccess(req.Bucket) {
			return err
		}
		ctx := r.Context()
		opts := store.GetOptions{VersionID: w.Header().Get("X-Amz-Version-Id")}
		obj, err := a.store.HeadObject(ctx, req.Bucket, req.Key, opts)
		if err != nil {
			return nil // gone meanwhile: nothing to report, the read was served
		}
		b, err := a.store.GetBucket(ctx, req.Bucket)
		if err != nil {
			return nil
		}
		hub.Accessed(ctx, ev, b, obj)
		return nil
	}
}
