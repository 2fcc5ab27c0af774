package console_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// signInFormJS puts a stand-in of the sign-in page's form (the selectors
// the harness fills in) on the page, so that the harness's signIn is
// tested on its own; the real page (js/app.js) has the same ids.
const signInFormJS = `(async () => {
  const api = await import('/js/api.js');
  const main = document.querySelector('main');
  main.innerHTML = '<form id="f"><label for="signin-access">Access key</label><input id="signin-access">' +
    '<label for="signin-secret">Secret key</label><input id="signin-secret" type="password">' +
    '<button id="signin-submit" type="submit">Sign in</button></form>';
  document.getElementById('f').addEventListener('submit', async (e) => {
    e.preventDefault();
    const s = await api.signIn(document.getElementById('signin-access').value, document.getElementById('signin-secret').value);
    document.getElementById('whoami').textContent = 'Signed in as ' + s.user;
  });
  return true;
})()`

// TestBrowserHarness checks the harness's own helpers: signing in through
// a form, a phone-width dark viewport, downloads saved to a directory, and
// a clean browser context that shares no cookie.
func TestBrowserHarness(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	c := rootClient(t, srv)
	c.expect(200, "PUT", "/api/s3/harness-bucket", nil, nil)
	c.expect(200, "PUT", "/api/s3/harness-bucket/hello.txt", strings.NewReader("hello from the console"), nil)

	b := startBrowser(t, srv)
	b.eval(signInFormJS, nil)
	b.signIn(srv.RootAccessKey, srv.RootSecretKey)

	b.viewport(375, 800)
	b.colorScheme("dark")
	var env struct {
		Width int
		Dark  bool
	}
	b.eval(`({Width: window.innerWidth, Dark: matchMedia('(prefers-color-scheme: dark)').matches})`, &env)
	if env.Width != 375 || !env.Dark {
		t.Errorf("emulation: %+v", env)
	}

	dir := b.allowDownloads()
	b.eval(`(() => { const a = document.createElement('a'); a.href = '/api/s3/harness-bucket/hello.txt';
  a.download = 'hello.txt'; document.body.append(a); a.click(); return true; })()`, nil)
	file := filepath.Join(dir, "hello.txt")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(file); err == nil && string(b) == "hello from the console" {
			break
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(dir)
			t.Fatalf("no download in %s: %v", dir, entries)
		}
		time.Sleep(50 * time.Millisecond)
	}

	clean := b.cleanContext()
	clean.open("")
	var status int
	clean.eval(`fetch('/api/session').then(r => r.status)`, &status)
	if status != 401 {
		t.Errorf("a clean context has a session: %d", status)
	}
	b.eval(`fetch('/api/session').then(r => r.status)`, &status)
	if status != 200 {
		t.Errorf("the first context lost its session: %d", status)
	}
}
