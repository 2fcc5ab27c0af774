package script

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/cairn-s3/cairn/internal/kv"
)

// Generation returns the change counter: it moves on every put, rm and
// package change (0 before the first). The engine polls it and re-reads
// scripts when it differs from the value it cached them at.
func (s *Store) Generation(ctx context.Context) (uint64, error) {
	data, err := s.kv.Get(ctx, []byte(generationKey))
	if errors.Is(err, kv.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("script: read generation: %w", err)
	}
	g, err := strconv.ParseUint(string(data), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("script: corrupt generation %q: %w", data, err)
	}
	return g, nil
}

// apply commits b together with a new generation. The new value is the
// larger of the old one plus one and the clock in nanoseconds, so that two
// gateways changing scripts at once on a shared store (each reading the
// same old value) still write different generations.
func (s *Store) apply(ctx context.Context, b *kv.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.Generation(ctx)
	if err != nil {
		return err
	}
	next := max(old+1, uint64(s.now().UnixNano()))
	b.Put([]byte(generationKey), []byte(strconv.FormatUint(next, 10)))
	if err := s.kv.Apply(ctx, b); err != nil {
		return fmt.Errorf("script: write: %w", err)
	}
	return nil
}

// Reload moves the generation without another change (radosgw-admin
// script-package reload): every gateway re-reads its scripts and packages.
func (s *Store) Reload(ctx context.Context) error {
	return s.apply(ctx, &kv.Batch{})
}
