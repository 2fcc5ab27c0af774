//go:build rados

package rados

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// The Evented index: a row "n/<bucket id>" → shard count in cairn.meta for
// every bucket marked Evented, set by the write that marks the record
// (markEvented) and removed by the write that removes the record
// (DeleteBucket), both guarded by the record. A drain pass reads these
// rows, not every bucket record: a cluster with many buckets and few with
// notifications costs each pass a read of the few.
//
// Gateways from before the index mark records without a row, and remove
// records without removing theirs. A commit here that finds its bucket
// marked but not indexed indexes it (markEvented); and a gateway's first
// drain pass, and one every eventedReconcileEvery after it, walks every
// record and mends the index (reconcileEvented): a bucket such a gateway
// marked is drained here at the latest then (the older gateways drain it
// meanwhile).
const eventedReconcileEvery = 5 * time.Minute

func eventedRow(shards int) []byte { return wrap(strconv.AppendInt(nil, int64(shards), 10)) }

// eventedIndex reads the index: bucket id → shard count, 0 for a row that
// does not parse (logged; the next reconciliation rewrites or removes it,
// and meanwhile the other buckets' shards are drained).
func (s *Store) eventedIndex(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	c := newCursor(s.io, metaOID, rowEvented, "")
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, ok, err := c.peek()
		if err != nil || !ok {
			return out, err
		}
		c.next()
		shards, err := parseEventedRow(r.Value)
		if err != nil {
			s.log.Warn("rados: corrupt row of the Evented index; rewritten or removed at the next reconciliation", "row", r.Key, "err", err)
		}
		out[r.Key[len(rowEvented):]] = shards
	}
}

// readMark reads a bucket's record (as bucket.readBucket) and whether the
// Evented index has a row for id, in one read.
func (s *Store) readMark(name, id string) (rec *bucketRecord, raw []byte, indexed bool, err error) {
	if name == "" {
		return nil, nil, false, fmt.Errorf("%w: empty name", store.ErrNoSuchBucket)
	}
	s.bucketReads.Add(1)
	rows, err := getRows(s.io, metaOID, rowBucket+name, rowEvented+id)
	if err != nil {
		return nil, nil, false, err
	}
	raw = rows[rowBucket+name]
	if raw == nil {
		return nil, nil, false, fmt.Errorf("%w: %s", store.ErrNoSuchBucket, name)
	}
	rec, err = decodeBucket(raw)
	return rec, raw, rows[rowEvented+id] != nil, err
}

func parseEventedRow(raw []byte) (int, error) {
	v, err := unwrap(raw)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad shard count %q", v)
	}
	return n, nil
}

// reconcileEvented makes the index match the records: a row for every
// Evented record (guarded by the record, so a bucket deleted meanwhile
// gets none), none for a bucket id without a record. The index is read
// before the walk: a row read then whose id the walk does not meet is of a
// bucket deleted since (ids are never reused), so its removal needs no
// guard.
func (s *Store) reconcileEvented(ctx context.Context) error {
	index, err := s.eventedIndex(ctx)
	if err != nil {
		return err
	}
	live := map[string]bool{}
	var errs []error
	err = s.eachBucket(ctx, func(rec *bucketRecord, raw []byte) {
		live[rec.ID] = true
		if !rec.Evented {
			return
		}
		if index[rec.ID] == rec.Shards {
			return
		}
		op := newWriteOp()
		op.omapEqual(rowBucket+rec.Bucket.Name, raw)
		op.omapSet(map[string][]byte{rowEvented + rec.ID: eventedRow(rec.Shards)})
		err := op.operate(s.io, metaOID)
		op.release()
		if err != nil && !errors.Is(err, errConflict) { // conflict: changed or gone since, mended next time
			errs = append(errs, err)
			return
		}
		if err == nil {
			s.log.Info("rados: indexed an Evented bucket (marked by an older gateway)", "bucket", rec.Bucket.Name, "id", rec.ID)
		}
	})
	if err != nil {
		return err
	}
	var stale []string
	for id := range index {
		if !live[id] {
			stale = append(stale, rowEvented+id)
		}
	}
	if len(stale) > 0 {
		op := newWriteOp()
		op.freesSpace()
		op.omapRm(stale)
		err := op.operate(s.io, metaOID)
		op.release()
		if err != nil {
			errs = append(errs, err)
		} else {
			s.log.Info("rados: removed Evented index rows of deleted buckets", "rows", len(stale))
		}
	}
	return errors.Join(errs...)
}
