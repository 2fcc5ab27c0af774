package local

import (
	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
)

// Pebble settings for the metadata DB. Its workload: per request a few
// point reads of small records (version, null row, bucket on a cache miss)
// and of inline bodies up to 64 KiB, and one synced batch per write. Cairn's
// whole server is meant to stay within 128 MiB of RSS under load. With
// Pebble's defaults (8 MB cache, 4 MB memtables) it peaked at 42-50 MiB in
// 4 KiB warp runs at 8 and 32 clients, so the rest of the process takes
// about 35 MiB; the two memory settings below are budgeted together: block
// cache + up to 3 memtables = 56 MiB at most, about 90 MiB in all.
const (
	// metaBlockCacheSize holds uncompressed table blocks. Pebble's default
	// (8 MB) was too small for even the 2,500-object working set of 4 KiB
	// inline bodies of a warp GET run (10 MiB of bodies), so most GETs read
	// and decompressed table blocks (27 % of the CPU of a 4 KiB PUT/GET
	// profile). 32 MiB holds such a set, the index and filter blocks of a
	// much larger store, and fits the budget.
	metaBlockCacheSize = 32 << 20
	// metaMemTableSize is twice Pebble's default: half as many flushes, and
	// so fewer L0 tables for a read to look through between compactions. A
	// memtable is allocated whole when it fills, and Pebble keeps up to
	// MemTableStopWritesThreshold (2) queued plus the one being written, so
	// this costs at most 3 × 8 MiB.
	metaMemTableSize = 8 << 20
	// metaBloomBitsPerKey gives a false-positive rate of about 1 % for 1.25
	// bytes per key. Most point reads of a PUT miss (the null row and the
	// version of a key written for the first time); without filters each
	// miss searched a data block of every level it might be in.
	metaBloomBitsPerKey = 10
	// metaLevels is the number of LSM levels Pebble uses.
	metaLevels = 7
)

// tunePebble applies the settings above to opts. It returns the release of
// the block cache it created, which the caller calls once the DB is open
// (the DB holds a reference of its own) or failed to open.
func tunePebble(opts *pebble.Options) (release func()) {
	cache := pebble.NewCache(metaBlockCacheSize)
	opts.Cache = cache
	opts.MemTableSize = metaMemTableSize
	// Table-level filters (one per table, held in the block cache) skip a
	// table without an index lookup; Pebble's defaults for everything else
	// (4 KiB blocks, snappy, 2 MiB tables doubling per level).
	opts.Levels = make([]pebble.LevelOptions, metaLevels)
	for i := range opts.Levels {
		l := &opts.Levels[i]
		l.FilterPolicy = bloom.FilterPolicy(metaBloomBitsPerKey)
		l.FilterType = pebble.TableFilter
		l.TargetFileSize = 2 << 20
		if i > 0 {
			l.TargetFileSize = opts.Levels[i-1].TargetFileSize * 2
		}
	}
	return cache.Unref
}
