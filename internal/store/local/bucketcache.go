package local

import (
	"maps"
	"sync"

	"github.com/cairn-s3/cairn/internal/store"
)

// Bounds of the bucket-record cache. A record is small (a few hundred
// bytes) unless it carries configuration documents (a policy is up to 20
// KiB); the byte bound keeps a server with many large records within its
// memory budget, the count bound keeps eviction cheap.
const (
	bucketCacheEntries = 4096
	bucketCacheBytes   = 8 << 20
)

// bucketCache holds decoded bucket records. Every S3 request reads its
// bucket's record, often several times (authorization, the pre-check before
// a body is read, the commit); decoding it from Pebble each time was a third
// of the CPU of a small PUT.
//
// One process owns the store (Pebble locks its directory), so the cache is
// kept exact by invalidation: every commit that writes or deletes a bucket
// record calls invalidate right after it, before the writer releases the
// lock that orders the writes of that record. A read that misses fills the
// cache only if no invalidation happened since it started, so a fill can
// never bring back a record older than the latest commit.
type bucketCache struct {
	mu      sync.RWMutex
	gen     uint64 // bumped by every invalidation
	entries map[string]cachedBucket
	bytes   int
}

type cachedBucket struct {
	b    store.Bucket
	size int // approximate bytes, for the bound
}

func newBucketCache() *bucketCache {
	return &bucketCache{entries: make(map[string]cachedBucket)}
}

// get returns a copy of a cached record. The copy has a map of its own, so
// a caller may set or delete Config entries; the documents themselves are
// shared and must not be modified in place (no caller does: documents are
// replaced whole).
func (c *bucketCache) get(name string) (store.Bucket, bool) {
	c.mu.RLock()
	e, ok := c.entries[name]
	c.mu.RUnlock()
	if !ok {
		return store.Bucket{}, false
	}
	return cloneBucket(e.b), true
}

// generation returns the token a reader takes before it reads a record
// from the DB, to hand to fill.
func (c *bucketCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// fill caches b, read from the DB after generation returned gen, unless
// the record was invalidated since.
func (c *bucketCache) fill(b store.Bucket, size int, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || size > bucketCacheBytes {
		return
	}
	if old, ok := c.entries[b.Name]; ok {
		delete(c.entries, b.Name)
		c.bytes -= old.size
	}
	// Map iteration order is random, so this evicts arbitrary records:
	// good enough for a bound that only a server with thousands of
	// buckets reaches.
	for name, e := range c.entries {
		if len(c.entries) < bucketCacheEntries && c.bytes+size <= bucketCacheBytes {
			break
		}
		delete(c.entries, name)
		c.bytes -= e.size
	}
	c.entries[b.Name] = cachedBucket{b: cloneBucket(b), size: size}
	c.bytes += size
}

// invalidate forgets a record whose commit just changed or removed it.
func (c *bucketCache) invalidate(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if e, ok := c.entries[name]; ok {
		delete(c.entries, name)
		c.bytes -= e.size
	}
}

func cloneBucket(b store.Bucket) store.Bucket {
	if b.Config != nil {
		b.Config = maps.Clone(b.Config)
	}
	return b
}
