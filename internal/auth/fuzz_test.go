package auth

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// Verify must answer every input with an identity or an *s3err.Error, never
// a panic or a foreign error.
func checkVerifyResult(t *testing.T, err error) {
	if err != nil && s3err.As(err) == nil {
		t.Fatalf("non-S3 error %T: %v", err, err)
	}
}

func FuzzParseV4Header(f *testing.F) {
	r := signedPut(f, "x")
	f.Add(r.Header.Get("Authorization"))
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" + awsExampleSeed)
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f/aws4_request, SignedHeaders=;;, Signature=")
	f.Add("AWS4-HMAC-SHA256 ,,,=,Credential==")
	f.Fuzz(func(t *testing.T, h string) {
		sig, err := parseV4Header(h)
		if err != nil {
			if s3err.As(err) == nil {
				t.Fatalf("non-S3 error %v", err)
			}
			return
		}
		if sig.accessKey == "" || sig.region == "" || sig.service == "" || len(sig.date) != 8 ||
			sig.scope != sig.date+"/"+sig.region+"/"+sig.service+"/aws4_request" || sig.signedHeaders == "" {
			t.Fatalf("accepted inconsistent header %q: %+v", h, sig)
		}
		// The whole verification path must cope too.
		req := newReq("GET", "/b/k", "")
		req.Header.Set("Authorization", h)
		req.Header.Set("X-Amz-Date", sig.date+"T000000Z")
		req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		_, err = newTestVerifier(t0).Verify(req)
		checkVerifyResult(t, err)
	})
}

func FuzzV2Header(f *testing.F) {
	f.Add("AWS "+testAK+":bWq2s1WEIj+Ydj0vQ697zp+IXMU=", "/photos/puppy.jpg", "", "Tue, 27 Mar 2007 19:36:42 +0000")
	f.Add("AWS "+testAK+":c2WLPFtWHVgbEmeEG93a4cG37dM=", "/", "acl", "Tue, 27 Mar 2007 19:44:46 +0000")
	f.Add("AWS :", "/b", "uploads&partNumber=1&uploadId=%zz", "x")
	f.Fuzz(func(t *testing.T, authz, path, query, date string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#\r\n") {
			return // not a request line net/http would accept
		}
		u := &url.URL{Path: path, RawQuery: query}
		r, err := http.NewRequest("GET", "http://johnsmith.s3.amazonaws.com", nil)
		if err != nil {
			return
		}
		r.URL, r.RequestURI = u, path+"?"+query
		r.Header.Set("Authorization", authz)
		r.Header.Set("Date", date)
		_, err = v2Verifier(mustDate("Tue, 27 Mar 2007 19:40:00 +0000")).Verify(r)
		checkVerifyResult(t, err)
	})
}

func FuzzPresignQuery(f *testing.F) {
	f.Add(sdkPresign(f, "GET", "/bucket/key", 3600e9, nil).URL.RawQuery)
	f.Add("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20250314%2Fr%2Fs3%2Faws4_request&X-Amz-Date=20250314T000000Z&X-Amz-Expires=-1&X-Amz-SignedHeaders=host&X-Amz-Signature=00")
	f.Add("AWSAccessKeyId=" + testAK + "&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err == nil {
			if p, err := parsePresignV4(q); err == nil {
				if p.expires < 0 || p.expires > maxPresignExpiry || p.amzDate[:8] != p.date {
					t.Fatalf("accepted invalid presign %q", raw)
				}
			} else if s3err.As(err) == nil {
				t.Fatalf("non-S3 error %v", err)
			}
		}
		r := httptest.NewRequest("GET", "/bucket/key", nil)
		r.URL.RawQuery = raw
		_, err = newTestVerifier(t0).Verify(r)
		checkVerifyResult(t, err)
	})
}

// FuzzChunkedDecoder feeds arbitrary bodies to the aws-chunked decoder in
// each mode. A body it accepts must decode to exactly the declared length;
// everything else must end in an S3 error.
func FuzzChunkedDecoder(f *testing.F) {
	data := []byte("hello aws-chunked world")
	crc := checksumOf("CRC32", data)
	f.Add([]byte(unsignedChunkedBody(data, 5, []trailerKV{{"x-amz-checksum-crc32", crc}})), uint8(chunkUnsignedTrailer), len(data))
	f.Add([]byte(unsignedChunkedBody(nil, 5, nil)), uint8(chunkUnsignedTrailer), 0)
	s := newRefSigner(testSecret, awsExampleTime, "us-east-1", "s3", awsExampleSeed)
	f.Add([]byte(signedChunkedBody(s, data, 7, nil)), uint8(chunkSigned), len(data))
	s = newRefSigner(testSecret, awsExampleTime, "us-east-1", "s3", awsExampleSeed)
	f.Add([]byte(signedChunkedBody(s, data, 7, []trailerKV{{"x-amz-checksum-crc32", crc}})), uint8(chunkSignedTrailer), len(data))
	f.Add([]byte("0;chunk-signature=zz\r\n\r\n"), uint8(chunkSigned), 0)
	f.Fuzz(func(t *testing.T, body []byte, mode uint8, decoded int) {
		if decoded < 0 || decoded > 1<<20 {
			return
		}
		m := chunkMode(mode % 3)
		trailer := ""
		if m != chunkSigned {
			trailer = "x-amz-checksum-crc32"
		}
		r := exampleDecoder(t, m, "", decoded, trailer)
		r.Body.(*chunkedReader).src.Reset(bytes.NewReader(body))
		var out bytes.Buffer
		_, err := io.Copy(&out, r.Body)
		if out.Len() > decoded {
			t.Fatalf("decoded %d bytes, more than the declared %d", out.Len(), decoded)
		}
		if err == nil {
			if out.Len() != decoded {
				t.Fatalf("accepted %d bytes for a declared %d", out.Len(), decoded)
			}
			if m != chunkSigned && r.Trailer.Get("X-Amz-Checksum-Crc32") != checksumOf("CRC32", out.Bytes()) {
				t.Fatalf("accepted a wrong checksum trailer %v", r.Trailer)
			}
			return
		}
		if s3err.As(err) == nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("non-S3 error %T %v (decoded=%s)", err, err, strconv.Itoa(decoded))
		}
	})
}

// FuzzCanonicalQuery: the as-sent form of a query differs from the sorted
// one only in the order of a repeated name's values, and only when
// reordered says so.
func FuzzCanonicalQuery(f *testing.F) {
	f.Add("events=s3%3AObjectRemoved%3A%2A&events=s3%3AObjectCreated%3A%2A&ping=10")
	f.Add("b=2&a=1&a=0&a&&=x&%zz=1&X-Amz-Signature=0")
	f.Add("a+b=c+d&a%20b=c%20e&a b=c")
	f.Fuzz(func(t *testing.T, raw string) {
		sorted, reordered := appendCanonicalQuery(nil, raw, true, false)
		asSent, reordered2 := appendCanonicalQuery(nil, raw, true, true)
		if reordered != reordered2 {
			t.Fatalf("reordered %v / %v", reordered, reordered2)
		}
		if !reordered && !bytes.Equal(sorted, asSent) {
			t.Fatalf("forms differ without reordering: %q vs %q", sorted, asSent)
		}
		if reordered && bytes.Equal(sorted, asSent) {
			t.Fatalf("reordered but identical: %q", sorted)
		}
		split := func(b []byte) []string {
			if len(b) == 0 {
				return nil
			}
			return strings.Split(string(b), "&")
		}
		a, s := split(sorted), split(asSent)
		if !slices.IsSortedFunc(a, compareEncodedPairs) {
			t.Fatalf("sorted form not sorted: %q", sorted)
		}
		slices.Sort(s)
		b := slices.Clone(a)
		slices.Sort(b)
		if !slices.Equal(b, s) {
			t.Fatalf("forms hold different pairs: %q vs %q", sorted, asSent)
		}
	})
}

// compareEncodedPairs orders "name=value" pieces by name, then value.
func compareEncodedPairs(x, y string) int {
	xk, xv, _ := strings.Cut(x, "=")
	yk, yv, _ := strings.Cut(y, "=")
	if c := strings.Compare(xk, yk); c != 0 {
		return c
	}
	return strings.Compare(xv, yv)
}
