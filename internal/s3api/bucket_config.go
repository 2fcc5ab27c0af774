package s3api

import (
	"context"
	"encoding/xml"
	"net/http"

	"github.com/cairn-s3/cairn/internal/store"
)

// setBucketConfig stores (or, for nil, removes) one bucket Config document.
func (a *API) setBucketConfig(ctx context.Context, bucket, name string, raw []byte) error {
	return a.store.UpdateBucket(ctx, bucket, func(b *store.Bucket) error {
		if raw == nil {
			delete(b.Config, name)
			return nil
		}
		if b.Config == nil {
			b.Config = map[string][]byte{}
		}
		b.Config[name] = raw
		return nil
	})
}

// setBucketConfigXML stores v, marshalled as XML, as one bucket Config
// document.
func (a *API) setBucketConfigXML(ctx context.Context, bucket, name string, v any) error {
	raw, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	return a.setBucketConfig(ctx, bucket, name, raw)
}

// deleteBucketConfig is the whole of the DELETE handlers of bucket
// configuration documents: the owner removes one Config entry, and
// removing a missing one succeeds, as in S3.
func (a *API) deleteBucketConfig(w http.ResponseWriter, r *http.Request, req *Request, name string) error {
	if err := a.setBucketConfig(r.Context(), req.Bucket, name, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
