package pubsub

import (
	"context"
	"encoding/binary"
	"errors"
	"net/url"

	"github.com/cairn-s3/cairn/internal/kv"
)

// Fencing the moves. Only a shard's holder moves its drafts, but a holder
// whose lease lapsed (a long pause) may not know it yet: its successor can
// have moved the same drafts and later ones of the same objects, and the
// stale holder's move, which goes to the logs (not to the shard, whose
// writes its epoch fences), would put the old events again behind the new
// ones, out of their objects' order. So each move also writes its shard's
// fencing epoch into "psubfence/<shard>" of the logs' store, guarded by the
// value read, and a move whose epoch is below the one recorded fails.

// errFenced: another gateway took the shard over; this one must stop.
var errFenced = errors.New("pubsub: move: another gateway holds the shard now")

// fencer is a shard's kv.Store that names its shard and its holding's
// fencing epoch, which grows with every holding (rados.ShardLease.KV).
type fencer interface {
	Fence() (shard string, epoch uint64)
}

// shardFence is the fencing row of a shard and the mover's epoch.
type shardFence struct {
	key   []byte
	epoch uint64
}

// fenceOf returns the fence of shard; nil if its store has none.
func fenceOf(shard kv.Store) *shardFence {
	f, ok := shard.(fencer)
	if !ok {
		return nil
	}
	name, epoch := f.Fence()
	return &shardFence{key: []byte("psubfence/" + url.PathEscape(name)), epoch: epoch}
}

// applyMove applies b, a move into a log, guarded by the log's high key hk
// holding old and, with a fence, by the shard's fencing row; false if one
// changed meanwhile, errFenced if a later holding of the shard moved.
func (l *Log) applyMove(ctx context.Context, fence *shardFence, hk, old []byte, b *kv.Batch) (bool, error) {
	if fence == nil {
		cas, ok := l.kv.(compareApplier)
		if !ok {
			return false, errors.New("pubsub: a shared log needs a kv store with compare-and-apply")
		}
		return cas.CompareAndApply(ctx, hk, old, b)
	}
	ga, ok := l.kv.(guardedApplier)
	if !ok {
		return false, errNotGuarded
	}
	recorded, err := l.getOptional(ctx, fence.key)
	if err != nil {
		return false, err
	}
	if len(recorded) == 8 && binary.BigEndian.Uint64(recorded) > fence.epoch {
		return false, errFenced
	}
	b.Put(fence.key, binary.BigEndian.AppendUint64(nil, fence.epoch))
	return ga.CompareEachAndApply(ctx, []kv.Pair{{Key: hk, Value: old}, {Key: fence.key, Value: recorded}}, b)
}
