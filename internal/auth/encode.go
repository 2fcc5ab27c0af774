package auth

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// shouldEscape reports whether SigV4's URI encoding escapes c: everything
// but the unreserved characters A-Z a-z 0-9 - . _ ~.
func shouldEscape(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return false
	case c == '-', c == '.', c == '_', c == '~':
		return false
	}
	return true
}

const upperHex = "0123456789ABCDEF"

// appendEscapedByte appends c, escaped if SigV4 escapes it (including '/').
func appendEscapedByte(dst []byte, c byte) []byte {
	if !shouldEscape(c) {
		return append(dst, c)
	}
	return append(dst, '%', upperHex[c>>4], upperHex[c&0xf])
}

// appendEscaped appends s URI-encoded the SigV4 way (upper-case %XX),
// leaving '/' alone when keepSlash is set.
func appendEscaped(dst []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !shouldEscape(c) || (keepSlash && c == '/') {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&0xf])
	}
	return dst
}

// rawPath returns the request path exactly as the client sent it, before
// any decoding, so that %2F and the client's own escaping survive.
func rawPath(r *http.Request) string {
	if u := r.RequestURI; u != "" && u[0] == '/' {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return u
	}
	return r.URL.EscapedPath()
}

// isCanonicalPath reports whether p needs no re-encoding: only unreserved
// characters and slashes. This is the common case and avoids decoding.
func isCanonicalPath(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] != '/' && shouldEscape(p[i]) {
			return false
		}
	}
	return true
}

// appendCanonicalURI appends the SigV4 canonical URI of the raw request
// path. S3 encodes each path segment once (the decoded key, re-encoded);
// every other service encodes the already-encoded path a second time.
func appendCanonicalURI(dst []byte, raw string, s3 bool) []byte {
	if raw == "" {
		return append(dst, '/')
	}
	if isCanonicalPath(raw) {
		return append(dst, raw...)
	}
	start := len(dst)
	// Decode %XX and re-encode in one pass; '/' separates segments, while
	// an encoded %2F stays inside its segment.
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' && i+2 < len(raw) {
			if hi, ok1 := unhex(raw[i+1]); ok1 {
				if lo, ok2 := unhex(raw[i+2]); ok2 {
					dst = appendEscapedByte(dst, hi<<4|lo)
					i += 2
					continue
				}
			}
		}
		if c == '/' {
			dst = append(dst, '/')
			continue
		}
		dst = appendEscapedByte(dst, c)
	}
	if !s3 {
		once := string(dst[start:])
		dst = appendEscaped(dst[:start], once, true)
	}
	return dst
}

// queryPair is one decoded query parameter.
type queryPair struct{ key, value string }

// parseQuery splits a raw query into decoded pairs in order. Pieces that do
// not decode are kept as sent: the signature then decides.
func parseQuery(raw string, pairs []queryPair) []queryPair {
	for raw != "" {
		var piece string
		piece, raw, _ = strings.Cut(raw, "&")
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		pairs = append(pairs, queryPair{unescapeQuery(k), unescapeQuery(v)})
	}
	return pairs
}

func unescapeQuery(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	d, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return d
}

// appendCanonicalQuery appends the SigV4 canonical query string: every
// parameter (except X-Amz-Signature of a presigned request) URI-encoded,
// sorted by encoded name then value, with empty values kept as "name=".
//
// With asSent, the values of a repeated name keep the order the client sent
// them in, which is how minio-go (and MinIO's server) canonicalise
// (url.Values.Encode sorts names only); mc watch sends its events so.
// reordered reports whether that form differs from the sorted one, i.e.
// whether trying it is worth a second signature computation.
func appendCanonicalQuery(dst []byte, raw string, skipSignature, asSent bool) (out []byte, reordered bool) {
	if raw == "" {
		return dst, false
	}
	var arr [16]queryPair
	pairs := parseQuery(raw, arr[:0])
	// Encode in place so sorting compares encoded forms, as AWS does.
	var enc []byte
	n := 0
	for _, p := range pairs {
		if skipSignature && p.key == "X-Amz-Signature" {
			continue
		}
		if needsEscape(p.key) {
			enc = appendEscaped(enc[:0], p.key, false)
			p.key = string(enc)
		}
		if needsEscape(p.value) {
			enc = appendEscaped(enc[:0], p.value, false)
			p.value = string(enc)
		}
		pairs[n] = p
		n++
	}
	pairs = pairs[:n]
	// A stable sort by name leaves each name's values as sent; a run of
	// one name whose values are out of order is where the forms differ.
	slices.SortStableFunc(pairs, func(a, b queryPair) int { return strings.Compare(a.key, b.key) })
	for i := 0; i < len(pairs); {
		j := i + 1
		for j < len(pairs) && pairs[j].key == pairs[i].key {
			j++
		}
		run := pairs[i:j]
		if !slices.IsSortedFunc(run, compareValues) {
			reordered = true
			if !asSent {
				slices.SortFunc(run, compareValues)
			}
		}
		i = j
	}
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, p.key...)
		dst = append(dst, '=')
		dst = append(dst, p.value...)
	}
	return dst, reordered
}

func compareValues(a, b queryPair) int { return strings.Compare(a.value, b.value) }

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if shouldEscape(s[i]) {
			return true
		}
	}
	return false
}

// appendTrimmed appends v with leading and trailing whitespace removed and
// inner runs of spaces collapsed to one, SigV4's "trimall".
func appendTrimmed(dst []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' || c == '\t' {
			if !space {
				dst = append(dst, ' ')
			}
			space = true
			continue
		}
		space = false
		dst = append(dst, c)
	}
	return dst
}
