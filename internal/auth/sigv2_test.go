package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	miniosigner "github.com/minio/minio-go/v7/pkg/signer"
)

// virtualHost treats <bucket>.s3.amazonaws.com and any non-S3 host name
// (a CNAME such as static.johnsmith.net) as virtual-hosted, like S3.
func virtualHost(r *http.Request) string {
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	switch {
	case host == "s3.amazonaws.com":
		return ""
	case strings.HasSuffix(host, ".s3.amazonaws.com"):
		return strings.TrimSuffix(host, ".s3.amazonaws.com")
	}
	return host
}

func v2Verifier(now time.Time) *Verifier {
	return New(testCreds, Options{Now: func() time.Time { return now }, VirtualHostBucket: virtualHost})
}

func mustDate(s string) time.Time {
	t, ok := parseHTTPDate(s)
	if !ok {
		panic(s)
	}
	return t
}

// The examples of the S3 documentation "Signing and Authenticating REST
// Requests" (Signature Version 2).
func TestV2AWSExamples(t *testing.T) {
	tests := []struct {
		name, method, target, host string
		headers                    [][2]string
		sig                        string
	}{
		{"object GET", "GET", "/photos/puppy.jpg", "johnsmith.s3.amazonaws.com",
			[][2]string{{"Date", "Tue, 27 Mar 2007 19:36:42 +0000"}}, "bWq2s1WEIj+Ydj0vQ697zp+IXMU="},
		{"object PUT", "PUT", "/photos/puppy.jpg", "johnsmith.s3.amazonaws.com",
			[][2]string{{"Content-Type", "image/jpeg"}, {"Content-Length", "94328"}, {"Date", "Tue, 27 Mar 2007 21:15:45 +0000"}},
			"MyyxeRY7whkBe+bq8fHCL/2kKUg="},
		{"list", "GET", "/?prefix=photos&max-keys=50&marker=puppy", "johnsmith.s3.amazonaws.com",
			[][2]string{{"User-Agent", "Mozilla/5.0"}, {"Date", "Tue, 27 Mar 2007 19:42:41 +0000"}}, "htDYFYduRNen8P9ZfE/s9SuKy0U="},
		{"fetch acl", "GET", "/?acl", "johnsmith.s3.amazonaws.com",
			[][2]string{{"Date", "Tue, 27 Mar 2007 19:44:46 +0000"}}, "c2WLPFtWHVgbEmeEG93a4cG37dM="},
		{"delete with x-amz-date", "DELETE", "/johnsmith/photos/puppy.jpg", "s3.amazonaws.com",
			[][2]string{{"User-Agent", "dotnet"}, {"Date", "Tue, 27 Mar 2007 21:20:27 +0000"}, {"X-Amz-Date", "Tue, 27 Mar 2007 21:20:26 +0000"}},
			"lx3byBScXR6KzyMaifNkardMwNk="},
		// The same request signed as the text of the documentation (and
		// s3cmd) says: empty Date line, x-amz-date among the headers.
		{"delete with x-amz-date as specified", "DELETE", "/johnsmith/photos/puppy.jpg", "s3.amazonaws.com",
			[][2]string{{"Date", "Tue, 27 Mar 2007 21:20:27 +0000"}, {"X-Amz-Date", "Tue, 27 Mar 2007 21:20:26 +0000"}},
			"R4dJ53KECjStyBO5iTBJZ4XVOaI="},
		{"upload to CNAME bucket", "PUT", "/db-backup.dat.gz", "static.johnsmith.net:8080",
			[][2]string{{"User-Agent", "curl/7.15.5"}, {"Date", "Tue, 27 Mar 2007 21:06:08 +0000"},
				{"x-amz-acl", "public-read"}, {"content-type", "application/x-download"}, {"Content-MD5", "4gJE4saaMU4BqNR0kLY+lw=="},
				{"X-Amz-Meta-ReviewedBy", "joe@johnsmith.net"}, {"X-Amz-Meta-ReviewedBy", "jane@johnsmith.net"},
				{"X-Amz-Meta-FileChecksum", "0x02661779"}, {"X-Amz-Meta-ChecksumAlgorithm", "crc32"},
				{"Content-Disposition", "attachment; filename=database.dat"}, {"Content-Encoding", "gzip"}, {"Content-Length", "5913339"}},
			"ilyl83RwaSoYIEdixDQcA4OnAnc="},
		{"list all buckets", "GET", "/", "s3.amazonaws.com",
			[][2]string{{"Date", "Wed, 28 Mar 2007 01:29:59 +0000"}}, "qGdzdERIC03wnaRNKh6OqZehG9s="},
		{"unicode keys", "GET", "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re", "s3.amazonaws.com",
			[][2]string{{"Date", "Wed, 28 Mar 2007 01:49:49 +0000"}}, "DNEZGsoieTZ92F3bUfSPQcbGmlM="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReq(tt.method, tt.target, "")
			r.Host = tt.host
			var date string
			for _, h := range tt.headers {
				r.Header.Add(h[0], h[1])
				if h[0] == "Date" || h[0] == "X-Amz-Date" {
					date = h[1]
				}
			}
			r.Header.Set("Authorization", "AWS "+testAK+":"+tt.sig)
			v := v2Verifier(mustDate(date).Add(time.Minute))
			id, err := v.Verify(r)
			if err != nil {
				t.Fatalf("Verify: %v\nstring to sign: %q", err, v.stringToSignV2(r, v2Date{line: r.Header.Get("Date")}, v2Resource{}))
			}
			if id.AccessKey != testAK || id.UserID != testUser {
				t.Errorf("identity %+v", id)
			}
			// Any change to a signed element must fail.
			r.Method = "HEAD"
			_, err = v.Verify(r)
			wantCode(t, err, "SignatureDoesNotMatch", "")
		})
	}
}

func TestV2AWSQueryExample(t *testing.T) {
	target := "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620"
	r := newReq("GET", target, "")
	r.Host = "johnsmith.s3.amazonaws.com"
	if _, err := v2Verifier(time.Unix(1175139620-60, 0)).Verify(r); err != nil {
		t.Fatal(err)
	}
	_, err := v2Verifier(time.Unix(1175139620+1, 0)).Verify(r)
	wantCode(t, err, "AccessDenied", "Request has expired")
	// Expires is the first instant the URL is out.
	_, err = v2Verifier(time.Unix(1175139620, 0)).Verify(r)
	wantCode(t, err, "AccessDenied", "Request has expired")

	r = newReq("GET", strings.Replace(target, "puppy", "kitten", 1), "")
	r.Host = "johnsmith.s3.amazonaws.com"
	_, err = v2Verifier(time.Unix(1175139620-60, 0)).Verify(r)
	wantCode(t, err, "SignatureDoesNotMatch", "")

	// An unescaped '+' in the signature (decoded as a space) still works.
	r = newReq("GET", strings.Replace(target, "%2B", "+", 1), "")
	r.Host = "johnsmith.s3.amazonaws.com"
	if _, err := v2Verifier(time.Unix(1175139620-60, 0)).Verify(r); err != nil {
		t.Fatal(err)
	}
}

func TestV2Errors(t *testing.T) {
	date := "Tue, 27 Mar 2007 19:36:42 +0000"
	base := func() *http.Request {
		r := newReq("GET", "/photos/puppy.jpg", "")
		r.Host = "johnsmith.s3.amazonaws.com"
		r.Header.Set("Date", date)
		r.Header.Set("Authorization", "AWS "+testAK+":bWq2s1WEIj+Ydj0vQ697zp+IXMU=")
		return r
	}
	now := mustDate(date)
	tests := []struct {
		name   string
		tamper func(*http.Request)
		now    time.Time
		code   string
	}{
		{"valid", func(*http.Request) {}, now, ""},
		{"skewed", func(*http.Request) {}, now.Add(20 * time.Minute), "RequestTimeTooSkewed"},
		{"no date", func(r *http.Request) { r.Header.Del("Date") }, now, "AccessDenied"},
		{"unknown key", func(r *http.Request) { r.Header.Set("Authorization", "AWS AKIDX:bWq2s1WEIj+Ydj0vQ697zp+IXMU=") }, now, "InvalidAccessKeyId"},
		{"no colon", func(r *http.Request) { r.Header.Set("Authorization", "AWS "+testAK) }, now, "InvalidArgument"},
		{"bad base64", func(r *http.Request) { r.Header.Set("Authorization", "AWS "+testAK+":***") }, now, "SignatureDoesNotMatch"},
		{"sub-resource added", func(r *http.Request) { r.URL.RawQuery = "acl" }, now, "SignatureDoesNotMatch"},
		{"path-style would differ", func(r *http.Request) { r.Host = "s3.amazonaws.com" }, now, "SignatureDoesNotMatch"},
		{"x-amz header added", func(r *http.Request) { r.Header.Set("X-Amz-Acl", "public-read") }, now, "SignatureDoesNotMatch"},
		{"non-sub-resource query ignored", func(r *http.Request) { r.URL.RawQuery = "foo=bar" }, now, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base()
			tt.tamper(r)
			_, err := v2Verifier(tt.now).Verify(r)
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tt.code, "")
		})
	}
}

func TestV2CanonicalResource(t *testing.T) {
	v := New(testCreds, Options{})
	tests := []struct{ target, want string }{
		{"/b/k?uploadId=abc&partNumber=3", "/b/k?partNumber=3&uploadId=abc"},
		{"/b/k?versionId=x%2By&foo=1", "/b/k?versionId=x+y"},
		{"/b?versioning&max-keys=3", "/b?versioning"},
		{"/b/k?response-content-type=text%2Fplain&response-cache-control=no-cache", "/b/k?response-cache-control=no-cache&response-content-type=text/plain"},
		{"/b?delete", "/b?delete"},
		{"/b/a%20b+c", "/b/a%20b+c"},
	}
	for _, tt := range tests {
		r := newReq("GET", tt.target, "")
		if got := string(v.appendResourceV2(nil, r, v2Resource{})); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.target, got, tt.want)
		}
	}
}

// TestV2BotocoreAuthPath covers the resource forms botocore 1.28-1.29
// (Debian's boto3 1.26) signs for path-style requests: the operation's URI
// template as auth path, so "/bkt/" for a bare bucket and the literal query
// repeated before the sub-resources.
func TestV2BotocoreAuthPath(t *testing.T) {
	date := "Sun, 22 Nov 2026 04:22:14 GMT"
	now := mustDate(date)
	sign := func(resource string) string {
		m := hmac.New(sha1.New, []byte(testSecret))
		m.Write([]byte("GET\n\n\n" + date + "\n" + resource))
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	tests := []struct {
		target, signed string
		ok             bool
	}{
		{"/bkt/a%20b?acl", "/bkt/a%20b?acl?acl", true},
		{"/bkt?list-type=2&prefix=x", "/bkt?list-type=2", true},
		{"/bkt?select&select-type=2", "/bkt?select&select-type=2?select&select-type=2", true},
		{"/bkt", "/bkt/", true},
		{"/bkt?uploads", "/bkt?uploads?uploads", true},
		// A form must still cover every sub-resource of the request.
		{"/bkt/k?acl&versionId=3", "/bkt/k?acl?acl", false},
		{"/bkt/k?acl", "/bkt/k", false},
		{"/bkt/k", "/bkt/k/", false},
	}
	for _, tt := range tests {
		r := newReq("GET", tt.target, "")
		r.Header.Set("Date", date)
		r.Header.Set("Authorization", "AWS "+testAK+":"+sign(tt.signed))
		_, err := newTestVerifier(now).Verify(r)
		if tt.ok && err != nil {
			t.Errorf("%s signed as %s: %v", tt.target, tt.signed, err)
		}
		if !tt.ok {
			if err == nil {
				t.Errorf("%s signed as %s accepted", tt.target, tt.signed)
			} else {
				wantCode(t, err, "SignatureDoesNotMatch", "")
			}
		}
	}
}

// TestV2QueryHeadersInQuery: botocore moves Content-Type and x-amz-*
// headers into the query of a SigV2 presigned URL; they are signed as
// headers.
func TestV2QueryHeadersInQuery(t *testing.T) {
	const expires = "1175139620"
	sts := "PUT\n\napplication/x-test\n" + expires + "\nx-amz-acl:public-read\n/bkt/k"
	m := hmac.New(sha1.New, []byte(testSecret))
	m.Write([]byte(sts))
	sig := url.QueryEscape(base64.StdEncoding.EncodeToString(m.Sum(nil)))
	target := "/bkt/k?AWSAccessKeyId=" + testAK + "&Expires=" + expires + "&Signature=" + sig + "&content-type=application%2Fx-test&x-amz-acl=public-read"
	r := newReq("PUT", target, "")
	if _, err := newTestVerifier(time.Unix(1175139620-10, 0)).Verify(r); err != nil {
		t.Fatal(err)
	}
	r = newReq("PUT", strings.Replace(target, "public-read", "private", 1), "")
	_, err := newTestVerifier(time.Unix(1175139620-10, 0)).Verify(r)
	wantCode(t, err, "SignatureDoesNotMatch", "")
}

// TestV2MinioGoEmptyValues: minio-go's SigV2 signer writes a sub-resource
// sent as "name=" without its '=' (PutBucketPolicy's "?policy=",
// CreateMultipartUpload's "?uploads=", PutObjectRetention's "?retention=").
func TestV2MinioGoEmptyValues(t *testing.T) {
	v := New(testCreds, Options{})
	sign := func(method, target string, hdr http.Header) *http.Request {
		cr, err := http.NewRequest(method, "http://"+testHost+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, vals := range hdr {
			cr.Header[k] = vals
		}
		cr = miniosigner.SignV2(*cr, testAK, testSecret, false)
		r := newReq(method, target, "")
		r.Header = cr.Header
		return r
	}
	for _, tt := range []struct{ method, target string }{
		{"PUT", "/bkt/?policy="},
		{"POST", "/bkt/a%20key?uploads="},
		{"PUT", "/bkt/key?retention=&versionId=3"},
		{"GET", "/bkt/key?acl=&versionId="},
	} {
		if _, err := v.Verify(sign(tt.method, tt.target, http.Header{"Content-Type": {"application/octet-stream"}})); err != nil {
			t.Errorf("%s %s: %v", tt.method, tt.target, err)
		}
	}

	// The form still covers every sub-resource, and every x-amz-* header.
	r := sign("POST", "/bkt/key?uploads=", nil)
	r.URL.RawQuery, r.RequestURI = "uploads=&acl=", "/bkt/key?uploads=&acl="
	_, err := v.Verify(r)
	wantCode(t, err, "SignatureDoesNotMatch", "")
	r = sign("PUT", "/bkt/key", nil)
	r.Header.Set("X-Amz-Acl", "public-read")
	_, err = v.Verify(r)
	wantCode(t, err, "SignatureDoesNotMatch", "")
}
