package lifecycle

import (
	"context"

	"github.com/cairn-s3/cairn/internal/store"
)

// stepVersions lists one page of the bucket's versions, newest first per
// key, and applies the rules to each; the walk's memory of the key being
// visited carries over to the next page in the cursor.
//
// The page's actions are decided first and applied together at its end
// (removals in few commits: DeleteObjects), so a step stopped before its
// end (a shutdown) has changed nothing and its cursor is the saved one.
func (w *Worker) stepVersions(ctx context.Context, b *store.Bucket, cfg *Config, st *State) error {
	res, err := w.st.ListObjectVersions(ctx, b.Name, store.ListVersionsOptions{
		KeyMarker: st.KeyMarker, VersionIDMarker: st.IDMarker, MaxKeys: w.opts.PageSize})
	if err != nil {
		return err
	}
	var page batch
	for i := range res.Versions {
		if err := w.pace(ctx); err != nil {
			return err
		}
		w.visit(b, cfg, st, &res.Versions[i], &page)
	}
	last := !res.IsTruncated || res.NextKeyMarker == ""
	if last {
		w.flushPending(b, cfg, st, &page)
	}
	// A page decided is applied whole, even if the server stops meanwhile
	// (it is bounded by the page size): its changes and the cursor past
	// them are saved together, so the counts stay exact across restarts.
	if err := w.applyBatch(context.WithoutCancel(ctx), b, st, &page); err != nil {
		return err
	}
	if !last {
		st.KeyMarker, st.IDMarker = res.NextKeyMarker, res.NextVersionIDMarker
		return nil
	}
	st.Phase, st.KeyMarker, st.IDMarker, st.Key = phaseUploads, "", "", ""
	return nil
}

// visit decides the rules' action on one listed version.
func (w *Worker) visit(b *store.Bucket, cfg *Config, st *State, oi *store.ObjectInfo, page *batch) {
	if oi.Key != st.Key {
		w.flushPending(b, cfg, st, page)
		st.Key, st.PrevModified, st.Noncurrent = oi.Key, oi.LastModified, 0
	} else {
		st.Pending = nil // the marker hides an older version: it stays
	}
	if oi.IsLatest && oi.DeleteMarker {
		// Whether it is alone shows with the key's next entry.
		st.Pending = &Marker{Key: oi.Key, VersionID: oi.VersionID, LastModified: oi.LastModified}
		return
	}
	v := Version{Key: oi.Key, Size: oi.Size, Tags: oi.Meta.Tags, LastModified: oi.LastModified,
		IsLatest: oi.IsLatest, DeleteMarker: oi.DeleteMarker, StorageClass: oi.Meta.StorageClass,
		NoncurrentSince: st.PrevModified, NewerNoncurrent: st.Noncurrent}
	if !oi.IsLatest {
		st.Noncurrent++
	}
	st.PrevModified = oi.LastModified
	page.add(*oi, cfg.Decide(&v, w.opts.Now(), w.clk))
}

// flushPending decides on a current delete marker found to be the last
// version of its key.
func (w *Worker) flushPending(b *store.Bucket, cfg *Config, st *State, page *batch) {
	m := st.Pending
	if m == nil {
		return
	}
	st.Pending = nil
	v := Version{Key: m.Key, LastModified: m.LastModified, IsLatest: true, DeleteMarker: true, Alone: true}
	d := cfg.Decide(&v, w.opts.Now(), w.clk)
	page.add(store.ObjectInfo{Bucket: b.Name, Key: m.Key, VersionID: m.VersionID, IsLatest: true, DeleteMarker: true,
		LastModified: m.LastModified}, d)
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
	var aborts []store.Upload
	var ds []Decision
	for _, up := range res.Uploads {
		if err := w.pace(ctx); err != nil {
			return err
		}
		if d := cfg.DecideUpload(up.Key, up.Initiated, now, w.clk); d.Action == AbortUpload {
			aborts, ds = append(aborts, up), append(ds, d)
		}
	}
	for i := range aborts { // applied whole, as stepVersions' page
		if err := w.abort(context.WithoutCancel(ctx), b, &aborts[i], ds[i], st); err != nil {
			return err
		}
	}
	if res.IsTruncated && res.NextKeyMarker != "" {
		st.KeyMarker, st.IDMarker = res.NextKeyMarker, res.NextUploadIDMarker
		return nil
	}
	st.Phase, st.KeyMarker, st.IDMarker = phaseDone, "", ""
	return nil
}
