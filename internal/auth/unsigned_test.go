package auth

import (
	"net/http"
	"testing"
	"time"

	miniosigner "github.com/minio/minio-go/v7/pkg/signer"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// wantHeadersNotSigned fails unless err is S3's AccessDenied for unsigned
// headers, naming exactly names.
func wantHeadersNotSigned(t *testing.T, err error, names string) {
	t.Helper()
	wantCode(t, err, "AccessDenied", "There were headers present in the request which were not signed")
	if errHeadersNotSigned.HeadersNotSigned != "" {
		t.Fatal("the shared error was modified")
	}
	if got := s3err.As(err).HeadersNotSigned; got != names {
		t.Fatalf("HeadersNotSigned = %q, want %q", got, names)
	}
}

func TestHeaderAuthRequiresAmzHeadersSigned(t *testing.T) {
	v := newTestVerifier(t0)
	signed := func(hdr http.Header) *http.Request {
		r := newReq("PUT", "/bucket/key", "")
		for k, vals := range hdr {
			r.Header[k] = vals
		}
		r.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
		sdkSign(t, r, unsignedPayload, "s3", "us-east-1", t0)
		return r
	}

	r := signed(nil)
	r.Header.Set("X-Amz-Acl", "public-read")
	_, err := v.Verify(r)
	wantHeadersNotSigned(t, err, "x-amz-acl")

	r = signed(nil)
	r.Header.Set("X-Amz-Copy-Source", "/bucket/secret")
	r.Header["x-amz-meta-lower"] = []string{"set by hand, not canonicalised"}
	_, err = v.Verify(r)
	wantHeadersNotSigned(t, err, "x-amz-copy-source, x-amz-meta-lower")

	// Signed, the same headers pass; x-amzn-* headers are not x-amz-*
	// (SDKs leave X-Amzn-Trace-Id unsigned on purpose), nor are others.
	r = signed(http.Header{"X-Amz-Acl": {"public-read"}, "X-Amz-Copy-Source": {"/bucket/secret"}})
	r.Header.Set("X-Amzn-Trace-Id", "Root=1-abc")
	r.Header.Set("Accept-Encoding", "gzip")
	if _, err := v.Verify(r); err != nil {
		t.Fatal(err)
	}

	// Even the payload hash must be signed in header authentication.
	r = newReq("GET", "/bucket/key", "")
	sdkSign(t, r, emptySHA256, "s3", "us-east-1", t0)
	r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	_, err = v.Verify(r)
	wantHeadersNotSigned(t, err, "x-amz-content-sha256")
}

func TestPresignRequiresAmzHeadersSigned(t *testing.T) {
	v := newTestVerifier(t0)
	r := sdkPresign(t, "PUT", "/bucket/upload", time.Hour, nil)
	r.Header.Set("X-Amz-Copy-Source", "/bucket/private-key")
	r.Header.Set("X-Amz-Acl", "public-read")
	_, err := v.Verify(r)
	wantHeadersNotSigned(t, err, "x-amz-acl, x-amz-copy-source")

	// A header signed into the URL must be sent, and then passes.
	r = sdkPresign(t, "PUT", "/bucket/upload", time.Hour, http.Header{"X-Amz-Acl": {"public-read"}})
	if !listHas(r.URL.Query().Get("X-Amz-SignedHeaders"), "x-amz-acl") {
		t.Fatalf("the SDK did not sign x-amz-acl: %s", r.URL.RawQuery)
	}
	if _, err := v.Verify(r); err != nil {
		t.Fatal(err)
	}

	// x-amz-content-sha256 may travel unsigned; the payload mode stays the
	// query's, and the handlers do not see a streaming mode it did not
	// verify.
	r = sdkPresign(t, "PUT", "/bucket/upload", time.Hour, nil)
	r.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
	if _, err := v.Verify(r); err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Get("X-Amz-Content-Sha256"); got != "" {
		t.Errorf("unsigned x-amz-content-sha256 %q left for the handlers", got)
	}
}

// TestRepeatedQueryValuesAsSent: minio-go canonicalises repeated query
// values in the order it sends them (mc watch sends
// events=s3:ObjectCreated:*&events=s3:ObjectRemoved:*&events=s3:ObjectAccessed:*).
func TestRepeatedQueryValuesAsSent(t *testing.T) {
	v := New(testCreds, Options{})
	const target = "/bucket?events=s3%3AObjectCreated%3A%2A&events=s3%3AObjectRemoved%3A%2A&events=s3%3AObjectAccessed%3A%2A&ping=10&prefix=&suffix="
	sign := func(target string) *http.Request {
		cr, err := http.NewRequest("GET", "http://"+testHost+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		cr.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		cr = miniosigner.SignV4(*cr, testAK, testSecret, "", "us-east-1")
		r := newReq("GET", target, "")
		for k, vals := range cr.Header {
			r.Header[k] = vals
		}
		return r
	}
	r := sign(target)
	if _, err := v.Verify(r); err != nil {
		t.Fatalf("minio-go's as-sent order: %v", err)
	}

	// The order is bound all the same: values reordered after signing are
	// neither the signed as-sent form nor (being unsorted when signed) the
	// sorted one.
	tampered := newReq("GET", "/bucket?events=s3%3AObjectRemoved%3A%2A&events=s3%3AObjectCreated%3A%2A&events=s3%3AObjectAccessed%3A%2A&ping=10&prefix=&suffix=", "")
	tampered.Header = r.Header
	_, err := v.Verify(tampered)
	wantCode(t, err, "SignatureDoesNotMatch", "")

	// Presigned by minio-go, the same.
	cr, _ := http.NewRequest("GET", "http://"+testHost+target, nil)
	ps := miniosigner.PreSignV4(*cr, testAK, testSecret, "", "us-east-1", 600)
	if _, err := v.Verify(newReq("GET", ps.URL.RequestURI(), "")); err != nil {
		t.Fatalf("minio-go presigned, as-sent order: %v", err)
	}
}
