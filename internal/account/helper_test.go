package account_test

import (
	"bytes"
	"context"
	"iter"
	"sort"
	"sync"
	"testing"

	"github.com/cairn-s3/cairn/internal/kv"
)

// memKV is a stand-in until the local store lands.
type memKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newKV(t *testing.T) kv.Store { return &memKV{m: map[string][]byte{}} }

func (s *memKV) Get(_ context.Context, key []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[string(key)]
	if !ok {
		return nil, kv.ErrNotFound
	}
	return bytes.Clone(v), nil
}

func (s *memKV) Scan(_ context.Context, prefix, start []byte) iter.Seq2[kv.Pair, error] {
	s.mu.Lock()
	var ps []kv.Pair
	for k, v := range s.m {
		if bytes.HasPrefix([]byte(k), prefix) && bytes.Compare([]byte(k), start) >= 0 {
			ps = append(ps, kv.Pair{Key: []byte(k), Value: bytes.Clone(v)})
		}
	}
	s.mu.Unlock()
	sort.Slice(ps, func(i, j int) bool { return bytes.Compare(ps[i].Key, ps[j].Key) < 0 })
	return func(yield func(kv.Pair, error) bool) {
		for _, p := range ps {
			if !yield(p, nil) {
				return
			}
		}
	}
}

func (s *memKV) Apply(_ context.Context, b *kv.Batch) error {
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
