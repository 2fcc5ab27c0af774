package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// assetFS holds the page: index.html, style.css and js/ (plain ES modules,
// no build step).
//
//go:embed assets
var assetFS embed.FS

// assetCSP allows the page its own scripts, styles and API only: no inline
// script, nothing from elsewhere, no framing.
const assetCSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// asset is one embedded file with its ETag.
type asset struct {
	body []byte
	etag string
}

// assetHandler serves the embedded files at /, /index.html, /style.css and
// /js/...; the SPA routes by URL hash, so no other path is a page.
func assetHandler() http.Handler {
	files := map[string]asset{}
	_ = fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files["/"+strings.TrimPrefix(p, "assets/")] = asset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Path
		if name == "/" {
			name = "/index.html"
		}
		a, ok := files[name]
		if !ok || (name != "/index.html" && name != "/style.css" && !strings.HasPrefix(name, "/js/")) {
			http.Error(w, "404 page not found", http.StatusNotFound)
			return
		}
		if !safeMethod(r.Method) {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", assetCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Frame-Options", "DENY")
		h.Set("ETag", a.etag)
		h.Set("Content-Type", contentType(name))
		http.ServeContent(w, r, path.Base(name), time.Time{}, bytes.NewReader(a.body))
	})
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	return "application/octet-stream"
}
