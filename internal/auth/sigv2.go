package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// subResources are the query parameters that SigV2 includes in the
// canonical resource, as botocore (HmacV1Auth.QSAOfInterest) and the S3
// documentation list them.
var subResources = map[string]bool{
	"accelerate": true, "acl": true, "analytics": true, "cors": true, "defaultObjectAcl": true,
	"delete": true, "inventory": true, "lifecycle": true, "location": true, "logging": true,
	"metrics": true, "notification": true, "object-lock": true, "partNumber": true, "policy": true,
	"replication": true, "requestPayment": true, "restore": true, "select": true, "select-type": true,
	"storageClass": true, "tagging": true, "torrent": true, "uploadId": true, "uploads": true,
	"versionId": true, "versioning": true, "versions": true, "website": true,
	"response-cache-control": true, "response-content-disposition": true, "response-content-encoding": true,
	"response-content-language": true, "response-content-type": true, "response-expires": true,
}

// extraSubResources are signed as sub-resources by some clients (minio-go,
// s3cmd) but not by botocore. When one is present and the signature does
// not match without them, Verify tries again with them.
var extraSubResources = map[string]bool{
	"encryption": true, "legal-hold": true, "retention": true,
}

// verifyV2Header authenticates "Authorization: AWS AccessKeyId:Signature".
func (v *Verifier) verifyV2Header(r *http.Request, authz string) (Identity, error) {
	cred := strings.TrimSpace(strings.TrimPrefix(authz, "AWS "))
	i := strings.LastIndexByte(cred, ':')
	if i <= 0 || i == len(cred)-1 {
		return Identity{}, s3err.InvalidArgument.WithMessage("AWS authorization header is invalid.  Expected AwsAccessKeyId:signature")
	}
	accessKey, signature := cred[:i], cred[i+1:]
	date := r.Header.Get("X-Amz-Date")
	if date == "" {
		date = r.Header.Get("Date")
	}
	t, ok := parseHTTPDate(strings.TrimSpace(date))
	if !ok {
		return Identity{}, s3err.AccessDenied.WithMessage("AWS authentication requires a valid Date or x-amz-date header")
	}
	userID, secret, err := v.lookup(r.Context(), accessKey)
	if err != nil {
		return Identity{}, err
	}
	if err := v.checkSkew(t); err != nil {
		return Identity{}, err
	}
	ok = false
	if amzDate := r.Header.Get("X-Amz-Date"); amzDate == "" {
		ok = v.checkV2(r, secret, v2Date{line: r.Header.Get("Date")}, signature)
	} else {
		// As specified, the Date line is empty and x-amz-date is signed among
		// the x-amz-* headers (s3cmd does this). The S3 documentation's own
		// example instead signs the x-amz-date value on the Date line and
		// leaves it out of the headers; both prove the secret, so both pass.
		ok = v.checkV2(r, secret, v2Date{}, signature) ||
			v.checkV2(r, secret, v2Date{line: amzDate, skipAmzDate: true}, signature)
	}
	if !ok {
		return Identity{}, s3err.SignatureDoesNotMatch
	}
	return Identity{AccessKey: accessKey, UserID: userID}, nil
}

// verifyPresignV2 authenticates ?AWSAccessKeyId=&Expires=&Signature=.
func (v *Verifier) verifyPresignV2(r *http.Request) (Identity, error) {
	var accessKey, expires, signature string
	for _, p := range parseQuery(r.URL.RawQuery, nil) {
		switch p.key {
		case "AWSAccessKeyId":
			accessKey = p.value
		case "Expires":
			expires = p.value
		case "Signature":
			signature = p.value
		}
	}
	// A '+' of a base64 signature that the client did not escape was
	// decoded to a space above; restore it.
	signature = strings.ReplaceAll(signature, " ", "+")
	if accessKey == "" || expires == "" || signature == "" {
		return Identity{}, s3err.AccessDenied.WithMessage("Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return Identity{}, s3err.AccessDenied.WithMessage("Invalid date (should be seconds since epoch): %s", expires)
	}
	userID, secret, err := v.lookup(r.Context(), accessKey)
	if err != nil {
		return Identity{}, err
	}
	// Expires is the first second the URL is no longer valid.
	if !v.opts.Now().Before(time.Unix(exp, 0)) {
		return Identity{}, s3err.AccessDenied.WithMessage("Request has expired")
	}
	if !v.checkV2(r, secret, v2Date{line: expires, query: true}, signature) {
		return Identity{}, s3err.SignatureDoesNotMatch
	}
	return Identity{AccessKey: accessKey, UserID: userID}, nil
}

// v2Date is what goes on the Date line of a SigV2 string to sign.
type v2Date struct {
	line        string
	skipAmzDate bool // leave x-amz-date out of the x-amz-* headers
	query       bool // query authentication: headers may be in the query
}

// v2Resource selects one way of writing the canonical resource.
type v2Resource struct {
	// extra also signs extraSubResources.
	extra bool
	// slash writes a bare path-style bucket "/bkt" as "/bkt/".
	slash bool
	// literal repeats the first literal query pieces before the
	// sub-resources ("/bkt/key?acl?acl").
	literal int
	// bare writes a sub-resource sent with an empty value ("policy=") as
	// its name alone ("?policy"), as minio-go and MinIO do.
	bare bool
}

// v2Resources lists the resource forms to try, the standard one first.
//
// botocore 1.28-1.29 (Debian's boto3 1.26) signs path-style requests with
// the operation's URI template as "auth path": a bare bucket gains a
// trailing slash, and a literal query from the template ("?acl",
// "?list-type=2", "?select&select-type=2") is followed by the sub-resources
// once more. Those forms are tried when the standard one fails. Every form
// is derived from this request and covers all its sub-resources, so
// accepting them authorises nothing the standard form would not.
//
// minio-go signs the sub-resources it knows (extraSubResources among them)
// and writes an empty value without its '=' ("?uploads" for "uploads=").
// Whether an empty value has an '=' means nothing, so that form too covers
// exactly what the standard one does.
func (v *Verifier) v2Resources(r *http.Request) []v2Resource {
	forms := []v2Resource{{}}
	extra, emptyValue := scanSubResources(r.URL.RawQuery)
	if extra {
		forms = append(forms, v2Resource{extra: true})
	}
	if emptyValue {
		for _, f := range forms {
			f.bare = true
			forms = append(forms, f)
		}
	}
	if v.opts.VirtualHostBucket != nil && v.opts.VirtualHostBucket(r) != "" {
		return forms
	}
	if p := rawPath(r); len(p) > 1 && strings.IndexByte(p[1:], '/') < 0 {
		forms = append(forms, v2Resource{slash: true})
	}
	pieces := strings.Count(r.URL.RawQuery, "&") + 1
	if r.URL.RawQuery == "" {
		pieces = 0
	}
	for k := 1; k <= min(pieces, 2); k++ {
		forms = append(forms, v2Resource{literal: k})
	}
	return forms
}

// checkV2 compares signature, in constant time, with the SigV2 signatures
// of r in each accepted resource form.
func (v *Verifier) checkV2(r *http.Request, secret string, date v2Date, signature string) bool {
	want, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(want) != sha1.Size {
		return false
	}
	for _, form := range v.v2Resources(r) {
		if hmac.Equal(signV2(secret, v.stringToSignV2(r, date, form)), want) {
			return true
		}
	}
	return false
}

func signV2(secret string, stringToSign []byte) []byte {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(stringToSign)
	return m.Sum(nil)
}

// scanSubResources reports whether the query has one of the
// extraSubResources, and whether a sub-resource was sent as "name=" (with
// an '=' and an empty value).
func scanSubResources(raw string) (extra, emptyValue bool) {
	for piece := range strings.SplitSeq(raw, "&") {
		k, val, hasValue := strings.Cut(piece, "=")
		k = unescapeQuery(k)
		extra = extra || extraSubResources[k]
		if hasValue && val == "" && (subResources[k] || extraSubResources[k]) {
			emptyValue = true
		}
	}
	return extra, emptyValue
}

// stringToSignV2 builds
//
//	VERB\nContent-MD5\nContent-Type\nDate\nCanonicalizedAmzHeaders CanonicalizedResource
//
// For query authentication, Content-MD5, Content-Type and x-amz-* values may
// travel as query parameters (botocore moves them there when presigning);
// they are signed as if they were headers.
func (v *Verifier) stringToSignV2(r *http.Request, date v2Date, form v2Resource) []byte {
	md5, ctype := r.Header.Get("Content-Md5"), r.Header.Get("Content-Type")
	amz := amzHeadersV2(r.Header, date.skipAmzDate)
	if date.query {
		for _, p := range parseQuery(r.URL.RawQuery, nil) {
			switch k := strings.ToLower(p.key); {
			case k == "content-md5":
				md5 = p.value
			case k == "content-type":
				ctype = p.value
			case strings.HasPrefix(k, "x-amz-"):
				amz = append(amz, queryPair{k, strings.TrimSpace(p.value)})
			}
		}
	}
	b := make([]byte, 0, 256)
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = append(b, strings.TrimSpace(md5)...)
	b = append(b, '\n')
	b = append(b, strings.TrimSpace(ctype)...)
	b = append(b, '\n')
	b = append(b, date.line...)
	b = append(b, '\n')
	slices.SortStableFunc(amz, func(a, b queryPair) int { return strings.Compare(a.key, b.key) })
	for i := 0; i < len(amz); {
		// Values of one name are joined with commas, in order.
		b = append(b, amz[i].key...)
		b = append(b, ':')
		j := i
		for ; j < len(amz) && amz[j].key == amz[i].key; j++ {
			if j > i {
				b = append(b, ',')
			}
			b = append(b, amz[j].value...)
		}
		b = append(b, '\n')
		i = j
	}
	return v.appendResourceV2(b, r, form)
}

// amzHeadersV2 returns the x-amz-* headers, lower-cased, with values
// trimmed (inner spaces are kept: botocore and the S3 documentation only
// trim).
func amzHeadersV2(h http.Header, skipAmzDate bool) []queryPair {
	var out []queryPair
	for k, vals := range h {
		if len(k) <= 6 || !strings.EqualFold(k[:6], "x-amz-") || (skipAmzDate && strings.EqualFold(k, "x-amz-date")) {
			continue
		}
		lk := strings.ToLower(k)
		for _, val := range vals {
			out = append(out, queryPair{lk, strings.TrimSpace(val)})
		}
	}
	return out
}

// appendResourceV2 appends /bucket/key (the bucket from the virtual host if
// any, the path as the client sent it) and the signed sub-resources, sorted
// by name, with decoded values.
func (v *Verifier) appendResourceV2(b []byte, r *http.Request, form v2Resource) []byte {
	if v.opts.VirtualHostBucket != nil {
		if bucket := v.opts.VirtualHostBucket(r); bucket != "" {
			b = append(b, '/')
			b = append(b, bucket...)
		}
	}
	p := rawPath(r)
	if p == "" {
		p = "/"
	}
	b = append(b, p...)
	if form.slash {
		b = append(b, '/')
	}
	if form.literal > 0 {
		b = append(b, '?')
		rest := r.URL.RawQuery
		for i := range form.literal {
			var piece string
			piece, rest, _ = strings.Cut(rest, "&")
			if i > 0 {
				b = append(b, '&')
			}
			b = append(b, piece...)
		}
	}
	type sub struct {
		key, value string
		hasValue   bool
	}
	var subs []sub
	for piece := range strings.SplitSeq(r.URL.RawQuery, "&") {
		k, val, hasValue := strings.Cut(piece, "=")
		if k, _ = url.PathUnescape(k); !subResources[k] && !(form.extra && extraSubResources[k]) {
			continue
		}
		if d, err := url.PathUnescape(val); err == nil {
			val = d
		}
		subs = append(subs, sub{k, val, hasValue})
	}
	slices.SortStableFunc(subs, func(a, b sub) int { return strings.Compare(a.key, b.key) })
	for i, s := range subs {
		if i == 0 {
			b = append(b, '?')
		} else {
			b = append(b, '&')
		}
		b = append(b, s.key...)
		if s.hasValue && !(form.bare && s.value == "") {
			b = append(b, '=')
			b = append(b, s.value...)
		}
	}
	return b
}
