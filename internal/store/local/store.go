// Package local is Cairn's default embedded storage backend: metadata and
// small bodies in a Pebble database, larger bodies in plain files.
//
// # Layout
//
//	<dir>/meta/        Pebble database (key schema in keys.go)
//	<dir>/data/xx/     one file per stored body or part, named by sequence number:
//	                   a header naming the write, then checksummed blocks (datafile.go)
//	<dir>/tmp/         bodies being received; anything here at Open is garbage
//	<dir>/lost+found/  what Fsck's repair moved aside (never read by the store)
//	<dir>/ballast      free-space reserve, released when the disk fills (space.go)
//
// # Durability
//
// A write streams its body into tmp (or a memory buffer when it is at most
// InlineThreshold bytes), fsyncs it, renames it into data and fsyncs the
// directory. Only then does one synced Pebble batch commit the version
// record, its index entry, the reference to the data file and every record
// the ChangeHook adds. The method returns after that commit, so an
// acknowledged write is durable, and a crash before the commit leaves at most
// an unreferenced file that Open removes. Files a commit makes unreferenced
// (overwrites, deletes, aborted uploads) are removed after the commit; a
// crash in between leaves unreferenced files, which Open removes as well.
//
// # Locks
//
// Lock order: bucket stripe → upload stripe → key stripes (in index order
// when a commit takes several) → hazards.mu and Store.leaseMu (leaves).
// Object commits hold their bucket's stripe for reading, so bucket deletion
// and configuration changes (write lock) see no write in flight to that
// bucket; no lock that every bucket's writes need is held across a commit.
// Commits of one key serialise on its stripe, which orders its versions;
// commits of different keys run concurrently and Pebble groups their WAL
// syncs. Reads take no lock: they read a consistent Pebble view and pin the
// data files of the version they read (see hazards).
package local

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"

	"github.com/cairn-s3/cairn/internal/store"
)

// DefaultInlineThreshold is the largest body stored inline in the metadata
// DB when Options.InlineThreshold is zero.
const DefaultInlineThreshold = 64 << 10

// maxInlineThreshold bounds inline bodies: they are buffered in memory.
const maxInlineThreshold = 1 << 20

// seqLeaseSize is how many sequence numbers one synced lease write covers.
const seqLeaseSize = 1 << 20

const lockStripes = 1024

// bucketStripes is how many bucket locks there are; buckets whose names
// hash alike share one.
const bucketStripes = 256

// Options configure a Store.
type Options struct {
	// Hook, if set, runs inside the commit of every object change.
	Hook store.ChangeHook
	// InlineThreshold is the largest body, in bytes, kept in the metadata
	// DB rather than in a data file. Zero means DefaultInlineThreshold; a
	// negative value stores every non-empty body in a file.
	InlineThreshold int
	// Logger receives background and recovery messages; nil discards them.
	Logger *slog.Logger
	// FS holds the data files; nil means the real filesystem. Tests use it
	// to inject I/O errors and crashes.
	FS FS
	// OnCorrupt, if set, is called for every integrity error a read or a
	// scrub finds (after it is logged), e.g. to count it in a metric.
	OnCorrupt func(*CorruptError)
	// BallastSize is the free-space reserve in bytes (see space.go): new
	// data is refused while less would remain free, and a ballast file of
	// this size is kept to be released when the disk fills anyway. Zero
	// means DefaultBallastSize unless BallastPercent is set; negative
	// turns the reserve off.
	BallastSize int64
	// BallastPercent, if positive, sizes the reserve as this percentage of
	// the filesystem's size instead.
	BallastPercent float64

	freeSpace freeFunc // tests inject a full disk
	pebbleFS  vfs.FS   // and a metadata store that meets it
}

// Store is the embedded backend. Its methods are safe for concurrent use.
type Store struct {
	// reclaimStop ends reclaimLoop, which closes reclaimDone.
	reclaimStop, reclaimDone chan struct{}

	dir    string
	db     *pebble.DB
	hook   store.ChangeHook
	inline int
	log    *slog.Logger
	fs     FS

	onCorrupt func(*CorruptError)

	// buckets are striped by bucket name (bucketLock): a stripe is held
	// for reading by every object, upload and part commit of its buckets
	// and for writing by their bucket changes, so a bucket change (and its
	// fsync) holds up writes to its own bucket, not to every bucket.
	buckets [bucketStripes]sync.RWMutex
	keys    [lockStripes]sync.Mutex
	uploads [lockStripes]sync.RWMutex
	seed    maphash.Seed
	bcache  *bucketCache

	seq      atomic.Uint64 // last sequence number handed out
	seqLimit atomic.Uint64 // numbers below it are covered by the durable lease
	leaseMu  sync.Mutex

	hz    hazards
	space *space

	inlinePool sync.Pool     // *[]byte of inline+1 bytes
	copyPool   sync.Pool     // *[]byte of copyBufSize bytes
	blockPool  sync.Pool     // *[]byte of blockBufSize bytes: checksummed blocks in transit
	direct     directBuffers // aligned buffers of large data files written with direct I/O

	closed atomic.Bool
}

var _ store.Backend = (*Store)(nil)

// Open opens (creating if needed) the store in dir, recovering from any
// interrupted writes: temporary files and data files no metadata refers to
// are removed. A metadata log damaged before its tail fails Open with a
// *CorruptMetadataError, before anything is replayed or removed.
func Open(dir string, opts Options) (*Store, error) {
	s := &Store{
		dir:    dir,
		hook:   opts.Hook,
		inline: opts.InlineThreshold,
		log:    opts.Logger,
		fs:     opts.FS,
		seed:   maphash.MakeSeed(),

		onCorrupt: opts.OnCorrupt,
		bcache:    newBucketCache(),
	}
	if s.fs == nil {
		s.fs = osFS{}
	}
	switch {
	case s.inline == 0:
		s.inline = DefaultInlineThreshold
	case s.inline < 0:
		s.inline = 0
	case s.inline > maxInlineThreshold:
		s.inline = maxInlineThreshold
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.hz.init()
	s.inlinePool.New = func() any { b := make([]byte, s.inline+1); return &b }
	s.copyPool.New = func() any { b := make([]byte, copyBufSize); return &b }
	s.blockPool.New = func() any { b := make([]byte, blockBufSize); return &b }

	if err := s.makeDirs(); err != nil {
		return nil, err
	}
	sp, err := newSpace(dir, opts, s.log)
	if err != nil {
		return nil, err
	}
	s.space = sp
	if err := sp.beforeOpen(); err != nil {
		return nil, err
	}
	if err := s.checkMetadata(opts.pebbleFS); err != nil {
		return nil, err
	}
	popts := &pebble.Options{
		Logger: pebbleLogger{s.log},
		FS:     opts.pebbleFS,
		EventListener: &pebble.EventListener{
			// Flushes and compactions that failed are retried; on a full
			// disk they need the ballast's room.
			BackgroundError: func(err error) {
				s.log.Error("metadata store background error", "err", err)
				sp.noteError(err)
			},
		},
	}
	defer tunePebble(popts)()
	db, err := pebble.Open(filepath.Join(dir, "meta"), popts)
	if err != nil {
		return nil, fmt.Errorf("local: open metadata: %w", err)
	}
	s.db = db
	if err := s.recover(); err != nil {
		db.Close()
		return nil, err
	}
	s.reclaimStop, s.reclaimDone = make(chan struct{}), make(chan struct{})
	go s.reclaimLoop()
	// Creates the ballast if there is room; a full disk refuses new data.
	_ = sp.check(0)
	return s, nil
}

// checkMetadata refuses a metadata store whose logs are damaged before
// their tail, which Pebble would open after silently dropping every write
// past the damage (see logscan.go). It runs before Pebble opens the store,
// so nothing has been replayed, flushed or removed yet.
func (s *Store) checkMetadata(vfsys vfs.FS) error {
	// The same filesystem Pebble opens the store with.
	if vfsys == nil {
		vfsys = vfs.Default
	}
	m, err := checkMetaLogs(vfsys, filepath.Join(s.dir, "meta"), false)
	if err != nil {
		return err
	}
	if d := m.firstDamage(s.dir); d != nil {
		s.log.Error("metadata log damaged", "file", d.File, "offset", d.Offset, "intact_after", d.Intact)
		return d
	}
	return nil
}

func (s *Store) makeDirs() error {
	_, err := s.fs.ReadDir(s.dir)
	created := errors.Is(err, fs.ErrNotExist)
	// meta is made here, not by Pebble, so that its entry is synced below.
	for _, d := range []string{s.dir, filepath.Join(s.dir, "tmp"), filepath.Join(s.dir, "data"), filepath.Join(s.dir, "meta")} {
		if err := s.fs.MkdirAll(d); err != nil {
			return fmt.Errorf("local: %w", err)
		}
	}
	// Data subdirectories exist up front so that a write only has to fsync
	// its own directory after the rename.
	for i := 0; i < 256; i++ {
		if err := s.fs.MkdirAll(filepath.Join(s.dir, "data", fmt.Sprintf("%02x", i))); err != nil {
			return fmt.Errorf("local: %w", err)
		}
	}
	// The subdirectories' entries, and tmp's, data's and meta's, must
	// survive, and so must the store directory's own entry if it is new:
	// else a power loss can take a new store with everything written to it.
	if err := s.syncDir(filepath.Join(s.dir, "data")); err != nil {
		return err
	}
	if err := s.syncDir(s.dir); err != nil {
		return err
	}
	if created {
		return s.syncDir(filepath.Dir(s.dir))
	}
	return nil
}

// Close closes the metadata DB. Readers still open fail afterwards.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.reclaimStop)
	<-s.reclaimDone
	return s.db.Close()
}

// nextSeq returns a new store-wide sequence number. Numbers are unique
// across restarts because each run first makes durable a lease above every
// number it will hand out.
func (s *Store) nextSeq() (uint64, error) {
	v := s.seq.Add(1)
	if v < s.seqLimit.Load() {
		return v, nil
	}
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	if lim := s.seqLimit.Load(); v >= lim {
		next := v + seqLeaseSize
		s.space.guard()
		if err := s.db.Set(keySeqLease, be64(next), pebble.Sync); err != nil {
			return 0, fmt.Errorf("local: sequence lease: %w", err)
		}
		s.seqLimit.Store(next)
	}
	return v, nil
}

func (s *Store) keyLock(bucket, key string) *sync.Mutex {
	return &s.keys[s.keyStripe(bucket, key)]
}

// keyStripe is the index of key's lock in s.keys.
func (s *Store) keyStripe(bucket, key string) int {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(bucket)
	h.WriteByte(0)
	h.WriteString(key)
	return int(h.Sum64() % lockStripes)
}

func (s *Store) bucketLock(name string) *sync.RWMutex {
	return &s.buckets[maphash.String(s.seed, name)%bucketStripes]
}

func (s *Store) uploadLock(uploadID string) *sync.RWMutex {
	return &s.uploads[maphash.String(s.seed, uploadID)%lockStripes]
}

// get reads one key, returning a copy of its value.
func (s *Store) get(key []byte) ([]byte, error) {
	v, closer, err := s.db.Get(key)
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), v...)
	closer.Close()
	return out, nil
}

func isNotFound(err error) bool { return errors.Is(err, pebble.ErrNotFound) }

// pebbleLogger routes Pebble's log lines to the store's logger.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

// Fatalf ends the process, as Pebble expects. Pebble v1 calls it when a WAL
// write fails ("pebble: fatal commit error", e.g. on ENOSPC) and when a
// MANIFEST write fails; by then the failed batch is already applied to the
// memtable and visible to readers though not durable, and the WAL writer's
// error is sticky, so carrying on would serve writes a crash could lose. A
// restart replays the WAL (space.go makes room for that on a full disk).
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	os.Exit(1)
}
