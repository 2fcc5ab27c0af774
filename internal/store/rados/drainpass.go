//go:build rados

package rados

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"
)

// A drain pass, every TTL/3, and at once when nudged (a bucket became
// Evented, a gateway handed shards over or stopped: nudgeDrainers):
//   - read the shards to drain from the index of Evented buckets (and, at
//     the first pass and every eventedReconcileEvery, mend the index from
//     every bucket record first: evented.go);
//   - renew the leases held (their fencing needs it), dropping lost ones;
//   - renew this gateway's membership of the drainers' directory and read
//     it: the live gateways G and the recorded holder of each shard;
//   - repair this gateway's own holder rows (missing, or left by a release
//     whose removal failed);
//   - with S shards to drain, release the excess over ceil(S/|G|) when
//     holding more than that + 1 (idle shards first), and nudge the
//     others to take them;
//   - try the leases (probes) of shards no live gateway is recorded as
//     holding, up to ceil(S/|G|) held; past that share, only shards this
//     gateway has seen free for a whole TTL (orphans: a live gateway that
//     cannot take them must not leave them undrained). Having taken such
//     orphans, it stops shedding until the live set changes, so that it
//     does not hand them back and forth.
// In steady state a pass costs the renewals, one directory write and one
// directory read, and no probe. Without a directory (its read failed) a
// pass falls back to probing every shard not held, with no cap.

// drainer is the state of one Drain call.
type drainer struct {
	s       *Store
	ttl     time.Duration
	run     func(context.Context, DrainShard)
	dir     drainDir
	holding map[string]*held
	// freeSince is when a pass first saw each shard free (held by no
	// live gateway), while it stays so.
	freeSince map[string]time.Time
	// live is the live set of the last pass (sorted cookies); adopted is
	// true once orphans were taken past the fair share in that set.
	live    string
	adopted bool
	// reconciled is when a pass last mended the Evented index.
	reconciled time.Time
	// gone is the shards to drain found missing: their bucket was
	// deleted by a gateway from before the Evented index, which left its
	// row until the next reconciliation. They are not probed again.
	gone map[string]bool
}

// Drain holds and consumes shards until ctx ends, then stops every
// consumer and releases its leases (their successors need not wait for
// them to lapse) and its membership.
func (s *Store) Drain(ctx context.Context, opts DrainOptions) error {
	ttl := opts.TTL
	if ttl <= 0 {
		ttl = DefaultDrainTTL
	}
	d := &drainer{s: s, ttl: ttl, run: opts.Run, holding: map[string]*held{}, freeSince: map[string]time.Time{}, gone: map[string]bool{},
		dir: drainDir{s: s, cookie: newID(), ttl: ttl}}
	s.drains.mu.Lock()
	s.drains.active = true
	s.drains.mu.Unlock()
	defer func() {
		s.drains.mu.Lock()
		s.drains.active = false
		s.drains.mu.Unlock()
		for oid := range d.holding {
			d.release(oid)
		}
		d.dir.leave()
		s.nudgeDrainers() // the others take its shards now
	}()
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	pokes := s.drains.pokes()
	d.pass(ctx) // creates the directory, which the watch needs
	defer s.watchDrainers(ctx)()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-pokes:
		}
		d.pass(ctx)
	}
}

func (d *drainer) pass(ctx context.Context) {
	d.s.drains.passes.Add(1)
	if d.reconciled.IsZero() || time.Since(d.reconciled) >= eventedReconcileEvery {
		if err := d.s.reconcileEvented(ctx); err != nil {
			d.s.log.Warn("rados: mend the index of Evented buckets", "err", err)
		} else {
			d.reconciled = time.Now()
		}
	}
	units, err := d.s.drainUnits(ctx)
	if err != nil {
		d.s.log.Warn("rados: list shards to drain", "err", err)
	}
	d.dropGone(units)
	d.renewHeld(ctx, units)
	if units == nil || ctx.Err() != nil {
		return
	}
	view := d.look(ctx)
	fair := len(units)
	if view != nil {
		d.repair(view, units)
		fair = fairShare(len(units), len(view.live))
		if live := view.liveSet(); live != d.live {
			d.live, d.adopted = live, false
		}
	}
	if excess := len(d.holding) - fair; excess > 1 && !d.adopted {
		d.shed(ctx, excess)
	}
	d.take(ctx, view, units, fair)
}

// dropGone removes from units the shards found missing, and forgets those
// no longer listed (their rows were removed). units nil (unknown) keeps
// them all.
func (d *drainer) dropGone(units map[string]int) {
	if units == nil {
		return
	}
	for oid := range d.gone {
		if units[oid] == 0 {
			delete(d.gone, oid)
		}
		delete(units, oid)
	}
}

// fairShare is ceil(shards/gateways): the gateways' shares cover every
// shard.
func fairShare(shards, gateways int) int {
	gateways = max(gateways, 1)
	return (shards + gateways - 1) / gateways
}

// renewHeld renews what is held; a lease lost, or of a shard gone, or
// whose consumer its deadline stopped (held.deadline), stops its consumer
// and lets the shard go. units nil (unknown) keeps every shard.
func (d *drainer) renewHeld(ctx context.Context, units map[string]int) {
	for oid, h := range d.holding {
		var err error
		if h.lapsed.Load() {
			err = errConsumerLapsed
		} else if units == nil || units[oid] > 0 { // else its bucket is gone
			sent := time.Now()
			if err = h.lease.Renew(ctx); err == nil && h.extend(d.ttl, sent) {
				h.renewed = time.Now()
				continue
			}
			if err == nil {
				err = errConsumerLapsed
			}
			if !errors.Is(err, ErrLeaseLost) && !isNotFound(err) && !errors.Is(err, errConsumerLapsed) && time.Since(h.renewed) < d.ttl*2/3 {
				continue // a transient error: the lease still has time
			}
		}
		d.s.log.Info("rados: stop draining shard", "object", oid, "err", err)
		if errors.Is(err, ErrLeaseLost) {
			d.stop(oid) // the successor owns the lease and the row
		} else {
			d.release(oid)
		}
	}
}

// errConsumerLapsed: a held shard's consumer was stopped by its deadline
// (the pass renewing its lease came too late); the shard is released and
// may be taken again.
var errConsumerLapsed = errors.New("rados: the lease was not renewed in time; consumer stopped")

// look renews this gateway's membership and reads the directory; nil if
// it cannot be read.
func (d *drainer) look(ctx context.Context) *drainView {
	if err := d.dir.renew(ctx); err != nil && ctx.Err() == nil {
		d.s.log.Warn("rados: renew drainer membership", "err", err)
	}
	v, err := d.dir.read(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.s.log.Warn("rados: read the drainers; probing every shard", "err", err)
		}
		return nil
	}
	v.live[d.dir.cookie] = true // it drains, even if its renewal just failed
	return v
}

// repair fixes the rows this gateway is the authority on: its holdings,
// and the rows of dead holders for shards no longer drained (their
// buckets are gone; no one would remove them otherwise).
func (d *drainer) repair(v *drainView, units map[string]int) {
	me := d.dir.cookie
	var errs []error
	for oid := range d.holding {
		if v.holder(oid) != me {
			errs = append(errs, d.dir.claim(oid, v.holders[oid]))
		}
	}
	for oid, raw := range v.holders {
		h := v.holder(oid)
		if (h == me && d.holding[oid] == nil) || (!v.live[h] && units[oid] == 0) {
			errs = append(errs, d.dir.disclaim(oid, raw))
		}
	}
	if err := errors.Join(errs...); err != nil {
		d.s.log.Warn("rados: repair drainer holdings", "err", err)
	}
}

// shed releases n held shards, those without records first (releasing
// one with deliveries in flight makes its successor repeat them).
func (d *drainer) shed(ctx context.Context, n int) {
	type cand struct {
		oid  string
		busy bool
	}
	var cands []cand
	for oid, h := range d.holding {
		rows, err := h.lease.Pending(ctx, nil, nil, 1)
		cands = append(cands, cand{oid, err != nil || len(rows) > 0})
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if a.busy != b.busy {
			if a.busy {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.oid, b.oid)
	})
	for _, c := range cands[:min(n, len(cands))] {
		d.s.log.Info("rados: hand a shard over (more than a fair share held)", "object", c.oid, "busy", c.busy)
		d.release(c.oid)
	}
	d.s.nudgeDrainers() // the others take them now
}

// take tries the leases of shards not held by a live gateway (all not held
// here if view is nil): while fewer than fair are held, and orphans past
// that. Random order: gateways starting together seldom try the same ones.
func (d *drainer) take(ctx context.Context, view *drainView, units map[string]int, fair int) {
	oids := d.free(view, units)
	rand.Shuffle(len(oids), func(i, j int) { oids[i], oids[j] = oids[j], oids[i] })
	for _, oid := range oids {
		if ctx.Err() != nil {
			return
		}
		orphan := time.Since(d.freeSince[oid]) >= d.ttl
		if len(d.holding) >= fair && !orphan {
			continue
		}
		d.s.drains.probes.Add(1)
		sent := time.Now()
		l, err := d.s.AcquireShardLease(ctx, oid, d.ttl)
		if err != nil {
			switch {
			case errors.Is(err, ErrLeaseHeld):
			case isNotFound(err): // an index row an older gateway left; mended at the next reconciliation
				d.s.log.Debug("rados: take shard lease: no such shard", "object", oid)
				d.gone[oid] = true
			default:
				d.s.log.Warn("rados: take shard lease", "object", oid, "err", err)
			}
			continue
		}
		if len(d.holding) >= fair {
			d.s.log.Info("rados: take an orphaned shard past the fair share", "object", oid, "fair", fair)
			d.adopted = true
		}
		d.s.log.Debug("rados: draining shard", "object", oid, "epoch", l.Epoch)
		delete(d.freeSince, oid)
		d.start(ctx, oid, l, units[oid], sent)
		if view != nil {
			if err := d.dir.claim(oid, view.holders[oid]); err != nil {
				d.s.log.Warn("rados: record a shard's holder", "object", oid, "err", err)
			}
		}
	}
}

// free lists the shards to drain that no live gateway holds (not held
// here, nor recorded as held by another live one), noting since when.
func (d *drainer) free(view *drainView, units map[string]int) []string {
	now := time.Now()
	var oids []string
	since := make(map[string]time.Time, len(d.freeSince))
	for oid := range units {
		if d.holding[oid] != nil || (view != nil && view.heldByLive(oid, d.dir.cookie)) {
			continue
		}
		oids = append(oids, oid)
		since[oid] = now
		if t, ok := d.freeSince[oid]; ok {
			since[oid] = t
		}
	}
	d.freeSince = since
	return oids
}

// start runs the consumer on a shard just taken (the acquisition was sent
// at sent), until its lease is lost or not renewed in time.
func (d *drainer) start(ctx context.Context, oid string, l *ShardLease, shares int, sent time.Time) {
	h := &held{lease: l, renewed: time.Now(), done: make(chan struct{})}
	wake := make(chan struct{}, 1)
	d.s.drains.set(oid, wake)
	var rctx context.Context
	rctx, h.cancel = context.WithCancel(ctx)
	h.deadline = time.AfterFunc(consumerDeadline(d.ttl)-time.Since(sent), func() {
		h.lapsed.Store(true)
		h.cancel()
		// This gateway's commits notify the shard again: a successor
		// may hold it before the next pass lets it go here.
		d.s.drains.unset(oid, wake)
	})
	go func() {
		defer close(h.done)
		w := d.s.watchShard(rctx, oid, wake)
		defer w.stop()
		d.run(rctx, DrainShard{Lease: l, Shares: shares, Wake: wake, Watched: w.live.Load})
	}()
	d.holding[oid] = h
}

// stop ends the consumer of a held shard and forgets it.
func (d *drainer) stop(oid string) {
	h := d.holding[oid]
	d.s.drains.set(oid, nil)
	h.deadline.Stop()
	h.cancel()
	<-h.done
	delete(d.holding, oid)
}

// release stops the consumer, gives the lease up and removes the holder
// row (if still this gateway's), so that another gateway takes the shard
// at its next pass.
func (d *drainer) release(oid string) {
	l := d.holding[oid].lease
	d.stop(oid)
	l.Release()
	if err := d.dir.disclaim(oid, wrap([]byte(d.dir.cookie))); err != nil {
		d.s.log.Warn("rados: remove a shard's holder row", "object", oid, "err", err)
	}
}
