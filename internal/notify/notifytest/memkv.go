// Package notifytest holds helpers for tests of the notification subsystem.
package notifytest

import (
	"bytes"
	"context"
	"iter"
	"slices"
	"sync"

	"github.com/cairn-s3/cairn/internal/kv"
)

// MemKV is an in-memory kv.Store for tests.
type MemKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

var _ kv.Store = (*MemKV)(nil)

// NewMemKV returns an empty store.
func NewMemKV() *MemKV { return &MemKV{m: map[string][]byte{}} }

// Get implements kv.Store.
func (s *MemKV) Get(ctx context.Context, key []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[string(key)]
	if !ok {
		return nil, kv.ErrNotFound
	}
	return bytes.Clone(v), nil
}

// Scan implements kv.Store over a snapshot of the matching keys.
func (s *MemKV) Scan(ctx context.Context, prefix, start []byte) iter.Seq2[kv.Pair, error] {
	s.mu.Lock()
	var pairs []kv.Pair
	for k, v := range s.m {
		if bytes.HasPrefix([]byte(k), prefix) && (len(start) == 0 || k >= string(start)) {
			pairs = append(pairs, kv.Pair{Key: []byte(k), Value: bytes.Clone(v)})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(pairs, func(a, b kv.Pair) int { return bytes.Compare(a.Key, b.Key) })
	return func(yield func(kv.Pair, error) bool) {
		for _, p := range pairs {
			if !yield(p, nil) {
				return
			}
		}
	}
}

// Apply implements kv.Store.
func (s *MemKV) Apply(ctx context.Context, b *kv.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range b.Ops {
		if op.Value == nil {
			delete(s.m, string(op.Key))
		} else {
			s.m[string(op.Key)] = bytes.Clone(op.Value)
		}
	}
	return nil
}
