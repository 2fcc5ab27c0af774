//go:build rados

package radosopen

import (
	"context"
	"time"

	"github.com/cairn-s3/cairn/internal/server"
	radosstore "github.com/cairn-s3/cairn/internal/store/rados"
)

// shardDrainer adapts rados.Store.Drain to server.Drainer.
type shardDrainer struct {
	st  *radosstore.Store
	ttl time.Duration
}

func (d shardDrainer) Drain(ctx context.Context, run func(context.Context, server.DrainedShard)) error {
	return d.st.Drain(ctx, radosstore.DrainOptions{TTL: d.ttl, Run: func(ctx context.Context, sh radosstore.DrainShard) {
		run(ctx, server.DrainedShard{Name: sh.Lease.Name(), KV: sh.Lease.KV(), Shares: sh.Shares, Wake: sh.Wake, Watched: sh.Watched, SyncFull: sh.Lease.SyncFull})
	}})
}

// DrainProbes and DrainHeld feed the drain metrics (server.drainStats).
func (d shardDrainer) DrainProbes() uint64 { return d.st.DrainProbes() }
func (d shardDrainer) DrainHeld() int      { return d.st.DrainHeld() }
