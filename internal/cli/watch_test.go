package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/syncbuf"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// watching is a `cairn watch` running in the background.
type watching struct {
	stdout, stderr syncbuf.Buffer
	cancel         context.CancelFunc
	done           chan int
}

func startWatch(t *testing.T, vars map[string]string, args ...string) *watching {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	w := &watching{cancel: cancel, done: make(chan int, 1)}
	go func() {
		w.done <- run(ctx, append([]string{"watch"}, args...), env{stdin: strings.NewReader(""), stdout: &w.stdout,
			stderr: &w.stderr, lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	}()
	t.Cleanup(func() { w.stop(t) })
	return w
}

// waitOutput polls stdout until it contains want (bounded).
func (w *watching) waitOutput(t *testing.T, want string) string {
	t.Helper()
	for range 1000 {
		if out := w.stdout.String(); strings.Contains(out, want) {
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("watch printed no %q; stdout %q, stderr %q", want, w.stdout.String(), w.stderr.String())
	return ""
}

// stop cancels the watch (as SIGINT would) and checks it exited cleanly.
func (w *watching) stop(t *testing.T) {
	t.Helper()
	w.cancel()
	if code := <-w.done; code != 0 {
		t.Errorf("watch exited %d; stderr %q", code, w.stderr.String())
	}
	w.done <- 0 // stop is idempotent
}

func waitListeners(t *testing.T, srv *servertest.Running, n int) {
	t.Helper()
	for range 1000 {
		if srv.Server.LiveListeners() == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("live listeners: %d, want %d", srv.Server.LiveListeners(), n)
}

func TestWatch(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	ok(t, vars, "mb", "s3://wbk")
	src := filepath.Join(t.TempDir(), "hello.txt")
	if err := os.WriteFile(src, []byte("hello, cairn\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("json", func(t *testing.T) {
		w := startWatch(t, vars, "s3://wbk", "--json", "--prefix", "p/", "--events", "s3:ObjectCreated:*")
		waitListeners(t, srv, 1)
		ok(t, vars, "cp", src, "s3://wbk/skip.txt") // filtered out by the prefix
		ok(t, vars, "cp", src, "s3://wbk/p/one.txt")
		out := w.waitOutput(t, "p/one.txt")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 1 {
			t.Fatalf("got %d lines, want 1: %q", len(lines), out)
		}
		var rec struct {
			EventName string `json:"eventName"`
			S3        struct {
				Object struct {
					Key  string `json:"key"`
					Size int64  `json:"size"`
				} `json:"object"`
			} `json:"s3"`
		}
		if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
			t.Fatalf("line %q: %v", lines[0], err)
		}
		if rec.EventName != "ObjectCreated:Put" || rec.S3.Object.Key != "p/one.txt" || rec.S3.Object.Size != 13 {
			t.Errorf("record %+v", rec)
		}
		w.stop(t)
		waitListeners(t, srv, 0)
	})

	t.Run("readable", func(t *testing.T) {
		w := startWatch(t, vars, "s3://wbk")
		waitListeners(t, srv, 1)
		ok(t, vars, "cp", src, "s3://wbk/two.txt")
		ok(t, vars, "rm", "s3://wbk/two.txt")
		out := w.waitOutput(t, "s3:ObjectRemoved:Delete  wbk/two.txt")
		if !strings.Contains(out, "  s3:ObjectCreated:Put  wbk/two.txt  13 B  ") {
			t.Errorf("no readable PUT line in %q", out)
		}
		w.stop(t)
		waitListeners(t, srv, 0)
	})

	t.Run("errors", func(t *testing.T) {
		fails(t, vars, "NoSuchBucket", "watch", "s3://nope")
		fails(t, vars, "InvalidArgument", "watch", "--events", "s3:Bogus", "s3://wbk")
		fails(t, vars, "missing s3://bucket", "watch")
		fails(t, vars, "not both", "watch", "--subscription", "x", "s3://wbk")
	})
}

// fakeSubscriptions follows the contract of the pull-subscription API
// (GET /subscriptions/NAME?events&max-entries&wait, POST ?ack&event-id=…),
// which the server does not serve yet. Events stay until acknowledged.
type fakeSubscriptions struct {
	t       *testing.T
	records bool // answer in the "Records" form
	mu      sync.Mutex
	pending []string // ids, oldest first
	acked   []string
	pulls   int
}

func (f *fakeSubscriptions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKFAKE/") {
		http.Error(w, "unsigned", http.StatusForbidden)
		return
	}
	if r.URL.Path != "/subscriptions/sub1" {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `<?xml version="1.0"?><Error><Code>NoSuchSubscription</Code><Message>no subscription here</Message></Error>`)
		return
	}
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && q.Has("events") && q.Get("max-entries") == "100" && q.Get("wait") == "20":
		f.pulls++
		var evs []string
		for _, id := range f.pending {
			if f.records {
				evs = append(evs, fmt.Sprintf(`{"eventTime":"2026-11-22T10:00:00.123456Z","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k-%s","size":3,"eTag":"e"}},"eventId":%q}`, id, id))
			} else {
				evs = append(evs, fmt.Sprintf(`{"id":%q,"event":"OBJECT_CREATE","timestamp":"2026-11-22T10:00:00.123Z","info":{"bucket":{"name":"b"},"key":{"name":"k-%s"}}}`, id, id))
			}
		}
		field := "events"
		if f.records {
			field = "Records"
		}
		fmt.Fprintf(w, `{"next_marker":"","is_truncated":"false",%q:[%s]}`, field, strings.Join(evs, ","))
	case r.Method == http.MethodPost && q.Has("ack"):
		ids := q["event-id"]
		f.acked = append(f.acked, ids...)
		f.pending = slices.DeleteFunc(f.pending, func(id string) bool { return slices.Contains(ids, id) })
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusBadRequest)
	}
}

func TestWatchSubscription(t *testing.T) {
	for _, records := range []bool{false, true} {
		t.Run(fmt.Sprintf("records=%v", records), func(t *testing.T) {
			fake := &fakeSubscriptions{t: t, records: records, pending: []string{"e1", "e2", "e3"}}
			hs := httptest.NewServer(fake)
			defer hs.Close()
			vars := map[string]string{"AWS_ACCESS_KEY_ID": "AKFAKE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1"}
			w := startWatch(t, vars, "--endpoint", hs.URL, "--subscription", "sub1")
			out := w.waitOutput(t, "b/k-e3")
			for range 1000 {
				fake.mu.Lock()
				n := len(fake.pending)
				fake.mu.Unlock()
				if n == 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			w.stop(t)
			fake.mu.Lock()
			defer fake.mu.Unlock()
			if !slices.Equal(fake.acked, []string{"e1", "e2", "e3"}) {
				t.Errorf("acked %q, want e1 e2 e3", fake.acked)
			}
			if strings.Count(out, "b/k-e") != 3 || !strings.Contains(out, "2026-11-22T10:00:00.123Z  s3:ObjectCreated:Put  b/k-e1") &&
				!strings.Contains(out, "2026-11-22T10:00:00.123Z  OBJECT_CREATE  b/k-e1") {
				t.Errorf("output %q", out)
			}
		})
	}
	t.Run("error", func(t *testing.T) {
		hs := httptest.NewServer(&fakeSubscriptions{t: t})
		defer hs.Close()
		vars := map[string]string{"AWS_ACCESS_KEY_ID": "AKFAKE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1"}
		fails(t, vars, "NoSuchSubscription: no subscription here", "watch", "--endpoint", hs.URL, "--subscription", "other")
	})
}

// TestWatchReconnects stops the server under a running watch and starts it
// again on the same address: the watch says so on stderr, reconnects, and
// prints the next PUT.
func TestWatchReconnects(t *testing.T) {
	dir := t.TempDir()
	srv := servertest.Start(t, servertest.Options{DataDir: dir})
	vars := s3Env(srv)
	ok(t, vars, "mb", "s3://rbk")
	w := startWatch(t, vars, "s3://rbk")
	waitListeners(t, srv, 1)
	srv.Stop()
	srv = servertest.Start(t, servertest.Options{DataDir: dir, Address: strings.TrimPrefix(srv.URL, "http://")})
	waitListeners(t, srv, 1)
	src := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ok(t, vars, "cp", src, "s3://rbk/after-restart")
	w.waitOutput(t, "rbk/after-restart")
	if !strings.Contains(w.stderr.String(), "reconnecting") {
		t.Errorf("no reconnect notice on stderr: %q", w.stderr.String())
	}
}
