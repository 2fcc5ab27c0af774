package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/syncbuf"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// luaScripts is an in-memory script store with script.Store's API, until
// the server reads scripts from the metadata store.
type luaScripts struct {
	mu  sync.Mutex
	m   map[string]string
	gen uint64
}

func (s *luaScripts) put(c, src string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[c] = src
	s.gen++
}

func (s *luaScripts) Get(_ context.Context, c, tenant string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, ok := s.m[c]
	return src, ok && tenant == "", nil
}

func (s *luaScripts) Generation(context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen, nil
}

// TestLuaCountersAndMetrics: script outcomes reach /admin/counters (RGW's
// lua_script_ok, lua_script_fail) and /metrics (cairn_lua_errors_total).
func TestLuaCountersAndMetrics(t *testing.T) {
	scripts := &luaScripts{}
	scripts.put("postrequest", `if Request.Object and Request.Object.Name == "bad" then error("bad object") end`)
	srv := servertest.Start(t, servertest.Options{Lua: server.LuaConfig{Scripts: scripts}})
	cl := sdkClient(srv)
	ctx := context.Background()
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lua")}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"good", "bad"} {
		if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lua"), Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	_, body := httpGet(t, srv.URL+"/metrics")
	for _, want := range []string{`cairn_lua_errors_total{context="postrequest"} 1`, `cairn_lua_errors_total{context="prerequest"} 0`,
		"cairn_lua_script_ok_total 2", "cairn_lua_script_fail_total 1"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	var counters struct{ Lua map[string]int64 }
	if err := json.Unmarshal([]byte(adminGet(t, srv, "/admin/counters")), &counters); err != nil {
		t.Fatal(err)
	}
	// CreateBucket and the good PUT ran it; the admin API runs no script.
	if c := counters.Lua; c["lua_script_ok"] != 2 || c["lua_script_fail"] != 1 {
		t.Errorf("counters %v", c)
	}
}

func adminGet(t *testing.T, srv *servertest.Running, path string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(nil)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	creds := aws.Credentials{AccessKeyID: srv.RootAccessKey, SecretAccessKey: srv.RootSecretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// TestLuaRequestLogWritesAccessLog: Request.Log() writes the request to
// the access log (Cairn's ops log) at once.
func TestLuaRequestLogWritesAccessLog(t *testing.T) {
	scripts := &luaScripts{}
	scripts.put("postrequest", `assert(Request.Log() == 0)`)
	var buf syncbuf.Buffer
	srv := servertest.Start(t, servertest.Options{Lua: server.LuaConfig{Scripts: scripts},
		AccessLog: slog.New(slog.NewTextHandler(&buf, nil))})
	cl := sdkClient(srv)
	if _, err := cl.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("logged")}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "op=create_bucket bucket=logged key=\"\" status=200 code=\"\" source=lua") {
		t.Fatalf("access log:\n%s", buf.String())
	}
}
