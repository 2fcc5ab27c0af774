//go:build rados

package rados

import (
	"maps"
	"sync"
	"time"
)

// DefaultBucketCacheTTL is Options.BucketCacheTTL's default.
const DefaultBucketCacheTTL = 10 * time.Second

// Bounds of the bucket-record cache, as on the local store: a record is a
// few hundred bytes unless it carries configuration documents (a policy
// is up to 20 KiB).
const (
	bucketCacheEntries = 4096
	bucketCacheBytes   = 8 << 20
)

// bucketCache holds decoded bucket records. Every request reads its
// bucket's record (authorization, the pre-check before a body is read, the
// commit), and every record is a row of the one metadata object: without
// the cache every request of every gateway read that object's placement
// group, the hot spot of small PUTs.
//
// Gateways keep their caches exact by watch/notify (bucketwatch.go): every
// write of a record drops it here and, before the write returns, on every
// gateway. A read that misses fills the cache only if no invalidation
// happened since it started (gen), so a fill cannot bring back a record
// older than a write whose invalidation arrived while the read ran. While
// the watch is lost (live false) nothing is served or filled: a gateway
// without a watch may miss invalidations. Entries also expire after ttl,
// a bound for what no notification reached (a writer that died between
// its write and its notify).
type bucketCache struct {
	ttl time.Duration

	mu      sync.RWMutex
	gen     uint64 // bumped by every invalidation
	live    bool   // the watch is established
	entries map[string]cachedBucket
	bytes   int
}

type cachedBucket struct {
	rec  bucketRecord
	at   time.Time // when the read that filled it started
	size int       // approximate bytes, for the bound
}

// newBucketCache returns a cache whose entries live ttl; nil (no caching)
// if ttl is not positive. It serves nothing until setLive(true).
func newBucketCache(ttl time.Duration) *bucketCache {
	if ttl <= 0 {
		return nil
	}
	return &bucketCache{ttl: ttl, entries: make(map[string]cachedBucket)}
}

// get returns a copy of name's record if cached and young enough. The copy
// has a Config map of its own, so a caller may set or delete entries; the
// documents themselves are shared and are never modified in place.
func (c *bucketCache) get(name string, now time.Time) (*bucketRecord, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[name]
	live := c.live
	c.mu.RUnlock()
	if !ok || !live || now.Sub(e.at) >= c.ttl {
		return nil, false
	}
	rec := e.rec
	if rec.Bucket.Config != nil {
		rec.Bucket.Config = maps.Clone(rec.Bucket.Config)
	}
	return &rec, true
}

// generation returns the token a reader takes before it reads a record
// from the cluster, to hand to fill.
func (c *bucketCache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// fill caches rec (size bytes as stored), read from the cluster at
// started, after generation returned gen, unless a record was invalidated
// since or the watch is down.
func (c *bucketCache) fill(rec *bucketRecord, size int, gen uint64, started time.Time) {
	if c == nil {
		return
	}
	name := rec.Bucket.Name
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || !c.live || size > bucketCacheBytes {
		return
	}
	c.remove(name)
	// Map iteration order is random, so this evicts arbitrary records:
	// good enough for a bound that only thousands of buckets reach.
	for other := range c.entries {
		if len(c.entries) < bucketCacheEntries && c.bytes+size <= bucketCacheBytes {
			break
		}
		c.remove(other)
	}
	e := cachedBucket{rec: *rec, at: started, size: size}
	if e.rec.Bucket.Config != nil {
		e.rec.Bucket.Config = maps.Clone(e.rec.Bucket.Config)
	}
	c.entries[name] = e
	c.bytes += size
}

// invalidate forgets records a write changed or removed, and makes fills
// that started before it void.
func (c *bucketCache) invalidate(names ...string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, name := range names {
		c.remove(name)
	}
}

// forget drops name's entry that a guard showed to be stale (its index
// shard is gone or closed), without voiding fills under way: those read
// the cluster after the stale entry was filled, so they are newer.
func (c *bucketCache) forget(name string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remove(name)
}

// setLive empties the cache and sets whether it may serve and fill: false
// when the watch is lost (invalidations may be missed), true once it is
// re-established.
func (c *bucketCache) setLive(live bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = live
	c.clear()
}

// invalidateAll forgets every record (a notification it cannot read).
func (c *bucketCache) invalidateAll() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clear()
}

// clear empties the cache and voids fills under way; c.mu is held.
func (c *bucketCache) clear() {
	c.gen++
	clear(c.entries)
	c.bytes = 0
}

// remove deletes name's entry; c.mu is held.
func (c *bucketCache) remove(name string) {
	if e, ok := c.entries[name]; ok {
		delete(c.entries, name)
		c.bytes -= e.size
	}
}
