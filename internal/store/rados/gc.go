//go:build rados

package rados

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Defaults of the garbage collector (Options).
const (
	// DefaultGarbageDelay is how long a body a commit unreferenced stays,
	// so that reads which found its version before the commit can finish.
	DefaultGarbageDelay = 10 * time.Minute
	// DefaultIntentTTL is how long a body may take from its first stripe
	// to its commit; older uncommitted bodies are a dead gateway's.
	DefaultIntentTTL = 24 * time.Hour
)

// CollectGarbage makes one pass over every index shard: it removes the
// bodies of garbage rows older than garbageDelay and of intent rows older
// than intentTTL, then the rows. Any gateway may run it at any time, and
// several at once: removals are idempotent, and a write whose intent was
// collected fails its commit (the intent row is guarded) instead of
// committing a version without data.
func (s *Store) CollectGarbage(ctx context.Context, garbageDelay, intentTTL time.Duration) (removed int, err error) {
	oids, err := s.shardOIDs(ctx)
	if err != nil {
		return 0, err
	}
	now := time.Now()
	for _, oid := range oids {
		for _, p := range []struct {
			prefix string
			age    time.Duration
		}{{rowGarbage, garbageDelay}, {rowIntent, intentTTL}} {
			n, err := s.collect(ctx, oid, p.prefix, now.Add(-p.age))
			removed += n
			if err != nil {
				return removed, err
			}
		}
	}
	return removed, nil
}

// collect removes the rows of one prefix of oid written before cutoff, and
// their bodies, oldest first.
func (s *Store) collect(ctx context.Context, oid, prefix string, cutoff time.Time) (int, error) {
	c := newCursor(s.io, oid, prefix, "")
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		r, ok, err := c.peek()
		if err != nil || !ok {
			return n, err
		}
		c.next()
		ts, _, _ := strings.Cut(strings.TrimPrefix(r.Key, prefix), "/")
		nanos, err := strconv.ParseInt(ts, 16, 64)
		if err != nil || time.Unix(0, nanos).After(cutoff) {
			return n, nil // rows are in time order: the rest are younger
		}
		segs, err := decodeSegments(r.Value)
		if err != nil {
			s.log.Warn("rados: unreadable garbage row", "object", oid, "row", r.Key, "err", err)
			continue
		}
		// Bodies first: a crash in between leaves the row, and the next
		// pass removes what is left.
		s.removeSegments(segs...)
		op := newWriteOp()
		op.freesSpace()
		op.omapEqual(r.Key, r.Value)
		op.omapRm([]string{r.Key})
		err = op.operate(s.io, oid)
		op.release()
		if err != nil && !isNotFound(err) {
			s.log.Warn("rados: remove garbage row", "object", oid, "row", r.Key, "err", err)
			continue
		}
		n++
	}
}

// gcLoop runs CollectGarbage every interval until stop closes.
func (s *Store) gcLoop(stop <-chan struct{}, done chan<- struct{}, interval, garbageDelay, intentTTL time.Duration) {
	defer close(done)
	t := time.NewTicker(interval)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel()
	}()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if n, err := s.CollectGarbage(ctx, garbageDelay, intentTTL); err != nil && ctx.Err() == nil {
				s.log.Warn("rados: garbage collection", "err", err)
			} else if n > 0 {
				s.log.Info("rados: garbage collected", "bodies", n)
			}
		}
	}
}
