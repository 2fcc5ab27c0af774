package console_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestBrowserAPIClient drives js/api.js in a real chromium against the real
// server: sign-in (wrong and right), the HttpOnly cookie, an upload with
// progress events (XHR), S3 errors parsed from XML, the live stream flowing
// through the console while the object is written, a presigned URL, the
// admin API and sign-out.
func TestBrowserAPIClient(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	b := startBrowser(t, srv)
	var out struct {
		WrongCode, WrongStatus string
		User                   string
		Admin                  bool
		CookieVisible          bool
		Progress               int
		LastLoaded, Total      int64
		GotLen                 int
		MissingCode            string
		MissingStatus          int
		Streamed               string
		AdminUser              string
		Presigned              string
		AfterSignOut           string
	}
	js := fmt.Sprintf(`(async () => {
  const api = await import('/js/api.js');
  const out = {};
  try { await api.signIn(%[1]q, 'wrong-secret'); } catch (e) { out.WrongCode = e.code; out.WrongStatus = String(e.status); }
  const s = await api.signIn(%[1]q, %[2]q);
  out.User = s.user; out.Admin = s.admin;
  out.CookieVisible = document.cookie.includes('cairn_session');
  await api.s3('PUT', '/browser-bucket');
  const size = 8 << 20;
  const body = new Blob([new Uint8Array(size).fill(65)]);
  out.Progress = 0;
  await api.s3('PUT', api.objectPath('browser-bucket', 'dir/big file.bin'), {
    body, headers: {'Content-Type': 'application/octet-stream'},
    onUploadProgress: (p) => { out.Progress++; out.LastLoaded = p.loaded; out.Total = p.total; },
  });
  const got = await api.s3('GET', api.objectPath('browser-bucket', 'dir/big file.bin'));
  out.GotLen = got.text.length;
  try { await api.s3('GET', api.objectPath('browser-bucket', 'missing')); } catch (e) { out.MissingCode = e.code; out.MissingStatus = e.status; }
  // The live stream: open it, then write, and read until the key shows.
  const ctl = new AbortController();
  const resp = await api.stream(api.objectPath('browser-bucket'), {query: {events: ''}, signal: ctl.signal});
  const reader = resp.body.getReader();
  const dec = new TextDecoder();
  await api.s3('PUT', api.objectPath('browser-bucket', 'live.txt'), {body: 'x'});
  let text = '';
  for (let i = 0; i < 50 && !text.includes('live.txt'); i++) {
    const {value, done} = await reader.read();
    if (done) break;
    text += dec.decode(value, {stream: true});
  }
  ctl.abort();
  out.Streamed = text;
  const u = await api.admin('GET', 'user', {query: {uid: 'root'}});
  out.AdminUser = u.json.user_id || u.json.display_name || '';
  out.Presigned = await api.presign({method: 'GET', bucket: 'browser-bucket', key: 'live.txt', expiresSeconds: 60});
  await api.signOut();
  out.AfterSignOut = String(await api.session());
  return out;
})()`, srv.RootAccessKey, srv.RootSecretKey)
	b.eval(js, &out)
	b.screenshot("api-client")
	if out.WrongCode != "InvalidCredentials" || out.WrongStatus != "401" {
		t.Errorf("wrong secret: %s %s", out.WrongCode, out.WrongStatus)
	}
	if out.User != "root" || !out.Admin {
		t.Errorf("session: %s admin=%v", out.User, out.Admin)
	}
	if out.CookieVisible {
		t.Error("the session cookie is visible to scripts (not HttpOnly)")
	}
	if out.Progress == 0 || out.LastLoaded != 8<<20 || out.Total != 8<<20 {
		t.Errorf("upload progress: %d events, last %d of %d", out.Progress, out.LastLoaded, out.Total)
	}
	if out.GotLen != 8<<20 {
		t.Errorf("downloaded %d bytes", out.GotLen)
	}
	if out.MissingCode != "NoSuchKey" || out.MissingStatus != 404 {
		t.Errorf("missing key: %s %d", out.MissingCode, out.MissingStatus)
	}
	if !strings.Contains(out.Streamed, "live.txt") {
		t.Errorf("live stream: %q", out.Streamed)
	}
	if out.AdminUser == "" {
		t.Error("admin API: no user")
	}
	if out.AfterSignOut != "null" {
		t.Errorf("session after sign-out: %s", out.AfterSignOut)
	}
	// The presigned URL works from outside the browser, on the S3 endpoint.
	u, err := url.Parse(out.Presigned)
	if err != nil || "http://"+u.Host != srv.URL {
		t.Fatalf("presigned URL %q is not on %s", out.Presigned, srv.URL)
	}
	if body := getURL(t, out.Presigned); body != "x" {
		t.Errorf("presigned GET: %q", body)
	}
	if errs := b.errors(); len(errs) > 0 {
		t.Logf("page errors (expected: the refused calls): %q", errs)
	}
}
