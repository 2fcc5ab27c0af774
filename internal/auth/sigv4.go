package auth

import (
	"crypto/subtle"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
)

const (
	algoV4       = "AWS4-HMAC-SHA256"
	scopeTerm    = "aws4_request"
	amzDateFmt   = "20060102T150405Z"
	scopeDateFmt = "20060102"

	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	emptySHA256              = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// v4Sig is a parsed SigV4 signature, from the header or the query.
type v4Sig struct {
	accessKey     string
	date          string // yyyymmdd of the credential scope
	region        string
	service       string
	scope         string // date/region/service/aws4_request
	signedHeaders string
	signature     [32]byte
}

// errMalformed builds the AuthorizationHeaderMalformed error; query-string
// parsing uses AuthorizationQueryParametersError instead (see presign.go).
func errMalformed(msg string) *s3err.Error {
	return s3err.AuthorizationHeaderMalformed.WithMessage("The authorization header is malformed; %s", msg)
}

// parseV4Header parses "AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=a;b, Signature=hex". Components may be separated by commas
// with or without spaces, in any order.
func parseV4Header(h string) (v4Sig, error) {
	var sig v4Sig
	rest, ok := strings.CutPrefix(h, algoV4)
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return sig, errMalformed("the authorization header must start with " + algoV4 + ".")
	}
	var cred, signed, signature string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return sig, errMalformed("the authorization component \"" + part + "\" is malformed.")
		}
		switch k {
		case "Credential":
			cred, haveCred = v, true
		case "SignedHeaders":
			signed, haveSigned = v, true
		case "Signature":
			signature, haveSig = v, true
		default:
			return sig, errMalformed("the authorization component \"" + part + "\" is malformed.")
		}
	}
	if !haveCred || !haveSigned || !haveSig {
		return sig, errMalformed("the authorization header requires three components: Credential, SignedHeaders, and Signature.")
	}
	if err := parseCredential(&sig, cred, errMalformed); err != nil {
		return sig, err
	}
	if signed == "" {
		return sig, errMalformed("the SignedHeaders component is empty.")
	}
	sig.signedHeaders = signed
	if !decodeHex32(&sig.signature, signature) {
		return sig, s3err.SignatureDoesNotMatch
	}
	if !signsHost(signed) {
		return sig, errHostNotSigned
	}
	return sig, nil
}

// parseCredential parses "AK/yyyymmdd/region/service/aws4_request". The
// access key is whatever precedes the last four fields.
func parseCredential(sig *v4Sig, cred string, malformed func(string) *s3err.Error) error {
	const want = "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
	var f [4]string
	rest := cred
	for i := 3; i >= 0; i-- {
		j := strings.LastIndexByte(rest, '/')
		if j < 0 {
			return malformed(want)
		}
		f[i], rest = rest[j+1:], rest[:j]
	}
	if rest == "" || f[1] == "" || f[2] == "" {
		return malformed(want)
	}
	if _, err := time.Parse(scopeDateFmt, f[0]); err != nil || len(f[0]) != 8 {
		return malformed("incorrect date format \"" + f[0] + "\". This date in the credential must be in the format \"yyyyMMdd\".")
	}
	if f[3] != scopeTerm {
		return malformed("incorrect terminal \"" + f[3] + "\". This endpoint uses \"" + scopeTerm + "\".")
	}
	sig.accessKey, sig.date, sig.region, sig.service = rest, f[0], f[1], f[2]
	sig.scope = cred[len(rest)+1:]
	return nil
}

// requestTime returns the SigV4 timestamp of a header-signed request:
// X-Amz-Date, else the Date header, in the ISO 8601 basic form it is signed
// in.
func requestTime(r *http.Request) (time.Time, string, error) {
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		t, err := time.Parse(amzDateFmt, v)
		if err != nil {
			return time.Time{}, "", s3err.AccessDenied.WithMessage("AWS authentication requires a valid Date or x-amz-date header")
		}
		return t, v, nil
	}
	if v := r.Header.Get("Date"); v != "" {
		if t, ok := parseHTTPDate(v); ok {
			return t, t.UTC().Format(amzDateFmt), nil
		}
	}
	return time.Time{}, "", s3err.AccessDenied.WithMessage("AWS authentication requires a valid Date or x-amz-date header")
}

// isS3Service reports whether the service signs paths S3's way (single
// URI encoding).
func isS3Service(service string) bool {
	return service == "s3" || service == "s3-object-lambda" || service == "s3express"
}

// verifyV4Header authenticates a request signed in the Authorization header.
func (v *Verifier) verifyV4Header(r *http.Request, authz string) (Identity, error) {
	sig, err := parseV4Header(authz)
	if err != nil {
		return Identity{}, err
	}
	t, amzDate, err := requestTime(r)
	if err != nil {
		return Identity{}, err
	}
	if amzDate[:8] != sig.date {
		return Identity{}, errMalformed("Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	if err := checkAmzHeadersSigned(r.Header, sig.signedHeaders, false); err != nil {
		return Identity{}, err
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" && isS3Service(sig.service) {
		return Identity{}, s3err.InvalidRequest.WithMessage("Missing required header for this request: x-amz-content-sha256")
	}
	if payload != "" && !validPayloadHash(payload) {
		return Identity{}, s3err.InvalidArgument.WithMessage("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")
	}
	userID, secret, err := v.lookup(r.Context(), sig.accessKey)
	if err != nil {
		return Identity{}, err
	}
	if err := v.checkSkew(t); err != nil {
		return Identity{}, err
	}
	if payload == "" {
		// Non-S3 services (SNS, STS, ...) sign a hash of the body without
		// sending it; the body is small (a form), so hash it and put it back.
		if payload, err = hashAndRestoreBody(r); err != nil {
			return Identity{}, err
		}
	}
	s := getMAC()
	defer putMAC(s)
	key := v.keys.signingKey(s, secret, sig.date, sig.region, sig.service)
	if !s.checkV4(r, &sig, &key, amzDate, payload, false) {
		return Identity{}, s3err.SignatureDoesNotMatch
	}
	if err := wrapBody(r, payload, &sig, &key, amzDate); err != nil {
		return Identity{}, err
	}
	return Identity{AccessKey: sig.accessKey, UserID: userID}, nil
}

// validPayloadHash reports whether an x-amz-content-sha256 value is one S3
// accepts.
func validPayloadHash(p string) bool {
	switch p {
	case unsignedPayload, streamingSigned, streamingSignedTrailer, streamingUnsignedTrailer:
		return true
	}
	var b [32]byte
	return decodeHex32(&b, p)
}

// checkV4 computes the signature of r and compares it, in constant time,
// with sig.signature. When a repeated query parameter's values were sent
// out of sorted order, the form that keeps them as sent is tried too: both
// forms cover the same parameters and values, only their order differs.
func (s *macState) checkV4(r *http.Request, sig *v4Sig, key *[32]byte, amzDate, payload string, presigned bool) bool {
	ok, reordered := s.checkV4Form(r, sig, key, amzDate, payload, presigned, false)
	if !ok && reordered {
		ok, _ = s.checkV4Form(r, sig, key, amzDate, payload, presigned, true)
	}
	return ok
}

// checkV4Form checks the signature over one canonical form of the query.
func (s *macState) checkV4Form(r *http.Request, sig *v4Sig, key *[32]byte, amzDate, payload string, presigned, asSent bool) (ok, reordered bool) {
	buf, reordered := s.canonicalRequest(s.buf[:0], r, sig, payload, presigned, asSent)
	// The string to sign follows the canonical request in the same buffer.
	crEnd := len(buf)
	buf = append(buf, algoV4+"\n"...)
	buf = append(buf, amzDate...)
	buf = append(buf, '\n')
	buf = append(buf, sig.scope...)
	buf = append(buf, '\n')
	buf = s.sha256Hex(buf, buf[:crEnd])
	s.buf = buf
	var got [32]byte
	s.hmac(&got, key[:], buf[crEnd:])
	return subtle.ConstantTimeCompare(got[:], sig.signature[:]) == 1, reordered
}

// canonicalRequest appends the SigV4 canonical request of r to dst.
func (s *macState) canonicalRequest(dst []byte, r *http.Request, sig *v4Sig, payload string, presigned, asSent bool) ([]byte, bool) {
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	dst = appendCanonicalURI(dst, rawPath(r), isS3Service(sig.service))
	dst = append(dst, '\n')
	dst, reordered := appendCanonicalQuery(dst, r.URL.RawQuery, presigned, asSent)
	dst = append(dst, '\n')
	for name := range strings.SplitSeq(sig.signedHeaders, ";") {
		dst = append(dst, name...)
		dst = append(dst, ':')
		dst = appendHeaderValue(dst, r, name)
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	dst = append(dst, sig.signedHeaders...)
	dst = append(dst, '\n')
	return append(dst, payload...), reordered
}

// appendHeaderValue appends the canonical value of the signed header name
// (lower case). net/http moves some headers out of r.Header; they are
// restored from where it puts them.
func appendHeaderValue(dst []byte, r *http.Request, name string) []byte {
	switch name {
	case "host":
		if r.Host != "" {
			return append(dst, r.Host...)
		}
		return append(dst, r.URL.Host...)
	case "content-length":
		if _, ok := r.Header["Content-Length"]; !ok && r.ContentLength >= 0 {
			return strconv.AppendInt(dst, r.ContentLength, 10)
		}
	case "transfer-encoding":
		if _, ok := r.Header["Transfer-Encoding"]; !ok && len(r.TransferEncoding) > 0 {
			return append(dst, strings.Join(r.TransferEncoding, ",")...)
		}
	}
	key, ok := commonHeaders[name]
	if !ok {
		key = textproto.CanonicalMIMEHeaderKey(name)
	}
	vals := r.Header[key]
	if vals == nil && key != name {
		vals = r.Header[name] // non-canonical keys set by hand
	}
	for i, val := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTrimmed(dst, val)
	}
	return dst
}

// commonHeaders spares canonicalising (and allocating) the names that
// appear in almost every signed request.
var commonHeaders = map[string]string{
	"content-md5":                  "Content-Md5",
	"content-type":                 "Content-Type",
	"content-encoding":             "Content-Encoding",
	"content-length":               "Content-Length",
	"date":                         "Date",
	"x-amz-content-sha256":         "X-Amz-Content-Sha256",
	"x-amz-date":                   "X-Amz-Date",
	"x-amz-decoded-content-length": "X-Amz-Decoded-Content-Length",
	"x-amz-security-token":         "X-Amz-Security-Token",
	"x-amz-trailer":                "X-Amz-Trailer",
	"x-amz-sdk-checksum-algorithm": "X-Amz-Sdk-Checksum-Algorithm",
	"x-amz-checksum-crc32":         "X-Amz-Checksum-Crc32",
	"x-amz-checksum-crc32c":        "X-Amz-Checksum-Crc32c",
	"x-amz-checksum-crc64nvme":     "X-Amz-Checksum-Crc64nvme",
	"x-amz-checksum-sha1":          "X-Amz-Checksum-Sha1",
	"x-amz-checksum-sha256":        "X-Amz-Checksum-Sha256",
	"x-amz-storage-class":          "X-Amz-Storage-Class",
	"x-amz-acl":                    "X-Amz-Acl",
	"x-amz-user-agent":             "X-Amz-User-Agent",
	"amz-sdk-invocation-id":        "Amz-Sdk-Invocation-Id",
	"amz-sdk-request":              "Amz-Sdk-Request",
	"range":                        "Range",
	"if-match":                     "If-Match",
	"if-none-match":                "If-None-Match",
	"user-agent":                   "User-Agent",
}

// httpDateLayouts are the date formats clients put in Date / x-amz-date
// headers (RFC 1123 with GMT or a numeric zone, RFC 850, asctime).
var httpDateLayouts = []string{
	http.TimeFormat,
	time.RFC1123Z,
	time.RFC1123,
	time.RFC850,
	time.ANSIC,
}

func parseHTTPDate(v string) (time.Time, bool) {
	for _, layout := range httpDateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
