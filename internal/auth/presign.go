package auth

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// maxPresignExpiry is the longest X-Amz-Expires S3 accepts: seven days.
const maxPresignExpiry = 7 * 24 * time.Hour

func errQuery(msg string) *s3err.Error {
	return s3err.AuthorizationQueryParametersError.WithMessage("%s", msg)
}

// presignV4 is a parsed SigV4 query-string signature.
type presignV4 struct {
	v4Sig
	amzDate string
	time    time.Time
	expires time.Duration
	payload string
}

// parsePresignV4 parses the X-Amz-* query parameters of a presigned URL.
func parsePresignV4(q url.Values) (presignV4, error) {
	var p presignV4
	alg, cred, date := q.Get("X-Amz-Algorithm"), q.Get("X-Amz-Credential"), q.Get("X-Amz-Date")
	signed, signature, expires := q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature"), q.Get("X-Amz-Expires")
	if alg == "" || cred == "" || date == "" || signed == "" || signature == "" || expires == "" {
		return p, errQuery("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
	}
	if alg != algoV4 {
		return p, errQuery("X-Amz-Algorithm only supports \"" + algoV4 + "\"")
	}
	if err := parseCredential(&p.v4Sig, cred, func(msg string) *s3err.Error {
		return errQuery("Error parsing the X-Amz-Credential parameter; " + msg)
	}); err != nil {
		return p, err
	}
	t, err := time.Parse(amzDateFmt, date)
	if err != nil {
		return p, errQuery("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	if date[:8] != p.date {
		return p, errQuery("Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	secs, err := strconv.ParseInt(expires, 10, 64)
	switch {
	case err != nil:
		return p, errQuery("X-Amz-Expires should be a number")
	// An expiry out of range is refused like an expired URL, with 403 (as
	// RGW and the conformance suite expect), not as a malformed query.
	case secs < 0:
		return p, s3err.AccessDenied.WithMessage("X-Amz-Expires must be non-negative")
	case secs > int64(maxPresignExpiry/time.Second):
		return p, s3err.AccessDenied.WithMessage("X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	if !decodeHex32(&p.signature, signature) {
		return p, s3err.SignatureDoesNotMatch
	}
	if !signsHost(signed) {
		return p, errHostNotSigned
	}
	p.signedHeaders = signed
	p.amzDate, p.time, p.expires = date, t, time.Duration(secs)*time.Second
	// Presigned URLs sign no body unless the signer put a hash in the query.
	p.payload = unsignedPayload
	if h := q.Get("X-Amz-Content-Sha256"); h != "" {
		p.payload = h
	}
	return p, nil
}

// presignExpired reports whether a URL signed at signed for expires is
// past its window. S3 honours it while now < X-Amz-Date + X-Amz-Expires,
// so the last instant is already out; and X-Amz-Expires=0 opens no window
// at all (S3's minimum is 1), even when X-Amz-Date is ahead of the clock
// by less than the skew the "not valid yet" check allows.
func presignExpired(now, signed time.Time, expires time.Duration) bool {
	return expires <= 0 || !now.Before(signed.Add(expires))
}

// verifyPresignV4 authenticates a SigV4 presigned URL. Presigned URLs carry
// their own validity window, so the skew check is replaced by the expiry.
func (v *Verifier) verifyPresignV4(r *http.Request) (Identity, error) {
	p, err := parsePresignV4(r.URL.Query())
	if err != nil {
		return Identity{}, err
	}
	if !validPayloadHash(p.payload) {
		return Identity{}, errQuery("X-Amz-Content-Sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.")
	}
	if err := checkAmzHeadersSigned(r.Header, p.signedHeaders, true); err != nil {
		return Identity{}, err
	}
	userID, secret, err := v.lookup(r.Context(), p.accessKey)
	if err != nil {
		return Identity{}, err
	}
	now := v.opts.Now()
	if now.Before(p.time.Add(-v.opts.MaxSkew)) {
		return Identity{}, s3err.AccessDenied.WithMessage("Request is not valid yet")
	}
	if presignExpired(now, p.time, p.expires) {
		return Identity{}, s3err.AccessDenied.WithMessage("Request has expired")
	}
	s := getMAC()
	defer putMAC(s)
	key := v.keys.signingKey(s, secret, p.date, p.region, p.service)
	if !s.checkV4(r, &p.v4Sig, &key, p.amzDate, p.payload, true) {
		return Identity{}, s3err.SignatureDoesNotMatch
	}
	if !listHas(p.signedHeaders, "x-amz-content-sha256") {
		// The payload mode is the query's; an unsigned header claiming
		// another (a streaming one, say) must not mislead the handlers.
		r.Header.Del("X-Amz-Content-Sha256")
	}
	if err := wrapBody(r, p.payload, &p.v4Sig, &key, p.amzDate); err != nil {
		return Identity{}, err
	}
	return Identity{AccessKey: p.accessKey, UserID: userID}, nil
}
