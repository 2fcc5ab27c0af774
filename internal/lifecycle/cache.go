package lifecycle

import "sync"

// maxCached bounds a Cache; past it the cache starts over.
const maxCached = 1024

// Cache keeps parsed configurations by their stored document, so a
// request path that consults a bucket's rules (x-amz-expiration on every
// GET of a bucket with rules) parses each document once.
type Cache struct {
	mu sync.Mutex
	m  map[string]*Config
}

// Parse returns the parsed configuration of raw. The result is shared:
// callers must not change it.
func (c *Cache) Parse(raw []byte) (*Config, error) {
	c.mu.Lock()
	cfg, ok := c.m[string(raw)]
	c.mu.Unlock()
	if ok {
		return cfg, nil
	}
	cfg, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCached {
		c.m = make(map[string]*Config)
	}
	c.m[string(raw)] = cfg
	c.mu.Unlock()
	return cfg, nil
}
