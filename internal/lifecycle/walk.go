package lifecycle

import (
	"context"

	"github.com/cairn-s3/cairn/internal/store"
)

// stepVersions lists one page of the bucket's versions, newest first per
// key, and applies the rules to each; the walk's memory of the key being
// visited carries over to the next page in the cursor.
func (w *Worker) stepVersions(ctx context.Context, b *store.Bucket, cfg *Config, st *State) error {
	res, err := w.st.ListObjectVersions(ctx, b.Name, store.ListVersionsOptions{
		KeyMarker: st.KeyMarker, VersionIDMarker: st.IDMarker, MaxKeys: w.opts.PageSize})
	if err != nil {
		return err
	}
	for i := range res.Versions {
		if err := w.pace(ctx); err != nil {
			return err
		}
		oi := &res.Versions[i]
		if err := w.visit(ctx, b, cfg, st, oi); err != nil {
			return err
		}
		// The cursor moves past each entry done, so a pass stopped
		// mid-page (a shutdown) resumes after it.
		st.KeyMarker, st.IDMarker = oi.Key, markerID(oi)
	}
	if res.IsTruncated && res.NextKeyMarker != "" {
		st.KeyMarker, st.IDMarker = res.NextKeyMarker, res.NextVersionIDMarker
		return nil
	}
	if err := w.flushPending(ctx, b, cfg, st); err != nil {
		return err
	}
	st.Phase, st.KeyMarker, st.IDMarker, st.Key = phaseUploads, "", "", ""
	return nil
}

// visit decides and applies the rules to one listed version.
func (w *Worker) visit(ctx context.Context, b *store.Bucket, cfg *Config, st *State, oi *store.ObjectInfo) error {
	if oi.Key != st.Key {
		if err := w.flushPending(ctx, b, cfg, st); err != nil {
			return err
		}
		st.Key, st.PrevModified, st.Noncurrent = oi.Key, oi.LastModified, 0
	} else {
		st.Pending = nil // the marker hides an older version: it stays
	}
	if oi.IsLatest && oi.DeleteMarker {
		// Whether it is alone shows with the key's next entry.
		st.Pending = &Marker{Key: oi.Key, VersionID: oi.VersionID, LastModified: oi.LastModified}
		return nil
	}
	v := Version{Key: oi.Key, Size: oi.Size, Tags: oi.Meta.Tags, LastModified: oi.LastModified,
		IsLatest: oi.IsLatest, DeleteMarker: oi.DeleteMarker, StorageClass: oi.Meta.StorageClass,
		NoncurrentSince: st.PrevModified, NewerNoncurrent: st.Noncurrent}
	if !oi.IsLatest {
		st.Noncurrent++
	}
	st.PrevModified = oi.LastModified
	d := cfg.Decide(&v, w.opts.Now(), w.clk)
	return w.apply(ctx, b, oi, d, st)
}

// flushPending applies the rules to a current delete marker found to be
// the last version of its key.
func (w *Worker) flushPending(ctx context.Context, b *store.Bucket, cfg *Config, st *State) error {
	m := st.Pending
	if m == nil {
		return nil
	}
	st.Pending = nil
	v := Version{Key: m.Key, LastModified: m.LastModified, IsLatest: true, DeleteMarker: true, Alone: true}
	d := cfg.Decide(&v, w.opts.Now(), w.clk)
	oi := store.ObjectInfo{Bucket: b.Name, Key: m.Key, VersionID: m.VersionID, IsLatest: true, DeleteMarker: true,
		LastModified: m.LastModified}
	return w.apply(ctx, b, &oi, d, st)
}

// stepUploads lists one page of the bucket's incomplete uploads and
// aborts those a rule expires.
func (w *Worker) stepUploads(ctx context.Context, b *store.Bucket, cfg *Config, st *State) error {
	res, err := w.st.ListMultipartUploads(ctx, b.Name, store.ListUploadsOptions{
		KeyMarker: st.KeyMarker, UploadIDMarker: st.IDMarker, MaxUploads: w.opts.PageSize})
	if err != nil {
		return err
	}
	now := w.opts.Now()
	for _, up := range res.Uploads {
		if err := w.pace(ctx); err != nil {
			return err
		}
		if d := cfg.DecideUpload(up.Key, up.Initiated, now, w.clk); d.Action == AbortUpload {
			if err := w.abort(ctx, b, &up, d, st); err != nil {
				return err
			}
		}
		st.KeyMarker, st.IDMarker = up.Key, up.UploadID
	}
	if res.IsTruncated && res.NextKeyMarker != "" {
		st.KeyMarker, st.IDMarker = res.NextKeyMarker, res.NextUploadIDMarker
		return nil
	}
	st.Phase, st.KeyMarker, st.IDMarker = phaseDone, "", ""
	return nil
}

// markerID is the version-id marker that lists the versions after oi.
func markerID(oi *store.ObjectInfo) string {
	if oi.VersionID == "" {
		return "" // unversioned: one version per key, continue after the key
	}
	return oi.VersionID
}
