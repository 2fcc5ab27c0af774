package auth

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// BenchmarkVerifyV4Header measures verifying a typical SDK-signed S3
// request head (the signing key comes from the cache after the first run).
func BenchmarkVerifyV4Header(b *testing.B) {
	r := newReq("GET", "/bucket/photos/2025/img%20001.jpg?versionId=abc", "")
	r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	r.Header.Set("Range", "bytes=0-1023")
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.47.7")
	r.Header.Set("Amz-Sdk-Invocation-Id", "6da9113d-0bb4-4a4a-beaf-66d8cc89b9ab")
	r.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	sdkSign(b, r, emptySHA256, "s3", "us-east-1", t0)
	v := newTestVerifier(t0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPresignV4(b *testing.B) {
	r := sdkPresign(b, "GET", "/bucket/key.txt", time.Hour, nil)
	v := newTestVerifier(t0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyV2Header(b *testing.B) {
	r := newReq("GET", "/photos/puppy.jpg", "")
	r.Host = "johnsmith.s3.amazonaws.com"
	r.Header.Set("Date", "Tue, 27 Mar 2007 19:36:42 +0000")
	r.Header.Set("Authorization", "AWS "+testAK+":bWq2s1WEIj+Ydj0vQ697zp+IXMU=")
	v := v2Verifier(mustDate("Tue, 27 Mar 2007 19:36:42 +0000"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

// benchChunked decodes an 8 MiB body framed in 64 KiB chunks (the SDKs'
// default) in the given mode, through Verify.
func benchChunked(b *testing.B, mode string) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 8<<20/16)
	const chunk = 64 << 10
	var body string
	build := func(r *http.Request) {
		switch mode {
		case streamingUnsignedTrailer:
			body = unsignedChunkedBody(data, chunk, []trailerKV{{"x-amz-checksum-crc32", checksumOf("CRC32", data)}})
		default:
			seed := r.Header.Get("Authorization")
			seed = seed[len(seed)-64:]
			body = signedChunkedBody(newRefSigner(testSecret, t0, "us-east-1", "s3", seed), data, chunk, nil)
		}
	}
	head := func() *http.Request {
		r := newReq("PUT", "/bucket/big", "")
		r.Header.Set("X-Amz-Content-Sha256", mode)
		r.Header.Set("Content-Encoding", "aws-chunked")
		r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
		if mode == streamingUnsignedTrailer {
			r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
		}
		sdkSign(b, r, mode, "s3", "us-east-1", t0)
		return r
	}
	build(head())
	v := newTestVerifier(t0)
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		r := head()
		r.Body = io.NopCloser(bytes.NewReader([]byte(body)))
		b.StartTimer()
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r.Body}, buf)
		if err != nil || n != int64(len(data)) {
			b.Fatal(n, err)
		}
	}
}

func BenchmarkChunkedSigned(b *testing.B)          { benchChunked(b, streamingSigned) }
func BenchmarkChunkedUnsignedTrailer(b *testing.B) { benchChunked(b, streamingUnsignedTrailer) }

// BenchmarkPayloadSHA256 is the non-chunked signed-payload path for scale.
func BenchmarkPayloadSHA256(b *testing.B) {
	data := bytes.Repeat([]byte("x"), 8<<20)
	sum := sha256Hex(string(data))
	v := newTestVerifier(t0)
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		r := newReq("PUT", "/bucket/big", "")
		r.Header.Set("X-Amz-Content-Sha256", sum)
		sdkSign(b, r, sum, "s3", "us-east-1", t0)
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(data)), int64(len(data))
		b.StartTimer()
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r.Body}, buf); err != nil {
			b.Fatal(err)
		}
	}
}
