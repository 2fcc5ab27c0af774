package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Path prefixes of the forwarded APIs.
const (
	s3Prefix    = "/api/s3/"
	adminPrefix = "/api/admin/"
)

// unsignedPayload is what forwarded requests declare as their payload hash:
// the body streams through without being read twice (the S3 handler still
// checks Content-MD5 and checksums the client sent).
const unsignedPayload = "UNSIGNED-PAYLOAD"

// forwardedHeaders are the request headers the page may set on a forwarded
// request, besides x-amz-* (see forwardHeader). Accept lets the live stream
// answer as Server-Sent Events for an EventSource.
var forwardedHeaders = []string{
	"Accept", "Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Content-MD5",
	"Content-Type", "Expires", "If-Match", "If-Modified-Since", "If-None-Match", "If-Unmodified-Since", "Range",
}

// forwardS3 sends /api/s3/<rest> to the S3 handler as /<rest>.
func (c *Console) forwardS3(w http.ResponseWriter, r *http.Request, s *session) {
	rest, _ := strings.CutPrefix(rawPath(r), strings.TrimSuffix(s3Prefix, "/"))
	if rest == "" {
		rest = "/"
	}
	c.forward(w, r, s, rest)
}

// forwardAdmin sends /api/admin/<rest> to the admin API as /admin/<rest>.
func (c *Console) forwardAdmin(w http.ResponseWriter, r *http.Request, s *session) {
	rest, _ := strings.CutPrefix(rawPath(r), adminPrefix)
	c.forward(w, r, s, "/admin/"+rest)
}

// forward calls the S3 listener's handler in-process with a copy of r
// addressed to path (escaped as the browser sent it) and signed with the
// session's key.
// Both bodies stream: the request body is the browser's connection, and
// the handler writes (and flushes) straight to the browser's response.
func (c *Console) forward(w http.ResponseWriter, r *http.Request, s *session, path string) {
	// The path is re-encoded as SigV4 canonicalizes S3 paths (each byte
	// but the unreserved ones and '/' escaped), so that what is signed is
	// what the verifier derives from the decoded key.
	decoded, err := url.PathUnescape(path)
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidURI", "the request path is not validly escaped")
		return
	}
	target := c.endpoint.Scheme + "://" + c.endpoint.Host + escapeKey(decoded)
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	u, err := url.Parse(target)
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidURI", "the request path cannot be forwarded")
		return
	}
	body := r.Body
	if r.ContentLength == 0 {
		body = http.NoBody
	}
	// The request lives no longer than its session: signing out (or the
	// session's expiry) ends a live stream or a transfer still running.
	ctx, cancel := context.WithTimeout(r.Context(), s.expires.Sub(c.cfg.Now()))
	defer cancel()
	defer context.AfterFunc(s.ended, cancel)()
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "the request cannot be forwarded")
		return
	}
	req.URL = u
	req.Host = c.endpoint.Host
	req.RequestURI = u.RequestURI()
	req.ContentLength = r.ContentLength
	req.TransferEncoding = r.TransferEncoding
	req.RemoteAddr = r.RemoteAddr
	req.TLS = r.TLS
	for k, vs := range r.Header {
		if forwardHeader(k) {
			req.Header[k] = vs
		}
	}
	if err := c.sign(req, s); err != nil {
		c.log.ErrorContext(r.Context(), "console: sign forwarded request", "err", err)
		writeError(w, http.StatusInternalServerError, "InternalError", "could not sign the request")
		return
	}
	c.cfg.S3.ServeHTTP(&noStoreWriter{ResponseWriter: w}, req)
}

// sign signs req with the session's key pair (SigV4, unsigned payload).
func (c *Console) sign(req *http.Request, s *session) error {
	req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
	creds := aws.Credentials{AccessKeyID: s.accessKey, SecretAccessKey: s.secretKey}
	return v4.NewSigner().SignHTTP(req.Context(), creds, req, unsignedPayload, "s3", c.cfg.Region, c.cfg.Now(),
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

// forwardHeader reports whether the page's request header k is passed on:
// the listed ones and x-amz-*, except those the signature owns.
func forwardHeader(k string) bool {
	ck := http.CanonicalHeaderKey(k)
	for _, h := range forwardedHeaders {
		if ck == http.CanonicalHeaderKey(h) { // Content-MD5 arrives as Content-Md5
			return true
		}
	}
	if !strings.HasPrefix(ck, "X-Amz-") {
		return false
	}
	switch ck {
	case "X-Amz-Date", "X-Amz-Content-Sha256", "X-Amz-Security-Token":
		return false
	}
	return true
}

// rawPath is the request's path as the browser sent it (escaped), so that
// a key's own escaping (%2F, +) reaches the S3 handler unchanged.
func rawPath(r *http.Request) string {
	if u := r.RequestURI; strings.HasPrefix(u, "/") {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return u
	}
	return r.URL.EscapedPath()
}
