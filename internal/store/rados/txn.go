//go:build rados

package rados

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// txn is one commit to one index shard in preparation: a guarded write
// operation and the rows it sets and removes. It is the RecordWriter handed
// to the ChangeHook, so hook records become rows of the same operation.
type txn struct {
	s       *Store
	ctx     context.Context
	oid     string
	seq     uint64 // the change's sequence, once known
	op      *writeOp
	set     map[string][]byte
	rm      map[string]bool
	after   []func() // AfterCommit callbacks
	aborted []func() // AfterAbort callbacks
	done    bool
	ok      bool
	ranks   int    // records numbered by RecordSequence
	records bool   // the commit writes hook records
	bucket  string // the changed bucket, once change ran
}

// newTxn starts a commit to shard oid guarded by the shard being open
// (bucket deletion closes it) and by each row in guards holding the bytes
// the caller read (nil: absent).
func (s *Store) newTxn(ctx context.Context, oid string, guards map[string][]byte) *txn {
	t := &txn{s: s, ctx: ctx, oid: oid, op: newWriteOp(), set: map[string][]byte{}, rm: map[string]bool{}}
	t.op.assertExists()
	t.op.omapEqual(rowClosed, nil)
	for k, v := range guards {
		t.op.omapEqual(k, v)
	}
	return t
}

// freesSpace lets the commit through a full pool or cluster (deletes).
func (t *txn) freesSpace() { t.op.freesSpace() }

func (t *txn) setRow(key string, value []byte) {
	delete(t.rm, key)
	t.set[key] = wrap(value)
}

func (t *txn) setJSON(key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("rados: encode: %w", err)
	}
	t.setRow(key, data)
	return nil
}

func (t *txn) rmRow(key string) {
	delete(t.set, key)
	t.rm[key] = true
}

// Put implements store.RecordWriter: the record is a row of the shard.
func (t *txn) Put(key, value []byte) error {
	if len(key) == 0 {
		return errors.New("rados: empty record key")
	}
	if err := t.s.noteRecordKey(string(key)); err != nil {
		return err
	}
	t.setRow(rowRecord+esc(string(key)), value)
	t.records = true
	return nil
}

// maxRanks bounds the records of one commit RecordSequence numbers.
const maxRanks = 1 << 8

// RecordSequence implements queue.SharedWriter: the change's sequence
// (issued once in the cluster, and past the key's last one: seqLease.next)
// times 256 plus the record's rank in the commit.
func (t *txn) RecordSequence() (uint64, error) {
	if t.seq == 0 {
		return 0, errors.New("rados: record sequence before the change's")
	}
	if t.ranks >= maxRanks {
		return 0, fmt.Errorf("rados: more than %d numbered records in one commit", maxRanks)
	}
	n := t.seq<<8 | uint64(t.ranks)
	t.ranks++
	return n, nil
}

// RecordsFull implements queue.SharedWriter: whether the shard's drainer
// marked prefix full (lease.go, SyncFull). The commit is guarded by the
// mark as read, so a commit racing a change of the mark retries.
func (t *txn) RecordsFull(prefix []byte) (bool, error) {
	row := rowFull + esc(string(prefix))
	v, err := getRow(t.s.io, t.oid, row)
	if err != nil {
		return false, err
	}
	t.op.omapEqual(row, v)
	return v != nil, nil
}

// AfterCommit implements store.RecordWriter.
func (t *txn) AfterCommit(fn func()) { t.after = append(t.after, fn) }

// AfterAbort implements store.RecordWriter.
func (t *txn) AfterAbort(fn func()) { t.aborted = append(t.aborted, fn) }

// change runs the hook for the change this commit makes.
func (t *txn) change(kind store.ChangeKind, b store.Bucket, info store.ObjectInfo, hidden *store.ObjectInfo, seq uint64) error {
	if t.s.hook == nil {
		return nil
	}
	t.seq, t.bucket = seq, b.Name
	c := store.Change{Kind: kind, Object: info, Hidden: hidden, Bucket: b, Sequence: seq, Time: info.LastModified}
	if err := t.s.hook(t.ctx, c, t); err != nil {
		return fmt.Errorf("rados: change hook: %w", err)
	}
	return nil
}

// commit runs the operation; errConflict means a guard failed.
func (t *txn) commit() error {
	if t.done {
		return errors.New("rados: transaction already finished")
	}
	t.done = true
	// The client of a cancelled request is gone and will never see an
	// acknowledgement, so the write is abandoned rather than committed.
	if err := t.ctx.Err(); err != nil {
		return err
	}
	if t.records && t.bucket != "" {
		if err := t.s.markEvented(t.ctx, t.bucket, t.oid, t.op.flags == fullForce); err != nil {
			return err
		}
	}
	t.op.omapSet(t.set)
	rm := make([]string, 0, len(t.rm))
	for k := range t.rm {
		rm = append(rm, k)
	}
	t.op.omapRm(rm)
	if err := t.op.operate(t.s.io, t.oid); err != nil {
		if isNotFound(err) {
			// The shard is gone: its bucket was deleted.
			return fmt.Errorf("%w (%w)", errConflict, err)
		}
		return err
	}
	t.ok = true
	return nil
}

// close ends the transaction, running its AfterCommit or AfterAbort
// callbacks; callers defer it.
func (t *txn) close() {
	t.done = true
	t.op.release()
	fns := t.aborted
	if t.ok {
		fns = t.after
		if t.records {
			t.s.committed(t.oid)
		}
	}
	t.after, t.aborted = nil, nil
	for _, fn := range fns {
		fn()
	}
}

// backoff waits a little before retrying a commit whose guard failed, so
// that writers of one hot key do not spin in step.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(1+rand.IntN(1+min(attempt, 20))) * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
