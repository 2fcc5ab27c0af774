//go:build rados

package rados

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/ceph/go-ceph/rados"
)

// bucketsOID is the object every caching gateway of a pool watches: a
// notify on it carries the names of bucket records a write changed, and
// each gateway drops them from its cache before acknowledging.
const bucketsOID = "cairn.buckets"

// bucketNotifyTimeout bounds how long a write of a bucket record waits for
// the other gateways to acknowledge; one that does not (dead, stalled)
// loses its watch after Ceph's watch timeout, and then serves nothing from
// its cache until it watches again (bucketCache.setLive).
const bucketNotifyTimeout = time.Second

// bucketRewatchDelay spaces the attempts to re-establish a lost watch.
const bucketRewatchDelay = 500 * time.Millisecond

// bucketWatch applies the notifications of bucketsOID to a cache.
type bucketWatch struct {
	io         *rados.IOContext
	cache      *bucketCache
	log        *slog.Logger
	stop, done chan struct{}
}

// watchBuckets watches bucketsOID (which Open created) and lets cache
// serve while the watch holds.
func watchBuckets(io *rados.IOContext, cache *bucketCache, log *slog.Logger) (*bucketWatch, error) {
	w, err := io.Watch(bucketsOID)
	if err != nil {
		return nil, err
	}
	cache.setLive(true)
	bw := &bucketWatch{io: io, cache: cache, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	go bw.run(w)
	return bw, nil
}

// run handles notifications until close. A lost watch may have missed
// some: the cache is emptied and bypassed until the watch is back.
func (bw *bucketWatch) run(w *rados.Watcher) {
	defer close(bw.done)
	for {
		select {
		case <-bw.stop:
			_ = w.Delete()
			return
		case ev := <-w.Events():
			var names []string
			if err := json.Unmarshal(ev.Data, &names); err != nil {
				bw.cache.invalidateAll()
			} else {
				bw.cache.invalidate(names...)
			}
			_ = ev.Ack(nil)
		case err := <-w.Errors():
			bw.cache.setLive(false)
			bw.log.Warn("rados: bucket cache watch lost; bypassing the cache until it is back", "err", err)
			_ = w.Delete()
			if w = bw.rewatch(); w == nil {
				return
			}
			bw.cache.setLive(true)
		}
	}
}

// rewatch watches bucketsOID again, retrying until it works or close.
func (bw *bucketWatch) rewatch() *rados.Watcher {
	for {
		w, err := bw.io.Watch(bucketsOID)
		if err == nil {
			return w
		}
		bw.log.Warn("rados: bucket cache watch failed", "err", err)
		select {
		case <-bw.stop:
			return nil
		case <-time.After(bucketRewatchDelay):
		}
	}
}

func (bw *bucketWatch) close() {
	close(bw.stop)
	<-bw.done
}

// bucketsChanged is called after every write of bucket records (or one
// whose outcome is unknown): it drops them here and tells every watching
// gateway to drop them, waiting until they did (at most
// bucketNotifyTimeout), so that once the write returns no gateway serves
// the old record. It notifies whether or not this gateway caches.
func (s *Store) bucketsChanged(names ...string) {
	s.buckets.invalidate(names...)
	if s.quiet {
		return
	}
	data, err := json.Marshal(names)
	if err != nil {
		return // strings always encode
	}
	_, timeouts, err := s.io.NotifyWithTimeout(bucketsOID, data, bucketNotifyTimeout)
	if err != nil || len(timeouts) > 0 {
		s.log.Warn("rados: not every gateway acknowledged a bucket cache invalidation",
			"buckets", names, "err", err, "unacknowledged", len(timeouts))
	}
}
