package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cairn-s3/cairn/internal/console"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// plantPage is an HTML object served by the S3 endpoint: its script runs
// on the S3 listener's origin, another port of the console's host, where
// cookies are shared (they ignore ports). It plants a session cookie
// named in its URL's fragment with a longer path than the console's, so
// the browser sends it first to /api/.
const plantPage = `<!doctype html><title>plant</title><script>
document.cookie = 'cairn_session=' + location.hash.slice(1) + '; path=/api';
document.title = 'planted';
</script>`

// TestBrowserPlantedSessionCookie: a page of another port of the host
// (here an object served by the S3 endpoint, which anyone who can write an
// object and send a link can place) plants a cairn_session cookie. A
// planted value that names no session must not lock the reader out of the
// console, and a planted live session (the attacker's own) must not
// silently replace the reader's: their calls would land in the attacker's
// account.
func TestBrowserPlantedSessionCookie(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	root := rootClient(t, srv)
	createUser(t, root, "mallory", "MALLORYKEY0000000001", "mallory-secret-00000000000000000000001", "")
	mallory := newClient(t, srv.ConsoleURL)
	mallory.signIn("MALLORYKEY0000000001", "mallory-secret-00000000000000000000001")
	var malloryID string
	for _, ck := range mallory.c.Jar.Cookies(mustURL(t, srv.ConsoleURL)) {
		if ck.Name == console.CookieName {
			malloryID = ck.Value
		}
	}
	mallory.expect(200, "PUT", "/api/s3/mallory-bucket", nil, nil)
	mallory.expect(200, "PUT", "/api/s3/mallory-bucket/plant.html", strings.NewReader(plantPage),
		http.Header{"Content-Type": {"text/html"}})
	var out struct{ URL string }
	if err := json.Unmarshal([]byte(mallory.expect(200, "POST", "/api/presign", strings.NewReader(
		`{"method":"GET","bucket":"mallory-bucket","key":"plant.html","expiresSeconds":600}`), nil)), &out); err != nil {
		t.Fatal(err)
	}

	b := startBrowser(t, srv)
	plant := func(value string) {
		b.t.Helper()
		b.run(chromedp.Navigate(out.URL+"#"+value), b.waitJS(`document.title === 'planted'`))
		b.open("")
	}
	// whoAmI asks the console, as the page does, whom its calls act as,
	// and lists the buckets as that user.
	whoAmI := func() (user, buckets string) {
		b.t.Helper()
		var r struct{ User, Buckets string }
		b.eval(`(async () => {
  const api = await import('/js/api.js');
  const s = await api.session();
  let buckets = '';
  try { buckets = (await api.s3('GET', '/')).text; } catch (e) { buckets = 'error ' + e.code; }
  return {User: s ? s.user : '', Buckets: buckets};
})()`, &r)
		return r.User, r.Buckets
	}

	// A planted value naming no session: signing in still works.
	plant("no-such-session")
	b.signIn(srv.RootAccessKey, srv.RootSecretKey)
	if user, buckets := whoAmI(); user != "root" || !strings.Contains(buckets, "<ListAllMyBucketsResult") {
		t.Errorf("after a junk cookie was planted and root signed in: user %q, buckets %.200q", user, buckets)
	}

	// The attacker's own live session planted next to root's: the page
	// must not act as mallory.
	plant(malloryID)
	if user, buckets := whoAmI(); user == "mallory" || strings.Contains(buckets, "mallory-bucket") {
		t.Errorf("root's console now acts as the planted session: user %q, buckets %.200q", user, buckets)
	}
	// Signing in again gives root a working session of its own.
	b.open("")
	b.signIn(srv.RootAccessKey, srv.RootSecretKey)
	if user, buckets := whoAmI(); user != "root" || strings.Contains(buckets, "mallory-bucket") || !strings.Contains(buckets, "<ListAllMyBucketsResult") {
		t.Errorf("root signed in again: user %q, buckets %.200q", user, buckets)
	}
}

// TestBrowserAPINotLoadableAsCode: the page's CSP allows scripts and
// styles of its own origin ('self'), and objects are served from that
// origin under /api/s3/. So an object of type text/javascript must not be
// loadable as a script (nor a worker, nor a stylesheet): else any markup
// injection would run stored code despite the CSP.
func TestBrowserAPINotLoadableAsCode(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	root := rootClient(t, srv)
	root.expect(200, "PUT", "/api/s3/code-bucket", nil, nil)
	root.expect(200, "PUT", "/api/s3/code-bucket/evil.js", strings.NewReader("globalThis.__pwned = (globalThis.__pwned || 0) + 1; if (typeof WorkerGlobalScope !== 'undefined') postMessage('ran');"),
		http.Header{"Content-Type": {"text/javascript"}})
	root.expect(200, "PUT", "/api/s3/code-bucket/evil.css", strings.NewReader("body { --pwned: 1; }"),
		http.Header{"Content-Type": {"text/css"}})
	b := startBrowser(t, srv)
	b.signIn(srv.RootAccessKey, srv.RootSecretKey)
	var out struct {
		Script, Module, Worker, Style string
		Fetched                       int
	}
	b.eval(`(async () => {
  const load = (el) => new Promise((res) => { el.onload = () => res('loaded'); el.onerror = () => res('refused'); document.head.append(el); });
  const out = {};
  const s = document.createElement('script'); s.src = '/api/s3/code-bucket/evil.js';
  out.Script = await load(s);
  if (window.__pwned) out.Script += ' and ran';
  try { await import('/api/s3/code-bucket/evil.js?m'); out.Module = 'loaded ran=' + (window.__pwned || 0); } catch (e) { out.Module = 'refused'; }
  out.Worker = await new Promise((res) => {
    try {
      const w = new Worker('/api/s3/code-bucket/evil.js?w');
      w.onmessage = () => res('ran'); w.onerror = () => res('refused');
    } catch (e) { res('refused'); }
  });
  const l = document.createElement('link'); l.rel = 'stylesheet'; l.href = '/api/s3/code-bucket/evil.css';
  out.Style = await load(l);
  // The page's own calls still work.
  out.Fetched = (await fetch('/api/s3/code-bucket/evil.js')).status;
  return out;
})()`, &out)
	for name, got := range map[string]string{"script": out.Script, "module": out.Module, "worker": out.Worker, "stylesheet": out.Style} {
		if got != "refused" {
			t.Errorf("an object loaded as a %s from the console's origin: %s", name, got)
		}
	}
	if out.Fetched != 200 {
		t.Errorf("the page's own fetch of the object: %d", out.Fetched)
	}

	// Opened as a page of the console's origin (a link to it, typed), an
	// HTML or SVG object runs no script: API answers are sandboxed.
	for name, typ := range map[string]string{"evil.html": "text/html", "evil.svg": "image/svg+xml"} {
		body := `<html><body><script>document.title = 'ran';</script></body></html>`
		if typ == "image/svg+xml" {
			body = `<svg xmlns="http://www.w3.org/2000/svg"><script>document.title = 'ran';</script></svg>`
		}
		root.expect(200, "PUT", "/api/s3/code-bucket/"+name, strings.NewReader(body), http.Header{"Content-Type": {typ}})
		var title string
		b.run(chromedp.Navigate(srv.ConsoleURL+"/api/s3/code-bucket/"+name), b.waitJS(`document.readyState === 'complete'`))
		b.eval(`document.title`, &title) // inline scripts ran before the document completed
		if title == "ran" {
			t.Errorf("%s opened through the console ran its script: title %q", name, title)
		}
	}
}
