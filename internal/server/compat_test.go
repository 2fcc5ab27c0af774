package server_test

// Compatibility details of S3 answers that minio-go and aws-sdk-go-v2
// parse, on the real server: GetObjectAttributes of a missing version,
// the canned ACL minio-go reads back, ListMultipartUploads with a prefix
// and a delimiter, CORS preflights with credentials.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/syncbuf"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// minioClient returns a minio-go client of the root user (SigV4).
func minioClient(t *testing.T, srv *servertest.Running) *minio.Client {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := minio.New(u.Host, &minio.Options{Creds: miniocreds.NewStaticV4(srv.RootAccessKey, srv.RootSecretKey, ""),
		Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

func TestMinioGetObjectAttributesMissingVersion(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	mc := minioClient(t, srv)
	ctx := context.Background()
	if err := mc.MakeBucket(ctx, "ver", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := mc.EnableVersioning(ctx, "ver"); err != nil {
		t.Fatal(err)
	}
	_, err := mc.GetObjectAttributes(ctx, "ver", "missing", minio.ObjectAttributesOptions{VersionID: uuid.NewString()})
	var er minio.ErrorResponse
	if !errors.As(err, &er) || er.Code != "NoSuchVersion" {
		t.Fatalf("GetObjectAttributes of a missing version: %v, want NoSuchVersion", err)
	}
}

// TestMinioGetObjectACLCanned reads objects' ACLs back through minio-go's
// canned-ACL mapping: an object stored
// without an ACL is "private"; one stored with x-amz-acl
// public-read-write is that (as on S3; minio-go's functional test expects
// "private" there only from servers that ignore ACLs).
func TestMinioGetObjectACLCanned(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	ctx := context.Background()
	// minio-go's SigV2 of GET ?acl is the signing item's; V4 here.
	mc := minioClient(t, srv)
	if err := mc.MakeBucket(ctx, "acl", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	for key, acl := range map[string]string{"plain": "", "shared": "public-read-write", "readable": "public-read"} {
		opts := minio.PutObjectOptions{}
		if acl != "" {
			opts.UserMetadata = map[string]string{"X-Amz-Acl": acl}
		}
		if _, err := mc.PutObject(ctx, "acl", key, bytes.NewReader([]byte("x")), 1, opts); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
		oi, err := mc.GetObjectACL(ctx, "acl", key)
		if err != nil {
			t.Fatalf("GetObjectACL %s: %v", key, err)
		}
		want := acl
		if want == "" {
			want = "private"
		}
		if got := oi.Metadata.Get("X-Amz-Acl"); got != want {
			t.Errorf("%s: canned ACL %q, want %q (grants %+v)", key, got, want, oi.Grant)
		}
	}
}

// TestListMultipartUploadsPrefixDelimiter lists open uploads under a
// prefix with a delimiter as aws-sdk-go-v2 and minio-go parse them: the
// prefix and delimiter echoed, uploads directly under the prefix, deeper
// keys rolled up into CommonPrefixes, and the Next markers naming the last
// upload listed (also on the last page, as S3 answers).
func TestListMultipartUploadsPrefixDelimiter(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	c := sdkClient(srv)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mpu")}); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, k := range []string{"a/1", "a/2", "a/b/3", "a/b/4", "a/c/5", "b/6", "top"} {
		up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		ids[k] = aws.ToString(up.UploadId)
	}
	out, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu"),
		Prefix: aws.String("a/"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	var keys, prefixes []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	for _, p := range out.CommonPrefixes {
		prefixes = append(prefixes, aws.ToString(p.Prefix))
	}
	if !slices.Equal(keys, []string{"a/1", "a/2"}) || !slices.Equal(prefixes, []string{"a/b/", "a/c/"}) {
		t.Fatalf("uploads %q, prefixes %q", keys, prefixes)
	}
	if aws.ToString(out.Prefix) != "a/" || aws.ToString(out.Delimiter) != "/" || aws.ToBool(out.IsTruncated) ||
		aws.ToString(out.KeyMarker) != "" || aws.ToString(out.UploadIdMarker) != "" || aws.ToInt32(out.MaxUploads) != 1000 {
		t.Fatalf("echoed fields: %+v", out)
	}
	if aws.ToString(out.NextKeyMarker) != "a/2" || aws.ToString(out.NextUploadIdMarker) != ids["a/2"] {
		t.Fatalf("next markers %q %q, want the last upload listed (a/2 %s)", aws.ToString(out.NextKeyMarker), aws.ToString(out.NextUploadIdMarker), ids["a/2"])
	}

	// Paged one entry at a time, the prefixes count as entries and the
	// markers lead through all of them.
	var paged []string
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu"), Prefix: aws.String("a/"), Delimiter: aws.String("/"), MaxUploads: aws.Int32(1)}
	for range 10 {
		page, err := c.ListMultipartUploads(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Uploads {
			paged = append(paged, aws.ToString(u.Key))
		}
		for _, p := range page.CommonPrefixes {
			paged = append(paged, aws.ToString(p.Prefix))
		}
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
	if !slices.Equal(paged, []string{"a/1", "a/2", "a/b/", "a/c/"}) {
		t.Fatalf("paged %q", paged)
	}

	// minio-go's ListIncompleteUploads, non-recursive (delimiter "/").
	var got []string
	for u := range minioClient(t, srv).ListIncompleteUploads(ctx, "mpu", "a/", false) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		got = append(got, u.Key)
	}
	if !slices.Equal(got, []string{"a/1", "a/2", "a/b/", "a/c/"}) {
		t.Fatalf("minio-go ListIncompleteUploads: %q", got)
	}
}

// TestCORSAllowCredentials: a CORS answer from a rule that names its
// origin carries Access-Control-Allow-Credentials: true, on the preflight
// and on the actual request; a rule allowing "*" answers "*" without it.
func TestCORSAllowCredentials(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	c := sdkClient(srv)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("web"), CORSConfiguration: &types.CORSConfiguration{
		CORSRules: []types.CORSRule{
			{AllowedOrigins: []string{"http://app.example"}, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"*"}},
			{AllowedOrigins: []string{"https://*.example"}, AllowedMethods: []string{"DELETE"}},
			{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
		},
	}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, origin, reqMethod, wantOrigin, wantCredentials string
	}{
		{http.MethodOptions, "http://app.example", "PUT", "http://app.example", "true"},
		{http.MethodOptions, "https://www.example", "DELETE", "https://www.example", "true"},
		{http.MethodOptions, "http://other.example", "GET", "*", ""},
		{http.MethodGet, "http://app.example", "PUT", "http://app.example", "true"}, // actual request, rule matched by Access-Control-Request-Method
		{http.MethodGet, "http://other.example", "", "*", ""},
	} {
		req, err := http.NewRequestWithContext(ctx, tc.method, srv.URL+"/web/obj", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", tc.origin)
		if tc.reqMethod != "" {
			req.Header.Set("Access-Control-Request-Method", tc.reqMethod)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if h.Get("Access-Control-Allow-Origin") != tc.wantOrigin || h.Get("Access-Control-Allow-Credentials") != tc.wantCredentials {
			t.Errorf("%s from %s (%s): %d, allow-origin %q credentials %q; want %q %q", tc.method, tc.origin, tc.reqMethod,
				resp.StatusCode, h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"), tc.wantOrigin, tc.wantCredentials)
		}
	}
}

// TestAccessLogKey: each access log line names the object key, escaped so
// that a key with control characters stays on its line and a non-UTF-8 key
// (one stored before keys were checked) is logged by its percent-encoded
// name, in both formats.
func TestAccessLogKey(t *testing.T) {
	const (
		odd     = "dir/line\nbreak \"quoted\"\ttab"
		invalid = "bad\xffkey"
	)
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var access syncbuf.Buffer
			h := slog.Handler(slog.NewTextHandler(&access, nil))
			if format == "json" {
				h = slog.NewJSONHandler(&access, nil)
			}
			srv := servertest.Start(t, servertest.Options{AccessLog: slog.New(h)})
			c := sdkClient(srv)
			ctx := context.Background()
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs")}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("logs"), Key: aws.String(odd), Body: strings.NewReader("x")}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("logs"), Key: aws.String(invalid)}); err == nil {
				t.Fatal("GET of a missing key succeeded")
			}
			lines := strings.Split(strings.TrimSpace(access.String()), "\n")
			if len(lines) != 3 {
				t.Fatalf("%d lines, want 3 (one per request):\n%s", len(lines), access.String())
			}
			for i, want := range []struct{ op, key string }{{"CreateBucket", ""}, {"PutObject", odd}, {"GetObject", "bad%FFkey"}} {
				op, key := logOpKey(t, format, lines[i])
				if op != want.op || key != want.key {
					t.Errorf("line %d: op %q key %q, want %q %q\n%s", i, op, key, want.op, want.key, lines[i])
				}
			}
		})
	}
}

// logOpKey reads the op and key attributes of one access log line.
func logOpKey(t *testing.T, format, line string) (op, key string) {
	t.Helper()
	if format == "json" {
		var rec struct{ Op, Key string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		return rec.Op, rec.Key
	}
	// slog's text format: key=value, values quoted (Go syntax) when needed.
	attr := func(name string) string {
		_, rest, ok := strings.Cut(line, " "+name+"=")
		if !ok {
			t.Fatalf("no %s in %s", name, line)
		}
		if strings.HasPrefix(rest, `"`) {
			v, err := strconv.QuotedPrefix(rest)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := strconv.Unquote(v)
			return s
		}
		v, _, _ := strings.Cut(rest, " ")
		return v
	}
	return attr("op"), attr("key")
}
