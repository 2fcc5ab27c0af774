package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/cockroachdb/pebble"

	"github.com/cairn-s3/cairn/internal/kv"
)

// KV returns the kv.Store on the same database, isolated under its own key
// prefix. Records a ChangeHook writes are visible through it.
func (s *Store) KV() kv.Store { return kvStore{s} }

type kvStore struct{ s *Store }

var _ kv.Store = kvStore{}

func (k kvStore) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, err := k.s.get(kvKey(key))
	if isNotFound(err) {
		return nil, fmt.Errorf("%w: %q", kv.ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	return v, nil
}

func (k kvStore) Scan(ctx context.Context, prefix, start []byte) iter.Seq2[kv.Pair, error] {
	return func(yield func(kv.Pair, error) bool) {
		lo := kvKey(prefix)
		it, err := k.s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
		if err != nil {
			yield(kv.Pair{}, fmt.Errorf("local: %w", err))
			return
		}
		defer it.Close()
		from := lo
		if s := kvKey(start); len(start) > 0 && bytes.Compare(s, lo) > 0 {
			from = s
		}
		for ok := it.SeekGE(from); ok; ok = it.Next() {
			if err := ctx.Err(); err != nil {
				yield(kv.Pair{}, err)
				return
			}
			v, err := it.ValueAndErr()
			if err != nil {
				yield(kv.Pair{}, fmt.Errorf("local: %w", err))
				return
			}
			p := kv.Pair{
				Key:   append([]byte(nil), it.Key()[len(tagKV):]...),
				Value: append([]byte(nil), v...),
			}
			if !yield(p, nil) {
				return
			}
		}
		if err := it.Error(); err != nil {
			yield(kv.Pair{}, fmt.Errorf("local: %w", err))
		}
	}
}

func (k kvStore) Apply(ctx context.Context, b *kv.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(b.Ops) == 0 {
		return nil
	}
	pb := k.s.db.NewBatch()
	defer pb.Close()
	for _, op := range b.Ops {
		if len(op.Key) == 0 {
			return errors.New("local: kv: empty key")
		}
		var err error
		if op.Value == nil {
			err = pb.Delete(kvKey(op.Key), nil)
		} else {
			err = pb.Set(kvKey(op.Key), op.Value, nil)
		}
		if err != nil {
			return fmt.Errorf("local: %w", err)
		}
	}
	k.s.space.guard()
	if err := pb.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("local: kv commit: %w", err)
	}
	return nil
}
