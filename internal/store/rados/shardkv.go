//go:build rados

package rados

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/cairn-s3/cairn/internal/kv"
)

// KV is the kv.Store of the records of the lease's shard, for its holder:
// reads see this shard's records only, and every write is guarded by the
// fencing epoch, failing with ErrLeaseLost (nothing written) once another
// gateway took the shard over. A Queue draining the shard runs on it.
func (l *ShardLease) KV() kv.Store { return shardKV{l} }

type shardKV struct{ l *ShardLease }

func (k shardKV) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, err := getRow(k.l.s.io, k.l.oid, k.l.rows+esc(string(key)))
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("%w: %q", kv.ErrNotFound, key)
	}
	return unwrap(v)
}

func (k shardKV) Scan(ctx context.Context, prefix, start []byte) iter.Seq2[kv.Pair, error] {
	return func(yield func(kv.Pair, error) bool) {
		from := ""
		if len(start) > 0 && bytes.Compare(start, prefix) > 0 {
			from = k.l.rows + esc(string(start))
		}
		c := newCursorFrom(k.l.s, k.l.oid, k.l.rows+esc(string(prefix)), from)
		for {
			if err := ctx.Err(); err != nil {
				yield(kv.Pair{}, err)
				return
			}
			r, ok, err := c.peek()
			if err != nil || !ok {
				if err != nil {
					yield(kv.Pair{}, err)
				}
				return
			}
			c.next()
			p, err := k.pair(r)
			if !yield(p, err) || err != nil {
				return
			}
		}
	}
}

// ScanPage implements queue.PageScanner (and the page reads of pubsub's
// MoveShard): one omap read is one atomic view of the shard.
func (k shardKV) ScanPage(ctx context.Context, prefix, after []byte, max int) ([]kv.Pair, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	from := ""
	if len(after) > 0 {
		from = k.l.rows + esc(string(after))
	}
	rows, _, err := rangeRows(k.l.s.io, k.l.oid, from, k.l.rows+esc(string(prefix)), max)
	if err != nil {
		return nil, err
	}
	out := make([]kv.Pair, 0, len(rows))
	for _, r := range rows {
		p, err := k.pair(r)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (k shardKV) pair(r row) (kv.Pair, error) {
	v, err := unwrap(r.Value)
	if err != nil {
		return kv.Pair{}, err
	}
	return kv.Pair{Key: []byte(unesc(r.Key[len(k.l.rows):])), Value: v}, nil
}

// Apply writes b to the shard in one operation guarded by the fencing
// epoch.
func (k shardKV) Apply(ctx context.Context, b *kv.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(b.Ops) == 0 {
		return nil
	}
	set, rm := map[string][]byte{}, map[string]bool{}
	for _, o := range b.Ops {
		if len(o.Key) == 0 {
			return errors.New("rados: kv: empty key")
		}
		row := k.l.rows + esc(string(o.Key))
		if o.Value == nil {
			delete(set, row)
			rm[row] = true
			continue
		}
		// A record put here (a dead letter) must be seen by the pool's
		// kv scans, which read shards only for hinted segments.
		if k.l.rows == rowRecord {
			if err := k.l.s.noteRecordKey(string(o.Key)); err != nil {
				return err
			}
		}
		delete(rm, row)
		set[row] = wrap(o.Value)
	}
	return k.l.guarded(set, rm)
}

// guarded sets and removes rows of the shard in one write guarded by the
// fencing epoch: ErrLeaseLost once another gateway holds the shard.
func (l *ShardLease) guarded(set map[string][]byte, rm map[string]bool) error {
	op := newWriteOp()
	defer op.release()
	op.assertExists()
	op.omapEqual(rowEpoch, l.epoch)
	op.omapSet(set)
	keys := make([]string, 0, len(rm))
	for r := range rm {
		keys = append(keys, r)
	}
	op.omapRm(keys)
	err := op.operate(l.s.io, l.oid)
	if errors.Is(err, errConflict) {
		return ErrLeaseLost
	}
	return err
}

// SyncFull makes the shard's full marks (rows "f/<prefix>", read by
// commits: queue.SharedWriter.RecordsFull) exactly the prefixes in full.
// Only the holder writes them, so no counter is shared: each shard
// enforces its share of a topic's capacity.
func (l *ShardLease) SyncFull(ctx context.Context, full map[string]bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rows, _, err := rangeRows(l.s.io, l.oid, "", rowFull, 4096)
	if err != nil {
		return err
	}
	set, rm := map[string][]byte{}, map[string]bool{}
	have := map[string]bool{}
	for _, r := range rows {
		p := unesc(strings.TrimPrefix(r.Key, rowFull))
		have[p] = true
		if !full[p] {
			rm[r.Key] = true
		}
	}
	for p, f := range full {
		if f && !have[p] {
			set[rowFull+esc(p)] = wrap(nil)
		}
	}
	if len(set) == 0 && len(rm) == 0 {
		return nil
	}
	return l.guarded(set, rm)
}

// Fence names the lease's shard and its fencing epoch, so that a holder's
// writes elsewhere (pubsub's moves into the logs of the metadata object)
// can be fenced too.
func (k shardKV) Fence() (shard string, epoch uint64) { return k.l.oid, k.l.Epoch }
