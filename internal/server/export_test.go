package server

import (
	"context"
	"log/slog"
	"time"
)

// RunDrainShard runs the consumer of one drained shard (drainShard) of a
// server over st with the given poll interval, until ctx ends.
func RunDrainShard(ctx context.Context, st Backend, poll time.Duration, sh DrainedShard) error {
	n, err := newNotifications(st, Config{}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return err
	}
	defer n.close()
	n.qcfg.PollInterval = poll
	n.drainShard(ctx, sh)
	return nil
}
