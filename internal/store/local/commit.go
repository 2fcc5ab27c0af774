package local

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
)

// txn is one metadata commit in preparation. It is the RecordWriter handed
// to the ChangeHook, so hook records land in the same batch as the change.
type txn struct {
	s         *Store
	ctx       context.Context
	b         *pebble.Batch
	post      []func() // internal follow-ups (file removal), after commit
	after     []func() // AfterCommit callbacks
	aborted   []func() // AfterAbort callbacks
	done      bool
	committed bool
}

func (s *Store) newTxn(ctx context.Context) *txn {
	return &txn{s: s, ctx: ctx, b: s.db.NewBatch()}
}

// Put implements store.RecordWriter: key lives in the kv namespace.
func (t *txn) Put(key, value []byte) error {
	if len(key) == 0 {
		return errors.New("local: empty record key")
	}
	return t.b.Set(kvKey(key), value, nil)
}

// kvOp adds one write of the kv namespace (Value nil: a delete).
func (t *txn) kvOp(op kv.Op) error {
	if len(op.Key) == 0 {
		return errors.New("local: empty record key")
	}
	if op.Value == nil {
		return t.b.Delete(kvKey(op.Key), nil)
	}
	return t.b.Set(kvKey(op.Key), op.Value, nil)
}

// AfterCommit implements store.RecordWriter.
func (t *txn) AfterCommit(fn func()) { t.after = append(t.after, fn) }

// AfterAbort implements store.RecordWriter.
func (t *txn) AfterAbort(fn func()) { t.aborted = append(t.aborted, fn) }

func (t *txn) onCommit(fn func()) { t.post = append(t.post, fn) }

// absorb moves part, a finished piece of this commit staged on its own
// (so that a failing piece could be dropped whole), into t: its writes and
// its follow-ups, which then run as t's do. part is finished either way;
// if the move fails, its abort callbacks run.
func (t *txn) absorb(part *txn) error {
	if err := t.b.Apply(part.b, nil); err != nil {
		part.close()
		return fmt.Errorf("local: %w", err)
	}
	t.post = append(t.post, part.post...)
	t.after = append(t.after, part.after...)
	t.aborted = append(t.aborted, part.aborted...)
	part.post, part.after, part.aborted = nil, nil, nil
	part.done = true
	part.b.Close()
	return nil
}

// change runs the hook for one change of this commit.
func (t *txn) change(kind store.ChangeKind, b store.Bucket, info store.ObjectInfo, seq uint64) error {
	return t.changeHiding(kind, b, info, nil, seq)
}

// changeHiding is change for a delete marker that hides the version
// hidden (nil if none).
func (t *txn) changeHiding(kind store.ChangeKind, b store.Bucket, info store.ObjectInfo, hidden *store.ObjectInfo, seq uint64) error {
	if t.s.hook == nil {
		return nil
	}
	c := store.Change{Kind: kind, Object: info, Hidden: hidden, Bucket: b, Sequence: seq, Time: info.LastModified}
	if err := t.s.hook(t.ctx, c, t); err != nil {
		return fmt.Errorf("local: change hook: %w", err)
	}
	return nil
}

// commit makes the batch durable. Follow-ups run in close, once the
// caller has released its locks, so AfterCommit callbacks may use the store.
func (t *txn) commit() error {
	if t.done {
		return errors.New("local: transaction already finished")
	}
	t.done = true
	defer t.b.Close()
	// The client of a cancelled request is gone and will never see an
	// acknowledgement, so the write is abandoned rather than committed.
	if err := t.ctx.Err(); err != nil {
		return err
	}
	t.s.space.guard()
	if err := t.b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("local: commit: %w", err)
	}
	t.committed = true
	return nil
}

// close ends the transaction: it discards an uncommitted batch, or runs the
// follow-ups of a committed one. Callers defer it before taking locks.
func (t *txn) close() {
	if !t.done {
		t.done = true
		t.b.Close()
	}
	if !t.committed {
		aborted := t.aborted
		t.aborted = nil
		for _, fn := range aborted {
			fn()
		}
		return
	}
	post, after := t.post, t.after
	t.post, t.after = nil, nil
	for _, fn := range post {
		fn()
	}
	for _, fn := range after {
		fn()
	}
}

func (t *txn) setJSON(key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("local: encode: %w", err)
	}
	return t.b.Set(key, data, nil)
}

// dropVersion deletes a version's rows and, after the commit, its files.
func (t *txn) dropVersion(bucket, key string, v *version) {
	t.b.Delete(versionKey(bucket, key, v.Seq), nil)
	if v.Null {
		t.b.Delete(nullKey(bucket, key), nil)
	}
	t.dropBlobs(v.Blobs)
	seq, blobs := v.Seq, v.Blobs
	t.onCommit(func() { t.s.release(seq, blobs) })
}

// dropBlobs deletes the rows of blobs; the caller arranges file removal.
func (t *txn) dropBlobs(blobs []blob) {
	for _, b := range blobs {
		switch {
		case b.Inline:
			t.b.Delete(seqKey(tagInline, b.Seq), nil)
		case b.Size > 0:
			t.b.Delete(seqKey(tagFile, b.Seq), nil)
		}
	}
}

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
