package s3api

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestCopyObject(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "src")
	ts.CreateBucket(t, ts.Root, "dst")
	ts.CreateBucket(t, ts.Alt, "alt-bucket")
	body := []byte("copy me")
	src, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("src"), Key: aws.String("dir/the key"), Body: bytes.NewReader(body),
		ContentType: aws.String("text/plain"), Metadata: map[string]string{"origin": "src"}, Tagging: aws.String("t=1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	copySrc := "src/dir/the%20key"

	t.Run("copy metadata", func(t *testing.T) {
		out, err := ts.Root.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("c1"), CopySource: aws.String(copySrc)})
		if err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		if aws.ToString(out.CopyObjectResult.ETag) != aws.ToString(src.ETag) || out.CopyObjectResult.LastModified == nil {
			t.Errorf("result = %+v", out.CopyObjectResult)
		}
		get, got := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("dst"), Key: aws.String("c1")})
		if !bytes.Equal(got, body) || aws.ToString(get.ContentType) != "text/plain" || get.Metadata["origin"] != "src" || aws.ToInt32(get.TagCount) != 1 {
			t.Errorf("copy: body %q, type %q, meta %v, tags %d", got, aws.ToString(get.ContentType), get.Metadata, aws.ToInt32(get.TagCount))
		}
	})
	t.Run("replace metadata and tags", func(t *testing.T) {
		_, err := ts.Root.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket: aws.String("dst"), Key: aws.String("c2"), CopySource: aws.String("/" + copySrc),
			MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("application/x-new"),
			Metadata:         map[string]string{"fresh": "yes"},
			TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("a=1&b=2"),
		})
		if err != nil {
			t.Fatal(err)
		}
		get, _ := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("dst"), Key: aws.String("c2")})
		if aws.ToString(get.ContentType) != "application/x-new" || get.Metadata["fresh"] != "yes" || get.Metadata["origin"] != "" || aws.ToInt32(get.TagCount) != 2 {
			t.Errorf("replace: type %q, meta %v, tags %d", aws.ToString(get.ContentType), get.Metadata, aws.ToInt32(get.TagCount))
		}
	})
	t.Run("in-place metadata update", func(t *testing.T) {
		ts.PutObject(t, ts.Root, "src", "self", []byte("same"))
		_, err := ts.Root.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket: aws.String("src"), Key: aws.String("self"), CopySource: aws.String("src/self"),
			MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"v": "2"},
		})
		if err != nil {
			t.Fatal(err)
		}
		get, got := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("src"), Key: aws.String("self")})
		if string(got) != "same" || get.Metadata["v"] != "2" {
			t.Errorf("in place: %q %v", got, get.Metadata)
		}
	})
	t.Run("source version id", func(t *testing.T) {
		ts.CreateBucket(t, ts.Root, "vsrc")
		if _, err := ts.Root.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket: aws.String("vsrc"), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
		}); err != nil {
			t.Fatal(err)
		}
		v1 := ts.PutObject(t, ts.Root, "vsrc", "k", []byte("old"))
		ts.PutObject(t, ts.Root, "vsrc", "k", []byte("new"))
		out, err := ts.Root.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket: aws.String("dst"), Key: aws.String("c3"), CopySource: aws.String("vsrc/k?versionId=" + aws.ToString(v1.VersionId)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.CopySourceVersionId) != aws.ToString(v1.VersionId) {
			t.Errorf("copy source version = %q, want %q", aws.ToString(out.CopySourceVersionId), aws.ToString(v1.VersionId))
		}
		if _, got := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("dst"), Key: aws.String("c3")}); string(got) != "old" {
			t.Errorf("body = %q, want old", got)
		}
		// Restoring an old version by copying it onto its own key is allowed.
		if _, err := ts.Root.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket: aws.String("vsrc"), Key: aws.String("k"), CopySource: aws.String("vsrc/k?versionId=" + aws.ToString(v1.VersionId)),
		}); err != nil {
			t.Fatalf("restore old version: %v", err)
		}
	})
	t.Run("conditions", func(t *testing.T) {
		past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		for _, tt := range []struct {
			name string
			mod  func(*s3.CopyObjectInput)
			ok   bool
		}{
			{"if-match", func(in *s3.CopyObjectInput) { in.CopySourceIfMatch = src.ETag }, true},
			{"if-match wrong", func(in *s3.CopyObjectInput) { in.CopySourceIfMatch = aws.String(`"x"`) }, false},
			{"if-none-match same", func(in *s3.CopyObjectInput) { in.CopySourceIfNoneMatch = src.ETag }, false},
			{"if-modified-since future", func(in *s3.CopyObjectInput) { in.CopySourceIfModifiedSince = aws.Time(future) }, false},
			{"if-modified-since past", func(in *s3.CopyObjectInput) { in.CopySourceIfModifiedSince = aws.Time(past) }, true},
			{"if-unmodified-since past", func(in *s3.CopyObjectInput) { in.CopySourceIfUnmodifiedSince = aws.Time(past) }, false},
		} {
			t.Run(tt.name, func(t *testing.T) {
				in := &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("cond"), CopySource: aws.String(copySrc)}
				tt.mod(in)
				_, err := ts.Root.CopyObject(ctx, in)
				if tt.ok {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				wantErr(t, err, "PreconditionFailed", 412)
			})
		}
	})
	errs := []struct {
		name   string
		client *s3.Client
		in     s3.CopyObjectInput
		code   string
		status int
	}{
		{"onto itself", ts.Root, s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("dir/the key"), CopySource: aws.String(copySrc)}, "InvalidRequest", 400},
		{"missing source", ts.Root, s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/nothing")}, "NoSuchKey", 404},
		{"missing source bucket", ts.Root, s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("nobucket/k")}, "NoSuchBucket", 404},
		{"no key in source", ts.Root, s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src")}, "InvalidArgument", 400},
		{"bad directive", ts.Root, s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String(copySrc), MetadataDirective: "MOVE"}, "InvalidArgument", 400},
		{"no read access to source", ts.Alt, s3.CopyObjectInput{Bucket: aws.String("alt-bucket"), Key: aws.String("x"), CopySource: aws.String(copySrc)}, "AccessDenied", 403},
		{"no write access to destination", ts.Alt, s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("alt-bucket/none")}, "AccessDenied", 403},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.CopyObject(ctx, &tt.in)
			wantErr(t, err, tt.code, tt.status)
		})
	}
}

func TestUploadPartCopy(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "pcopy")
	const mib = 1 << 20
	src := bytes.Repeat([]byte("0123456789abcdef"), 6*mib/16) // 6 MiB
	ts.PutObject(t, ts.Root, "pcopy", "src", src)
	up, err := ts.Root.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("pcopy"), Key: aws.String("dst")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, rng := range []string{"bytes=0-5242879", "bytes=5242880-6291455"} {
		out, err := ts.Root.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket: aws.String("pcopy"), Key: aws.String("dst"), UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)),
			CopySource: aws.String("pcopy/src"), CopySourceRange: aws.String(rng),
		})
		if err != nil {
			t.Fatalf("UploadPartCopy %s: %v", rng, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
	}
	first := `"` + md5Hex(src[:5*mib]) + `"`
	if aws.ToString(parts[0].ETag) != first {
		t.Errorf("part 1 ETag = %s, want %s", aws.ToString(parts[0].ETag), first)
	}
	for _, tt := range []struct {
		name, rng, code string
		status          int
	}{
		{"beyond the source", "bytes=0-99999999", "InvalidRange", 416},
		{"no unit", "0-5", "InvalidArgument", 400},
		{"garbage", "bytes=hello-world", "InvalidArgument", 400},
		{"suffix", "bytes=-5", "InvalidArgument", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ts.Root.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
				Bucket: aws.String("pcopy"), Key: aws.String("dst"), UploadId: up.UploadId, PartNumber: aws.Int32(3),
				CopySource: aws.String("pcopy/src"), CopySourceRange: aws.String(tt.rng),
			})
			wantErr(t, err, tt.code, tt.status)
		})
	}
	t.Run("source precondition", func(t *testing.T) {
		_, err := ts.Root.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket: aws.String("pcopy"), Key: aws.String("dst"), UploadId: up.UploadId, PartNumber: aws.Int32(3),
			CopySource: aws.String("pcopy/src"), CopySourceIfMatch: aws.String(`"nope"`),
		})
		wantErr(t, err, "PreconditionFailed", 412)
	})
	t.Run("no such upload", func(t *testing.T) {
		_, err := ts.Root.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket: aws.String("pcopy"), Key: aws.String("dst"), UploadId: aws.String("nope"), PartNumber: aws.Int32(1),
			CopySource: aws.String("pcopy/src"),
		})
		wantErr(t, err, "NoSuchUpload", 404)
	})
	if _, err := ts.Root.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("pcopy"), Key: aws.String("dst"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if _, got := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("pcopy"), Key: aws.String("dst")}); !bytes.Equal(got, src) {
		t.Fatalf("assembled object differs: %d bytes", len(got))
	}
}

func TestUploadPartErrors(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "uparts")
	up, err := ts.Root.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("uparts"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	part := func(mod func(*s3.UploadPartInput)) *s3.UploadPartInput {
		in := &s3.UploadPartInput{Bucket: aws.String("uparts"), Key: aws.String("k"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("part"))}
		mod(in)
		return in
	}
	for _, tt := range []struct {
		name   string
		client *s3.Client
		in     *s3.UploadPartInput
		code   string
		status int
	}{
		{"bad md5", ts.Root, part(func(in *s3.UploadPartInput) { in.ContentMD5 = aws.String(md5B64([]byte("x"))) }), "BadDigest", 400},
		{"bad crc32", ts.Root, part(func(in *s3.UploadPartInput) { in.ChecksumCRC32 = aws.String("AAAAAA==") }), "BadDigest", 400},
		{"no such upload", ts.Root, part(func(in *s3.UploadPartInput) { in.UploadId = aws.String("nope") }), "NoSuchUpload", 404},
		{"other user", ts.Alt, part(func(*s3.UploadPartInput) {}), "AccessDenied", 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.UploadPart(ctx, tt.in)
			wantErr(t, err, tt.code, tt.status)
		})
	}
	t.Run("part number", func(t *testing.T) {
		resp := ts.Do(t, userRoot, http.MethodPut, "/uparts/k?partNumber=0&uploadId="+aws.ToString(up.UploadId), []byte("x"), nil)
		if b := readAll(t, resp.Body); resp.StatusCode != 400 || xmlCode(b) != "InvalidArgument" {
			t.Fatalf("got %d %s", resp.StatusCode, b)
		}
	})
}
