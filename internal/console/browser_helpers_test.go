package console_test

// The browser test harness: a headless Debian chromium driven through
// chromedp against the real server's console on loopback. Browser tests
// (browser_*_test.go) use it as
//
//	srv := startServer(t, servertest.Options{})
//	b := startBrowser(t, srv)
//	b.signIn(srv.RootAccessKey, srv.RootSecretKey)   // through the sign-in page
//	b.run(chromedp.Click(chromedp.CSS(`#create-bucket`)), ...)   // chromedp v0.23's generic API
//	b.screenshot("buckets")                          // $CAIRN_SCREENSHOTS/<test>-buckets.png
//	b.checkAccessibility("buckets")                  // labels, names, alt, landmarks, contrast
//
// Each startBrowser launches one chromium (a few hundred MB, a second or
// two): keep browser tests few and thorough. Under CI=true a missing
// chromium fails the test; elsewhere it skips.

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// chromiumPath is Debian's chromium (apt-get install chromium).
const chromiumPath = "/usr/bin/chromium"

// Selectors of the sign-in page (js/app.js) the harness fills in, and the
// element that shows who is signed in once it worked.
const (
	selSignInAccess = `#signin-access`
	selSignInSecret = `#signin-secret`
	selSignInSubmit = `#signin-submit`
	selWhoAmI       = `#whoami`
)

// browserStepTimeout bounds one b.run (navigation, clicks, waits).
const browserStepTimeout = 60 * time.Second

// consoleBrowser is one browser context (cookies, storage) with one tab on
// the console of a running server.
type consoleBrowser struct {
	t   testing.TB
	srv *servertest.Running
	// ctx is the tab's chromedp context; pass it to chromedp.Run or
	// chromedp.Do directly for steps that need another timeout than b.run's.
	ctx  context.Context
	base string // the console's URL, http://127.0.0.1:<port>

	mu       sync.Mutex
	jsErrors []string // uncaught exceptions, console.error and browser errors
}

// requireChromium returns chromium's path, or skips the test (fails it
// under CI=true) when it is missing.
func requireChromium(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("%s is missing (apt-get install chromium)", chromiumPath)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return chromiumPath
}

// startBrowser launches a headless chromium (closed when the test ends)
// and opens the console's page in a tab.
func startBrowser(t testing.TB, srv *servertest.Running) *consoleBrowser {
	t.Helper()
	path := requireChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests run as root in containers
		chromedp.Headless,
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.DisableGPU,
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancel)
	b := &consoleBrowser{t: t, srv: srv, ctx: ctx, base: srv.ConsoleURL}
	b.listen()
	b.open("")
	return b
}

// cleanContext returns a new browser context of the same chromium with no
// cookies or storage (as a private window): for share links, or a second
// user.
func (b *consoleBrowser) cleanContext() *consoleBrowser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	nb := &consoleBrowser{t: b.t, srv: b.srv, ctx: ctx, base: b.base}
	nb.listen()
	return nb
}

// listen collects the page's uncaught exceptions, console.error calls and
// the browser's errors (failed loads, CSP violations) from now on.
func (b *consoleBrowser) listen() {
	messages := chromedp.Console(b.ctx) // subscribes now; also starts the tab
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
				continue
			}
			b.mu.Lock()
			b.jsErrors = append(b.jsErrors, string(m.Type)+": "+m.Text)
			b.mu.Unlock()
		}
	}()
}

// errors returns the page's uncaught exceptions, console.error lines and
// browser errors so far. Expected failures (a refused request the page
// reports) show here too; tests decide what is fatal.
func (b *consoleBrowser) errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.jsErrors...)
}

// run runs chromedp actions in the tab, failing the test on error or after
// browserStepTimeout.
func (b *consoleBrowser) run(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.screenshot("failure")
		b.t.Fatalf("browser: %v (page errors: %q)", err, b.errors())
	}
}

// open navigates to the console's page at a hash route ("" or
// "#/buckets/b?prefix=x").
func (b *consoleBrowser) open(hash string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base+"/"+hash), chromedp.WaitReady(chromedp.CSS("body")))
}

// signIn signs in through the sign-in page and waits until the page shows
// the user.
func (b *consoleBrowser) signIn(accessKey, secretKey string) {
	b.t.Helper()
	b.run(
		chromedp.WaitVisible(chromedp.CSS(selSignInAccess)),
		chromedp.SetValue(chromedp.CSS(selSignInAccess), accessKey),
		chromedp.SetValue(chromedp.CSS(selSignInSecret), secretKey),
		chromedp.Click(chromedp.CSS(selSignInSubmit)),
		b.waitJS(`(document.querySelector(`+jsString(selWhoAmI)+`)?.textContent || '').trim() !== ''`),
	)
}

// waitJS is a step that waits until the JavaScript expression is truthy.
func (b *consoleBrowser) waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(browserStepTimeout))
}

// eval evaluates JavaScript in the page, awaiting a promise, and decodes
// its JSON value into out (nil to ignore it).
func (b *consoleBrowser) eval(js string, out any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browser: eval: %v (page errors: %q)", err, b.errors())
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("browser: eval answered %.200q: %v", raw, err)
		}
	}
}

// viewport emulates a screen of w×h CSS pixels (375 wide for a phone).
func (b *consoleBrowser) viewport(w, h int64) {
	b.t.Helper()
	b.run(chromedp.EmulateViewport(w, h))
}

// colorScheme emulates the system's preferred color scheme, "light" or
// "dark" (prefers-color-scheme).
func (b *consoleBrowser) colorScheme(scheme string) {
	b.t.Helper()
	b.run(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	}))
}

// allowDownloads makes this browser context save downloads into a fresh
// directory, which it returns.
func (b *consoleBrowser) allowDownloads() string {
	b.t.Helper()
	dir := b.t.TempDir()
	events := true
	_, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, EventsEnabled: &events,
		BrowserContextID: chromedp.FromContext(b.ctx).BrowserContextID})
	if err != nil {
		b.t.Fatalf("browser: allow downloads: %v", err)
	}
	return dir
}

// screenshotDir is $CAIRN_SCREENSHOTS, or cairn-screenshots in the temp
// directory: never inside the repository.
func screenshotDir(t testing.TB) string {
	dir := os.Getenv("CAIRN_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "cairn-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot dir: %v", err)
	}
	return dir
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// screenshot saves the whole page as <dir>/<test>-<name>.png and returns
// the file's path. Failing to take one is logged, not fatal.
func (b *consoleBrowser) screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	file := filepath.Join(screenshotDir(b.t), unsafeFileChars.ReplaceAllString(b.t.Name()+"-"+name, "_")+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.t.Logf("screenshot: %s", file)
	return file
}

// a11yCheckJS is the in-page accessibility checker; it evaluates to a JSON
// array of a11yProblem.
//
//go:embed testdata/a11y_check.js
var a11yCheckJS string

// a11yProblem is one finding of the in-page accessibility check.
type a11yProblem struct {
	Rule    string `json:"rule"`
	Element string `json:"element"`
	Detail  string `json:"detail"`
}

// accessibilityProblems runs the in-page checker (see a11yCheckJS) on the
// page as it is now.
func (b *consoleBrowser) accessibilityProblems() []a11yProblem {
	b.t.Helper()
	var raw string
	b.eval(a11yCheckJS, &raw) // the checker answers a JSON string
	var out []a11yProblem
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		b.t.Fatalf("accessibility check answered %q: %v", raw, err)
	}
	return out
}

// checkAccessibility fails the test for every problem the in-page checker
// finds on the page as it is now, and saves a screenshot named name.
func (b *consoleBrowser) checkAccessibility(name string) {
	b.t.Helper()
	b.screenshot(name)
	for _, p := range b.accessibilityProblems() {
		b.t.Errorf("accessibility (%s): %s: %s: %s", name, p.Rule, p.Element, p.Detail)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}
