//go:build rados

package radosopen

import (
	"encoding/json"
	"fmt"

	"github.com/ceph/go-ceph/rados"

	"github.com/cairn-s3/cairn/internal/notify"
)

// bucketWatch is this gateway's watch of one bucket's live object.
type bucketWatch struct {
	w     *rados.Watcher
	row   liveRow
	reads bool // the row says this gateway wants the bucket's reads
	quit  chan struct{}
	done  chan struct{}
}

// Sync implements live.Relay: it watches bucket while the hub has
// listeners of it and stops once it has none; its registration asks for
// reads while some listener does.
func (r *liveRelay) Sync(bucket string) {
	h := r.hub.Load()
	if h == nil {
		return
	}
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	if r.closed {
		return
	}
	want, reads, bw := h.Listening(bucket), h.ListeningAccess(bucket), r.watching[bucket]
	switch {
	case want && bw == nil:
		if err := r.watch(bucket, reads); err != nil {
			// The listener still gets this gateway's changes.
			r.log.Warn("cannot receive other gateways' live events", "bucket", bucket, "err", err)
		}
	case !want && bw != nil:
		r.unwatch(bucket, bw)
	case want && bw.reads != reads:
		if err := r.register(bw.row, rowOp(reads)); err != nil {
			// The listener still gets this gateway's reads.
			r.log.Warn("cannot change what other gateways send of the live events", "bucket", bucket, "err", err)
			return
		}
		bw.reads = reads
	}
}

// rowOp is the registration of a watch that wants reads or not.
func rowOp(reads bool) byte {
	if reads {
		return rowAddedReads
	}
	return rowAdded
}

// watch starts receiving bucket's events, and its reads too if reads.
// Under syncMu.
func (r *liveRelay) watch(bucket string, reads bool) error {
	oid := liveBucketOID(bucket)
	if err := forceOp(r.io, oid, func(op *rados.WriteOp) { op.Create(rados.CreateIdempotent) }); err != nil {
		return fmt.Errorf("rados: create %s: %w", oid, err)
	}
	w, err := r.io.Watch(oid)
	if err != nil {
		return fmt.Errorf("rados: watch %s: %w", oid, err)
	}
	// The row is written once the watch exists, so a notify sent by
	// anyone who read the row reaches the watch (see forgetStale).
	bw := &bucketWatch{w: w, row: liveRow{bucket: bucket, gid: r.gid, cookie: uint64(w.ID())}, reads: reads,
		quit: make(chan struct{}), done: make(chan struct{})}
	if err := r.register(bw.row, rowOp(reads)); err != nil {
		_ = w.Delete()
		return err
	}
	r.watching[bucket] = bw
	r.wg.Add(1)
	go r.bucketLoop(bw)
	return nil
}

// unwatch stops receiving bucket's events. Under syncMu.
func (r *liveRelay) unwatch(bucket string, bw *bucketWatch) {
	delete(r.watching, bucket)
	if err := r.register(bw.row, rowRemoved); err != nil {
		r.log.Warn("cannot unregister a live watch", "bucket", bucket, "err", err)
	}
	close(bw.quit)
	<-bw.done
	_ = bw.w.Delete()
}

// bucketLoop delivers a bucket's relayed events to the hub. A lost watch
// is set up again (with a new row) if listeners remain.
func (r *liveRelay) bucketLoop(bw *bucketWatch) {
	defer r.wg.Done()
	defer close(bw.done)
	for {
		select {
		case <-bw.quit:
			return
		case ev := <-bw.w.Events():
			r.deliver(bw.row.bucket, ev.Data)
			_ = ev.Ack(nil)
		case err := <-bw.w.Errors():
			r.log.Warn("live watch lost; re-establishing", "bucket", bw.row.bucket, "err", err)
			go r.rewatch(bw)
			<-bw.quit // unwatch, called by rewatch, waits for done
			return
		}
	}
}

// rewatch replaces a lost watch if it is still the bucket's.
func (r *liveRelay) rewatch(bw *bucketWatch) {
	r.syncMu.Lock()
	if r.watching[bw.row.bucket] == bw {
		r.unwatch(bw.row.bucket, bw)
	}
	r.syncMu.Unlock()
	r.Sync(bw.row.bucket)
}

// deliver hands a relayed batch to the hub.
func (r *liveRelay) deliver(bucket string, data []byte) {
	h := r.hub.Load()
	var b liveBatch
	if h == nil || json.Unmarshal(data, &b) != nil || b.From == r.gid {
		return
	}
	if b.DroppedReads > 0 {
		h.AddGap(bucket, b.DroppedReads, notify.ObjectAccessed)
	}
	for i, e := range b.Events {
		dropped := int64(0)
		if i == 0 {
			dropped = b.Dropped
		}
		h.Deliver(bucket, e.Owner, e.Event, e.Key, e.Record, dropped)
	}
	if len(b.Events) == 0 && b.Dropped > 0 {
		h.Deliver(bucket, "", 0, "", nil, b.Dropped)
	}
}
