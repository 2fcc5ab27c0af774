package s3api

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/syncbuf"

	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/lua"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// userTenant is a user of tenant "t1", for the scripts' tenant selection.
var userTenant = testUser{ID: "t1$bob", AccessKey: "TENANTACCESSKEY00001", SecretKey: "tenant-secret-key/00000000000000000000"}

// memScripts is an in-memory script store with script.Store's API.
type memScripts struct {
	mu  sync.Mutex
	m   map[string]string
	gen uint64
}

func (s *memScripts) Put(c, tenant, src string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
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

// scriptServer is a test server whose requests run Lua scripts.
type scriptServer struct {
	*testServer
	Engine  *lua.Engine
	Scripts *memScripts
	Dir     string // the scripts' io directory
	Log     *syncbuf.Buffer
}

// newScriptServer starts a gateway with a Lua engine over in-memory scripts.
func newScriptServer(t testing.TB, cfg lua.Config) *scriptServer {
	t.Helper()
	st, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	ss := &scriptServer{Scripts: &memScripts{}, Dir: t.TempDir(), Log: &syncbuf.Buffer{}}
	cfg.Scripts = ss.Scripts
	cfg.IODir = ss.Dir
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = -1 // see every put at once
	}
	cfg.Logger = slog.New(slog.NewTextHandler(ss.Log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.RGWId, cfg.ZoneGroup = "cairn-test-default-default", testRegion
	ss.Engine = lua.New(cfg)
	verifier := auth.New(staticCredentials{userRoot, userAlt, userTenant}, auth.Options{Region: testRegion, MaxSkew: 15 * time.Minute})
	api := New(st, verifier, Config{Region: testRegion, Logger: slog.New(slog.NewTextHandler(ss.Log, nil)),
		Users: testUsers{}, Scripting: ss.Engine})
	hs := httptest.NewServer(api)
	t.Cleanup(func() {
		hs.Close()
		_ = ss.Engine.Close()
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	ss.testServer = &testServer{URL: hs.URL, API: api, Store: st, HTTP: hs}
	ss.Root = ss.Client(userRoot)
	ss.Alt = ss.Client(userAlt)
	return ss
}

// file returns what scripts wrote to name in their io directory.
func (ss *scriptServer) file(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ss.Dir, name))
	if err != nil {
		t.Fatalf("script output %s: %v\nlog:\n%s", name, err, ss.Log.String())
	}
	return string(b)
}

// counters returns lua_script_ok and lua_script_fail.
func (ss *scriptServer) counters() (ok, fail int64) {
	c := ss.Engine.Counters()
	return c["lua_script_ok"], c["lua_script_fail"]
}
