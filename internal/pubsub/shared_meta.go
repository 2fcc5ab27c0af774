package pubsub

import (
	"context"
	"errors"
	"fmt"

	"github.com/cairn-s3/cairn/internal/kv"
)

// Retention on a shared log. Each gateway runs retention over the logs it
// knows, and readers pull through any gateway, so the highest position
// retention removed lives in the log's meta record only, never in one
// gateway's memory: retention raises it with the events' removal in one
// write guarded by the record read (it never goes down, whatever a
// gateway's own state), acks leave it alone, and a pull reads it to tell
// a reader behind it of the gap.

// readMeta returns the meta record of log sub and its stored form (nil:
// absent, the zero record).
func (l *Log) readMeta(ctx context.Context, sub string) (meta, []byte, error) {
	raw, err := l.kv.Get(ctx, metaKey(sub))
	if errors.Is(err, kv.ErrNotFound) {
		return meta{}, nil, nil
	}
	if err != nil {
		return meta{}, nil, err
	}
	m, err := decodeMeta(raw)
	if err != nil {
		return meta{}, nil, fmt.Errorf("meta of %q: %w", sub, err)
	}
	return m, raw, nil
}

// expiredShared returns the highest position any gateway's retention
// removed from log sub, raising s.expired to it; s.op must be held.
func (l *Log) expiredShared(ctx context.Context, sub string, s *logState) (uint64, error) {
	m, _, err := l.readMeta(ctx, sub)
	if err != nil {
		return s.expired, err
	}
	s.expired = max(s.expired, m.Expired)
	return s.expired, nil
}

// commitExpiryShared applies b, which removes events of log sub up to top,
// with the meta record's Expired raised to top, guarded by the record
// read; false if another gateway changed it meanwhile. s.op must be held.
func (l *Log) commitExpiryShared(ctx context.Context, sub string, s *logState, b *kv.Batch, top uint64) (bool, error) {
	cas, ok := l.kv.(compareApplier)
	if !ok {
		return false, errors.New("pubsub: a shared log needs a kv store with compare-and-apply")
	}
	m, old, err := l.readMeta(ctx, sub)
	if err != nil {
		return false, fmt.Errorf("pubsub: expire: %w", err)
	}
	l.mu.Lock()
	m.High = max(m.High, s.last)
	l.mu.Unlock()
	m.Expired = max(m.Expired, s.expired, top)
	b.Put(metaKey(sub), m.encode())
	done, err := cas.CompareAndApply(ctx, metaKey(sub), old, b)
	if err != nil {
		return false, fmt.Errorf("pubsub: expire: %w", err)
	}
	if done {
		s.expired = m.Expired
	}
	return done, nil
}
