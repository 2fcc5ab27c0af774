package console_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestAccessibilityChecker checks the in-page checker itself on two fixed
// pages: one with a problem of every kind it knows (each must be found)
// and one without (nothing may be found).
func TestAccessibilityChecker(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	b := startBrowser(t, srv)
	const bad = `<!doctype html><html><head></head><body>
<div><input id="q"><button></button><a href="#x"></a><img src="data:,">
<p style="color:#999;background:#fff">faint text</p>
<span id="dup">a</span><span id="dup">b</span>
<div aria-labelledby="nothing">x</div></div></body></html>`
	b.run(chromedp.Navigate("data:text/html," + url.PathEscape(bad)))
	var rules []string
	for _, p := range b.accessibilityProblems() {
		rules = append(rules, p.Rule)
	}
	for _, want := range []string{"document", "landmarks", "ids", "aria-ref", "label", "name", "alt", "contrast"} {
		if !slices.Contains(rules, want) {
			t.Errorf("the checker missed a %q problem; found %q", want, rules)
		}
	}
	const good = `<!doctype html><html lang="en"><head><title>Good</title></head><body>
<header><nav aria-label="Main"><a href="#a">Buckets</a></nav></header>
<main><h1 style="color:#111">Title</h1><label for="q">Search</label><input id="q">
<button aria-label="Close">×</button><img src="data:," alt="">
<p style="color:#595959;background:#fff">dim but readable</p>
<p style="position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);color:#ccc">screen reader only</p>
<button disabled style="color:#bbb">Off</button></main></body></html>`
	b.run(chromedp.Navigate("data:text/html," + url.PathEscape(good)))
	if p := b.accessibilityProblems(); len(p) > 0 {
		t.Errorf("the checker found problems on a good page: %+v", p)
	}
}
