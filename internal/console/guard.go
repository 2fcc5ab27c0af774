package console

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Names of the session cookie and the CSRF header.
const (
	CookieName = "cairn_session"
	CSRFHeader = "X-Cairn-CSRF"
)

// sameOrigin refuses requests another page made: an Origin that is not the
// console's own, or a Fetch Metadata Sec-Fetch-Site other than same-origin
// or none (typed or bookmarked). SameSite=Strict alone is not enough: a
// site is a host without its port, so another service on the same host
// (127.0.0.1:8080) is "same-site" and would get the cookie.
func (c *Console) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && !ownOrigin(o, r) {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// loadedAsCode reports whether the browser fetches the request to run or
// apply it: as a script, module, worker or stylesheet (Fetch Metadata's
// Sec-Fetch-Dest). The page's CSP trusts its own origin ('self'), and
// objects are served from that origin under /api/s3/, so without this
// any markup injection could load stored code past the CSP.
func loadedAsCode(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Dest") {
	case "script", "worker", "sharedworker", "serviceworker", "style", "xslt", "audioworklet", "paintworklet":
		return true
	}
	return false
}

// ownOrigin reports whether an Origin header names the console as this
// request reached it: the same host and port. The scheme may differ (https
// in the browser, http here) behind a proxy that terminates TLS and keeps
// the Host header; over TLS it must be https.
func ownOrigin(o string, r *http.Request) bool {
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.Path != "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if r.TLS != nil && u.Scheme != "https" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// withSession runs next with the request's live session: 401 NoSession
// without one, and 403 InvalidCSRFToken for a state change (any method
// but GET and HEAD) without the session's CSRF token.
func (c *Console) withSession(w http.ResponseWriter, r *http.Request, next func(http.ResponseWriter, *http.Request, *session)) {
	s := c.session(r)
	if s == nil {
		writeError(w, http.StatusUnauthorized, "NoSession", "sign in first (no session, or it expired)")
		return
	}
	if !safeMethod(r.Method) && !s.checkCSRF(r.Header.Get(CSRFHeader)) {
		writeError(w, http.StatusForbidden, "InvalidCSRFToken", "missing or wrong "+CSRFHeader+" header")
		return
	}
	next(w, r, s)
}

// session returns the live session of the request's cookies, or nil.
// Cookies ignore ports, so a page of another port of this host (an HTML
// object the S3 endpoint serves, say) can plant a cairn_session cookie
// with a longer path, which the browser then sends first. So every
// cookie of the name is looked at: planted values naming no session are
// ignored (they would lock the reader out), and two live sessions are
// ambiguous, one of them possibly the planter's own, so neither is used
// (signing in again ends both and starts one).
func (c *Console) session(r *http.Request) *session {
	if live := c.presented(r); len(live) == 1 {
		return live[0]
	}
	return nil
}

// presented returns the distinct live sessions the request's cookies name.
// All are looked at (no cap a planter could fill with junk first); the
// header size limit bounds them.
func (c *Console) presented(r *http.Request) []*session {
	var live []*session
	for _, ck := range r.CookiesNamed(CookieName) {
		if s := c.sessions.get(ck.Value); s != nil && !slices.Contains(live, s) {
			live = append(live, s)
		}
	}
	return live
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// localHost reports whether a Host header names an IP address or
// localhost (with or without a port).
func localHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil
}
