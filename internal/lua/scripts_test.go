package lua

import (
	"context"
	"strings"
	"sync"
)

// memScripts is an in-memory Scripts (script.Store's API) for the tests.
type memScripts struct {
	mu  sync.Mutex
	m   map[string]string
	gen uint64
}

func newMemScripts() *memScripts { return &memScripts{m: map[string]string{}} }

func (s *memScripts) Put(c, tenant, src string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[strings.ToLower(c)+"\x00"+tenant] = src
	s.gen++
}

func (s *memScripts) Get(_ context.Context, c, tenant string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, ok := s.m[c+"\x00"+tenant]
	return src, ok, nil
}

func (s *memScripts) Generation(context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen, nil
}
