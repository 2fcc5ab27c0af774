package console_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// streamEnds reads a live stream until it ends and reports whether it did
// within 30 s: a bound under the client's timeout, not a timing
// assertion, as the stream of a live session never ends by itself.
func streamEnds(t *testing.T, resp *http.Response) (ended bool, body string) {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(resp.Body)
		done <- string(b)
	}()
	select {
	case b := <-done:
		return true, b
	case <-time.After(30 * time.Second):
		resp.Body.Close()
		return false, <-done
	}
}

// TestLiveStreamEndsWithSession: a live event stream opened through the
// console ends when its session does, by sign-out or by expiry: signing
// out on a shared computer must not leave a tab receiving the bucket's
// events.
func TestLiveStreamEndsWithSession(t *testing.T) {
	t.Run("sign-out", func(t *testing.T) {
		srv := startServer(t, servertest.Options{})
		c := rootClient(t, srv)
		c.expect(200, "PUT", "/api/s3/end-bucket", nil, nil)
		resp := c.do("GET", "/api/s3/end-bucket?events=s3:ObjectCreated:*", nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("stream: %d %s", resp.StatusCode, readAll(t, resp))
		}
		c.expect(http.StatusNoContent, "DELETE", "/api/session", nil, nil)
		if ended, _ := streamEnds(t, resp); !ended {
			t.Error("the live stream outlives the signed-out session")
		}
	})
	t.Run("expiry", func(t *testing.T) {
		srv := startServer(t, servertest.Options{Console: server.ConsoleConfig{SessionLifetime: 2 * time.Second}})
		c := rootClient(t, srv)
		c.expect(200, "PUT", "/api/s3/expiry-bucket", nil, nil)
		resp := c.do("GET", "/api/s3/expiry-bucket?events", nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("stream: %d %s", resp.StatusCode, readAll(t, resp))
		}
		if ended, _ := streamEnds(t, resp); !ended {
			t.Error("the live stream outlives the expired session")
		}
	})
}

// TestSessionsOfOneUserCannotEvictOthers: one user signing in over and
// over (any user with a key pair can) fills the session table with its
// own sessions only up to a per-user bound, evicting its own oldest, so
// it cannot sign everyone else out.
func TestSessionsOfOneUserCannotEvictOthers(t *testing.T) {
	srv := startServer(t, servertest.Options{Console: server.ConsoleConfig{MaxSessions: 40}})
	admin := rootClient(t, srv)
	createUser(t, admin, "flooder", "FLOODERKEY0000000001", "flooder-secret-00000000000000000000001", "")
	first := newClient(t, srv.ConsoleURL)
	first.signIn("FLOODERKEY0000000001", "flooder-secret-00000000000000000000001")
	for range 100 {
		newClient(t, srv.ConsoleURL).signIn("FLOODERKEY0000000001", "flooder-secret-00000000000000000000001")
	}
	admin.expect(http.StatusOK, "GET", "/api/session", nil, nil)
	first.expect(http.StatusUnauthorized, "GET", "/api/session", nil, nil) // the flooder's own oldest went
}

// TestForwardedAnswersNotCached: an object's own Cache-Control and Expires
// (set by whoever uploaded it, or asked for with response-cache-control)
// must not make a signed-in user's answer cacheable: the browser would
// keep it on disk past sign-out, and a shared cache in front of the
// console could hand it to anyone. Forwarded answers are no-store.
func TestForwardedAnswersNotCached(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	c := rootClient(t, srv)
	c.expect(200, "PUT", "/api/s3/cache-bucket", nil, nil)
	c.expect(200, "PUT", "/api/s3/cache-bucket/private", strings.NewReader("private"), http.Header{
		"Cache-Control": {"public, max-age=31536000"}, "Expires": {"Thu, 01 Dec 2039 16:00:00 GMT"}})
	for _, path := range []string{
		"/api/s3/cache-bucket/private",
		"/api/s3/cache-bucket/private?response-cache-control=public&response-expires=Thu%2C%2001%20Dec%202039%2016%3A00%3A00%20GMT",
	} {
		for _, method := range []string{"GET", "HEAD"} {
			resp := c.do(method, path, nil, nil)
			readAll(t, resp)
			if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Expires") != "" {
				t.Errorf("%s %s: %d, Cache-Control %q, Expires %q", method, path, resp.StatusCode,
					resp.Header.Values("Cache-Control"), resp.Header.Get("Expires"))
			}
		}
	}
}
