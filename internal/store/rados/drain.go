//go:build rados

package rados

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ceph/go-ceph/rados"
)

// Draining: every gateway runs Drain. It takes the leases of shards no live
// gateway holds (a dead gateway's lapse within their TTL), up to its fair
// share of them (drainpass.go), renews the ones it holds and runs the
// caller's consumer on each while it holds it. The metadata object is a
// shard too: records queued by kv writes (dead letters replayed, test
// events) live there.

// DefaultDrainTTL is the lease time of a shard when DrainOptions.TTL is
// zero: a dead gateway's shards are taken over within it.
const DefaultDrainTTL = 10 * time.Second

// DrainOptions configure Drain.
type DrainOptions struct {
	// TTL is the lease time; leases are renewed and new shards looked for
	// every TTL/3.
	TTL time.Duration
	// Run consumes one held shard's records until ctx ends (the lease was
	// lost or not renewed in time, the shard is gone, or Drain stops). It
	// must return then.
	Run func(ctx context.Context, sh DrainShard)
}

// DrainShard is one shard Drain holds.
type DrainShard struct {
	Lease *ShardLease
	// Shares is how many shards share its bucket's records (a topic's
	// capacity is split evenly among them).
	Shares int
	// Wake receives (coalesced) when a commit wrote records to the shard:
	// this gateway's at once, another's through the shard's watch.
	Wake <-chan struct{}
	// Watched tells whether that watch is established: then every commit
	// that writes records wakes the consumer, which may poll the shard
	// seldom while it is idle. False for the metadata object (kv writes
	// queue records there without a notification) and once the watch is lost.
	Watched func() bool
}

// held is one shard Drain holds.
type held struct {
	lease   *ShardLease
	renewed time.Time
	cancel  context.CancelFunc
	done    chan struct{}
	// deadline stops the consumer once the lease may be about to lapse
	// unrenewed (lapsed is then true): the pass that would renew it may
	// be held up, and a consumer delivering past its lease runs beside
	// its successor.
	deadline *time.Timer
	lapsed   atomic.Bool
}

// consumerDeadline is how long after the lease's last renewal was sent its
// consumer may run: a sixth of the lease is left for it to stop (its sends
// are cancelled at once) before a successor can take the shard; passes
// renew every third, so a pass may run late by half a lease before its
// consumers are stopped and the shards taken again.
func consumerDeadline(ttl time.Duration) time.Duration { return ttl * 5 / 6 }

// extend moves the consumer's deadline to consumerDeadline after sent (when
// the renewal was sent); false if it passed already.
func (h *held) extend(ttl time.Duration, sent time.Time) bool {
	return h.deadline.Reset(consumerDeadline(ttl)-time.Since(sent)) && !h.lapsed.Load()
}

// drainSet is the wake channels of the shards this gateway drains.
type drainSet struct {
	mu        sync.Mutex
	wakes     map[string]chan struct{}
	pokeCh    chan struct{}   // a pass is due (new shards)
	active    bool            // Drain runs: tell other gateways' holders of commits
	notifying map[string]bool // shards being notified: true if again after
	nudging   int             // drainers' nudges wanted (one goroutine sends them)
	notifiers sync.WaitGroup  // notifications in flight (Close waits)
	// probes counts lease acquisitions tried (AcquireShardLease: a read
	// and a write each), the cost the directory keeps out of steady state.
	probes atomic.Uint64
	// passes counts drain passes run (tests count probes per pass).
	passes atomic.Uint64
}

func (d *drainSet) pokes() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pokeCh == nil {
		d.pokeCh = make(chan struct{}, 1)
	}
	return d.pokeCh
}

func (d *drainSet) poke() {
	d.mu.Lock()
	ch := d.pokeCh
	d.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// DrainProbes counts the shard lease acquisitions Drain tried since the
// store opened: the cost the drainers' directory keeps out of a steady
// state (cairn_rados_drain_probes_total).
func (s *Store) DrainProbes() uint64 { return s.drains.probes.Load() }

// DrainHeld is how many shards this gateway drains now.
func (s *Store) DrainHeld() int {
	s.drains.mu.Lock()
	defer s.drains.mu.Unlock()
	return len(s.drains.wakes)
}

// committed tells the holder of shard oid that a commit wrote records
// there: this gateway's consumer at once, another gateway's through a
// RADOS notification on the shard, which its holder watches (one in flight
// per shard, repeated once if commits came meanwhile).
func (s *Store) committed(oid string) {
	d := &s.drains
	d.mu.Lock()
	defer d.mu.Unlock()
	if ch := d.wakes[oid]; ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
		return
	}
	if !d.active {
		return
	}
	if _, ok := d.notifying[oid]; ok {
		d.notifying[oid] = true
		return
	}
	if d.notifying == nil {
		d.notifying = map[string]bool{}
	}
	d.notifying[oid] = false
	d.notifiers.Add(1)
	go func() {
		defer d.notifiers.Done()
		for {
			if _, _, err := s.io.NotifyWithTimeout(oid, nil, notifyTimeout); err != nil && !isNotFound(err) {
				s.log.Debug("rados: notify a shard's holder", "object", oid, "err", err)
			}
			d.mu.Lock()
			again := d.notifying[oid]
			if !again || !d.active {
				delete(d.notifying, oid)
				d.mu.Unlock()
				return
			}
			d.notifying[oid] = false
			d.mu.Unlock()
		}
	}()
}

// notifyTimeout bounds the wait for a holder's acknowledgement (a dead
// one never gives it; its successor polls).
const notifyTimeout = 2 * time.Second

// shardWatch is the watch on one held shard.
type shardWatch struct {
	done chan struct{}
	live atomic.Bool // established and not lost
}

// stop waits for the watch to end (its ctx ended).
func (w *shardWatch) stop() { <-w.done }

// watchShard wakes wake on every notification of oid (commits of other
// gateways) until ctx ends; without a watch, the consumer's polling remains.
// The metadata object's watch never counts as live: kv writes queue records
// there without notifying, so its consumer must keep polling.
func (s *Store) watchShard(ctx context.Context, oid string, wake chan<- struct{}) *shardWatch {
	sw := &shardWatch{done: make(chan struct{})}
	w, err := s.io.Watch(oid)
	if err != nil {
		s.log.Warn("rados: watch shard", "object", oid, "err", err)
		close(sw.done)
		return sw
	}
	sw.live.Store(oid != metaOID)
	go func() {
		defer close(sw.done)
		defer sw.live.Store(false)
		err := ackEach(ctx, w, func() {
			select {
			case wake <- struct{}{}:
			default:
			}
		})
		if err != nil {
			s.log.Warn("rados: shard watch lost; polling it", "object", oid, "err", err)
		}
	}()
	return sw
}

// ackEach acknowledges every notification of w and calls onNotify after
// each, until ctx ends (nil) or the watch is lost (its error); then it
// removes the watch.
func ackEach(ctx context.Context, w *rados.Watcher, onNotify func()) error {
	defer func() { _ = w.Delete() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-w.Events():
			_ = ev.Ack(nil)
			onNotify()
		case err := <-w.Errors():
			return err
		}
	}
}

// unset forgets oid's wake channel if it is still ch.
func (d *drainSet) unset(oid string, ch chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.wakes[oid] == ch {
		delete(d.wakes, oid)
	}
}

func (d *drainSet) set(oid string, ch chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.wakes == nil {
		d.wakes = map[string]chan struct{}{}
	}
	if ch == nil {
		delete(d.wakes, oid)
	} else {
		d.wakes[oid] = ch
	}
}

// drainUnits maps every shard to drain (those of the Evented buckets in
// the index, and the metadata object) to its bucket's shard count. It
// also forgets the Evented marks of buckets no longer indexed (their
// buckets are gone; a gateway serving short-lived buckets would remember
// them forever); a bucket marked meanwhile may be forgotten too, which
// costs its next commit one read of its record.
func (s *Store) drainUnits(ctx context.Context) (map[string]int, error) {
	index, err := s.eventedIndex(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int{metaOID: 1}
	for id, shards := range index {
		for n := range shards {
			out[shardOID(id, n)] = shards
		}
	}
	s.evented.Range(func(id, _ any) bool {
		if _, ok := index[id.(string)]; !ok {
			s.evented.Delete(id)
		}
		return true
	})
	return out, nil
}

// markEvented marks the bucket of shard oid Evented, if it is not yet,
// before a commit writes event records there: the mark comes first, so
// no shard holds records its gateways would not drain (a gateway dying
// between the two leaves a mark and no record, which costs only polling).
// The drain loop here is poked to take the shards at once; other
// gateways take their share at their next pass.
// freeing is true for a commit that frees space (a delete): its mark is
// written on a full pool too, as the commit is.
func (s *Store) markEvented(ctx context.Context, name, oid string, freeing bool) error {
	id, ok := bucketIDOfShard(oid)
	if !ok {
		return nil // the metadata object is always drained
	}
	if _, ok := s.evented.Load(id); ok {
		return nil
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		rec, raw, indexed, err := s.readMark(name, id)
		if err != nil {
			return err
		}
		if rec.ID != id {
			// Deleted (and maybe recreated) meanwhile: the commit's
			// guard that the shard is open fails it.
			return nil
		}
		if rec.Evented && indexed {
			s.evented.Store(id, true)
			return nil
		}
		// Not marked, or marked by a gateway from before the Evented
		// index (evented.go), which left it unindexed: index it now
		// rather than at the next reconciliation, which may come only
		// after the older gateways that drain it are gone.
		set := map[string][]byte{rowEvented + id: eventedRow(rec.Shards)}
		marking := !rec.Evented
		if marking {
			rec.Evented = true
			data, err := json.Marshal(rec)
			if err != nil {
				return fmt.Errorf("rados: encode: %w", err)
			}
			set[rowBucket+name] = wrap(data)
		}
		op := newWriteOp()
		if freeing {
			op.freesSpace()
		}
		op.omapEqual(rowBucket+name, raw)
		op.omapSet(set)
		err = op.operate(s.io, metaOID)
		op.release()
		if marking && !errors.Is(err, errConflict) {
			s.bucketsChanged(name)
		}
		if err == nil {
			s.evented.Store(id, true)
			s.drains.poke()
			s.nudgeDrainers() // the other gateways take their share at once
			return nil
		}
		if !errors.Is(err, errConflict) {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
	return fmt.Errorf("rados: mark bucket %s evented: %w", name, errConflict)
}

// RecordSequence numbers a record written outside a commit (a replayed
// dead letter, a test event) like a commit's (txn.RecordSequence): from a
// sequence number issued once in the cluster.
func (s *Store) RecordSequence() (uint64, error) {
	n, err := s.seq.next(0)
	return n << 8, err
}
