//go:build rados

package radosopen

import (
	"fmt"
	"maps"
	"time"

	"github.com/ceph/go-ceph/rados"
)

// Registry notifications carry one row change, a mark then the row: the
// row was added or updated (its gateway does not want reads, or does), or
// removed.
const (
	rowAdded      = '+'
	rowAddedReads = '*'
	rowRemoved    = '-'
)

// reload replaces the in-memory registry with the registry object's rows.
func (r *liveRelay) reload() error {
	all, err := r.io.GetAllOmapValues(liveRegistryOID, "", "", 1000)
	if err != nil {
		return fmt.Errorf("rados: read %s: %w", liveRegistryOID, err)
	}
	rows := map[string]map[liveRow]bool{}
	for k, v := range all {
		row, ok := parseLiveRow(k)
		if !ok || row.gid == r.gid {
			continue
		}
		if rows[row.bucket] == nil {
			rows[row.bucket] = map[liveRow]bool{}
		}
		rows[row.bucket][row] = string(v) == liveReadsMark
	}
	r.regMu.Lock()
	r.rows = rows
	r.publish()
	r.regMu.Unlock()
	return nil
}

// apply records one row change another gateway announced.
func (r *liveRelay) apply(data []byte) {
	if len(data) < 2 {
		return
	}
	row, ok := parseLiveRow(string(data[1:]))
	if !ok || row.gid == r.gid {
		return
	}
	r.regMu.Lock()
	defer r.regMu.Unlock()
	set := r.rows[row.bucket]
	switch data[0] {
	case rowAdded, rowAddedReads:
		if set == nil {
			set = map[liveRow]bool{}
			r.rows[row.bucket] = set
		}
		set[row] = data[0] == rowAddedReads
	case rowRemoved:
		delete(set, row)
		if len(set) == 0 {
			delete(r.rows, row.bucket)
		}
	}
	r.publish()
}

// publish replaces the lock-free view of rows. Called under regMu.
func (r *liveRelay) publish() {
	v := &liveView{rows: make(map[string]map[liveRow]bool, len(r.rows)), reads: map[string]bool{}}
	for b, set := range r.rows {
		v.rows[b] = maps.Clone(set)
		for _, reads := range set {
			v.reads[b] = v.reads[b] || reads
		}
	}
	r.remote.Store(v)
}

// register writes (or updates, or removes: op) a row and announces it to
// every gateway, waiting (bounded) until they recorded it.
func (r *liveRelay) register(row liveRow, op byte) error {
	err := forceOp(r.io, liveRegistryOID, func(w *rados.WriteOp) {
		switch op {
		case rowAdded:
			w.SetOmap(map[string][]byte{row.key(): nil})
		case rowAddedReads:
			w.SetOmap(map[string][]byte{row.key(): []byte(liveReadsMark)})
		default:
			w.RmOmapKeys([]string{row.key()})
		}
	})
	if err != nil {
		return fmt.Errorf("rados: update %s: %w", liveRegistryOID, err)
	}
	if op == rowAddedReads {
		// Gateways older than read events ignore '*': '+' first makes
		// them record the row (and send it the changes) all the same.
		// Each announcement waits for the acknowledgements, so the newer
		// gateways apply '*' last.
		r.announce(rowAdded, row)
	}
	r.announce(op, row)
	return nil
}

// announce notifies every gateway of a row change, waiting (bounded) until
// they recorded it.
func (r *liveRelay) announce(op byte, row liveRow) {
	_, timeouts, err := r.io.NotifyWithTimeout(liveRegistryOID, append([]byte{op}, row.key()...), liveNotifyTimeout)
	if err != nil || len(timeouts) > 0 {
		// A stalled gateway reloads the registry when its watch comes back.
		r.log.Warn("not every gateway acknowledged a live watch change", "err", err, "unacknowledged", len(timeouts))
	}
}

// registryLoop follows the registry's notifications. A lost watch may have
// missed some: it is re-established and the registry read again.
func (r *liveRelay) registryLoop(w *rados.Watcher) {
	defer r.wg.Done()
	for {
		select {
		case <-r.stop:
			_ = w.Delete()
			return
		case ev := <-w.Events():
			r.apply(ev.Data)
			_ = ev.Ack(nil)
		case err := <-w.Errors():
			r.log.Warn("live registry watch lost; re-establishing", "err", err)
			_ = w.Delete()
			if w = r.rewatchRegistry(); w == nil {
				return
			}
		}
	}
}

// rewatchRegistry watches the registry again and reloads it, retrying
// until that works or close.
func (r *liveRelay) rewatchRegistry() *rados.Watcher {
	for {
		w, err := r.io.Watch(liveRegistryOID)
		if err == nil {
			if err = r.reload(); err == nil {
				return w
			}
			_ = w.Delete()
		}
		r.log.Warn("live registry watch failed", "err", err)
		select {
		case <-r.stop:
			return nil
		case <-time.After(rewatchDelay):
		}
	}
}
