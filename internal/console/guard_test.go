package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestCSRF: a state change without the session's CSRF token, or with
// another one, is refused with 403 InvalidCSRFToken and changes nothing;
// reads need none.
func TestCSRF(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	c := rootClient(t, srv)
	other := rootClient(t, srv) // another session: its token is not c's
	c.expect(200, "PUT", "/api/s3/csrf-bucket", nil, nil)
	c.expect(200, "PUT", "/api/s3/csrf-bucket/keep", strings.NewReader("v1"), nil)
	for name, h := range map[string]http.Header{
		"missing":       {"X-Cairn-Csrf": {""}},
		"wrong":         {"X-Cairn-Csrf": {"not-the-token"}},
		"other session": {"X-Cairn-Csrf": {other.csrf}},
	} {
		for _, req := range []struct{ method, path, body string }{
			{"PUT", "/api/s3/csrf-new-bucket", ""},
			{"PUT", "/api/s3/csrf-bucket/keep", "v2"},
			{"DELETE", "/api/s3/csrf-bucket/keep", ""},
			{"POST", "/api/s3/", "Action=CreateTopic&Name=csrf-topic"},
			{"PUT", "/api/admin/user?uid=csrf-user&display-name=x", ""},
			{"POST", "/api/presign", `{"method":"GET","bucket":"csrf-bucket","key":"keep","expiresSeconds":60}`},
			{"DELETE", "/api/session", ""},
		} {
			got := c.expect(http.StatusForbidden, req.method, req.path, strings.NewReader(req.body), h)
			if !strings.Contains(got, `"code":"InvalidCSRFToken"`) {
				t.Errorf("%s: %s %s: %s", name, req.method, req.path, got)
			}
		}
	}
	// Nothing changed.
	c.expect(404, "HEAD", "/api/s3/csrf-new-bucket", nil, nil)
	if got := c.expect(200, "GET", "/api/s3/csrf-bucket/keep", nil, nil); got != "v1" {
		t.Errorf("object changed to %q", got)
	}
	c.expect(404, "GET", "/api/admin/user?uid=csrf-user", nil, nil)
	c.expect(200, "GET", "/api/session", nil, nil) // still signed in
	topics := c.expect(200, "POST", "/api/s3/", strings.NewReader("Action=ListTopics"),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if strings.Contains(topics, "csrf-topic") {
		t.Errorf("the topic was created: %s", topics)
	}
}

// TestForeignOrigin: requests another site's page makes (a foreign Origin,
// or Fetch Metadata saying cross-site or same-site) are refused, sign-in
// included, even with a valid session and token.
func TestForeignOrigin(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	c := rootClient(t, srv)
	for name, h := range map[string]http.Header{
		"other origin":     {"Origin": {"http://evil.example"}},
		"other port":       {"Origin": {strings.Replace(srv.ConsoleURL, "127.0.0.1:", "127.0.0.1:1", 1)}},
		"null origin":      {"Origin": {"null"}},
		"cross-site fetch": {"Sec-Fetch-Site": {"cross-site"}},
		"same-site fetch":  {"Sec-Fetch-Site": {"same-site"}},
	} {
		for _, req := range []struct{ method, path string }{
			{"PUT", "/api/s3/origin-bucket"},
			{"GET", "/api/session"},
			{"GET", "/api/s3/"},
		} {
			got := c.expect(http.StatusForbidden, req.method, req.path, nil, h)
			if !strings.Contains(got, `"code":"InvalidOrigin"`) {
				t.Errorf("%s: %s %s: %s", name, req.method, req.path, got)
			}
		}
		h.Set("Content-Type", "application/json")
		resp := c.do("POST", "/api/session", strings.NewReader(`{"accessKey":"`+srv.RootAccessKey+`","secretKey":"`+srv.RootSecretKey+`"}`), h)
		if body := readAll(t, resp); resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
			t.Errorf("%s: sign-in: %d %s", name, resp.StatusCode, body)
		}
	}
	c.expect(404, "HEAD", "/api/s3/origin-bucket", nil, nil)
	// The console's own origin is fine.
	c.expect(200, "PUT", "/api/s3/origin-bucket", nil, http.Header{"Origin": {srv.ConsoleURL}, "Sec-Fetch-Site": {"same-origin"}})
}

// TestHostCheck: on a loopback listener the console answers only at an IP
// address or localhost, so a DNS-rebinding page (evil.example resolving to
// 127.0.0.1) gets nothing, not even the page.
func TestHostCheck(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	port := srv.ConsoleURL[strings.LastIndex(srv.ConsoleURL, ":")+1:]
	for host, want := range map[string]int{
		"evil.example:" + port: http.StatusForbidden,
		"evil.example":         http.StatusForbidden,
		"localhost:" + port:    http.StatusOK,
		"127.0.0.1:" + port:    http.StatusOK,
	} {
		for _, path := range []string{"/", "/api/session"} {
			req, _ := http.NewRequest("GET", srv.ConsoleURL+path, nil)
			req.Host = host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			got := resp.StatusCode
			if path == "/api/session" && got == http.StatusUnauthorized {
				got = http.StatusOK // reached the API: no session, as expected
			}
			if got != want {
				t.Errorf("Host %s %s: %d %s", host, path, resp.StatusCode, body)
			}
		}
	}
}
