package pubsub

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Pulls and nacks on a shared log. They rewrite events they read (hiding
// them for a visibility timeout, showing them again), while other gateways
// ack, expire, pull and nack the same events: each such write is guarded
// by the events' values as read, and made again from fresh reads if one
// changed. Unguarded, it would bring back an event another gateway acked
// or expired, or hand an event to two readers within its visibility
// timeout.

// errNotGuarded: the shared store cannot guard a write by values read.
var errNotGuarded = errors.New("pubsub: a shared log needs a kv store with guarded writes")

// pullShared is Pull on a shared log; s.op must be held.
func (l *Log) pullShared(ctx context.Context, sub string, s *logState, after uint64, limit int, visibility time.Duration) (Page, error) {
	for range maxMoveAttempts {
		page, b, read, err := l.scanVisible(ctx, sub, s, after, limit, visibility)
		if err != nil {
			return Page{}, err
		}
		// Another gateway's retention may have removed events after the
		// marker, even while the scan ran: its meta record, read after
		// the scan, tells (shared_meta.go). A reader from the oldest
		// event has no gap (and an idle long-poll one read less).
		if after > 0 {
			expired, err := l.expiredShared(ctx, sub, s)
			if err != nil {
				return Page{}, fmt.Errorf("pubsub: pull: %w", err)
			}
			if err := gapError(after, expired); err != nil {
				return Page{}, err
			}
		}
		if len(b.Ops) == 0 {
			return page, nil
		}
		ga, ok := l.kv.(guardedApplier)
		if !ok {
			return Page{}, errNotGuarded
		}
		done, err := ga.CompareEachAndApply(ctx, read, b)
		if err != nil {
			return Page{}, fmt.Errorf("pubsub: pull: %w", err)
		}
		if done {
			return page, nil
		}
	}
	return Page{}, fmt.Errorf("pubsub: pull %q: its events kept changing", sub)
}

// nackShared is Nack on a shared log; the log's op lock must be held.
func (l *Log) nackShared(ctx context.Context, sub string, ids []string) (int, error) {
	ga, ok := l.kv.(guardedApplier)
	if !ok {
		return 0, errNotGuarded
	}
	for range maxMoveAttempts {
		b, read, err := l.nackBatch(ctx, sub, ids)
		if err != nil || len(b.Ops) == 0 {
			return 0, err
		}
		done, err := ga.CompareEachAndApply(ctx, read, b)
		if err != nil {
			return 0, fmt.Errorf("pubsub: nack: %w", err)
		}
		if done {
			return len(b.Ops), nil
		}
	}
	return 0, fmt.Errorf("pubsub: nack %q: its events kept changing", sub)
}
