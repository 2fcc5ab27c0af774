package console

import (
	"net"
	"net/http"
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
	if o := r.Header.Get("Origin"); o != "" && o != origin(r) {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// origin is the console's own origin as this request reached it.
func origin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
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

// session returns the live session of the request's cookie, or nil.
func (c *Console) session(r *http.Request) *session {
	ck, err := r.Cookie(CookieName)
	if err != nil {
		return nil
	}
	return c.sessions.get(ck.Value)
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
