package auth

import (
	"net/http"
	"strings"
)

// ClaimedUser returns the user whose access key a request names, in its
// Authorization header or its presigned query, without checking the
// signature; ok is false when it names no known key.
//
// It serves CORS preflights only: a browser sends the OPTIONS of a
// presigned URL with the URL's query but without the headers the URL
// signed (and with another method), so the signature cannot verify, yet
// the key's tenant decides which bucket the URL names. RGW resolves a
// preflight's tenant the same way. A claimed user must never be treated
// as authenticated.
func (v *Verifier) ClaimedUser(r *http.Request) (userID string, ok bool) {
	key := claimedAccessKey(r)
	if key == "" {
		return "", false
	}
	userID, _, err := v.creds.Lookup(r.Context(), key)
	return userID, err == nil
}

// claimedAccessKey is the access key of a request's Authorization header
// (SigV4 or V2) or presigned query (SigV4 or V2), or "".
func claimedAccessKey(r *http.Request) string {
	if authz := r.Header.Get("Authorization"); authz != "" {
		if sig, err := parseV4Header(authz); err == nil {
			return sig.accessKey
		}
		if cred, ok := strings.CutPrefix(authz, "AWS "); ok {
			key, _, _ := strings.Cut(strings.TrimSpace(cred), ":")
			return key
		}
		return ""
	}
	q := r.URL.Query()
	if cred := q.Get("X-Amz-Credential"); cred != "" {
		var sig v4Sig
		if parseCredential(&sig, cred, errMalformed) != nil {
			return ""
		}
		return sig.accessKey
	}
	return q.Get("AWSAccessKeyId")
}
