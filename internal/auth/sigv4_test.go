package auth

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
)

var t0 = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// TestV4HeaderSDKSigned checks that requests signed by aws-sdk-go-v2's
// signer verify, across the canonicalisation details that trip servers.
func TestV4HeaderSDKSigned(t *testing.T) {
	tests := []struct {
		name, method, target, body string
		headers                    [][2]string
		service, region            string
		payload                    string // "" means the sha256 of body
	}{
		{name: "list buckets", method: "GET", target: "/"},
		{name: "get object", method: "GET", target: "/bucket/key.txt"},
		{name: "sub-resource without value", method: "GET", target: "/bucket?acl"},
		{name: "query sorting and repeats", method: "GET", target: "/bucket?prefix=a%2Fb&delimiter=%2F&list-type=2&z=1&a=2&a=1&empty="},
		{name: "query with space and plus", method: "GET", target: "/bucket?prefix=a%20b%2Bc&marker=x%7Ey"},
		{name: "key with space", method: "GET", target: "/bucket/my%20key"},
		{name: "key with plus", method: "GET", target: "/bucket/a%2Bb"},
		{name: "key with unicode", method: "GET", target: "/bucket/fran%C3%A7ais/%E6%97%A5%E6%9C%AC"},
		{name: "key with tilde and reserved", method: "GET", target: "/bucket/~user/a%21%28%29%2A%27%3A%40%26%3D%24%2C%3B"},
		{name: "key with encoded slash", method: "GET", target: "/bucket/a%2Fb"},
		{name: "key with dot segments", method: "GET", target: "/bucket/a/../b/./c"},
		{name: "double slash", method: "GET", target: "/bucket//key"},
		{name: "put with sha256", method: "PUT", target: "/bucket/obj", body: "hello world",
			headers: [][2]string{{"Content-Type", "text/plain"}, {"X-Amz-Meta-Note", "  spaced   out  value "}}},
		{name: "put unsigned payload", method: "PUT", target: "/bucket/obj", body: "data", payload: unsignedPayload},
		{name: "multi-valued header", method: "PUT", target: "/bucket/obj", body: "x",
			headers: [][2]string{{"X-Amz-Meta-A", "one"}, {"X-Amz-Meta-A", "two"}}},
		{name: "region us-east-1", method: "GET", target: "/b", region: "us-east-1"},
		{name: "made-up region", method: "GET", target: "/b", region: "cairn-local-7"},
		{name: "service sns", method: "POST", target: "/", service: "sns", region: "eu-west-3",
			body:    "Action=CreateTopic&Name=my-topic&Version=2010-03-31",
			headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}}},
		{name: "service sts path double-encoded", method: "GET", target: "/some%20path/x", service: "sts", region: "us-east-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			service, region := tt.service, tt.region
			if service == "" {
				service = "s3"
			}
			if region == "" {
				region = "eu-central-1"
			}
			r := newReq(tt.method, tt.target, tt.body)
			for _, h := range tt.headers {
				r.Header.Add(h[0], h[1])
			}
			payload := tt.payload
			if payload == "" {
				payload = sha256Hex(tt.body)
			}
			if service == "s3" {
				r.Header.Set("X-Amz-Content-Sha256", payload)
			}
			sdkSign(t, r, payload, service, region, t0)
			id, err := newTestVerifier(t0.Add(3 * time.Minute)).Verify(r)
			if err != nil {
				t.Fatalf("Verify: %v\nAuthorization: %s", err, r.Header.Get("Authorization"))
			}
			if id != (Identity{AccessKey: testAK, UserID: testUser}) {
				t.Errorf("identity = %+v", id)
			}
			got, err := readBody(r)
			if err != nil || string(got) != tt.body {
				t.Errorf("body = %q, %v; want %q", got, err, tt.body)
			}
		})
	}
}

// signedPut returns a fresh SDK-signed GET, for tampering tests.
func signedPut(t testing.TB, body string) *http.Request {
	r := newReq("PUT", "/bucket/key?tagging", body)
	r.Header.Set("X-Amz-Content-Sha256", sha256Hex(body))
	r.Header.Set("X-Amz-Meta-Color", "blue")
	sdkSign(t, r, sha256Hex(body), "s3", "us-east-1", t0)
	return r
}

func TestV4HeaderTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(r *http.Request)
		code   string
		msg    string
	}{
		{"method", func(r *http.Request) { r.Method = "POST" }, "SignatureDoesNotMatch", ""},
		{"path", func(r *http.Request) { r.RequestURI = "/bucket/other?tagging"; r.URL.Path = "/bucket/other" }, "SignatureDoesNotMatch", ""},
		{"query", func(r *http.Request) { r.URL.RawQuery = "acl" }, "SignatureDoesNotMatch", ""},
		{"host", func(r *http.Request) { r.Host = "127.0.0.1:9001" }, "SignatureDoesNotMatch", ""},
		{"signed header", func(r *http.Request) { r.Header.Set("X-Amz-Meta-Color", "red") }, "SignatureDoesNotMatch", ""},
		{"payload hash", func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", unsignedPayload) }, "SignatureDoesNotMatch", ""},
		{"signature", func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-1]+string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", a[len(a)-1])+1)%16]))
		}, "SignatureDoesNotMatch", ""},
		{"unknown key", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testAK, "AKIDUNKNOWN", 1))
		}, "InvalidAccessKeyId", ""},
		{"missing content sha256", func(r *http.Request) { r.Header.Del("X-Amz-Content-Sha256") },
			"InvalidRequest", "Missing required header for this request: x-amz-content-sha256"},
		{"invalid content sha256", func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "abc") }, "InvalidArgument", ""},
		{"missing date", func(r *http.Request) { r.Header.Del("X-Amz-Date") }, "AccessDenied", ""},
		{"date not matching scope", func(r *http.Request) { r.Header.Set("X-Amz-Date", "20250315T150926Z") },
			"AuthorizationHeaderMalformed", "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date."},
		{"both header and query auth", func(r *http.Request) { r.URL.RawQuery += "&X-Amz-Signature=00" }, "InvalidArgument", ""},
		{"unsupported scheme", func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") }, "InvalidArgument", "Unsupported Authorization Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := signedPut(t, "payload")
			tt.tamper(r)
			_, err := newTestVerifier(t0).Verify(r)
			wantCode(t, err, tt.code, tt.msg)
		})
	}
	// The untampered request passes, so the failures above are the tampering's.
	if _, err := newTestVerifier(t0).Verify(signedPut(t, "payload")); err != nil {
		t.Fatal(err)
	}
}

func TestV4HeaderMalformed(t *testing.T) {
	const prefix = "The authorization header is malformed; "
	good := "AWS4-HMAC-SHA256 Credential=" + testAK + "/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + strings.Repeat("ab", 32)
	tests := []struct{ name, authz, code, msg string }{
		{"no signature", strings.Split(good, ", Signature")[0], "AuthorizationHeaderMalformed",
			prefix + "the authorization header requires three components: Credential, SignedHeaders, and Signature."},
		{"no signed headers", strings.Replace(good, "SignedHeaders=host;x-amz-content-sha256;x-amz-date, ", "", 1), "AuthorizationHeaderMalformed",
			prefix + "the authorization header requires three components: Credential, SignedHeaders, and Signature."},
		{"short credential", strings.Replace(good, "/us-east-1/s3", "", 1), "AuthorizationHeaderMalformed",
			prefix + "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."},
		{"bad date", strings.Replace(good, "20250314", "2025-3-14", 1), "AuthorizationHeaderMalformed",
			prefix + "incorrect date format \"2025-3-14\". This date in the credential must be in the format \"yyyyMMdd\"."},
		{"bad terminator", strings.Replace(good, "aws4_request", "aws4_reqest", 1), "AuthorizationHeaderMalformed",
			prefix + "incorrect terminal \"aws4_reqest\". This endpoint uses \"aws4_request\"."},
		{"garbage component", good + ", Foo", "AuthorizationHeaderMalformed", ""},
		{"no space after algorithm", "AWS4-HMAC-SHA256Credential=x", "InvalidArgument", ""},
		{"short signature", strings.Replace(good, strings.Repeat("ab", 32), "abcd", 1), "SignatureDoesNotMatch", ""},
		{"host not signed", strings.Replace(good, "SignedHeaders=host;", "SignedHeaders=", 1), "AccessDenied",
			"There were headers present in the request which were not signed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReq("GET", "/", "")
			r.Header.Set("Authorization", tt.authz)
			r.Header.Set("X-Amz-Date", "20250314T150926Z")
			r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
			_, err := newTestVerifier(t0).Verify(r)
			wantCode(t, err, tt.code, tt.msg)
		})
	}
}

func TestV4HeaderSkew(t *testing.T) {
	for _, d := range []time.Duration{-16 * time.Minute, 16 * time.Minute} {
		r := signedPut(t, "x")
		_, err := newTestVerifier(t0.Add(d)).Verify(r)
		wantCode(t, err, "RequestTimeTooSkewed", "")
	}
	for _, d := range []time.Duration{-14 * time.Minute, 14 * time.Minute} {
		if _, err := newTestVerifier(t0.Add(d)).Verify(signedPut(t, "x")); err != nil {
			t.Errorf("skew %v: %v", d, err)
		}
	}
	// MaxSkew is configurable.
	v := New(testCreds, Options{MaxSkew: time.Minute, Now: func() time.Time { return t0.Add(2 * time.Minute) }})
	_, err := v.Verify(signedPut(t, "x"))
	wantCode(t, err, "RequestTimeTooSkewed", "")
}

// TestV4HeaderDateHeader covers clients that sign the Date header instead
// of X-Amz-Date.
func TestV4HeaderDateHeader(t *testing.T) {
	r := newReq("GET", "/bucket", "")
	r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	sdkSign(t, r, emptySHA256, "s3", "us-east-1", t0)
	// Re-sign by hand with Date in place of X-Amz-Date: the SDK always sets
	// X-Amz-Date, so build the equivalent with the reference key.
	r.Header.Del("X-Amz-Date")
	r.Header.Set("Date", t0.Format(http.TimeFormat))
	s := newRefSigner(testSecret, t0, "us-east-1", "s3", "")
	canon := "GET\n/bucket\n\ndate:" + t0.Format(http.TimeFormat) + "\nhost:" + testHost + "\nx-amz-content-sha256:" + emptySHA256 +
		"\n\ndate;host;x-amz-content-sha256\n" + emptySHA256
	sig := s.sign("AWS4-HMAC-SHA256\n" + t0.Format(amzDateFmt) + "\n" + s.scope + "\n" + sha256Hex(canon))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAK+"/"+s.scope+",SignedHeaders=date;host;x-amz-content-sha256,Signature="+sig)
	if _, err := newTestVerifier(t0).Verify(r); err != nil {
		t.Fatal(err)
	}
}

func TestV4PayloadHashMismatch(t *testing.T) {
	// Signed over the hash of "good", body is "evil": the head verifies, the
	// body fails at EOF with XAmzContentSHA256Mismatch instead of io.EOF.
	r := newReq("PUT", "/bucket/key", "evil")
	r.Header.Set("X-Amz-Content-Sha256", sha256Hex("good"))
	sdkSign(t, r, sha256Hex("good"), "s3", "us-east-1", t0)
	if _, err := newTestVerifier(t0).Verify(r); err != nil {
		t.Fatal(err)
	}
	got, err := readBody(r)
	if string(got) != "evil" {
		t.Errorf("body %q", got)
	}
	wantCode(t, err, "XAmzContentSHA256Mismatch", "")
	if _, err2 := r.Body.Read(make([]byte, 10)); err2 != err {
		t.Errorf("error not sticky: %v", err2)
	}

	// An empty body declared with a non-empty hash fails immediately.
	r = newReq("GET", "/bucket/key", "")
	r.Header.Set("X-Amz-Content-Sha256", sha256Hex("x"))
	sdkSign(t, r, sha256Hex("x"), "s3", "us-east-1", t0)
	_, err = newTestVerifier(t0).Verify(r)
	wantCode(t, err, "XAmzContentSHA256Mismatch", "")
}

func TestV4TruncatedBody(t *testing.T) {
	r := newReq("PUT", "/bucket/key", "0123456789")
	r.Header.Set("X-Amz-Content-Sha256", sha256Hex("0123456789"))
	sdkSign(t, r, sha256Hex("0123456789"), "s3", "us-east-1", t0)
	if _, err := newTestVerifier(t0).Verify(r); err != nil {
		t.Fatal(err)
	}
	// What net/http reports when the connection ends before Content-Length.
	r.Body.(*sha256Body).rc = io.NopCloser(io.MultiReader(strings.NewReader("01234"), errReader{io.ErrUnexpectedEOF}))
	_, err := readBody(r)
	wantCode(t, err, "IncompleteBody", "")
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestV4SNSBodyStaysReadable: services that sign a body hash without the
// x-amz-content-sha256 header make Verify read the body; the handler must
// still get all of it.
func TestV4SNSBodyStaysReadable(t *testing.T) {
	form := "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&Message=hi"
	r := newReq("POST", "/", form)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sdkSign(t, r, sha256Hex(form), "sns", "us-east-1", t0)
	if _, err := newTestVerifier(t0).Verify(r); err != nil {
		t.Fatal(err)
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("Message") != "hi" {
		t.Fatalf("form after Verify: %v %v", r.PostForm, err)
	}

	// A changed body no longer matches the signed hash.
	r = newReq("POST", "/", form)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sdkSign(t, r, sha256Hex(form), "sns", "us-east-1", t0)
	r.Body = io.NopCloser(strings.NewReader(strings.Replace(form, "hi", "ho", 1)))
	_, err := newTestVerifier(t0).Verify(r)
	wantCode(t, err, "SignatureDoesNotMatch", "")
}

// TestV4HashedBodyBound: a body Verify must buffer before the signature
// is checked (services that sign a hash they do not send) is refused past
// SNS's own limits, so a known access key cannot make the server hold
// megabytes per connection; a form of SNS's largest size still verifies.
func TestV4HashedBodyBound(t *testing.T) {
	for _, c := range []struct {
		size int
		want string
	}{{maxHashedBodySize, ""}, {maxHashedBodySize + 1, "MaxMessageLengthExceeded"}} {
		form := "Action=Publish&Message=" + strings.Repeat("m", c.size-len("Action=Publish&Message="))
		r := newReq("POST", "/", form)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		sdkSign(t, r, sha256Hex(form), "sns", "us-east-1", t0)
		_, err := newTestVerifier(t0).Verify(r)
		if c.want == "" {
			if err != nil {
				t.Fatalf("%d-byte form: %v", c.size, err)
			}
			continue
		}
		wantCode(t, err, c.want, "")
	}
	if maxHashedBodySize > 256<<10 {
		t.Fatalf("maxHashedBodySize = %d, more than SNS's 256 KiB message", maxHashedBodySize)
	}
}

func TestAnonymous(t *testing.T) {
	r := newReq("GET", "/bucket/key?versionId=1", "")
	id, err := newTestVerifier(t0).Verify(r)
	if err != nil || !id.Anonymous {
		t.Fatalf("got %+v, %v", id, err)
	}
}

func TestLookupFailure(t *testing.T) {
	v := New(failingCreds{}, Options{Now: func() time.Time { return t0 }})
	_, err := v.Verify(signedPut(t, "x"))
	wantCode(t, err, "InternalError", "")
	if strings.Contains(s3err.As(err).Message, testSecret) {
		t.Error("secret leaked")
	}
}

type failingCreds struct{}

func (failingCreds) Lookup(context.Context, string) (string, string, error) {
	return "", "", io.ErrClosedPipe
}

func TestCanonicalURI(t *testing.T) {
	tests := []struct {
		raw  string
		s3   bool
		want string
	}{
		{"", true, "/"},
		{"/", true, "/"},
		{"/bucket/a b", true, "/bucket/a%20b"},
		{"/bucket/a%20b", true, "/bucket/a%20b"},
		{"/bucket/a+b", true, "/bucket/a%2Bb"},
		{"/bucket/a%2bb", true, "/bucket/a%2Bb"},
		{"/bucket/a%2Fb", true, "/bucket/a%2Fb"},
		{"/bucket/~x", true, "/bucket/~x"},
		{"/bucket/%7Ex", true, "/bucket/~x"},
		{"/b/%C3%A7", true, "/b/%C3%A7"},
		{"/b/a%zz", true, "/b/a%25zz"},
		{"/a%20b", false, "/a%2520b"},
		{"/a/b", false, "/a/b"},
	}
	for _, tt := range tests {
		if got := string(appendCanonicalURI(nil, tt.raw, tt.s3)); got != tt.want {
			t.Errorf("canonicalURI(%q, s3=%v) = %q, want %q", tt.raw, tt.s3, got, tt.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct {
		raw, want, asSent string
		reordered         bool
	}{
		{raw: "", want: ""},
		{raw: "acl", want: "acl="},
		{raw: "acl=", want: "acl="},
		{raw: "b=2&a=1&a=0", want: "a=0&a=1&b=2", asSent: "a=1&a=0&b=2", reordered: true},
		{raw: "b=2&a=0&a=1", want: "a=0&a=1&b=2"},
		{raw: "a=1&a=1&b=0", want: "a=1&a=1&b=0"},
		{raw: "e=s3%3AObjectRemoved%3A%2A&e=s3%3AObjectCreated%3A%2A&ping=10", want: "e=s3%3AObjectCreated%3A%2A&e=s3%3AObjectRemoved%3A%2A&ping=10",
			asSent: "e=s3%3AObjectRemoved%3A%2A&e=s3%3AObjectCreated%3A%2A&ping=10", reordered: true},
		{raw: "prefix=a+b", want: "prefix=a%20b"},
		{raw: "prefix=a%2Bb", want: "prefix=a%2Bb"},
		{raw: "x=%7e&y=%2f", want: "x=~&y=%2F"},
		{raw: "a&&b", want: "a=&b="},
		{raw: "X-Amz-Signature=abc&X-Amz-Date=1", want: "X-Amz-Date=1"},
	}
	for _, tt := range tests {
		got, reordered := appendCanonicalQuery(nil, tt.raw, true, false)
		if string(got) != tt.want || reordered != tt.reordered {
			t.Errorf("canonicalQuery(%q) = %q, %v; want %q, %v", tt.raw, got, reordered, tt.want, tt.reordered)
		}
		if tt.asSent == "" {
			tt.asSent = tt.want
		}
		if got, _ := appendCanonicalQuery(nil, tt.raw, true, true); string(got) != tt.asSent {
			t.Errorf("canonicalQuery(%q, as sent) = %q, want %q", tt.raw, got, tt.asSent)
		}
	}
}

func TestHeaderValueTrimming(t *testing.T) {
	r := newReq("GET", "/", "")
	r.Header["X-Amz-Meta-A"] = []string{"  a   b \t c  ", " d"}
	if got := string(appendHeaderValue(nil, r, "x-amz-meta-a")); got != "a b c,d" {
		t.Errorf("got %q", got)
	}
	r.ContentLength = 42
	if got := string(appendHeaderValue(nil, r, "content-length")); got != "42" {
		t.Errorf("content-length %q", got)
	}
	r.TransferEncoding = []string{"chunked"}
	if got := string(appendHeaderValue(nil, r, "transfer-encoding")); got != "chunked" {
		t.Errorf("transfer-encoding %q", got)
	}
	if !bytes.Equal(appendHeaderValue(nil, r, "host"), []byte(testHost)) {
		t.Error("host")
	}
}

// TestVerifyConcurrent runs verifications of different scopes in parallel
// (shared key cache and buffer pool; meaningful under -race).
func TestVerifyConcurrent(t *testing.T) {
	v := newTestVerifier(t0)
	var reqs []*http.Request
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-south-2", "x"} {
		r := newReq("GET", "/bucket/k%20"+region+"?acl", "")
		r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		sdkSign(t, r, emptySHA256, "s3", region, t0)
		reqs = append(reqs, r)
	}
	done := make(chan error)
	for i := range 8 {
		go func() {
			var err error
			for j := range 50 {
				if _, e := v.Verify(reqs[(i+j)%len(reqs)]); e != nil {
					err = e
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
