package auth

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/checksum"
)

// The AWS documentation example of STREAMING-AWS4-HMAC-SHA256-PAYLOAD
// ("Signature Calculations for the Authorization Header: Transferring
// Payload in Multiple Chunks"): 66560 bytes of 'a' PUT to
// examplebucket/chunkObject.txt as chunks of 65536, 1024 and 0 bytes.
const (
	awsExampleSeed   = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
	awsExampleChunk1 = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
	awsExampleChunk2 = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
	awsExampleFinal  = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
	// The signature of trailers "first:1st", "second:2nd", "third:3rd"
	// chained from awsExampleFinal, from the AWS Common Runtime's chunk
	// signer tests (aws-crt-swift ChunkSignerTests).
	awsCRTTrailerSig = "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c"
)

var awsExampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func awsExampleChunks(final string) string {
	a := strings.Repeat("a", 65536)
	return "10000;chunk-signature=" + awsExampleChunk1 + "\r\n" + a + "\r\n" +
		"400;chunk-signature=" + awsExampleChunk2 + "\r\n" + a[:1024] + "\r\n" +
		"0;chunk-signature=" + awsExampleFinal + "\r\n" + final
}

// awsExampleRequest is the documented request, with body as its body.
func awsExampleRequest(body string) *http.Request {
	r := newReq("PUT", "/examplebucket/chunkObject.txt", body)
	r.Host = "s3.amazonaws.com"
	r.ContentLength = 66824 // as documented, whatever the (tampered) body
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"+
		"SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"+
		"Signature="+awsExampleSeed)
	r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	return r
}

func TestAWSStreamingExample(t *testing.T) {
	body := awsExampleChunks("\r\n")
	if len(body) != 66824 {
		t.Fatalf("example body is %d bytes, the documentation says 66824", len(body))
	}
	r := awsExampleRequest(body)
	id, err := newTestVerifier(awsExampleTime).Verify(r)
	if err != nil {
		t.Fatalf("seed signature: %v", err)
	}
	if id.AccessKey != testAK {
		t.Errorf("identity %+v", id)
	}
	if r.ContentLength != 66560 || r.Header.Get("Content-Encoding") != "" {
		t.Errorf("ContentLength %d, Content-Encoding %q", r.ContentLength, r.Header.Get("Content-Encoding"))
	}
	got, err := readBody(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != strings.Repeat("a", 66560) {
		t.Fatalf("decoded %d bytes", len(got))
	}
}

func TestAWSStreamingExampleReadSizes(t *testing.T) {
	for _, size := range []int{1, 7, 4096, 65536, 70000} {
		r := awsExampleRequest(awsExampleChunks("\r\n"))
		if _, err := newTestVerifier(awsExampleTime).Verify(r); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		buf := make([]byte, size)
		for {
			n, err := r.Body.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("read size %d: %v", size, err)
				}
				break
			}
		}
		if out.Len() != 66560 {
			t.Errorf("read size %d: %d bytes", size, out.Len())
		}
	}
}

func TestAWSStreamingExampleTampered(t *testing.T) {
	good := awsExampleChunks("\r\n")
	flip := func(s string, i int) string { b := []byte(s); b[i] ^= 1; return string(b) }
	tests := []struct {
		name, body, code string
	}{
		{"flipped byte in first chunk", flip(good, 100), "SignatureDoesNotMatch"},
		{"flipped byte in second chunk", flip(good, 88+65538+86+10), "SignatureDoesNotMatch"},
		{"wrong chunk signature", strings.Replace(good, awsExampleChunk2, awsExampleChunk1, 1), "SignatureDoesNotMatch"},
		{"wrong final signature", strings.Replace(good, awsExampleFinal, awsExampleChunk2, 1), "SignatureDoesNotMatch"},
		{"chunks swapped signatures", strings.Replace(strings.Replace(good, awsExampleChunk1, "X", 1), awsExampleChunk2, awsExampleChunk1, 1), "SignatureDoesNotMatch"},
		{"truncated in data", good[:66000], "IncompleteBody"},
		{"truncated before final chunk", good[:88+65538+86+1026], "IncompleteBody"},
		{"truncated in header", good[:10], "IncompleteBody"},
		{"missing chunk signature", strings.Replace(good, ";chunk-signature="+awsExampleChunk1, "", 1), "InvalidRequest"},
		{"bad chunk size", strings.Replace(good, "10000;", "1000g;", 1), "InvalidRequest"},
		{"no CRLF after data", strings.Replace(good, "a\r\n400;", "ax\n400;", 1), "InvalidRequest"},
		{"bare LF line", strings.Replace(good, "\r\n"+strings.Repeat("a", 10), "\n"+strings.Repeat("a", 10), 1), "InvalidRequest"},
		{"data after last chunk", good + "junk\r\n", ""}, // trailing bytes after the terminator are never read
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := awsExampleRequest(tt.body)
			if _, err := newTestVerifier(awsExampleTime).Verify(r); err != nil {
				t.Fatal(err)
			}
			_, err := readBody(r)
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

// exampleSig is the parsed seed signature of the AWS example, to drive the
// decoder directly in the modes the example does not use.
func exampleDecoder(t testing.TB, mode chunkMode, body string, decoded int, trailerHdr string) *http.Request {
	t.Helper()
	r := newReq("PUT", "/b/k", body)
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(decoded))
	if trailerHdr != "" {
		r.Header.Set("X-Amz-Trailer", trailerHdr)
	}
	sig := v4Sig{scope: "20130524/us-east-1/s3/aws4_request"}
	decodeHex32(&sig.signature, awsExampleSeed)
	s := getMAC()
	key := deriveKey(s, testSecret, "20130524", "us-east-1", "s3")
	putMAC(s)
	if err := wrapChunked(r, mode, &sig, &key, "20130524T000000Z"); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestTrailerSignatureVector checks the trailer signature against the AWS
// CRT's published value, chained from the documented chunks.
func TestTrailerSignatureVector(t *testing.T) {
	trailers := "first:1st\r\nsecond:2nd\r\nthird:3rd\r\n"
	body := awsExampleChunks(trailers + "x-amz-trailer-signature:" + awsCRTTrailerSig + "\r\n\r\n")
	r := exampleDecoder(t, chunkSignedTrailer, body, 66560, "first,second,third")
	got, err := readBody(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 66560 {
		t.Errorf("decoded %d", len(got))
	}
	if r.Trailer.Get("Second") != "2nd" || r.Trailer.Get("Third") != "3rd" {
		t.Errorf("trailers %v", r.Trailer)
	}

	for name, tampered := range map[string]string{
		"value":     strings.Replace(body, "2nd", "2ND", 1),
		"signature": strings.Replace(body, awsCRTTrailerSig, awsExampleFinal, 1),
		"order":     strings.Replace(body, "first:1st\r\nsecond:2nd", "second:2nd\r\nfirst:1st", 1),
	} {
		r := exampleDecoder(t, chunkSignedTrailer, tampered, 66560, "first,second,third")
		_, err := readBody(r)
		// "order": the signature covers the trailers in the order sent.
		t.Run(name, func(t *testing.T) { wantCode(t, err, "SignatureDoesNotMatch", "") })
	}
	r = exampleDecoder(t, chunkSignedTrailer, awsExampleChunks(trailers+"\r\n"), 66560, "first,second,third")
	_, err = readBody(r)
	// The body ends where the trailer signature should be.
	wantCode(t, err, "IncompleteBody", "")
}

func checksumOf(algo string, data []byte) string {
	h, _ := checksum.New(algo)
	h.Write(data)
	return checksum.Encode(h.Sum(nil))
}

// signedTrailerRequest builds a STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
// PUT whose head is signed by aws-sdk-go-v2 and whose chunks are signed
// with the reference signer chained from the SDK's seed signature.
func signedTrailerRequest(t *testing.T, data []byte, trailerValue string, edit func(body string) string) *http.Request {
	t.Helper()
	r := newReq("PUT", "/bucket/streamed", "")
	r.Header.Set("X-Amz-Content-Sha256", streamingSignedTrailer)
	r.Header.Set("Content-Encoding", "aws-chunked,gzip")
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
	r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	sdkSign(t, r, streamingSignedTrailer, "s3", "us-east-1", t0)
	seed := r.Header.Get("Authorization")[strings.LastIndex(r.Header.Get("Authorization"), "=")+1:]
	s := newRefSigner(testSecret, t0, "us-east-1", "s3", seed)
	body := signedChunkedBody(s, data, 8192, []trailerKV{{"x-amz-checksum-crc32", trailerValue}})
	if edit != nil {
		body = edit(body)
	}
	r.Body = http.NoBody
	if body != "" {
		r.Body = newReq("PUT", "/", body).Body
	}
	r.ContentLength = int64(len(body))
	return r
}

func TestSignedTrailer(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 3000)
	good := checksumOf("CRC32", data)
	r := signedTrailerRequest(t, data, good, nil)
	if _, err := newTestVerifier(t0).Verify(r); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Trailer["X-Amz-Checksum-Crc32"]; !ok {
		t.Error("trailer key not announced before the body is read")
	}
	if r.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("Content-Encoding %q, want gzip", r.Header.Get("Content-Encoding"))
	}
	got, err := readBody(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("body: %d bytes, %v", len(got), err)
	}
	if r.Trailer.Get("X-Amz-Checksum-Crc32") != good {
		t.Errorf("trailer %v", r.Trailer)
	}

	tests := []struct {
		name, value string
		edit        func(string) string
		code, msg   string
	}{
		{name: "wrong checksum, validly signed", value: checksumOf("CRC32", []byte("other")),
			code: "BadDigest", msg: "The CRC32 you specified did not match the calculated checksum."},
		{name: "invalid checksum value", value: "!!", code: "InvalidRequest",
			msg: "Value for x-amz-checksum-crc32 trailing header is invalid."},
		{name: "checksum changed after signing", value: good, code: "SignatureDoesNotMatch",
			edit: func(b string) string { return strings.Replace(b, good, checksumOf("CRC32", []byte("x")), 1) }},
		{name: "flipped data byte", value: good, code: "SignatureDoesNotMatch",
			edit: func(b string) string { return strings.Replace(b, "0123", "0124", 1) }},
		{name: "trailer signature missing", value: good, code: "IncompleteBody",
			edit: func(b string) string { return b[:strings.Index(b, "x-amz-trailer-signature")] + "\r\n" }},
		{name: "trailer signature not last", value: good, code: "InvalidRequest",
			edit: func(b string) string { return strings.TrimSuffix(b, "\r\n") + "x-amz-meta-a:b\r\n\r\n" }},
		{name: "undeclared trailer", value: good, code: "InvalidRequest",
			edit: func(b string) string {
				return strings.Replace(b, "x-amz-checksum-crc32:", "x-amz-checksum-crc32c:", 1)
			}},
		{name: "truncated", value: good, code: "IncompleteBody",
			edit: func(b string) string { return b[:len(b)/2] }},
		{name: "empty body", value: good, code: "IncompleteBody",
			edit: func(string) string { return "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := signedTrailerRequest(t, data, tt.value, tt.edit)
			if _, err := newTestVerifier(t0).Verify(r); err != nil {
				t.Fatal(err)
			}
			_, err := readBody(r)
			wantCode(t, err, tt.code, tt.msg)
		})
	}
}

// unsignedTrailerRequest builds a STREAMING-UNSIGNED-PAYLOAD-TRAILER PUT as
// aws-sdk-go-v2 and the AWS CLI send by default.
func unsignedTrailerRequest(t *testing.T, body string, decoded int, trailer string) *http.Request {
	t.Helper()
	r := newReq("PUT", "/bucket/obj", body)
	r.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(decoded))
	if trailer != "" {
		r.Header.Set("X-Amz-Trailer", trailer)
	}
	sdkSign(t, r, streamingUnsignedTrailer, "s3", "us-east-1", t0)
	return r
}

func TestUnsignedTrailerAlgorithms(t *testing.T) {
	data := bytes.Repeat([]byte("cairn "), 20000)
	for _, algo := range checksum.Algorithms {
		t.Run(algo, func(t *testing.T) {
			name := checksum.HeaderName(algo)
			want := checksumOf(algo, data)
			r := unsignedTrailerRequest(t, unsignedChunkedBody(data, 65536, []trailerKV{{name, want}}), len(data), name)
			if _, err := newTestVerifier(t0).Verify(r); err != nil {
				t.Fatal(err)
			}
			got, err := readBody(r)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("body %d bytes, %v", len(got), err)
			}
			if r.Trailer.Get(name) != want {
				t.Errorf("trailer %v", r.Trailer)
			}

			bad := checksumOf(algo, data[1:])
			r = unsignedTrailerRequest(t, unsignedChunkedBody(data, 65536, []trailerKV{{name, bad}}), len(data), name)
			if _, err := newTestVerifier(t0).Verify(r); err != nil {
				t.Fatal(err)
			}
			_, err = readBody(r)
			wantCode(t, err, "BadDigest", fmt.Sprintf("The %s you specified did not match the calculated checksum.", algo))
		})
	}
}

func TestUnsignedTrailerFraming(t *testing.T) {
	data := []byte("hello world")
	crc := checksumOf("CRC32", data)
	good := unsignedChunkedBody(data, 4, []trailerKV{{"x-amz-checksum-crc32", crc}})
	tests := []struct {
		name, body string
		decoded    int
		code       string
	}{
		{"valid", good, len(data), ""},
		{"no final CRLF", strings.TrimSuffix(good, "\r\n"), len(data), ""},
		{"LF-terminated trailer (minio-go)", strings.Replace(good, crc+"\r\n", crc+"\n", 1), len(data), ""},
		{"flipped data byte", strings.Replace(good, "hell", "jell", 1), len(data), "BadDigest"},
		{"declared longer", good, len(data) + 1, "IncompleteBody"},
		{"declared shorter", good, len(data) - 1, "IncompleteBody"},
		{"missing trailer", unsignedChunkedBody(data, 4, nil), len(data), "InvalidRequest"},
		{"trailer without colon", strings.Replace(good, "x-amz-checksum-crc32:", "x-amz-checksum-crc32 ", 1), len(data), "InvalidRequest"},
		{"bad size", strings.Replace(good, "4\r\nhell", "z\r\nhell", 1), len(data), "InvalidRequest"},
		{"huge size", strings.Replace(good, "4\r\nhell", "ffffffffffffffff\r\nhell", 1), len(data), "InvalidRequest"},
		{"overlong line", strings.Repeat("1", 5000) + "\r\n", len(data), "InvalidRequest"},
		{"chunk extension ignored", strings.Replace(good, "4\r\nhell", "4;ext=1\r\nhell", 1), len(data), ""},
		{"truncated trailer", good[:len(good)-8], len(data), "IncompleteBody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := unsignedTrailerRequest(t, tt.body, tt.decoded, "x-amz-checksum-crc32")
			if _, err := newTestVerifier(t0).Verify(r); err != nil {
				t.Fatal(err)
			}
			got, err := readBody(r)
			if tt.code == "" {
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("got %q, %v", got, err)
				}
				return
			}
			wantCode(t, err, tt.code, "")
		})
	}
}

func TestChunkedHeaderErrors(t *testing.T) {
	r := unsignedTrailerRequest(t, "0\r\n\r\n", 0, "")
	r.Header.Del("X-Amz-Decoded-Content-Length")
	sdkSign(t, r, streamingUnsignedTrailer, "s3", "us-east-1", t0)
	_, err := newTestVerifier(t0).Verify(r)
	wantCode(t, err, "MissingContentLength", "")

	r = unsignedTrailerRequest(t, "0\r\n\r\n", 0, "x-amz-checksum-md5")
	_, err = newTestVerifier(t0).Verify(r)
	wantCode(t, err, "InvalidRequest", "")

	// An empty object with no trailer at all is fine.
	r = unsignedTrailerRequest(t, "0\r\n\r\n", 0, "")
	if _, err := newTestVerifier(t0).Verify(r); err != nil {
		t.Fatal(err)
	}
	if got, err := readBody(r); err != nil || len(got) != 0 {
		t.Fatalf("got %q %v", got, err)
	}
}

func TestStripAWSChunked(t *testing.T) {
	for in, want := range map[string]string{
		"aws-chunked":         "",
		"aws-chunked,gzip":    "gzip",
		"gzip, aws-chunked":   "gzip",
		"br,aws-chunked,zstd": "br,zstd",
		"gzip":                "gzip",
	} {
		h := http.Header{"Content-Encoding": {in}}
		stripAWSChunked(h)
		if got := h.Get("Content-Encoding"); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}
