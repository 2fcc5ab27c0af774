package local

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/cockroachdb/pebble"
)

// recover restores the in-memory state from the metadata and removes the
// leftovers of writes a crash interrupted: every file in tmp, and every
// data file without a reference row (a write that never committed, or a
// file whose removal after a committed delete never happened).
func (s *Store) recover() error {
	lease, ok, err := (reader{db: s.db}).get(keySeqLease)
	if err != nil {
		return fmt.Errorf("local: read sequence lease: %w", err)
	}
	if ok && len(lease) == 8 {
		// Numbers below the lease may have been handed out; start above.
		v := binary.BigEndian.Uint64(lease)
		s.seq.Store(v)
		s.seqLimit.Store(v)
	}
	tmp := filepath.Join(s.dir, "tmp")
	entries, err := s.fs.ReadDir(tmp)
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	for _, e := range entries {
		if err := s.fs.Remove(filepath.Join(tmp, e)); err != nil {
			return fmt.Errorf("local: clean tmp: %w", err)
		}
	}
	if len(entries) > 0 {
		s.log.Info("removed interrupted writes", "count", len(entries))
	}
	return s.removeOrphans()
}

func (s *Store) removeOrphans() error {
	removed := 0
	for i := 0; i < 256; i++ {
		dir := filepath.Join(s.dir, "data", fmt.Sprintf("%02x", i))
		entries, err := s.fs.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("local: %w", err)
		}
		for _, e := range entries {
			seq, err := strconv.ParseUint(e, 16, 64)
			if err != nil {
				s.log.Warn("unexpected file in data directory", "path", filepath.Join(dir, e))
				continue
			}
			_, closer, err := s.db.Get(seqKey(tagFile, seq))
			if err == nil {
				closer.Close()
				continue
			}
			if err != pebble.ErrNotFound {
				return fmt.Errorf("local: %w", err)
			}
			if err := s.fs.Remove(filepath.Join(dir, e)); err != nil {
				return fmt.Errorf("local: remove orphan: %w", err)
			}
			removed++
		}
	}
	if removed > 0 {
		s.log.Info("removed unreferenced data files", "count", removed)
	}
	return nil
}
