package auth_test

// These tests drive the real Cairn server (in-process, over loopback HTTP)
// with real clients, for the signing rules whose consequences only the
// whole server shows: what an unsigned header would have changed, and
// whether each client's own canonical forms are accepted.

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	miniosigner "github.com/minio/minio-go/v7/pkg/signer"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// realServer starts Cairn and returns it with an aws-sdk-go-v2 client of
// its root user.
func realServer(t *testing.T) (*servertest.Running, *s3.Client) {
	t.Helper()
	srv := servertest.Start(t, servertest.Options{})
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("server not on loopback: %s", srv.URL)
	}
	c := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(srv.RootAccessKey, srv.RootSecretKey, ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{Proxy: nil}},
	})
	return srv, c
}

func mustPut(t *testing.T, c *s3.Client, bucket, key, body string) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader(body)}); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

func mustBucket(t *testing.T, c *s3.Client, bucket string) {
	t.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
}

// s3Error is the S3 error document, with the element that names unsigned
// headers.
type s3Error struct {
	Code             string
	Message          string
	HeadersNotSigned string
}

// do sends r with a client that uses no proxy and returns the status and
// the decoded error document (zero for a success).
func do(t *testing.T, r *http.Request) (int, s3Error, []byte) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := hc.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e s3Error
	if resp.StatusCode >= 300 && len(body) > 0 {
		if err := xml.Unmarshal(body, &e); err != nil {
			t.Fatalf("%s: undecodable error %q", resp.Status, body)
		}
	}
	return resp.StatusCode, e, body
}

// wantAnonymousDenied fails if an anonymous GET of bucket/key succeeds.
func wantAnonymousDenied(t *testing.T, srv *servertest.Running, bucket, key string) {
	t.Helper()
	r, _ := http.NewRequest(http.MethodGet, srv.URL+"/"+bucket+"/"+key, nil)
	status, _, body := do(t, r)
	if status == http.StatusOK {
		t.Fatalf("anonymous GET %s/%s succeeded: %q", bucket, key, body)
	}
}

func wantHeadersNotSigned(t *testing.T, status int, e s3Error, body []byte, headers string) {
	t.Helper()
	if status != http.StatusForbidden || e.Code != "AccessDenied" ||
		e.Message != "There were headers present in the request which were not signed" || e.HeadersNotSigned != headers {
		t.Fatalf("got %d %q, want 403 AccessDenied with HeadersNotSigned %q", status, body, headers)
	}
}

// TestServerPresignedPutRejectsUnsignedHeaders is the attack of issue 9
// item 1: a presigned PUT URL plus unsigned x-amz-copy-source and x-amz-acl
// headers would turn the upload into a public copy of a private object.
func TestServerPresignedPutRejectsUnsignedHeaders(t *testing.T) {
	srv, c := realServer(t)
	mustBucket(t, c, "bkt")
	mustPut(t, c, "bkt", "private-key", "private bytes")
	ps, err := s3.NewPresignClient(c).PresignPutObject(context.Background(),
		&s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("upload")}, s3.WithPresignExpires(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest(ps.Method, ps.URL, strings.NewReader("uploaded"))
	r.Header.Set("X-Amz-Copy-Source", "/bkt/private-key")
	r.Header.Set("X-Amz-Acl", "public-read")
	status, e, body := do(t, r)
	wantHeadersNotSigned(t, status, e, body, "x-amz-acl, x-amz-copy-source")
	wantAnonymousDenied(t, srv, "bkt", "upload")

	// The URL itself still works, and may be sent with an unsigned
	// x-amz-content-sha256 (S3 allows that one header).
	r, _ = http.NewRequest(ps.Method, ps.URL, strings.NewReader("uploaded"))
	r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if status, _, body := do(t, r); status != http.StatusOK {
		t.Fatalf("presigned PUT: %d %q", status, body)
	}
	wantAnonymousDenied(t, srv, "bkt", "upload")
}

// signV4 signs r with aws-sdk-go-v2's signer, as the S3 client does.
func signV4(t *testing.T, srv *servertest.Running, r *http.Request, payload string) {
	t.Helper()
	r.Header.Set("X-Amz-Content-Sha256", payload)
	err := v4.NewSigner().SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: srv.RootAccessKey, SecretAccessKey: srv.RootSecretKey}, r, payload, "s3", "us-east-1",
		time.Now(), func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
}

// TestServerHeaderSignedPutRejectsUnsignedACL: an x-amz-acl added after a
// header signature was made must not make the object public.
func TestServerHeaderSignedPutRejectsUnsignedACL(t *testing.T) {
	srv, c := realServer(t)
	mustBucket(t, c, "bkt")
	r, _ := http.NewRequest(http.MethodPut, srv.URL+"/bkt/obj", strings.NewReader("data"))
	signV4(t, srv, r, "UNSIGNED-PAYLOAD")
	r.Header.Set("X-Amz-Acl", "public-read")
	status, e, body := do(t, r)
	wantHeadersNotSigned(t, status, e, body, "x-amz-acl")
	wantAnonymousDenied(t, srv, "bkt", "obj")

	// Signed, the same header is accepted.
	r, _ = http.NewRequest(http.MethodPut, srv.URL+"/bkt/obj", strings.NewReader("data"))
	r.Header.Set("X-Amz-Acl", "private")
	signV4(t, srv, r, "UNSIGNED-PAYLOAD")
	if status, _, body := do(t, r); status != http.StatusOK {
		t.Fatalf("signed PUT: %d %q", status, body)
	}
}

// TestServerSigV2BindsAmzHeaders: SigV2 signs every x-amz-* header by
// construction, so one added after signing breaks the signature.
func TestServerSigV2BindsAmzHeaders(t *testing.T) {
	srv, c := realServer(t)
	mustBucket(t, c, "bkt")
	r, _ := http.NewRequest(http.MethodPut, srv.URL+"/bkt/obj", strings.NewReader("data"))
	r = miniosigner.SignV2(*r, srv.RootAccessKey, srv.RootSecretKey, false)
	r.Header.Set("X-Amz-Acl", "public-read")
	status, e, body := do(t, r)
	if status != http.StatusForbidden || e.Code != "SignatureDoesNotMatch" {
		t.Fatalf("got %d %q, want 403 SignatureDoesNotMatch", status, body)
	}
	wantAnonymousDenied(t, srv, "bkt", "obj")
}

// minioClient returns a minio-go client of the root user, signing SigV2 or
// SigV4.
func minioClient(t *testing.T, srv *servertest.Running, v2 bool) *minio.Client {
	t.Helper()
	creds := miniocreds.NewStaticV4(srv.RootAccessKey, srv.RootSecretKey, "")
	if v2 {
		creds = miniocreds.NewStaticV2(srv.RootAccessKey, srv.RootSecretKey, "")
	}
	c, err := minio.New(strings.TrimPrefix(srv.URL, "http://"), &minio.Options{
		Creds: creds, Region: "us-east-1", BucketLookup: minio.BucketLookupPath, MaxRetries: 1,
		Transport: &http.Transport{Proxy: nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestServerMinioGoSigning runs the calls whose minio-go signatures Cairn
// used to refuse (issue 9 item 12), with both of its signers.
func TestServerMinioGoSigning(t *testing.T) {
	for _, signer := range []string{"v2", "v4"} {
		t.Run(signer, func(t *testing.T) {
			srv, _ := realServer(t)
			c := minioClient(t, srv, signer == "v2")
			ctx := context.Background()
			if err := c.MakeBucket(ctx, "bkt", minio.MakeBucketOptions{}); err != nil {
				t.Fatal(err)
			}
			policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},` +
				`"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::bkt/public/*"]}]}`
			if err := c.SetBucketPolicy(ctx, "bkt", policy); err != nil {
				t.Fatalf("SetBucketPolicy: %v", err)
			}
			if got, err := c.GetBucketPolicy(ctx, "bkt"); err != nil || !strings.Contains(got, "bkt/public/*") {
				t.Fatalf("GetBucketPolicy: %q, %v", got, err)
			}

			// Unknown size: minio-go uploads in parts.
			data := bytes.Repeat([]byte("0123456789abcdef"), 6<<20/16)
			if _, err := c.PutObject(ctx, "bkt", "streamed", struct{ io.Reader }{bytes.NewReader(data)}, -1,
				minio.PutObjectOptions{PartSize: 5 << 20}); err != nil {
				t.Fatalf("PutObject of unknown size: %v", err)
			}
			wantObject(t, c, "streamed", data)

			// ComposeObject copies source ranges with UploadPartCopy.
			src := []minio.CopySrcOptions{
				{Bucket: "bkt", Object: "streamed", MatchRange: true, Start: 0, End: 5<<20 - 1},
				{Bucket: "bkt", Object: "streamed", MatchRange: true, Start: 100, End: 199},
			}
			if _, err := c.ComposeObject(ctx, minio.CopyDestOptions{Bucket: "bkt", Object: "composed"}, src...); err != nil {
				t.Fatalf("ComposeObject: %v", err)
			}
			wantObject(t, c, "composed", append(append([]byte{}, data[:5<<20]...), data[100:200]...))
		})
	}
}

func wantObject(t *testing.T, c *minio.Client, key string, want []byte) {
	t.Helper()
	o, err := c.GetObject(context.Background(), "bkt", key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	got, err := io.ReadAll(o)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("GET %s: %d bytes (want %d), %v", key, len(got), len(want), err)
	}
}

// TestServerMinioListenUnsortedEvents: minio-go (and so mc watch) signs
// repeated query values in the order it sends them; events not in sorted
// order used to get SignatureDoesNotMatch.
func TestServerMinioListenUnsortedEvents(t *testing.T) {
	srv, c := realServer(t)
	mustBucket(t, c, "bkt")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mc := minioClient(t, srv, false)
	events := mc.ListenBucketNotification(ctx, "bkt", "", "", []string{"s3:ObjectRemoved:*", "s3:ObjectCreated:*"})
	// Wait (bounded) until the stream is registered, or its error.
	for i := 0; srv.Server.LiveListeners() == 0; i++ {
		select {
		case info := <-events:
			t.Fatalf("listen: %v", info.Err)
		case <-time.After(10 * time.Millisecond):
		}
		if i == 1000 {
			t.Fatal("the listen request never registered")
		}
	}
	mustPut(t, c, "bkt", "watched", "x")
	select {
	case info := <-events:
		if info.Err != nil || len(info.Records) != 1 || info.Records[0].S3.Object.Key != "watched" {
			t.Fatalf("event: %+v", info)
		}
	case <-ctx.Done():
		t.Fatal("no event")
	}
}

// pythons returns the Python interpreters with boto3 to test: Debian's
// (boto3 1.26) and the first python3 on PATH (the image's, with a current
// botocore) when it is another one. Under CI=true a missing one fails.
func pythons(t *testing.T) []string {
	t.Helper()
	var out, seen []string
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(py)
		if err == nil {
			err = exec.Command(path, "-c", "import boto3").Run()
		}
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s with boto3 is required in CI: %v", py, err)
			}
			t.Logf("%s with boto3 is not available: %v", py, err)
			continue
		}
		// pyenv's shim is a script, so compare what each one runs.
		real, err := exec.Command(path, "-c", "import sys; print(sys.executable)").Output()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(seen, string(real)) {
			seen, out = append(seen, string(real)), append(out, path)
		}
	}
	if len(out) == 0 {
		t.Skip("no python3 with boto3")
	}
	return out
}

// TestServerBoto3Signing: boto3, old and new, still works with every
// x-amz-* header required to be signed, and its presigned URLs cannot be
// abused with unsigned headers.
func TestServerBoto3Signing(t *testing.T) {
	for i, py := range pythons(t) {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			srv := servertest.Start(t, servertest.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, py, "testdata/boto3_signing.py")
			cmd.Env = append(os.Environ(), "ENDPOINT="+srv.URL, "AK="+srv.RootAccessKey, "SK="+srv.RootSecretKey,
				"TAG="+strconv.Itoa(i), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
				"NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1")
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "ALL OK") {
				t.Fatalf("%s: %v\n%s", py, err, out)
			}
			t.Logf("%s: %s", py, strings.TrimSpace(string(out)))
		})
	}
}
