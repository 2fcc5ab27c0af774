package lua

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arnodel/golua/code"
	rt "github.com/arnodel/golua/runtime"
)

// chunkCache keeps the compiled chunk (or its absence) of each (context,
// tenant), as RGW caches compiled scripts. A compiled code.Unit is
// immutable, so executions share it and load it into their fresh state.
// The cache is dropped when the store's generation moves; the generation
// is polled at most every interval, so a script change is seen within it.
type chunkCache struct {
	scripts  Scripts
	interval time.Duration

	mu      sync.RWMutex
	gen     uint64
	entries map[chunkKey]chunkEntry

	nextPoll atomic.Int64 // unix nanos of the next generation poll
	polling  atomic.Bool
}

// maxChunkEntries bounds the cache (tenants × contexts, with or without
// a script).
const maxChunkEntries = 4096

type chunkKey struct {
	c      Context
	tenant string
}

// chunkEntry holds the scripts of a (context, tenant) in run order; none
// when it has no script.
type chunkEntry struct {
	units []compiledScript
}

// compiledScript is one script: its chunk, or the compile error reported
// at every execution.
type compiledScript struct {
	unit *code.Unit
	err  error
}

func newChunkCache(s Scripts, interval time.Duration) *chunkCache {
	return &chunkCache{scripts: s, interval: interval, entries: map[chunkKey]chunkEntry{}}
}

// get returns the compiled scripts of (c, tenant) in run order, none when
// there is no script.
func (cc *chunkCache) get(ctx context.Context, c Context, tenant string) ([]compiledScript, error) {
	if cc.scripts == nil {
		return nil, nil
	}
	if err := cc.refresh(ctx); err != nil {
		return nil, err
	}
	k := chunkKey{c, tenant}
	cc.mu.RLock()
	ent, ok := cc.entries[k]
	gen := cc.gen
	cc.mu.RUnlock()
	if ok {
		return ent.units, nil
	}
	sources, err := cc.sources(ctx, c, tenant)
	if err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	for _, src := range sources {
		unit, err := compile(string(c), src)
		ent.units = append(ent.units, compiledScript{unit, err})
	}
	cc.mu.Lock()
	if cc.gen == gen {
		if len(cc.entries) >= maxChunkEntries {
			// Tenants named in URLs of unauthenticated requests are
			// unbounded: start over rather than grow without limit.
			clear(cc.entries)
		}
		cc.entries[k] = ent
	}
	cc.mu.Unlock()
	return ent.units, nil
}

// sources reads the scripts of (c, tenant) in run order: for the request
// contexts, when the store keeps named scripts (RGW main's --script-name),
// the unnamed one then the named ones by name; else the unnamed one.
func (cc *chunkCache) sources(ctx context.Context, c Context, tenant string) ([]string, error) {
	if named, ok := cc.scripts.(NamedScripts); ok && (c == PreRequest || c == PostAuth || c == PostRequest) {
		return named.Sources(ctx, string(c), tenant)
	}
	src, found, err := cc.scripts.Get(ctx, string(c), tenant)
	if err != nil || !found {
		return nil, err
	}
	return []string{src}, nil
}

// refresh drops the cache when the generation moved; one caller polls
// while the others use the cache as it is.
func (cc *chunkCache) refresh(ctx context.Context) error {
	now := time.Now().UnixNano()
	if now < cc.nextPoll.Load() || !cc.polling.CompareAndSwap(false, true) {
		return nil
	}
	defer cc.polling.Store(false)
	gen, err := cc.scripts.Generation(ctx)
	if err != nil {
		return fmt.Errorf("read scripts generation: %w", err)
	}
	cc.nextPoll.Store(now + int64(cc.interval))
	cc.mu.Lock()
	if gen != cc.gen {
		cc.gen = gen
		clear(cc.entries)
	}
	cc.mu.Unlock()
	return nil
}

// compile compiles a script as Lua 5.4 chunk.
func compile(name, src string) (*code.Unit, error) {
	if err := checkNoCloseVariables(name, src); err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	r := rt.New(nil)
	unit, _, err := r.CompileLuaChunk(name, []byte(src))
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	dropClosePushes(unit)
	return unit, nil
}
