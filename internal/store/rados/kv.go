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

// KV returns the kv.Store of this pool: the rows "k/<key>" of the metadata
// object, merged with the records the ChangeHook committed into index
// shards ("e/<key>"), so that records written with a change are read back
// like any other key.
func (s *Store) KV() kv.Store { return kvStore{s} }

type kvStore struct{ s *Store }

var _ kv.Store = kvStore{}

// addKVOps adds a batch's writes (last write of a key wins) and the rows of
// extra to op.
func addKVOps(op *writeOp, ops []kv.Op, extra map[string][]byte) error {
	set := map[string][]byte{}
	for k, v := range extra {
		set[k] = v
	}
	rm := map[string]bool{}
	for _, o := range ops {
		if len(o.Key) == 0 {
			return errors.New("rados: kv: empty key")
		}
		k := rowKV + esc(string(o.Key))
		if o.Value == nil {
			delete(set, k)
			rm[k] = true
		} else {
			delete(rm, k)
			set[k] = wrap(o.Value)
		}
	}
	op.omapSet(set)
	keys := make([]string, 0, len(rm))
	for k := range rm {
		keys = append(keys, k)
	}
	op.omapRm(keys)
	return nil
}

// Records live in index shards, so a kv read or write of a key that may be
// a record looks through every shard. To spare that to the keys no hook
// ever writes (users, keys, topics, ...), the metadata object keeps a hint
// row "r/<segment>" per first path segment ("queue/") of record keys,
// written before the first commit carrying such a record: hints are a
// superset, so a key without one is in the metadata object only.
const rowHint = "r/"

// recordSegment is a key's first path segment with its slash, or the key.
func recordSegment(key string) string {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i+1]
	}
	return key
}

// noteRecordKey makes sure the hint of key's segment exists.
func (s *Store) noteRecordKey(key string) error {
	seg := recordSegment(key)
	if _, ok := s.hinted.Load(seg); ok {
		return nil
	}
	if err := s.io.SetOmap(metaOID, map[string][]byte{rowHint + esc(seg): wrap(nil)}); err != nil {
		return fmt.Errorf("rados: record hint: %w", err)
	}
	s.hinted.Store(seg, true)
	return nil
}

// hints reports which of the ops' segments have a hint.
func (s *Store) hints(ops []kv.Op) (map[string]bool, error) {
	var rows []string
	for _, o := range ops {
		rows = append(rows, rowHint+esc(recordSegment(string(o.Key))))
	}
	got, err := getRows(s.io, metaOID, rows...)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, o := range ops {
		seg := recordSegment(string(o.Key))
		out[seg] = got[rowHint+esc(seg)] != nil
	}
	return out, nil
}

// recordShards is the shards a scan of prefix must read: none when the
// prefix names a segment without a hint.
func (s *Store) recordShards(ctx context.Context, prefix string) ([]string, error) {
	if strings.Contains(prefix, "/") {
		h, err := getRow(s.io, metaOID, rowHint+esc(recordSegment(prefix)))
		if err != nil || h == nil {
			return nil, err
		}
	}
	return s.shardOIDs(ctx)
}

// shardOIDs lists every index shard of every bucket.
func (s *Store) shardOIDs(ctx context.Context) ([]string, error) {
	var out []string
	err := s.eachBucket(ctx, func(rec *bucketRecord, _ []byte) {
		for n := range rec.Shards {
			out = append(out, shardOID(rec.ID, n))
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (k kvStore) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hint := rowHint + esc(recordSegment(string(key)))
	rows, err := getRows(k.s.io, metaOID, rowKV+esc(string(key)), hint)
	if err != nil {
		return nil, err
	}
	v := rows[rowKV+esc(string(key))]
	if v == nil && rows[hint] != nil {
		if v, _, err = k.findRecord(ctx, string(key)); err != nil {
			return nil, err
		}
	}
	if v == nil {
		return nil, fmt.Errorf("%w: %q", kv.ErrNotFound, key)
	}
	return unwrap(v)
}

// findRecord looks for a hook record in every index shard.
func (k kvStore) findRecord(ctx context.Context, key string) ([]byte, string, error) {
	oids, err := k.s.shardOIDs(ctx)
	if err != nil {
		return nil, "", err
	}
	for _, oid := range oids {
		v, err := getRow(k.s.io, oid, rowRecord+esc(key))
		if err != nil {
			return nil, "", err
		}
		if v != nil {
			return v, oid, nil
		}
	}
	return nil, "", nil
}

func (k kvStore) Scan(ctx context.Context, prefix, start []byte) iter.Seq2[kv.Pair, error] {
	return func(yield func(kv.Pair, error) bool) {
		oids, err := k.s.recordShards(ctx, string(prefix))
		if err != nil {
			yield(kv.Pair{}, err)
			return
		}
		after := func(rowPrefix string) string {
			if len(start) == 0 || bytes.Compare(start, prefix) <= 0 {
				return ""
			}
			// Rows strictly after the one just before start: start is inclusive.
			return rowPrefix + esc(string(start))
		}
		cs := merged{newCursorFrom(k.s, metaOID, rowKV+esc(string(prefix)), after(rowKV))}
		for _, oid := range oids {
			cs = append(cs, newCursorFrom(k.s, oid, rowRecord+esc(string(prefix)), after(rowRecord)))
		}
		for {
			if err := ctx.Err(); err != nil {
				yield(kv.Pair{}, err)
				return
			}
			r, i, ok, err := cs.peekBy(func(r row) string { return r.Key[2:] })
			if err != nil {
				yield(kv.Pair{}, err)
				return
			}
			if !ok {
				return
			}
			// A key both in the metadata object and as a record (a record
			// rewritten by Apply) is yielded once, with the metadata
			// object's value: it is cursor 0, which wins ties.
			name := r.Key[2:]
			for _, c := range cs[i:] {
				if o, ok, err := c.peek(); err == nil && ok && o.Key[2:] == name {
					c.next()
				}
			}
			v, err := unwrap(r.Value)
			if err != nil {
				yield(kv.Pair{}, err)
				return
			}
			if !yield(kv.Pair{Key: []byte(unesc(r.Key[2:])), Value: v}, nil) {
				return
			}
		}
	}
}

// newCursorFrom is a cursor over prefix that starts at from (inclusive), or
// at the prefix's first row when from is empty.
func newCursorFrom(s *Store, oid, prefix, from string) *cursor {
	c := newCursor(s.io, oid, prefix, "")
	if from != "" && from > prefix {
		c.after = from[:len(from)-1]
		c.min = from
	}
	return c
}

// Apply commits the writes of b in one write of the metadata object. A key
// that is also a hook record in an index shard is removed there afterwards
// (a crash in between leaves the record: a duplicate, never a loss).
func (k kvStore) Apply(ctx context.Context, b *kv.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(b.Ops) == 0 {
		return nil
	}
	op := newWriteOp()
	defer op.release()
	if err := addKVOps(op, b.Ops, nil); err != nil {
		return err
	}
	if err := op.operate(k.s.io, metaOID); err != nil {
		return err
	}
	hints, err := k.s.hints(b.Ops)
	if err != nil {
		return err
	}
	for _, o := range b.Ops {
		if !hints[recordSegment(string(o.Key))] {
			continue
		}
		_, oid, err := k.findRecord(ctx, string(o.Key))
		if err != nil {
			return err
		}
		if oid == "" {
			continue
		}
		rm := newWriteOp()
		rm.freesSpace()
		rm.omapRm([]string{rowRecord + esc(string(o.Key))})
		err = rm.operate(k.s.io, oid)
		rm.release()
		if err != nil && !isNotFound(err) {
			return err
		}
	}
	return nil
}

// CompareAndApply commits the writes of b in one write of the metadata
// object guarded by key holding old (nil: absent); false if it does not.
// (Unlike Apply it does not look for the keys among hook records: its
// callers write keys no hook writes.)
func (k kvStore) CompareAndApply(ctx context.Context, key, old []byte, b *kv.Batch) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	op := newWriteOp()
	defer op.release()
	var want []byte
	if old != nil {
		want = wrap(old)
	}
	op.omapEqual(rowKV+esc(string(key)), want)
	if err := addKVOps(op, b.Ops, nil); err != nil {
		return false, err
	}
	err := op.operate(k.s.io, metaOID)
	if errors.Is(err, errConflict) {
		return false, nil
	}
	return err == nil, err
}

// CompareEachAndApply commits the writes of b in one write of the metadata
// object guarded by every guard's key still holding the guard's value as
// a read returned it (nil: absent); false if one does not. A key that is
// still a hook record of an index shard (written so before its users moved
// their keys into the metadata object) is guarded by its absence from the
// metadata object, once its record was found holding the value.
func (k kvStore) CompareEachAndApply(ctx context.Context, guards []kv.Pair, b *kv.Batch) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	rows := make([]string, len(guards))
	for i, g := range guards {
		rows[i] = rowKV + esc(string(g.Key))
	}
	stored, err := getRows(k.s.io, metaOID, rows...)
	if err != nil {
		return false, err
	}
	var missing []kv.Op // guards of a value the metadata object lacks
	for i, g := range guards {
		if stored[rows[i]] == nil && g.Value != nil {
			missing = append(missing, kv.Op{Key: g.Key})
		}
	}
	hinted := map[string]bool{}
	if len(missing) > 0 {
		// Only a key whose segment has a hint can be a hook record.
		if hinted, err = k.s.hints(missing); err != nil {
			return false, err
		}
	}
	op := newWriteOp()
	defer op.release()
	for i, g := range guards {
		var want []byte
		if g.Value != nil {
			want = wrap(g.Value)
		}
		if stored[rows[i]] == nil && want != nil {
			if !hinted[recordSegment(string(g.Key))] {
				return false, nil // removed since it was read
			}
			v, _, err := k.findRecord(ctx, string(g.Key))
			if err != nil {
				return false, err
			}
			if !bytes.Equal(v, want) {
				return false, nil // removed or changed since it was read
			}
			want = nil
		}
		op.omapEqual(rows[i], want)
	}
	if err := addKVOps(op, b.Ops, nil); err != nil {
		return false, err
	}
	err = op.operate(k.s.io, metaOID)
	if errors.Is(err, errConflict) {
		return false, nil
	}
	return err == nil, err
}
