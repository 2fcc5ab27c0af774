//go:build rados

package radosopen

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"syscall"

	"github.com/cairn-s3/cairn/internal/notify"
)

// liveBatch is the payload of one notify on a bucket's live object.
type liveBatch struct {
	From    uint64 `json:"from"`              // the sender's instance id
	Dropped int64  `json:"dropped,omitempty"` // events lost before these
	// DroppedReads counts the reads lost before these: a gap for the
	// listeners of reads only (gateways before it ignore it).
	DroppedReads int64      `json:"droppedReads,omitempty"`
	Events       []liveWire `json:"events"`
}

type liveWire struct {
	Event notify.EventType `json:"ev"`
	// Owner is the bucket's owner, so that a listener bound to another
	// owner's bucket of the same name skips the event (absent from
	// gateways before it: the receiver then delivers by name).
	Owner  string          `json:"owner,omitempty"`
	Key    string          `json:"key"`
	Record json.RawMessage `json:"record"`
}

// sendLoop sends queued events in order, a batch of one bucket's
// consecutive events per notify.
func (r *liveRelay) sendLoop() {
	defer r.wg.Done()
	var next *liveEvent
	for {
		var first liveEvent
		if next != nil {
			first, next = *next, nil
		} else {
			select {
			case first = <-r.q:
			default:
				// Idle: losses that no later event will carry are
				// reported now.
				r.flushDrops()
				select {
				case <-r.stop:
					return
				case first = <-r.q:
				}
			}
		}
		batch, size := []liveEvent{first}, len(first.record)+len(first.key)
	collect:
		for len(batch) < liveBatchCount && size < liveBatchBytes {
			select {
			case e := <-r.q:
				if e.bucket != first.bucket {
					next = &e
					break collect
				}
				batch = append(batch, e)
				size += len(e.record) + len(e.key)
			default:
				break collect
			}
		}
		r.notifyBatch(first.bucket, batch)
	}
}

// unsent is what a batch that could not be sent lost: its events and the
// losses it was to report.
func unsent(taken lost, batch []liveEvent) lost {
	for _, e := range batch {
		taken = taken.plus(lostOf(e.ev, 1))
	}
	return taken
}

// flushDrops sends the count of each bucket's lost events, with no event
// (the receivers report it as a gap).
func (r *liveRelay) flushDrops() {
	r.dropMu.Lock()
	buckets := slices.Collect(maps.Keys(r.drops))
	r.dropMu.Unlock()
	for _, bucket := range buckets {
		r.notifyBatch(bucket, nil)
	}
}

// notifyBatch sends one batch (or only the bucket's count of lost events,
// if batch is empty) to the gateways watching bucket and unregisters the
// watches it found gone.
func (r *liveRelay) notifyBatch(bucket string, batch []liveEvent) {
	rows := r.remoteRows(bucket)
	if len(rows) == 0 {
		r.takeDrops(bucket) // nobody watches any more: nobody missed them
		return
	}
	taken := r.takeDrops(bucket)
	if len(batch) == 0 && taken == (lost{}) {
		return
	}
	b := liveBatch{From: r.gid, Dropped: taken.changes, DroppedReads: taken.reads, Events: make([]liveWire, len(batch))}
	for i, e := range batch {
		b.Events[i] = liveWire{Event: e.ev, Owner: e.owner, Key: e.key, Record: e.record}
	}
	data, err := json.Marshal(b)
	if err != nil {
		r.log.Warn("live relay: encode", "err", err)
		r.addDrops(bucket, unsent(taken, batch))
		return
	}
	acks, timeouts, err := r.io.NotifyWithTimeout(liveBucketOID(bucket), data, liveNotifyTimeout)
	// ETIMEDOUT: some watcher did not acknowledge in time (listed in
	// timeouts); ENOENT: the object is gone, so nobody watches it.
	if err != nil && !isErrno(err, syscall.ETIMEDOUT) && !isErrno(err, syscall.ENOENT) {
		// Not sent: the next batch reports the loss.
		r.log.Warn("live relay: notify", "bucket", bucket, "err", err)
		r.addDrops(bucket, unsent(taken, batch))
		return
	}
	reached := map[[2]uint64]bool{}
	for _, a := range acks {
		reached[[2]uint64{uint64(a.NotifierID), uint64(a.WatcherID)}] = true
	}
	for _, t := range timeouts {
		reached[[2]uint64{uint64(t.NotifierID), uint64(t.WatcherID)}] = true
	}
	for _, row := range rows {
		if !reached[[2]uint64{row.gid, row.cookie}] {
			r.forgetStale(row)
		}
	}
}

// forgetStale unregisters a row whose watch a notify did not find: its
// gateway died (or lost the watch, and registers a new row). The row was
// read before the notify was sent and written after its watch was set up,
// so a live watch always answers.
func (r *liveRelay) forgetStale(row liveRow) {
	r.log.Info("live relay: removing the watch of a gone gateway", "bucket", row.bucket, "gateway", row.gid)
	if err := r.register(row, rowRemoved); err != nil {
		r.log.Warn("live relay: remove a stale watch", "bucket", row.bucket, "err", err)
		return
	}
	// Our own announcement is not applied to us (it names another gateway).
	r.apply(append([]byte{rowRemoved}, row.key()...))
}

// isErrno reports whether err is errno, as a syscall.Errno or as go-ceph's
// error (which carries it negated).
func isErrno(err error, errno syscall.Errno) bool {
	if errors.Is(err, errno) {
		return true
	}
	ec, ok := errors.AsType[interface {
		error
		ErrorCode() int
	}](err)
	return ok && ec.ErrorCode() == -int(errno)
}
