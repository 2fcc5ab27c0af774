//go:build rados

package rados

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ceph/go-ceph/rados"

	"github.com/cairn-s3/cairn/internal/store"
)

// DefaultShards is the index shard count of new buckets when
// Options.Shards is zero.
const DefaultShards = 8

// DefaultInlineThreshold is Options.InlineThreshold's default.
const DefaultInlineThreshold = 16 << 10

// maxAttempts bounds the retries of a commit whose guard failed.
const maxAttempts = 64

// Options configure a Store.
type Options struct {
	// Conn is a connected cluster handle; the caller owns and shuts it down.
	Conn *rados.Conn
	// Pool holds everything of this store; it must exist.
	Pool string
	// Namespace, if set, isolates this store inside the pool.
	Namespace string
	// Shards is the index shard count given to new buckets.
	Shards int
	// Hook, if set, runs inside the commit of every object change.
	Hook store.ChangeHook
	// InlineThreshold is the largest body of known size, in bytes, kept in
	// its version row (one write per PUT) rather than in stripes. Zero
	// means DefaultInlineThreshold; negative stores every body in stripes.
	InlineThreshold int
	// Logger receives background messages; nil discards them.
	Logger *slog.Logger
	// GCInterval is how often the store runs CollectGarbage; zero means
	// never (a deployment runs it on some gateways, or all: passes are
	// idempotent). GarbageDelay and IntentTTL default to DefaultGarbageDelay
	// and DefaultIntentTTL.
	GCInterval   time.Duration
	GarbageDelay time.Duration
	IntentTTL    time.Duration
	// FullCheckInterval is how often the store reads the pool's full flag
	// (see poolFullness). Zero means DefaultFullCheckInterval; negative
	// never (writes then meet a full pool only as their data writes fail).
	FullCheckInterval time.Duration
	// BucketCacheTTL bounds how long a gateway serves a bucket record from
	// its cache (bucketcache.go); gateways invalidate each other's entries
	// at once, this bounds only what a lost notification leaves. Zero
	// means DefaultBucketCacheTTL; negative disables the cache.
	BucketCacheTTL time.Duration
}

// Store is the RADOS backend. Its methods are safe for concurrent use, and
// any number of Stores (gateways) may share one pool.
type Store struct {
	io      *rados.IOContext
	hook    store.ChangeHook
	shards  int
	inline  int
	log     *slog.Logger
	seq     seqLease
	hinted  sync.Map // record segments whose hint row exists (kv.go)
	evented sync.Map // ids of buckets known to be marked Evented (drain.go)
	drains  drainSet // shards this gateway drains (drain.go)
	// fullness follows the pool's full flag; nil if not checked.
	fullness *poolFullness
	// buckets caches bucket records (nil: disabled), kept by bwatch.
	buckets *bucketCache
	bwatch  *bucketWatch
	// bucketReads counts reads of bucket records from the cluster (tests
	// assert that a steady state makes none).
	bucketReads atomic.Uint64
	// bucketWalks counts walks over every bucket record (tests assert
	// that drain passes make them only to mend the Evented index).
	bucketWalks atomic.Uint64
	// quiet, set by tests only, leaves out the notify of bucket record
	// writes: the gateway that died between its write and its notify.
	quiet bool

	gcStop, gcDone chan struct{}
	closeOnce      sync.Once
}

var _ store.Backend = (*Store)(nil)

// Open opens the store in opts.Pool, creating its metadata object if needed.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Conn == nil || opts.Pool == "" {
		return nil, errors.New("rados: Options.Conn and Options.Pool are required")
	}
	io, err := opts.Conn.OpenIOContext(opts.Pool)
	if err != nil {
		return nil, fmt.Errorf("rados: open pool %s: %w", opts.Pool, err)
	}
	io.SetNamespace(opts.Namespace)
	s := &Store{io: io, hook: opts.Hook, shards: opts.Shards, log: opts.Logger}
	if s.shards <= 0 {
		s.shards = DefaultShards
	}
	switch s.inline = opts.InlineThreshold; {
	case s.inline == 0:
		s.inline = DefaultInlineThreshold
	case s.inline < 0:
		s.inline = -1
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.seq.s = s
	for _, oid := range []string{metaOID, bucketsOID} {
		op := newWriteOp()
		op.create(false)
		err := op.operate(io, oid)
		op.release()
		if err != nil {
			io.Destroy()
			return nil, err
		}
	}
	ttl := opts.BucketCacheTTL
	if ttl == 0 {
		ttl = DefaultBucketCacheTTL
	}
	if s.buckets = newBucketCache(ttl); s.buckets != nil {
		if s.bwatch, err = watchBuckets(io, s.buckets, s.log); err != nil {
			io.Destroy()
			return nil, fmt.Errorf("rados: watch %s: %w", bucketsOID, err)
		}
	}
	if every := opts.FullCheckInterval; every >= 0 {
		if every == 0 {
			every = DefaultFullCheckInterval
		}
		s.watchFullness(opts.Conn, opts.Pool, every)
	}
	if opts.GCInterval > 0 {
		gd, ttl := opts.GarbageDelay, opts.IntentTTL
		if gd <= 0 {
			gd = DefaultGarbageDelay
		}
		if ttl <= 0 {
			ttl = DefaultIntentTTL
		}
		s.gcStop, s.gcDone = make(chan struct{}), make(chan struct{})
		go s.gcLoop(s.gcStop, s.gcDone, opts.GCInterval, gd, ttl)
	}
	return s, ctx.Err()
}

// Close stops the garbage collector and releases the pool handle.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.gcStop != nil {
			close(s.gcStop)
			<-s.gcDone
		}
		s.drains.notifiers.Wait()
		if s.bwatch != nil {
			s.bwatch.close()
		}
		if s.fullness != nil {
			s.fullness.close()
		}
		s.io.Destroy()
	})
	return nil
}

// newID returns a random 128-bit hex id (bucket ids, data ids, upload ids).
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// seqLease hands out sequence numbers from blocks leased from the
// metadata object's counter, one guarded write per block, so commits do not
// contend on one hot counter. Numbers grow within a gateway; across
// gateways, a key's commits still get growing numbers because a commit
// whose number would not exceed the key's last one leases a new block,
// which starts past every number issued before (see next).
type seqLease struct {
	s        *Store
	mu       sync.Mutex
	cur, end uint64
}

const seqBlock = 1 << 16

// next returns a number greater than after (the key's last sequence).
func (l *seqLease) next(after uint64) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == 0 || l.cur >= l.end || l.cur <= after {
		if err := l.lease(); err != nil {
			return 0, err
		}
	}
	if l.cur <= after {
		return 0, fmt.Errorf("rados: sequence %d not past %d", l.cur, after)
	}
	n := l.cur
	l.cur++
	return n, nil
}

func (l *seqLease) lease() error {
	io := l.s.io
	for range maxAttempts {
		old, err := getRow(io, metaOID, rowSeq)
		if err != nil {
			return err
		}
		var start uint64 = 1
		if old != nil {
			v, err := unwrap(old)
			if err != nil || len(v) != 8 {
				return fmt.Errorf("rados: corrupt sequence counter")
			}
			start = beUint64(v)
		}
		op := newWriteOp()
		// Deletes take sequences too: the counter must move on a full pool.
		op.freesSpace()
		op.omapEqual(rowSeq, old)
		op.omapSet(map[string][]byte{rowSeq: wrap(be64(start + seqBlock))})
		err = op.operate(io, metaOID)
		op.release()
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return err
		}
		l.cur, l.end = start, start+seqBlock
		return nil
	}
	return fmt.Errorf("rados: sequence lease: %w", errConflict)
}

func be64(v uint64) []byte {
	return []byte{byte(v >> 56), byte(v >> 48), byte(v >> 40), byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}
