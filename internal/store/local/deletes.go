package local

import (
	"context"
	"slices"

	"github.com/cairn-s3/cairn/internal/store"
)

// DeleteObjects deletes the entries of one DeleteObjects request in one
// synced commit (a request of 1,000 keys pays for one WAL sync, not 1,000),
// each entry staged on its own so that one failing (a Check, the hook)
// drops only its own writes. A key named twice starts a new commit, so that
// every delete reads the state the previous one left.
func (s *Store) DeleteObjects(ctx context.Context, bucket string, entries []store.DeleteEntry) []store.DeleteOutcome {
	out := make([]store.DeleteOutcome, len(entries))
	for start := 0; start < len(entries); {
		end := distinctKeys(entries, start)
		s.deleteRun(ctx, bucket, entries[start:end], out[start:end])
		start = end
	}
	return out
}

// distinctKeys returns the end of the longest run of entries from start
// whose keys are all different.
func distinctKeys(entries []store.DeleteEntry, start int) int {
	seen := make(map[string]bool)
	for i := start; i < len(entries); i++ {
		if seen[entries[i].Key] {
			return i
		}
		seen[entries[i].Key] = true
	}
	return len(entries)
}

// deleteRun deletes entries, whose keys are distinct, in one commit.
func (s *Store) deleteRun(ctx context.Context, bucket string, entries []store.DeleteEntry, out []store.DeleteOutcome) {
	fail := func(err error) {
		for i := range out {
			out[i] = store.DeleteOutcome{Err: err}
		}
	}
	if err := ctx.Err(); err != nil {
		fail(err)
		return
	}
	t := s.newTxn(ctx)
	defer t.close()
	bl := s.bucketLock(bucket)
	bl.RLock()
	defer bl.RUnlock()
	r := reader{db: s.db}
	b, err := s.readBucket(r, bucket)
	if err != nil {
		fail(err)
		return
	}
	defer s.lockKeys(bucket, entries)()
	var staged []int
	for i, e := range entries {
		part := s.newTxn(ctx)
		res, changed, err := s.stageDelete(part, r, b, e.Key, e.Options)
		if err == nil && changed {
			err = t.absorb(part)
		} else {
			part.close()
		}
		if err != nil {
			out[i] = store.DeleteOutcome{Err: err}
			continue
		}
		out[i] = store.DeleteOutcome{Result: res}
		if changed {
			staged = append(staged, i)
		}
	}
	if len(staged) == 0 {
		return
	}
	if err := t.commit(); err != nil {
		for _, i := range staged {
			out[i] = store.DeleteOutcome{Err: err}
		}
	}
}

// lockKeys locks the key stripes of entries, each once and in index order
// (so that two such calls cannot deadlock), and returns their unlock.
func (s *Store) lockKeys(bucket string, entries []store.DeleteEntry) func() {
	stripes := make([]int, 0, len(entries))
	for _, e := range entries {
		stripes = append(stripes, s.keyStripe(bucket, e.Key))
	}
	slices.Sort(stripes)
	stripes = slices.Compact(stripes)
	for _, i := range stripes {
		s.keys[i].Lock()
	}
	return func() {
		for _, i := range stripes {
			s.keys[i].Unlock()
		}
	}
}
