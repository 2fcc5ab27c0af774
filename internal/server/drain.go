package server

import (
	"context"
	"time"

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

// runQueues delivers persistent topics until ctx ends.
func (s *Server) runQueues(ctx context.Context) error {
	if s.drainer == nil {
		return s.queue.Run(ctx)
	}
	// Its figures count the pool even before a shard is held.
	s.queue.Attach(nil)
	return s.drainer.Drain(ctx, s.notifs.drainShard)
}

// drainShard delivers one held shard's events until ctx ends, retrying
// the opening of its queue (the lease stays held meanwhile).
func (n *notifications) drainShard(ctx context.Context, sh DrainedShard) {
	cfg := n.qcfg
	cfg.KV, cfg.Shared = sh.KV, true
	cfg.Logger = cfg.Logger.With("shard", sh.Name)
	cfg.Policy = queue.SharePolicy(n.disp.QueuePolicy, sh.Shares)
	poll := cfg.PollInterval
	if poll <= 0 {
		poll = queue.DefaultPollInterval
	}
	var q *queue.Queue
	for q == nil {
		var err error
		if q, err = queue.New(cfg); err != nil {
			cfg.Logger.Warn("open a shard's queue", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(poll):
			}
		}
	}
	// The gateway's queue reports this shard's deliveries while it is held.
	defer n.queue.Attach(q)()
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	refresh := true
	for {
		if refresh {
			full, err := q.Refresh(ctx)
			if err == nil {
				err = sh.SyncFull(ctx, full)
			}
			if err != nil && ctx.Err() == nil {
				cfg.Logger.Warn("refresh a shard's queue", "err", err)
			}
		}
		if n.pubsub != nil {
			if err := n.pubsub.MoveShard(ctx, sh.KV); err != nil && ctx.Err() == nil {
				cfg.Logger.Warn("move a shard's subscription events", "err", err)
			}
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
		case <-tick.C:
			refresh = true
		}
	}
}
