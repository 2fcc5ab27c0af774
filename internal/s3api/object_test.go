package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// errHeader returns a response header of a failed SDK call.
func errHeader(err error, name string) string {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get(name)
	}
	return ""
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

func md5B64(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// getBody fetches an object and returns its body, failing on error.
func getBody(t testing.TB, c *s3.Client, in *s3.GetObjectInput) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := c.GetObject(context.Background(), in)
	if err != nil {
		t.Fatalf("GetObject %s: %v", aws.ToString(in.Key), err)
	}
	return out, readAll(t, out.Body)
}

func TestPutGetHeadObject(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "objects")
	body := []byte("hello, cairn")

	put, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("objects"), Key: aws.String("dir/a b+c.txt"), Body: bytes.NewReader(body),
		ContentType: aws.String("text/plain"), CacheControl: aws.String("max-age=60"),
		ContentDisposition: aws.String(`attachment; filename="x.txt"`), ContentLanguage: aws.String("en"),
		ContentEncoding: aws.String("identity"), Expires: aws.Time(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)),
		Metadata: map[string]string{"color": "blue", "Mixed-Case": "v"}, StorageClass: types.StorageClassStandardIa,
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if got, want := aws.ToString(put.ETag), `"`+md5Hex(body)+`"`; got != want {
		t.Errorf("put ETag = %s, want %s", got, want)
	}
	if put.ChecksumCRC32 == nil {
		t.Errorf("put: no CRC32 echoed for the SDK's default checksum")
	}

	get, got := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("dir/a b+c.txt")})
	if !bytes.Equal(got, body) {
		t.Fatalf("body = %q, want %q", got, body)
	}
	head, err := ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("objects"), Key: aws.String("dir/a b+c.txt")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	for _, c := range []struct {
		name      string
		get, head any
		want      any
	}{
		{"ETag", aws.ToString(get.ETag), aws.ToString(head.ETag), aws.ToString(put.ETag)},
		{"Content-Type", aws.ToString(get.ContentType), aws.ToString(head.ContentType), "text/plain"},
		{"Cache-Control", aws.ToString(get.CacheControl), aws.ToString(head.CacheControl), "max-age=60"},
		{"Content-Disposition", aws.ToString(get.ContentDisposition), aws.ToString(head.ContentDisposition), `attachment; filename="x.txt"`},
		{"Content-Language", aws.ToString(get.ContentLanguage), aws.ToString(head.ContentLanguage), "en"},
		{"Content-Encoding", aws.ToString(get.ContentEncoding), aws.ToString(head.ContentEncoding), "identity"},
		{"Expires", aws.ToString(get.ExpiresString), aws.ToString(head.ExpiresString), "Wed, 02 Jan 2030 03:04:05 GMT"},
		{"Content-Length", aws.ToInt64(get.ContentLength), aws.ToInt64(head.ContentLength), int64(len(body))},
		{"meta color", get.Metadata["color"], head.Metadata["color"], "blue"},
		{"meta mixed-case", get.Metadata["mixed-case"], head.Metadata["mixed-case"], "v"},
		{"storage class", get.StorageClass, head.StorageClass, types.StorageClassStandardIa},
		{"accept-ranges", aws.ToString(get.AcceptRanges), aws.ToString(head.AcceptRanges), "bytes"},
	} {
		if c.get != c.want || c.head != c.want {
			t.Errorf("%s: get %v, head %v, want %v", c.name, c.get, c.head, c.want)
		}
	}
	if lm := aws.ToTime(head.LastModified); time.Since(lm) > time.Minute || time.Until(lm) > time.Second {
		t.Errorf("Last-Modified = %v, not now", lm)
	}

	t.Run("default content type", func(t *testing.T) {
		resp := ts.Do(t, userRoot, http.MethodPut, "/objects/untyped", []byte("x"), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("raw put: %d", resp.StatusCode)
		}
		out, _ := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("untyped")})
		if got := aws.ToString(out.ContentType); got != "binary/octet-stream" {
			t.Errorf("Content-Type = %q, want binary/octet-stream", got)
		}
	})
	t.Run("empty object", func(t *testing.T) {
		ts.PutObject(t, ts.Root, "objects", "empty", nil)
		out, got := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("empty")})
		if len(got) != 0 || aws.ToString(out.ETag) != `"d41d8cd98f00b204e9800998ecf8427e"` {
			t.Errorf("empty: %d bytes, ETag %s", len(got), aws.ToString(out.ETag))
		}
	})
	t.Run("overwrite", func(t *testing.T) {
		ts.PutObject(t, ts.Root, "objects", "over", []byte("one"))
		ts.PutObject(t, ts.Root, "objects", "over", []byte("two"))
		if _, got := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("over")}); string(got) != "two" {
			t.Errorf("body = %q, want two", got)
		}
	})
}

func TestPutObjectErrors(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "puts")
	ts.PutObject(t, ts.Root, "puts", "exists", []byte("x"))
	body := []byte("payload")
	in := func(key string, mod func(*s3.PutObjectInput)) *s3.PutObjectInput {
		p := &s3.PutObjectInput{Bucket: aws.String("puts"), Key: aws.String(key), Body: bytes.NewReader(body)}
		if mod != nil {
			mod(p)
		}
		return p
	}
	tests := []struct {
		name   string
		client *s3.Client
		in     *s3.PutObjectInput
		code   string
		status int
	}{
		{"bad content-md5", ts.Root, in("md5", func(p *s3.PutObjectInput) { p.ContentMD5 = aws.String(md5B64([]byte("other"))) }), "BadDigest", 400},
		{"invalid content-md5", ts.Root, in("md5-invalid", func(p *s3.PutObjectInput) { p.ContentMD5 = aws.String("nope") }), "InvalidDigest", 400},
		{"bad crc32", ts.Root, in("crc", func(p *s3.PutObjectInput) { p.ChecksumCRC32 = aws.String("AAAAAA==") }), "BadDigest", 400},
		{"bad sha256", ts.Root, in("sha", func(p *s3.PutObjectInput) {
			p.ChecksumSHA256 = aws.String(base64.StdEncoding.EncodeToString(make([]byte, 32)))
		}), "BadDigest", 400},
		{"metadata too large", ts.Root, in("meta", func(p *s3.PutObjectInput) {
			p.Metadata = map[string]string{"big": strings.Repeat("m", 2100)}
		}), "MetadataTooLarge", 400},
		{"invalid storage class", ts.Root, in("class", func(p *s3.PutObjectInput) { p.StorageClass = "FAST" }), "InvalidStorageClass", 400},
		{"key too long", ts.Root, in(strings.Repeat("k", 1025), nil), "KeyTooLongError", 400},
		{"no such bucket", ts.Root, &s3.PutObjectInput{Bucket: aws.String("nope-bucket"), Key: aws.String("k"), Body: bytes.NewReader(body)}, "NoSuchBucket", 404},
		{"other user", ts.Alt, in("alt", nil), "AccessDenied", 403},
		{"anonymous", ts.AnonymousClient(), in("anon", nil), "AccessDenied", 403},
		{"if-none-match exists", ts.Root, in("exists", func(p *s3.PutObjectInput) { p.IfNoneMatch = aws.String("*") }), "PreconditionFailed", 412},
		{"if-match wrong", ts.Root, in("exists", func(p *s3.PutObjectInput) { p.IfMatch = aws.String(`"0123"`) }), "PreconditionFailed", 412},
		{"bad tagging", ts.Root, in("tags", func(p *s3.PutObjectInput) { p.Tagging = aws.String("a=1&a=2") }), "InvalidTag", 400},
		{"bad canned acl", ts.Root, in("acl", func(p *s3.PutObjectInput) { p.ACL = "everyone" }), "InvalidArgument", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.PutObject(ctx, tt.in)
			wantErr(t, err, tt.code, tt.status)
			if tt.code == "PreconditionFailed" {
				return
			}
			// A refused write stores nothing.
			_, err = ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: tt.in.Bucket, Key: tt.in.Key})
			if errStatus(err) != http.StatusNotFound && errStatus(err) != http.StatusBadRequest {
				t.Fatalf("after refused put: HeadObject err = %v, want 404", err)
			}
		})
	}
	t.Run("if-none-match new key", func(t *testing.T) {
		if _, err := ts.Root.PutObject(ctx, in("fresh", func(p *s3.PutObjectInput) { p.IfNoneMatch = aws.String("*") })); err != nil {
			t.Fatalf("conditional create: %v", err)
		}
	})
	t.Run("raw", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			header http.Header
			code   string
			status int
		}{
			{"two checksum headers", http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}, "X-Amz-Checksum-Crc32c": {"AAAAAA=="}}, "InvalidRequest", 400},
			{"bad checksum value", http.Header{"X-Amz-Checksum-Crc32": {"!!"}}, "BadDigest", 400},
			{"malformed grant header", http.Header{"X-Amz-Grant-Read": {`x`}}, "InvalidArgument", 400},
		} {
			t.Run(tt.name, func(t *testing.T) {
				resp := ts.Do(t, userRoot, http.MethodPut, "/puts/raw", body, tt.header)
				if b := readAll(t, resp.Body); resp.StatusCode != tt.status || xmlCode(b) != tt.code {
					t.Fatalf("got %d %s, want %d %s", resp.StatusCode, b, tt.status, tt.code)
				}
			})
		}
	})
}

func TestChecksumRoundTrip(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "sums")
	body := bytes.Repeat([]byte("checksum me "), 1000)
	for _, algo := range []types.ChecksumAlgorithm{
		types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha1,
		types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme,
	} {
		t.Run(string(algo), func(t *testing.T) {
			key := "obj-" + string(algo)
			put, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String("sums"), Key: aws.String(key), Body: bytes.NewReader(body), ChecksumAlgorithm: algo,
			})
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			sent := checksumOf(algo, put.ChecksumCRC32, put.ChecksumCRC32C, put.ChecksumSHA1, put.ChecksumSHA256, put.ChecksumCRC64NVME)
			if sent == "" {
				t.Fatalf("put response carries no %s checksum", algo)
			}
			// The SDK validates the returned checksum against the body it
			// reads; a wrong value fails the read.
			out, got := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if !bytes.Equal(got, body) {
				t.Fatal("body differs")
			}
			if v := checksumOf(algo, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumSHA1, out.ChecksumSHA256, out.ChecksumCRC64NVME); v != sent {
				t.Fatalf("GET checksum = %q, want %q", v, sent)
			}
			head, err := ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			if v := checksumOf(algo, head.ChecksumCRC32, head.ChecksumCRC32C, head.ChecksumSHA1, head.ChecksumSHA256, head.ChecksumCRC64NVME); v != sent {
				t.Fatalf("HEAD checksum = %q, want %q", v, sent)
			}
			// A range is not the object the checksum describes: none is sent.
			rng, _ := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), Range: aws.String("bytes=0-9"), ChecksumMode: types.ChecksumModeEnabled})
			if v := checksumOf(algo, rng.ChecksumCRC32, rng.ChecksumCRC32C, rng.ChecksumSHA1, rng.ChecksumSHA256, rng.ChecksumCRC64NVME); v != "" {
				t.Fatalf("ranged GET carries checksum %q", v)
			}
		})
	}
}

func checksumOf(algo types.ChecksumAlgorithm, crc32, crc32c, sha1, sha256, crc64 *string) string {
	switch algo {
	case types.ChecksumAlgorithmCrc32:
		return aws.ToString(crc32)
	case types.ChecksumAlgorithmCrc32c:
		return aws.ToString(crc32c)
	case types.ChecksumAlgorithmSha1:
		return aws.ToString(sha1)
	case types.ChecksumAlgorithmSha256:
		return aws.ToString(sha256)
	}
	return aws.ToString(crc64)
}

func TestGetObjectAccess(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "private-b")
	ts.PutObject(t, ts.Root, "private-b", "secret", []byte("s"))
	if _, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("private-b"), Key: aws.String("shared"), Body: strings.NewReader("p"), ACL: types.ObjectCannedACLPublicRead,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("public-b"), ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	ts.PutObject(t, ts.Root, "public-b", "open", []byte("o"))
	anon := ts.AnonymousClient()
	tests := []struct {
		name        string
		client      *s3.Client
		bucket, key string
		code        string
		status      int
	}{
		{"owner", ts.Root, "private-b", "secret", "", 200},
		{"other user", ts.Alt, "private-b", "secret", "AccessDenied", 403},
		{"anonymous", anon, "private-b", "secret", "AccessDenied", 403},
		{"other user, missing key: no existence leak", ts.Alt, "private-b", "missing", "AccessDenied", 403},
		{"public-read object in private bucket", anon, "private-b", "shared", "", 200},
		{"public-read bucket, private object", anon, "public-b", "open", "AccessDenied", 403},
		{"public-read bucket, private object, other user", ts.Alt, "public-b", "open", "AccessDenied", 403},
		{"public-read bucket, missing key", ts.Alt, "public-b", "missing", "NoSuchKey", 404},
		{"missing key", ts.Root, "private-b", "missing", "NoSuchKey", 404},
		{"missing bucket", ts.Root, "no-such-b", "k", "NoSuchBucket", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(tt.bucket), Key: aws.String(tt.key)})
			if tt.code == "" {
				if err != nil {
					t.Fatalf("GetObject: %v", err)
				}
				readAll(t, out.Body)
				return
			}
			wantErr(t, err, tt.code, tt.status)
		})
	}
}

func TestRanges(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "ranges")
	body := []byte("0123456789abcdefghij") // 20 bytes
	ts.PutObject(t, ts.Root, "ranges", "r", body)
	tests := []struct {
		rng          string
		want         string
		contentRange string // "" means a 200 with the whole body
	}{
		{"bytes=0-4", "01234", "bytes 0-4/20"},
		{"bytes=15-", "fghij", "bytes 15-19/20"},
		{"bytes=-3", "hij", "bytes 17-19/20"},
		{"bytes=-100", string(body), "bytes 0-19/20"},
		{"bytes=18-100", "ij", "bytes 18-19/20"},
		{"bytes=19-19", "j", "bytes 19-19/20"},
		{"bytes=5-2", string(body), ""},     // invalid syntax: ignored
		{"bytes=0-1,4-5", string(body), ""}, // several ranges: ignored
		{"lines=0-1", string(body), ""},     // other unit: ignored
		{"bytes=abc-def", string(body), ""}, // garbage: ignored
	}
	for _, tt := range tests {
		t.Run(tt.rng, func(t *testing.T) {
			out, got := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("ranges"), Key: aws.String("r"), Range: aws.String(tt.rng)})
			if string(got) != tt.want {
				t.Errorf("body = %q, want %q", got, tt.want)
			}
			if cr := aws.ToString(out.ContentRange); cr != tt.contentRange {
				t.Errorf("Content-Range = %q, want %q", cr, tt.contentRange)
			}
			if aws.ToInt64(out.ContentLength) != int64(len(tt.want)) {
				t.Errorf("Content-Length = %d, want %d", aws.ToInt64(out.ContentLength), len(tt.want))
			}
			head, err := ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("ranges"), Key: aws.String("r"), Range: aws.String(tt.rng)})
			if err != nil || aws.ToString(head.ContentRange) != tt.contentRange || aws.ToInt64(head.ContentLength) != int64(len(tt.want)) {
				t.Errorf("HEAD: %v, Content-Range %q, Content-Length %d", err, aws.ToString(head.ContentRange), aws.ToInt64(head.ContentLength))
			}
		})
	}
	for _, rng := range []string{"bytes=20-", "bytes=25-30", "bytes=-0"} {
		t.Run("unsatisfiable "+rng, func(t *testing.T) {
			_, err := ts.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ranges"), Key: aws.String("r"), Range: aws.String(rng)})
			wantErr(t, err, "InvalidRange", 416)
			if cr := errHeader(err, "Content-Range"); cr != "bytes */20" {
				t.Errorf("Content-Range = %q, want bytes */20", cr)
			}
		})
	}
	t.Run("empty object", func(t *testing.T) {
		ts.PutObject(t, ts.Root, "ranges", "empty", nil)
		_, err := ts.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ranges"), Key: aws.String("empty"), Range: aws.String("bytes=40-50")})
		wantErr(t, err, "InvalidRange", 416)
	})
}

func TestConditionalReads(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "conds")
	put := ts.PutObject(t, ts.Root, "conds", "c", []byte("conditional"))
	etag := aws.ToString(put.ETag)
	past := time.Now().Add(-time.Hour)
	future := time.Now().Add(time.Hour)
	tests := []struct {
		name   string
		mod    func(*s3.GetObjectInput)
		status int // 200, 304 or 412
	}{
		{"if-match", func(in *s3.GetObjectInput) { in.IfMatch = aws.String(etag) }, 200},
		{"if-match star", func(in *s3.GetObjectInput) { in.IfMatch = aws.String("*") }, 200},
		{"if-match wrong", func(in *s3.GetObjectInput) { in.IfMatch = aws.String(`"nope"`) }, 412},
		{"if-none-match same", func(in *s3.GetObjectInput) { in.IfNoneMatch = aws.String(etag) }, 304},
		{"if-none-match other", func(in *s3.GetObjectInput) { in.IfNoneMatch = aws.String(`"nope"`) }, 200},
		{"if-modified-since past", func(in *s3.GetObjectInput) { in.IfModifiedSince = aws.Time(past) }, 200},
		{"if-modified-since future", func(in *s3.GetObjectInput) { in.IfModifiedSince = aws.Time(future) }, 304},
		{"if-unmodified-since future", func(in *s3.GetObjectInput) { in.IfUnmodifiedSince = aws.Time(future) }, 200},
		{"if-unmodified-since past", func(in *s3.GetObjectInput) { in.IfUnmodifiedSince = aws.Time(past) }, 412},
		{"if-match true beats unmodified-since false", func(in *s3.GetObjectInput) {
			in.IfMatch, in.IfUnmodifiedSince = aws.String(etag), aws.Time(past)
		}, 200},
		{"if-none-match false with modified-since true", func(in *s3.GetObjectInput) {
			in.IfNoneMatch, in.IfModifiedSince = aws.String(etag), aws.Time(past)
		}, 304},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &s3.GetObjectInput{Bucket: aws.String("conds"), Key: aws.String("c")}
			tt.mod(in)
			out, err := ts.Root.GetObject(ctx, in)
			hin := &s3.HeadObjectInput{Bucket: in.Bucket, Key: in.Key, IfMatch: in.IfMatch, IfNoneMatch: in.IfNoneMatch,
				IfModifiedSince: in.IfModifiedSince, IfUnmodifiedSince: in.IfUnmodifiedSince}
			_, herr := ts.Root.HeadObject(ctx, hin)
			switch tt.status {
			case 200:
				if err != nil || herr != nil {
					t.Fatalf("GET %v, HEAD %v; want success", err, herr)
				}
				readAll(t, out.Body)
			case 304:
				wantErr(t, err, "", 304)
				wantErr(t, herr, "", 304)
				if got := errHeader(err, "ETag"); got != etag {
					t.Errorf("304 ETag = %q, want %q", got, etag)
				}
			case 412:
				wantErr(t, err, "PreconditionFailed", 412)
				wantErr(t, herr, "", 412)
			}
		})
	}
}

// putMultipart uploads an object in parts of the given sizes and returns
// its body.
func putMultipart(t testing.TB, ts *testServer, bucket, key string, sizes ...int) []byte {
	t.Helper()
	ctx := context.Background()
	up, err := ts.Root.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	var all []byte
	var parts []types.CompletedPart
	for i, n := range sizes {
		data := bytes.Repeat([]byte{byte('a' + i)}, n)
		all = append(all, data...)
		out, err := ts.Root.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(data),
		})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		if got, want := aws.ToString(out.ETag), `"`+md5Hex(data)+`"`; got != want {
			t.Fatalf("part ETag = %s, want %s", got, want)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	}
	if _, err := ts.Root.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	return all
}

func TestGetPartNumber(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "parts")
	const mib = 1 << 20
	all := putMultipart(t, ts, "parts", "mp", 5*mib, 1234)
	ts.PutObject(t, ts.Root, "parts", "single", []byte("single"))
	// The whole object carries the upload's (composite) checksum, which
	// the SDK's default validation must accept.
	if _, got := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("parts"), Key: aws.String("mp"), ChecksumMode: types.ChecksumModeEnabled}); !bytes.Equal(got, all) {
		t.Fatal("whole multipart object differs")
	}
	tests := []struct {
		key          string
		part         int32
		want         []byte
		contentRange string
		count        int32
	}{
		{"mp", 1, all[:5*mib], fmt.Sprintf("bytes 0-%d/%d", 5*mib-1, len(all)), 2},
		{"mp", 2, all[5*mib:], fmt.Sprintf("bytes %d-%d/%d", 5*mib, len(all)-1, len(all)), 2},
		{"single", 1, []byte("single"), "", 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.key, tt.part), func(t *testing.T) {
			out, got := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("parts"), Key: aws.String(tt.key), PartNumber: aws.Int32(tt.part)})
			if !bytes.Equal(got, tt.want) {
				t.Errorf("body: %d bytes, want %d", len(got), len(tt.want))
			}
			if cr := aws.ToString(out.ContentRange); cr != tt.contentRange {
				t.Errorf("Content-Range = %q, want %q", cr, tt.contentRange)
			}
			if c := aws.ToInt32(out.PartsCount); c != tt.count {
				t.Errorf("PartsCount = %d, want %d", c, tt.count)
			}
			head, err := ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("parts"), Key: aws.String(tt.key), PartNumber: aws.Int32(tt.part)})
			if err != nil || aws.ToInt64(head.ContentLength) != int64(len(tt.want)) || aws.ToInt32(head.PartsCount) != tt.count {
				t.Errorf("HEAD: %v, length %d, parts %d", err, aws.ToInt64(head.ContentLength), aws.ToInt32(head.PartsCount))
			}
		})
	}
	for _, tt := range []struct {
		key  string
		part int32
	}{{"mp", 3}, {"single", 2}} {
		t.Run(fmt.Sprintf("beyond %s/%d", tt.key, tt.part), func(t *testing.T) {
			_, err := ts.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("parts"), Key: aws.String(tt.key), PartNumber: aws.Int32(tt.part)})
			wantErr(t, err, "InvalidPart", 400)
		})
	}
	t.Run("part and range", func(t *testing.T) {
		_, err := ts.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("parts"), Key: aws.String("mp"), PartNumber: aws.Int32(1), Range: aws.String("bytes=0-1")})
		wantErr(t, err, "InvalidRequest", 400)
	})
	t.Run("part number out of bounds", func(t *testing.T) {
		resp := ts.Do(t, userRoot, http.MethodGet, "/parts/mp?partNumber=10001", nil, nil)
		if b := readAll(t, resp.Body); resp.StatusCode != 400 || xmlCode(b) != "InvalidArgument" {
			t.Fatalf("got %d %s", resp.StatusCode, b)
		}
	})
}

func TestResponseOverrides(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "over")
	if _, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("over"), Key: aws.String("o"), Body: strings.NewReader("x"),
		ContentType: aws.String("text/plain"), ACL: types.ObjectCannedACLPublicRead,
	}); err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	out, _ := getBody(t, ts.Root, &s3.GetObjectInput{
		Bucket: aws.String("over"), Key: aws.String("o"),
		ResponseContentType: aws.String("application/json"), ResponseContentLanguage: aws.String("fr"),
		ResponseExpires: aws.Time(exp), ResponseCacheControl: aws.String("no-store"),
		ResponseContentDisposition: aws.String("inline"), ResponseContentEncoding: aws.String("br"),
	})
	for _, c := range [][2]string{
		{aws.ToString(out.ContentType), "application/json"},
		{aws.ToString(out.ContentLanguage), "fr"},
		{aws.ToString(out.ExpiresString), exp.Format(http.TimeFormat)},
		{aws.ToString(out.CacheControl), "no-store"},
		{aws.ToString(out.ContentDisposition), "inline"},
		{aws.ToString(out.ContentEncoding), "br"},
	} {
		if c[0] != c[1] {
			t.Errorf("override: got %q, want %q", c[0], c[1])
		}
	}
	t.Run("anonymous", func(t *testing.T) {
		_, err := ts.AnonymousClient().GetObject(ctx, &s3.GetObjectInput{
			Bucket: aws.String("over"), Key: aws.String("o"), ResponseContentType: aws.String("a/b"),
		})
		wantErr(t, err, "InvalidRequest", 400)
	})
}

func TestPresignedURLs(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "presign")
	pc := s3.NewPresignClient(ts.Root)
	body := []byte("uploaded through a presigned URL")

	put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("presign"), Key: aws.String("p")}, s3.WithPresignExpires(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(put.Method, put.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range put.SignedHeader {
		if !strings.EqualFold(k, "Host") {
			req.Header[k] = v
		}
	}
	resp, err := ts.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, resp.Body); resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %d %s", resp.StatusCode, b)
	}

	get, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("presign"), Key: aws.String("p")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err = ts.HTTP.Client().Get(get.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp.Body); resp.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, got)
	}

	// A tampered URL fails its signature.
	resp, err = ts.HTTP.Client().Get(strings.Replace(get.URL, "/presign/p", "/presign/q", 1))
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, resp.Body); resp.StatusCode != 403 {
		t.Fatalf("tampered presigned GET: %d %s", resp.StatusCode, b)
	}
}

func TestDeleteObject(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "dels")
	ts.PutObject(t, ts.Root, "dels", "gone", []byte("x"))

	t.Run("unversioned", func(t *testing.T) {
		if _, err := ts.Root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("dels"), Key: aws.String("gone")}); err != nil {
			t.Fatal(err)
		}
		_, err := ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dels"), Key: aws.String("gone")})
		wantErr(t, err, "", 404)
	})
	t.Run("missing key is 204", func(t *testing.T) {
		resp := ts.Do(t, userRoot, http.MethodDelete, "/dels/never", nil, nil)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("status %d, want 204", resp.StatusCode)
		}
	})
	t.Run("other user", func(t *testing.T) {
		_, err := ts.Alt.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("dels"), Key: aws.String("x")})
		wantErr(t, err, "AccessDenied", 403)
	})
	t.Run("missing bucket", func(t *testing.T) {
		_, err := ts.Root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("no-bucket-here"), Key: aws.String("x")})
		wantErr(t, err, "NoSuchBucket", 404)
	})

	t.Run("versioned", func(t *testing.T) {
		ts.CreateBucket(t, ts.Root, "vdels")
		if _, err := ts.Root.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket: aws.String("vdels"), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
		}); err != nil {
			t.Fatal(err)
		}
		v1 := ts.PutObject(t, ts.Root, "vdels", "k", []byte("v1"))
		if aws.ToString(v1.VersionId) == "" {
			t.Fatal("no version id on a versioned put")
		}
		del, err := ts.Root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vdels"), Key: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		marker := aws.ToString(del.VersionId)
		if !aws.ToBool(del.DeleteMarker) || marker == "" {
			t.Fatalf("delete: marker %v, version %q", aws.ToBool(del.DeleteMarker), marker)
		}
		_, err = ts.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vdels"), Key: aws.String("k")})
		wantErr(t, err, "NoSuchKey", 404)
		if errHeader(err, "X-Amz-Delete-Marker") != "true" || errHeader(err, "X-Amz-Version-Id") != marker {
			t.Errorf("GET latest marker: headers %q %q", errHeader(err, "X-Amz-Delete-Marker"), errHeader(err, "X-Amz-Version-Id"))
		}
		_, err = ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("vdels"), Key: aws.String("k")})
		wantErr(t, err, "", 404)
		_, err = ts.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vdels"), Key: aws.String("k"), VersionId: aws.String(marker)})
		wantErr(t, err, "MethodNotAllowed", 405)
		if errHeader(err, "X-Amz-Delete-Marker") != "true" {
			t.Error("GET marker by id: no x-amz-delete-marker")
		}
		// The old version is still readable by id.
		if _, got := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("vdels"), Key: aws.String("k"), VersionId: v1.VersionId}); string(got) != "v1" {
			t.Errorf("v1 body = %q", got)
		}
		// Deleting the marker by id brings the object back.
		del, err = ts.Root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vdels"), Key: aws.String("k"), VersionId: aws.String(marker)})
		if err != nil || !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) != marker {
			t.Fatalf("delete marker by id: %v %+v", err, del)
		}
		if _, got := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("vdels"), Key: aws.String("k")}); string(got) != "v1" {
			t.Errorf("after removing marker: %q", got)
		}
		_, err = ts.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vdels"), Key: aws.String("k"), VersionId: aws.String("bogus")})
		if errStatus(err) != 400 && errStatus(err) != 404 {
			t.Errorf("bogus version id: %v", err)
		}
	})
}

func TestDeleteObjects(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "multi")
	for _, k := range []string{"a", "b", "c"} {
		ts.PutObject(t, ts.Root, "multi", k, []byte(k))
	}
	out, err := ts.Root.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("multi"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("a")}, {Key: aws.String("b")}, {Key: aws.String("missing")}},
	}})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}
	if len(out.Deleted) != 3 || len(out.Errors) != 0 {
		t.Fatalf("deleted %d, errors %d; want 3, 0", len(out.Deleted), len(out.Errors))
	}
	for _, k := range []string{"a", "b"} {
		_, err := ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("multi"), Key: aws.String(k)})
		wantErr(t, err, "", 404)
	}

	t.Run("quiet", func(t *testing.T) {
		out, err := ts.Root.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("multi"), Delete: &types.Delete{
			Quiet: aws.Bool(true), Objects: []types.ObjectIdentifier{{Key: aws.String("c")}, {Key: aws.String("c"), VersionId: aws.String("bogus")}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Deleted) != 0 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "InvalidArgument" {
			t.Fatalf("quiet: deleted %d, errors %+v", len(out.Deleted), out.Errors)
		}
	})
	t.Run("versioned", func(t *testing.T) {
		ts.CreateBucket(t, ts.Root, "vmulti")
		if _, err := ts.Root.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket: aws.String("vmulti"), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
		}); err != nil {
			t.Fatal(err)
		}
		v1 := ts.PutObject(t, ts.Root, "vmulti", "k", []byte("1"))
		ts.PutObject(t, ts.Root, "vmulti", "k", []byte("2"))
		out, err := ts.Root.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("vmulti"), Delete: &types.Delete{
			Objects: []types.ObjectIdentifier{{Key: aws.String("k"), VersionId: v1.VersionId}, {Key: aws.String("k")}},
		}})
		if err != nil || len(out.Deleted) != 2 {
			t.Fatalf("%v %+v", err, out)
		}
		byVersion, marker := out.Deleted[0], out.Deleted[1]
		if aws.ToString(byVersion.VersionId) != aws.ToString(v1.VersionId) || aws.ToBool(byVersion.DeleteMarker) {
			t.Errorf("by version: %+v", byVersion)
		}
		if !aws.ToBool(marker.DeleteMarker) || aws.ToString(marker.DeleteMarkerVersionId) == "" {
			t.Errorf("marker: %+v", marker)
		}
	})
	t.Run("other user", func(t *testing.T) {
		_, err := ts.Alt.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("multi"), Delete: &types.Delete{
			Objects: []types.ObjectIdentifier{{Key: aws.String("c")}},
		}})
		wantErr(t, err, "AccessDenied", 403)
	})
	t.Run("raw", func(t *testing.T) {
		doc := []byte(`<Delete><Object><Key>x</Key></Object></Delete>`)
		many := []byte("<Delete>" + strings.Repeat("<Object><Key>x</Key></Object>", 1001) + "</Delete>")
		for _, tt := range []struct {
			name   string
			body   []byte
			header http.Header
			code   string
			status int
		}{
			{"no md5 nor checksum", doc, nil, "InvalidRequest", 400},
			{"md5", doc, http.Header{"Content-Md5": {md5B64(doc)}}, "", 200},
			{"bad md5", doc, http.Header{"Content-Md5": {md5B64([]byte("x"))}}, "BadDigest", 400},
			{"bad crc32", doc, http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}, "BadDigest", 400},
			{"1001 keys", many, http.Header{"Content-Md5": {md5B64(many)}}, "MalformedXML", 400},
			{"malformed", []byte("<Delete>"), http.Header{"Content-Md5": {md5B64([]byte("<Delete>"))}}, "MalformedXML", 400},
		} {
			t.Run(tt.name, func(t *testing.T) {
				resp := ts.Do(t, userRoot, http.MethodPost, "/multi?delete", tt.body, tt.header)
				b := readAll(t, resp.Body)
				if resp.StatusCode != tt.status || (tt.code != "" && xmlCode(b) != tt.code) {
					t.Fatalf("got %d %s, want %d %s", resp.StatusCode, b, tt.status, tt.code)
				}
			})
		}
	})
}

// RGW accepts a PUT body sent with Transfer-Encoding: chunked and no
// Content-Length (scripts written for it do this); so does Cairn.
func TestPutChunkedTransferEncoding(t *testing.T) {
	ts := newTestServer(t)
	c := ts.Client(userRoot)
	ts.CreateBucket(t, c, "chunked")
	body := bytes.Repeat([]byte("0123456789"), 10000)
	req, err := http.NewRequest(http.MethodPut, ts.URL+"/chunked/k", io.NopCloser(bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	creds := aws.Credentials{AccessKeyID: userRoot.AccessKey, SecretAccessKey: userRoot.SecretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "s3", testRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := ts.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("chunked PUT: %s", resp.Status)
	}
	got, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("chunked"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	if data := readAll(t, got.Body); !bytes.Equal(data, body) {
		t.Fatalf("read back %d bytes, want %d", len(data), len(body))
	}
}

// x-amz-expected-bucket-owner naming someone else is refused, even where
// the bucket's ACL would let the caller in.
func TestExpectedBucketOwner(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "owned")
	if _, err := ts.Root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("owned"), ACL: "public-read-write"}); err != nil {
		t.Fatal(err)
	}
	_, err := ts.Alt.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("owned"), Key: aws.String("k"), Body: strings.NewReader("x"), ExpectedBucketOwner: aws.String(userAlt.ID)})
	wantErr(t, err, "AccessDenied", 403)
	if _, err := ts.Alt.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("owned"), Key: aws.String("k"), Body: strings.NewReader("x"), ExpectedBucketOwner: aws.String(userRoot.ID)}); err != nil {
		t.Fatalf("with the right expected owner: %v", err)
	}
}
