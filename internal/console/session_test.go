package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestForwardPutGet: a signed-in browser creates a bucket, puts and gets an
// object whose key needs escaping, and lists it, through the console.
func TestForwardPutGet(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	b := newClient(t, srv.ConsoleURL)
	s := b.signIn(srv.RootAccessKey, srv.RootSecretKey)
	if s.User != "root" || !s.Admin || s.Endpoint != srv.URL || s.CSRFToken == "" {
		t.Fatalf("session %+v", s)
	}
	b.expect(200, "PUT", "/api/s3/bucket1", nil, nil)
	b.expect(200, "PUT", "/api/s3/bucket1/dir/a%20b+c%25.txt", strings.NewReader("hello"), http.Header{"Content-Type": {"text/plain"}})
	if got := b.expect(200, "GET", "/api/s3/bucket1/dir/a%20b+c%25.txt", nil, nil); got != "hello" {
		t.Fatalf("got %q", got)
	}
	list := b.expect(200, "GET", "/api/s3/bucket1?list-type=2&prefix=dir/", nil, nil)
	if !strings.Contains(list, "<Key>dir/a b+c%.txt</Key>") {
		t.Fatalf("list: %s", list)
	}
}

// TestSignIn: a good key pair gets a session and the cookie's flags; every
// bad one (unknown key, wrong secret, empty, suspended user) gets the very
// same 401, and no cookie.
func TestSignIn(t *testing.T) {
	srv := startServer(t, servertest.Options{Console: server.ConsoleConfig{SessionLifetime: 90 * time.Minute}})
	root := rootClient(t, srv)
	createUser(t, root, "alice", "ALICEKEY000000000001", "alice-secret-0000000000000000000000000001", "")
	createUser(t, root, "sus", "SUSKEY00000000000001", "sus-secret-00000000000000000000000000001", "&suspended=true")

	c := newClient(t, srv.ConsoleURL)
	resp := c.signInResp("ALICEKEY000000000001", "alice-secret-0000000000000000000000000001")
	body := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, `"user":"alice"`) || !strings.Contains(body, `"admin":false`) {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	var ck *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "cairn_session" {
			ck = k
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.MaxAge != 90*60 || ck.Secure {
		t.Fatalf("cookie %+v (Set-Cookie %q)", ck, resp.Header.Values("Set-Cookie"))
	}
	if got := c.expect(200, "GET", "/api/session", nil, nil); !strings.Contains(got, `"user":"alice"`) {
		t.Fatalf("GET /api/session: %s", got)
	}

	var first string
	for _, kp := range [][2]string{
		{"ALICEKEY000000000001", "wrong"},
		{"NOSUCHKEY00000000001", "alice-secret-0000000000000000000000000001"},
		{"", ""},
		{"ALICEKEY000000000001", ""},
		{"SUSKEY00000000000001", "sus-secret-00000000000000000000000000001"},
	} {
		c := newClient(t, srv.ConsoleURL)
		resp := c.signInResp(kp[0], kp[1])
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"code":"InvalidCredentials"`) {
			t.Errorf("sign-in %q: %d %s", kp[0], resp.StatusCode, body)
		}
		if first == "" {
			first = body
		} else if body != first {
			t.Errorf("sign-in %q answered %s, unlike %s", kp[0], body, first)
		}
		if len(resp.Cookies()) != 0 {
			t.Errorf("sign-in %q set a cookie", kp[0])
		}
		c.expect(http.StatusUnauthorized, "GET", "/api/session", nil, nil)
	}

	// Not JSON: refused before the keys are looked at.
	resp = c.do("POST", "/api/session", strings.NewReader("accessKey=a&secretKey=b"),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if body := readAll(t, resp); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form sign-in: %d %s", resp.StatusCode, body)
	}
}

// TestSuspendedAfterSignIn: suspending a signed-in user ends the session at
// its next look, and the S3 handler refuses its forwarded calls anyway.
func TestSuspendedAfterSignIn(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	root := rootClient(t, srv)
	createUser(t, root, "bob", "BOBKEY00000000000001", "bob-secret-00000000000000000000000000001", "")
	bob := newClient(t, srv.ConsoleURL)
	bob.signIn("BOBKEY00000000000001", "bob-secret-00000000000000000000000000001")
	bob.expect(200, "PUT", "/api/s3/bob-bucket", nil, nil)
	root.expect(200, "POST", "/api/admin/user?uid=bob&suspended=true", nil, nil)
	if got := bob.expect(403, "GET", "/api/s3/bob-bucket?list-type=2", nil, nil); !strings.Contains(got, "<Code>") {
		t.Errorf("suspended user's S3 call: %s", got)
	}
	bob.expect(401, "GET", "/api/session", nil, nil)
	bob.expect(401, "GET", "/api/s3/bob-bucket?list-type=2", nil, nil) // the session is gone now
}

// TestSessionExpiry: a session ends after its lifetime: the API answers 401
// NoSession, for reads and writes alike.
func TestSessionExpiry(t *testing.T) {
	srv := startServer(t, servertest.Options{Console: server.ConsoleConfig{SessionLifetime: 300 * time.Millisecond}})
	c := newClient(t, srv.ConsoleURL)
	c.signIn(srv.RootAccessKey, srv.RootSecretKey)
	// The cookie jar would drop the cookie itself after Max-Age (rounded
	// to a second); the server must refuse it on its own, so the cookie is
	// replayed by hand.
	cookie := c.c.Jar.Cookies(mustURL(t, srv.ConsoleURL))
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp := c.do("GET", "/api/session", nil, nil)
		body := readAll(t, resp)
		if resp.StatusCode == http.StatusUnauthorized {
			if !strings.Contains(body, `"code":"NoSession"`) {
				t.Fatalf("expired: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the session did not expire")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, m := range []string{"GET", "PUT"} {
		req, _ := http.NewRequest(m, srv.ConsoleURL+"/api/s3/late-bucket", nil)
		for _, k := range cookie {
			req.AddCookie(k)
		}
		req.Header.Set("X-Cairn-CSRF", c.csrf)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, resp); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "NoSession") {
			t.Errorf("%s with an expired session: %d %s", m, resp.StatusCode, body)
		}
	}
}

// TestSignOut: signing out removes the session on the server: its cookie,
// replayed, no longer works; the cookie is cleared.
func TestSignOut(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	c := rootClient(t, srv)
	stolen := c.c.Jar.Cookies(mustURL(t, srv.ConsoleURL))
	resp := c.do("DELETE", "/api/session", nil, nil)
	readAll(t, resp)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if ck := resp.Cookies(); len(ck) != 1 || ck[0].MaxAge >= 0 {
		t.Errorf("sign-out cookie: %+v", ck)
	}
	req, _ := http.NewRequest("GET", srv.ConsoleURL+"/api/session", nil)
	for _, k := range stolen {
		req.AddCookie(k)
	}
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, r2); r2.StatusCode != http.StatusUnauthorized {
		t.Errorf("the signed-out session still works: %d %s", r2.StatusCode, body)
	}
	c.expect(http.StatusNoContent, "DELETE", "/api/session", nil, nil) // twice is fine
}

// TestSessionsBounded: beyond MaxSessions, signing in evicts the oldest.
func TestSessionsBounded(t *testing.T) {
	srv := startServer(t, servertest.Options{Console: server.ConsoleConfig{MaxSessions: 2}})
	a, b, c := rootClient(t, srv), rootClient(t, srv), rootClient(t, srv)
	a.expect(http.StatusUnauthorized, "GET", "/api/session", nil, nil)
	b.expect(http.StatusOK, "GET", "/api/session", nil, nil)
	c.expect(http.StatusOK, "GET", "/api/session", nil, nil)
}

// TestTenantUser: a user of a tenant signs in as tenant$uid and works in
// its tenant's namespace; replacing its secret ends the session.
func TestTenantUser(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	root := rootClient(t, srv)
	root.expect(200, "PUT", "/api/admin/user?tenant=acme&uid=tina&display-name=Tina&access-key=TINAKEY0000000000001&secret-key=tina-secret-000000000000000000000000001", nil, nil)
	c := newClient(t, srv.ConsoleURL)
	s := c.signIn("TINAKEY0000000000001", "tina-secret-000000000000000000000000001")
	if s.User != "acme$tina" || s.Tenant != "acme" || s.DisplayName != "Tina" || s.Admin {
		t.Fatalf("session %+v", s)
	}
	c.expect(200, "PUT", "/api/s3/tenant-bucket", nil, nil)
	if got := root.expect(200, "GET", "/api/admin/bucket?tenant=acme", nil, nil); !strings.Contains(got, "tenant-bucket") {
		t.Errorf("acme's buckets: %s", got)
	}
	root.expect(200, "PUT", "/api/admin/user?key&uid=acme$tina&access-key=TINAKEY0000000000001&secret-key=rotated-secret-0000000000000000000000001", nil, nil)
	c.expect(401, "GET", "/api/session", nil, nil)
}
