package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// DefaultBallastSize is the reserve kept when Options.BallastSize and
// Options.BallastPercent are zero.
const DefaultBallastSize = 64 << 20

// minSafeReserve is the smallest reserve that surely covers a start on a
// full disk: Pebble replays up to two unflushed memtables (metaMemTableSize
// each, tuning.go) from the WAL into new tables, and writes a MANIFEST and
// a new WAL.
const minSafeReserve = 2*metaMemTableSize + 8<<20

// ballastName is the reserve file in the store's directory.
const ballastName = "ballast"

// Pebble v1 cannot survive running out of disk: a failed WAL write makes
// DB.Apply call Logger.Fatalf ("pebble: fatal commit error"), a failed WAL
// rotation panics, a failed MANIFEST write calls Fatalf, and opening on a
// full disk fails because replaying the WAL writes a table, a MANIFEST and
// a new WAL. So the store never lets Pebble reach ENOSPC:
//
//   - New data (object bodies, parts, copies, new uploads) is admitted only
//     while the free space after it stays at least the reserve, so deletes
//     and Pebble's flushes and compactions always find room.
//   - A ballast file of the reserve's size holds space that nothing else can
//     take. When free space falls below half the reserve anyway (concurrent
//     uploads, another process filling the disk) or a write meets ENOSPC,
//     the ballast is deleted, which gives Pebble that much room again; new
//     data stays refused until free space is back to twice the reserve and
//     the ballast is re-created.
//   - At start, on a disk with less than the reserve free, the ballast is
//     deleted before Pebble opens, so a restart on a full disk works.

// freeFunc reports the free bytes (for unprivileged users) and the total
// size of the filesystem holding dir.
type freeFunc func(dir string) (free, total uint64, err error)

// space is the store's guard against a full disk (see above).
type space struct {
	dir     string
	ballast string
	reserve uint64 // also the ballast's size; 0 turns the guard off
	free    freeFunc
	log     *slog.Logger

	mu      sync.Mutex
	present bool   // the ballast file holds its full size
	pending uint64 // declared bytes of admitted bodies still being written

	// reclaim asks the store to flush the metadata store while new data is
	// refused, so compactions can drop deleted inline objects (see
	// Store.reclaimLoop).
	reclaim chan struct{}
}

// newSpace sizes the reserve from opts; dir must exist.
func newSpace(dir string, opts Options, log *slog.Logger) (*space, error) {
	sp := &space{dir: dir, ballast: filepath.Join(dir, ballastName), free: opts.freeSpace, log: log,
		reclaim: make(chan struct{}, 1)}
	if sp.free == nil {
		sp.free = statfsFree
	}
	switch {
	case opts.BallastSize < 0:
		return sp, nil
	case opts.freeSpace == nil && !haveStatfs:
		log.Warn("free space cannot be measured on this system: no reserve is kept")
		return sp, nil
	case opts.BallastPercent > 0:
		if opts.BallastPercent >= 50 {
			return nil, fmt.Errorf("local: ballast of %v%% of the disk: want less than 50%%", opts.BallastPercent)
		}
		_, total, err := sp.free(dir)
		if err != nil {
			return nil, err
		}
		sp.reserve = uint64(float64(total) * opts.BallastPercent / 100)
	case opts.BallastSize > 0:
		sp.reserve = uint64(opts.BallastSize)
	default:
		sp.reserve = DefaultBallastSize
	}
	if sp.reserve < minSafeReserve {
		log.Warn("free-space reserve below the metadata store's replay room: a restart on a full disk may not have room to replay the metadata log",
			"reserve_bytes", sp.reserve, "safe_bytes", minSafeReserve)
	}
	return sp, nil
}

// beforeOpen runs before Pebble opens: it deletes the ballast if the disk
// is too full for Pebble to replay its WAL, and a partial one.
func (sp *space) beforeOpen() error {
	if err := os.Remove(sp.ballast + ".tmp"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("local: %w", err)
	}
	if sp.reserve == 0 {
		return sp.remove() // a ballast left from a run with a reserve
	}
	fi, err := os.Stat(sp.ballast)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("local: %w", err)
	}
	if uint64(fi.Size()) != sp.reserve {
		return sp.remove() // interrupted creation or a new size: made anew later
	}
	sp.present = true
	free, _, err := sp.free(sp.dir)
	if err != nil {
		return err
	}
	if free < sp.reserve {
		sp.log.Warn("disk nearly full at start: ballast deleted so the metadata store can open; new data is refused until space is freed",
			"dir", sp.dir, "free_bytes", free, "reserve_bytes", sp.reserve, "safe_bytes", minSafeReserve)
		return sp.release()
	}
	return nil
}

// admit is called before a body of size bytes (negative: unknown) is read:
// it answers store.ErrStorageFull unless the free space after it, and after
// the bodies admitted before it and still being written, stays at least the
// reserve. The caller calls written once the body is on disk (or failed).
func (sp *space) admit(size int64) (written func(), err error) {
	need := uint64(max(size, 0))
	if err := sp.check(need); err != nil {
		return nil, err
	}
	return func() {
		sp.mu.Lock()
		sp.pending -= need
		sp.mu.Unlock()
	}, nil
}

// check admits need more bytes, counting them as pending.
func (sp *space) check(need uint64) error {
	if sp.reserve == 0 {
		return nil
	}
	free, _, err := sp.free(sp.dir)
	if err != nil {
		return err
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	// Admitted bodies still arriving will take their declared size (part
	// of which free already shows as used: the estimate errs on the safe
	// side).
	free -= min(free, sp.pending)
	if sp.present && free < sp.reserve/2 {
		sp.releaseLocked("free space below half the reserve", free)
		return store.ErrStorageFull
	}
	if !sp.present {
		if free < 2*sp.reserve+need {
			sp.askReclaim()
			return store.ErrStorageFull
		}
		if err := sp.createLocked(); err != nil {
			sp.log.Warn("cannot create the ballast file; new data is refused", "path", sp.ballast, "err", err)
			return store.ErrStorageFull
		}
		free -= sp.reserve
	}
	if free < sp.reserve+need {
		sp.askReclaim()
		return store.ErrStorageFull
	}
	sp.pending += need
	return nil
}

// guard runs before a metadata commit: it gives Pebble the ballast's room
// when the disk is about to fill despite admission.
func (sp *space) guard() {
	if sp.reserve == 0 {
		return
	}
	free, _, err := sp.free(sp.dir)
	if err != nil || free >= sp.reserve/2 {
		return
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.present {
		sp.releaseLocked("free space below half the reserve", free)
	}
}

// noteError releases the ballast if err says the disk is full, so that the
// metadata store keeps room for deletes.
func (sp *space) noteError(err error) {
	if sp.reserve == 0 || !isDiskFull(err) {
		return
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.present {
		free, _, _ := sp.free(sp.dir)
		sp.releaseLocked(err.Error(), free)
	}
}

func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// askReclaim asks for a flush without waiting (one request at most is
// outstanding).
func (sp *space) askReclaim() {
	select {
	case sp.reclaim <- struct{}{}:
	default:
	}
}

func (sp *space) releaseLocked(why string, free uint64) {
	sp.askReclaim()
	if err := sp.release(); err != nil {
		sp.log.Error("cannot delete the ballast file", "path", sp.ballast, "err", err)
		return
	}
	sp.log.Warn("disk full: ballast deleted to keep room for metadata; new data is refused until space is freed",
		"reason", why, "free_bytes", free, "reserve_bytes", sp.reserve, "safe_bytes", minSafeReserve)
}

func (sp *space) release() error {
	sp.present = false
	return sp.remove()
}

func (sp *space) remove() error {
	if err := os.Remove(sp.ballast); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("local: remove ballast: %w", err)
	}
	return nil
}

// createLocked writes the ballast under a temporary name and renames it,
// so that a file named ballast always has its full size.
func (sp *space) createLocked() error {
	tmp := sp.ballast + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	err = allocate(f, int64(sp.reserve))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, sp.ballast)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	sp.present = true
	sp.log.Info("ballast file created", "path", sp.ballast, "bytes", sp.reserve)
	return nil
}

// receive is ingest behind the free-space reserve: a body that would leave
// less than the reserve free is refused before it is read, and a write that
// meets a full disk anyway releases the ballast.
func (s *Store) receive(ctx context.Context, r io.Reader, size int64, wantMD5 []byte, hdr dataHeader) (ingested, error) {
	written, err := s.space.admit(size)
	if err != nil {
		return ingested{}, err
	}
	in, err := s.ingest(ctx, r, size, wantMD5, hdr)
	written()
	if err != nil {
		s.space.noteError(err)
	}
	return in, err
}

// reclaimPause spaces out flushes asked for by a disk that stays full.
const reclaimPause = 5 * time.Second

// reclaimLoop flushes the metadata store's memtable when the space guard
// asks (new data refused): deletes on a full disk are tombstones in the
// memtable, and with writes refused nothing else would flush them, so the
// compactions that drop deleted inline objects and free their space would
// never start. A flush needs at most a memtable of room, which the reserve
// keeps; a manual compaction of everything could need as much room as the
// data and end the process on a full disk (a failed MANIFEST write is fatal
// in Pebble v1), so Pebble's own compaction policy takes it from there.
// It runs until Close.
func (s *Store) reclaimLoop() {
	defer close(s.reclaimDone)
	for {
		select {
		case <-s.reclaimStop:
			return
		case <-s.space.reclaim:
		}
		if err := s.db.Flush(); err != nil {
			s.log.Warn("flush to reclaim space failed", "err", err)
		}
		select {
		case <-s.reclaimStop:
			return
		case <-time.After(reclaimPause):
		}
	}
}
