package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-s3/cairn/internal/metrics"
	"github.com/cairn-s3/cairn/internal/queue"
)

// Persistent topics and pull subscriptions on a store several gateways
// share: each shard's events are handled by the gateway holding its lease,
// with a shared queue over that shard only (see queue.SharedWriter) and
// the moves of its subscription drafts (pubsub.Service.MoveShard). The
// gateway's own queue then only writes events into commits and reports.

// recordSequencer is a store that numbers records written outside its
// commits uniquely in the cluster (RADOS: queue.Config.Sequence).
type recordSequencer interface {
	RecordSequence() (uint64, error)
}

// drainStats is a Drainer that counts its work (RADOS: rados.Store).
type drainStats interface {
	DrainProbes() uint64
	DrainHeld() int
}

// enableDrainMetrics exports how many shards this gateway drains and how
// many lease acquisitions it tried (none in a steady state: see the rados
// package's drainers' directory).
func enableDrainMetrics(m *metrics.Metrics, d Drainer) {
	ds, ok := d.(drainStats)
	if m == nil || !ok {
		return
	}
	m.Registry().MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Subsystem: "rados", Name: "drain_shards_held",
			Help: "Index shards whose events this gateway handles now (holds the drain lease of).",
		}, func() float64 { return float64(ds.DrainHeld()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Subsystem: "rados", Name: "drain_probes_total",
			Help: "Attempts to take a shard's drain lease (a read and a write each); flat when the gateways' shares are settled.",
		}, func() float64 { return float64(ds.DrainProbes()) }),
	)
}

// runQueues delivers persistent topics until ctx ends.
func (s *Server) runQueues(ctx context.Context) error {
	if s.drainer == nil {
		return s.queue.Run(ctx)
	}
	// Its figures count the pool even before a shard is held.
	s.queue.Attach(nil)
	return s.drainer.Drain(ctx, s.notifs.drainShard)
}

// maxIdlePoll bounds how seldom an idle shard whose commits wake its
// consumer is polled (a poll rereads the shard: one cluster read each).
const maxIdlePoll = 30 * time.Second

// drainShard delivers one held shard's events until ctx ends, retrying
// the opening of its queue (the lease stays held meanwhile). It polls the
// shard every PollInterval; while the shard is idle and Watched (every
// commit writing to it wakes the consumer) the interval doubles up to
// maxIdlePoll, and a wake or anything found brings it back.
func (n *notifications) drainShard(ctx context.Context, sh DrainedShard) {
	cfg := n.qcfg
	cfg.KV, cfg.Shared = sh.KV, true
	cfg.Logger = cfg.Logger.With("shard", sh.Name)
	cfg.Policy = queue.SharePolicy(n.disp.QueuePolicy, sh.Shares)
	poll := cfg.PollInterval
	if poll <= 0 {
		poll = queue.DefaultPollInterval
	}
	q := openShardQueue(ctx, cfg, poll)
	if q == nil {
		return
	}
	// The gateway's queue reports this shard's deliveries while it is held.
	defer n.queue.Attach(q)()
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	wait := poll
	timer := time.NewTimer(wait)
	defer timer.Stop()
	refresh := true
	for {
		idle := n.lookAtShard(ctx, cfg, q, sh, refresh)
		if refresh {
			if idle && sh.Watched != nil && sh.Watched() {
				wait = min(2*wait, max(maxIdlePoll, poll))
			} else {
				wait = poll
			}
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			<-done
			return
		case <-sh.Wake:
			if err := q.Kick(ctx); err != nil && ctx.Err() == nil {
				cfg.Logger.Warn("look at a shard's new events", "err", err)
			}
			refresh = false
			if wait > poll { // busy again: poll at the normal pace
				wait = poll
				timer.Reset(wait)
			}
		case <-timer.C:
			refresh = true
		}
	}
}

// openShardQueue opens a shard's queue, retrying every poll; nil once ctx
// ends.
func openShardQueue(ctx context.Context, cfg queue.Config, poll time.Duration) *queue.Queue {
	for {
		q, err := queue.New(cfg)
		if err == nil {
			return q
		}
		cfg.Logger.Warn("open a shard's queue", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(poll):
		}
	}
}

// lookAtShard recounts the shard's events (refresh) and moves its
// subscription drafts; idle is true if it found no event pending or in
// flight and nothing failed.
func (n *notifications) lookAtShard(ctx context.Context, cfg queue.Config, q *queue.Queue, sh DrainedShard, refresh bool) (idle bool) {
	idle = true
	if refresh {
		full, err := q.Refresh(ctx)
		if err == nil {
			err = sh.SyncFull(ctx, full)
		}
		if err != nil && ctx.Err() == nil {
			cfg.Logger.Warn("refresh a shard's queue", "err", err)
		}
		idle = err == nil && !hasEvents(q)
	}
	if n.pubsub != nil {
		if err := n.pubsub.MoveShard(ctx, sh.KV); err != nil {
			idle = false
			if ctx.Err() == nil {
				cfg.Logger.Warn("move a shard's subscription events", "err", err)
			}
		}
	}
	return idle
}

// hasEvents tells whether a queue holds events, pending or in flight.
func hasEvents(q *queue.Queue) bool {
	for _, name := range q.Topics() {
		if st := q.Stats(name); st.Depth > 0 || st.Pending > 0 {
			return true
		}
	}
	return false
}
