package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestAssets: the page is served from the binary with its security
// headers; only its own paths exist; API answers are never rendered as
// pages of the console's origin.
func TestAssets(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	c := newClient(t, srv.ConsoleURL)
	for path, ct := range map[string]string{
		"/":           "text/html; charset=utf-8",
		"/index.html": "text/html; charset=utf-8",
		"/js/api.js":  "text/javascript; charset=utf-8",
	} {
		resp := c.do("GET", path, nil, nil)
		body := readAll(t, resp)
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Content-Type") != ct || body == "" {
			t.Errorf("%s: %d %q", path, resp.StatusCode, h.Get("Content-Type"))
		}
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: headers %v", path, h)
		}
		if etag := h.Get("ETag"); etag == "" {
			t.Errorf("%s: no ETag", path)
		} else {
			c.expect(http.StatusNotModified, "GET", path, nil, http.Header{"If-None-Match": {etag}})
		}
	}
	for _, path := range []string{"/nope", "/assets/index.html", "/js/", "/js/../index.html", "/api/nope"} {
		c.expect(404, "GET", path, nil, nil)
	}
	c.expect(405, "POST", "/index.html", nil, nil)

	// A forwarded HTML object is sandboxed and not sniffed, should anyone
	// open its /api/s3/ URL.
	root := rootClient(t, srv)
	root.expect(200, "PUT", "/api/s3/html-bucket", nil, nil)
	root.expect(200, "PUT", "/api/s3/html-bucket/x.html", strings.NewReader("<script>alert(1)</script>"), http.Header{"Content-Type": {"text/html"}})
	resp := root.do("GET", "/api/s3/html-bucket/x.html", nil, nil)
	readAll(t, resp)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("forwarded object headers: %v", resp.Header)
	}
}
