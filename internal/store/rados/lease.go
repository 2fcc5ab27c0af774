//go:build rados

package rados

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
)

// Draining a shard's pending records (item 3 of the RADOS issue): each
// index shard is drained by one gateway at a time, the holder of its lease.
// The lease is a cls_lock exclusive lock with an expiry (a dead gateway's
// lease lapses), and every acquisition bumps the shard's fencing epoch; a
// write that removes records is guarded by the epoch being the holder's,
// so a gateway whose lease lapsed cannot remove what its successor now
// owns, even if it still believes it holds the lease.

const (
	drainLock = "cairn.drain"
	rowEpoch  = "l/epoch"
)

var (
	// ErrLeaseHeld means another gateway holds the shard's lease.
	ErrLeaseHeld = errors.New("rados: shard lease held by another gateway")
	// ErrLeaseLost means the lease lapsed and another gateway took the
	// shard over: the holder must stop draining it.
	ErrLeaseLost = errors.New("rados: shard lease lost")
)

// ShardLease is one gateway's hold on draining one index shard.
type ShardLease struct {
	s      *Store
	oid    string
	cookie string
	rows   string // the row prefix of its records: rowRecord, rowKV for the metadata object
	ttl    time.Duration
	epoch  []byte // the fencing epoch row as this holder wrote it
	// Epoch is the fencing epoch of this holding; it grows with every
	// acquisition of the shard.
	Epoch uint64
}

// Name is the leased shard's object name.
func (l *ShardLease) Name() string { return l.oid }

// ShardOIDs lists the index shards of every bucket: the units of draining.
func (s *Store) ShardOIDs(ctx context.Context) ([]string, error) { return s.shardOIDs(ctx) }

// AcquireShardLease takes the drain lease of shard oid for ttl, failing
// with ErrLeaseHeld while another gateway holds it. The lock and the raise
// of the fencing epoch are one write operation guarded by the shard
// existing (cls_lock alone would create a deleted shard again).
func (s *Store) AcquireShardLease(ctx context.Context, oid string, ttl time.Duration) (*ShardLease, error) {
	l := &ShardLease{s: s, oid: oid, cookie: newID(), ttl: ttl, rows: rowRecord}
	if oid == metaOID {
		l.rows = rowKV // records kv writes queued (replays, test events)
	}
	for range maxAttempts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		old, err := getRow(s.io, oid, rowEpoch)
		if err != nil {
			return nil, err
		}
		var epoch uint64
		if old != nil {
			v, err := unwrap(old)
			if err != nil {
				return nil, err
			}
			epoch = beUint64(v)
		}
		next := wrap(be64(epoch + 1))
		err = l.lockOp(false, old, map[string][]byte{rowEpoch: next})
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		l.epoch, l.Epoch = next, epoch+1
		return l, nil
	}
	return nil, fmt.Errorf("rados: fencing epoch of %s: %w", oid, errConflict)
}

// lockOp runs, in one operation on an existing shard, the cls_lock lock
// (renew: extend this holder's), a guard that the fencing epoch is epoch,
// and set. ErrLeaseHeld: another gateway holds the lock.
func (l *ShardLease) lockOp(renew bool, epoch []byte, set map[string][]byte) error {
	op := newWriteOp()
	defer op.release()
	op.assertExists()
	op.exec("lock", "lock", encodeLockOp(drainLock, lockExclusive, l.cookie, "cairn drain", l.ttl, renew))
	op.omapEqual(rowEpoch, epoch)
	op.omapSet(set)
	err := op.operate(l.s.io, l.oid)
	if errors.Is(err, syscall.EBUSY) {
		return ErrLeaseHeld
	}
	return err
}

// cls_lock's lock types (ClsLockType).
const (
	lockExclusive byte = 1
	lockShared    byte = 2
)

// encodeLockOp is Ceph's encoding of cls_lock_lock_op (version 1): a lock
// of kind (lockExclusive, lockShared) with an expiry; renew sets
// LOCK_FLAG_MAY_RENEW.
func encodeLockOp(name string, kind byte, cookie, desc string, ttl time.Duration, renew bool) []byte {
	str := func(b []byte, s string) []byte {
		return append(binary.LittleEndian.AppendUint32(b, uint32(len(s))), s...)
	}
	var body []byte
	body = str(body, name)
	body = append(body, kind)
	body = str(body, cookie)
	body = str(body, "") // tag
	body = str(body, desc)
	body = binary.LittleEndian.AppendUint32(body, uint32(ttl/time.Second))
	body = binary.LittleEndian.AppendUint32(body, uint32(ttl%time.Second)) // nanoseconds
	var flags byte
	if renew {
		flags = 1
	}
	body = append(body, flags)
	out := binary.LittleEndian.AppendUint32([]byte{1, 1}, uint32(len(body)))
	return append(out, body...)
}

// Renew extends the lease by its ttl, in one operation guarded by the
// fencing epoch being this holder's; ErrLeaseLost if another gateway took
// the shard, an error wrapping rados.ErrNotFound if the shard is gone.
func (l *ShardLease) Renew(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := l.lockOp(true, l.epoch, nil)
	if errors.Is(err, ErrLeaseHeld) || errors.Is(err, errConflict) {
		return ErrLeaseLost
	}
	return err
}

// Release gives the lease up (its records stay for the next holder).
func (l *ShardLease) Release() {
	if _, err := l.s.io.Unlock(l.oid, drainLock, l.cookie); err != nil && !isNotFound(err) {
		l.s.log.Warn("rados: release shard lease", "object", l.oid, "err", err)
	}
}

// Pending yields up to max records of the shard whose keys start with
// prefix, after the key after (nil: from the first), in key order.
func (l *ShardLease) Pending(ctx context.Context, prefix, after []byte, max int) ([]kv.Pair, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start := ""
	if len(after) > 0 {
		start = l.rows + esc(string(after))
	}
	rows, _, err := rangeRows(l.s.io, l.oid, start, l.rows+esc(string(prefix)), max)
	if err != nil {
		return nil, err
	}
	out := make([]kv.Pair, 0, len(rows))
	for _, r := range rows {
		v, err := unwrap(r.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, kv.Pair{Key: []byte(unesc(r.Key[len(l.rows):])), Value: v})
	}
	return out, nil
}

// Remove deletes acknowledged records in one write guarded by the fencing
// epoch: ErrLeaseLost (nothing removed) once another gateway holds the
// shard.
func (l *ShardLease) Remove(ctx context.Context, keys ...[]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rows := make([]string, len(keys))
	for i, k := range keys {
		rows[i] = l.rows + esc(string(k))
	}
	op := newWriteOp()
	defer op.release()
	op.assertExists()
	op.omapEqual(rowEpoch, l.epoch)
	op.omapRm(rows)
	err := op.operate(l.s.io, l.oid)
	if errors.Is(err, errConflict) {
		return ErrLeaseLost
	}
	return err
}
