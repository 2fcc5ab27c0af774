package lifecycle

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/cairn-s3/cairn/internal/reqctx"
	"github.com/cairn-s3/cairn/internal/store"
)

// Principal is the requester lifecycle events name (RGW's).
const Principal = "rgw lifecycle"

// requestID is the x-amz-request-id of lifecycle events (RGW's).
const requestID = "0"

// Event names per action: RGW's, then the AWS-style one (spec §3.2).
var eventNames = map[Action][]string{
	ExpireCurrent:        {"ObjectLifecycle:Expiration:Current", "LifecycleExpiration:Delete"},
	ExpireNoncurrent:     {"ObjectLifecycle:Expiration:NonCurrent", "LifecycleExpiration:Delete"},
	ExpireDeleteMarker:   {"ObjectLifecycle:Expiration:DeleteMarker", "LifecycleExpiration:DeleteMarkerCreated"},
	TransitionCurrent:    {"ObjectLifecycle:Transition:Current", "LifecycleTransition"},
	TransitionNoncurrent: {"ObjectLifecycle:Transition:NonCurrent", "LifecycleTransition"},
	AbortUpload:          {"ObjectLifecycle:Expiration:AbortMultipartUpload"},
}

// errSkip aborts a change whose version is locked or no longer the one
// the rule was decided on: the version stays, the walk goes on.
var errSkip = errors.New("lifecycle: version locked or changed")

// eventContext makes the store's commit emit the action's events, with
// RGW's lifecycle principal and request id.
func eventContext(ctx context.Context, a Action) context.Context {
	return reqctx.With(ctx, &reqctx.Info{RequestID: requestID, Op: "Lifecycle", UserID: Principal, EventNames: eventNames[a]})
}

// batch is a page's decided actions, applied together at its end.
type batch struct {
	jobs []job
}

type job struct {
	oi store.ObjectInfo
	d  Decision
}

func (p *batch) add(oi store.ObjectInfo, d Decision) {
	if d.Action != Keep {
		p.jobs = append(p.jobs, job{oi: oi, d: d})
	}
}

// applyBatch carries out a page's actions: the removals of each kind in
// one DeleteObjects (few commits, each entry with its own check and
// event), transitions one by one. A version that is locked, gone or
// changed since it was listed is left alone.
func (w *Worker) applyBatch(ctx context.Context, b *store.Bucket, st *State, page *batch) error {
	for _, a := range []Action{ExpireCurrent, ExpireNoncurrent, ExpireDeleteMarker} {
		var jobs []job
		var entries []store.DeleteEntry
		for _, j := range page.jobs {
			if j.d.Action != a {
				continue
			}
			opts := store.DeleteOptions{Check: w.removable(&j.oi)}
			if a == ExpireCurrent {
				opts.Owner = b.Owner // of the marker a versioned bucket gets
				opts.CheckHidden = hidesListed(&j.oi)
			} else {
				opts.VersionID = j.oi.VersionID
			}
			jobs, entries = append(jobs, j), append(entries, store.DeleteEntry{Key: j.oi.Key, Options: opts})
		}
		if len(entries) == 0 {
			continue
		}
		for i, out := range w.st.DeleteObjects(eventContext(ctx, a), b.Name, entries) {
			if err := w.count(ctx, b, &jobs[i].oi, jobs[i].d, st, jobs[i].oi.Size, out.Err); err != nil {
				return err
			}
		}
	}
	for _, j := range page.jobs {
		if j.d.Action != TransitionCurrent && j.d.Action != TransitionNoncurrent {
			continue
		}
		_, err := w.st.TransitionObject(eventContext(ctx, j.d.Action), b.Name, j.oi.Key, j.oi.VersionID, j.d.StorageClass,
			func(cur store.ObjectInfo) error {
				if !same(&cur, &j.oi) {
					return errSkip
				}
				return nil
			})
		if err := w.count(ctx, b, &j.oi, j.d, st, j.oi.Size, err); err != nil {
			return err
		}
	}
	return nil
}

// abort aborts an incomplete upload.
func (w *Worker) abort(ctx context.Context, b *store.Bucket, up *store.Upload, d Decision, st *State) error {
	err := w.st.AbortMultipartUpload(eventContext(ctx, d.Action), b.Name, up.Key, up.UploadID)
	return w.count(ctx, b, &store.ObjectInfo{Key: up.Key, VersionID: up.UploadID}, d, st, 0, err)
}

// count records an applied decision; per-version failures are logged and
// skipped (the next pass retries them), a canceled context stops the walk.
func (w *Worker) count(ctx context.Context, b *store.Bucket, oi *store.ObjectInfo, d Decision, st *State, size int64, err error) error {
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, store.ErrNoSuchKey), errors.Is(err, store.ErrNoSuchVersion), errors.Is(err, store.ErrNoSuchUpload):
		return nil // removed meanwhile
	case errors.Is(err, errSkip):
		st.Skipped++
		return nil
	default:
		st.Skipped++
		w.log.Warn("lifecycle action failed", "bucket", b.Name, "key", oi.Key, "version", oi.VersionID,
			"action", d.Action.String(), "rule", d.RuleID, "err", err)
		return nil
	}
	switch d.Action {
	case TransitionCurrent, TransitionNoncurrent:
		st.Transitioned++
		st.Totals.Transitioned++
	case AbortUpload:
		st.Aborted++
		st.Totals.Aborted++
	default:
		st.Removed++
		st.Totals.Removed++
	}
	if w.opts.Observe != nil {
		w.opts.Observe(d.Action, size)
	}
	return nil
}

// removable is the DeleteOptions.Check of a lifecycle removal: the version
// about to go must be the one listed, and neither under a legal hold nor
// under retention (lifecycle never bypasses GOVERNANCE).
func (w *Worker) removable(listed *store.ObjectInfo) func(store.ObjectInfo) error {
	return func(cur store.ObjectInfo) error {
		if !same(&cur, listed) || cur.IsLatest != listed.IsLatest {
			return errSkip // a noncurrent version current again is not what a noncurrent rule chose
		}
		m := cur.Meta
		if m.LegalHold == "ON" || m.LockMode != "" && m.LockRetainUntil.After(w.opts.Now()) {
			return errSkip
		}
		return nil
	}
}

// hidesListed is the DeleteOptions.CheckHidden of a current version's
// expiration: the marker must hide the version listed, not one written
// since (checked under the store's lock or guard of the marker's write).
func hidesListed(listed *store.ObjectInfo) func(*store.ObjectInfo) error {
	return func(hidden *store.ObjectInfo) error {
		if hidden == nil || !same(hidden, listed) {
			return errSkip
		}
		return nil
	}
}

// same reports whether cur is still the version that was listed, with the
// tags a rule's filter judged.
func same(cur, listed *store.ObjectInfo) bool {
	return cur.VersionID == listed.VersionID && cur.ETag == listed.ETag &&
		cur.LastModified.Truncate(time.Millisecond).Equal(listed.LastModified.Truncate(time.Millisecond)) &&
		maps.Equal(cur.Meta.Tags, listed.Meta.Tags)
}
