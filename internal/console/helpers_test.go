package console_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// startServer starts the real server with its console on a free loopback
// port.
func startServer(t testing.TB, opts servertest.Options) *servertest.Running {
	t.Helper()
	if opts.Console.Address == "" {
		opts.Console.Address = "127.0.0.1:0"
	}
	srv := servertest.Start(t, opts)
	if srv.ConsoleURL == "" {
		t.Fatal("the server has no console listener")
	}
	return srv
}

// apiClient is an HTTP client with a cookie jar, as a browser tab.
type apiClient struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

func newClient(t testing.TB, base string) *apiClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &apiClient{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// sessionInfo is the JSON of /api/session.
type sessionInfo struct {
	User        string `json:"user"`
	Tenant      string `json:"tenant"`
	DisplayName string `json:"displayName"`
	Admin       bool   `json:"admin"`
	CSRFToken   string `json:"csrfToken"`
	Expires     string `json:"expires"`
	Endpoint    string `json:"endpoint"`
}

// signIn signs in and fails the test unless it works.
func (b *apiClient) signIn(ak, sk string) sessionInfo {
	b.t.Helper()
	resp := b.signInResp(ak, sk)
	body := readAll(b.t, resp)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("sign in as %s: %d %s", ak, resp.StatusCode, body)
	}
	var s sessionInfo
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		b.t.Fatalf("sign-in answer %q: %v", body, err)
	}
	b.csrf = s.CSRFToken
	return s
}

func (b *apiClient) signInResp(ak, sk string) *http.Response {
	b.t.Helper()
	body, _ := json.Marshal(map[string]string{"accessKey": ak, "secretKey": sk})
	return b.do("POST", "/api/session", bytes.NewReader(body), http.Header{"Content-Type": {"application/json"}})
}

// do sends a request; the CSRF token is added when the browser has one and
// the header does not set X-Cairn-CSRF itself.
func (b *apiClient) do(method, path string, body io.Reader, h http.Header) *http.Response {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if _, set := h["X-Cairn-Csrf"]; !set && b.csrf != "" && method != "GET" && method != "HEAD" {
		req.Header.Set("X-Cairn-CSRF", b.csrf)
	}
	if s, ok := body.(*strings.Reader); ok {
		req.ContentLength = int64(s.Len())
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// expect sends a request and checks its status; it returns the body.
func (b *apiClient) expect(status int, method, path string, body io.Reader, h http.Header) string {
	b.t.Helper()
	resp := b.do(method, path, body, h)
	got := readAll(b.t, resp)
	if resp.StatusCode != status {
		b.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, status, got)
	}
	return got
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// getURL GETs url with a plain client (no cookies) and returns the body,
// failing unless the status is 200.
func getURL(t testing.TB, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	return body
}

// createUser creates a user with a key pair through the console's admin
// forwarding, as root; extra is more of the admin API's query (&admin=true).
func createUser(t testing.TB, root *apiClient, uid, ak, sk, extra string) {
	t.Helper()
	root.expect(http.StatusOK, "PUT", "/api/admin/user?uid="+uid+"&display-name="+uid+"&access-key="+ak+"&secret-key="+sk+extra, nil, nil)
}

// rootClient is a client signed in as the server's root user.
func rootClient(t testing.TB, srv *servertest.Running) *apiClient {
	t.Helper()
	c := newClient(t, srv.ConsoleURL)
	c.signIn(srv.RootAccessKey, srv.RootSecretKey)
	return c
}
