package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/cairn-s3/cairn/internal/checksum"
	"github.com/cairn-s3/cairn/internal/s3err"
)

// seen is what the test server observed about one authenticated request.
type seen struct {
	method, path  string
	payloadMode   string // x-amz-content-sha256 as sent
	contentLength int64  // after Verify
	trailer       http.Header
	identity      Identity
}

// objectServer is a tiny S3 stand-in: it authenticates every request with
// Verify, stores PUT bodies only when they read to io.EOF, and serves them
// back. It is what the real S3 adapter does with the body, minus S3.
type objectServer struct {
	v       *Verifier
	mu      sync.Mutex
	objects map[string][]byte
	log     []seen
}

func newObjectServer(v *Verifier) *objectServer {
	return &objectServer{v: v, objects: map[string][]byte{}}
}

func (s *objectServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mode := r.Header.Get("X-Amz-Content-Sha256")
	id, err := s.v.Verify(r)
	if err != nil {
		writeS3Error(w, err)
		return
	}
	rec := seen{method: r.Method, path: r.URL.Path, payloadMode: mode, contentLength: r.ContentLength, identity: id}
	switch r.Method {
	case http.MethodPut:
		data, err := io.ReadAll(r.Body)
		if err != nil {
			writeS3Error(w, err)
			return
		}
		if r.ContentLength >= 0 && int64(len(data)) != r.ContentLength {
			writeS3Error(w, s3err.IncompleteBody)
			return
		}
		rec.trailer = r.Trailer.Clone()
		s.mu.Lock()
		s.objects[r.URL.Path] = data
		s.mu.Unlock()
		w.Header().Set("ETag", `"etag"`)
	case http.MethodGet, http.MethodHead:
		s.mu.Lock()
		data, ok := s.objects[r.URL.Path]
		s.mu.Unlock()
		if r.URL.Query().Has("acl") || r.URL.Query().Has("list-type") || r.URL.Path == "/bkt" {
			w.Header().Set("Content-Type", "application/xml")
			data, ok = nil, true
		}
		if !ok {
			writeS3Error(w, s3err.NoSuchKey)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		w.Header().Set("ETag", `"etag"`)
		w.Write(data)
	}
	s.mu.Lock()
	s.log = append(s.log, rec)
	s.mu.Unlock()
}

func (s *objectServer) last() seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) == 0 {
		return seen{}
	}
	return s.log[len(s.log)-1]
}

func writeS3Error(w http.ResponseWriter, err error) {
	e := s3err.As(err)
	if e == nil {
		e = s3err.InternalError
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(e.Status)
	xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
		Message string
	}{Code: e.Code, Message: e.Message})
}

func startServer(t *testing.T, tls bool) (*httptest.Server, *objectServer) {
	t.Helper()
	obj := newObjectServer(New(testCreds, Options{}))
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(obj)
	} else {
		srv = httptest.NewServer(obj)
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") && !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Fatalf("test server not on loopback: %s", srv.URL)
	}
	t.Cleanup(srv.Close)
	return srv, obj
}

// sdkClient returns an S3 client configured the way applications get one
// (config.LoadDefaultConfig, so the SDK's default checksum behaviour),
// pointed path-style at srv and isolated from the machine's AWS settings.
func sdkClient(t *testing.T, srv *httptest.Server, secret string, hc aws.HTTPClient) *s3.Client {
	t.Helper()
	if hc == nil {
		hc = srv.Client()
	}
	for _, env := range []string{"AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_S3", "AWS_CA_BUNDLE", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(env, "")
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testAK, secret, "")),
		config.WithHTTPClient(hc),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithLogger(logging.Nop{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
		o.RetryMaxAttempts = 1
	})
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestE2ESDKDefaultPutIsUnsignedTrailer drives the real aws-sdk-go-v2 S3
// client with its default checksum behaviour over TLS: PutObject sends
// STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer.
func TestE2ESDKDefaultPutIsUnsignedTrailer(t *testing.T) {
	srv, obj := startServer(t, true)
	c := sdkClient(t, srv, testSecret, nil)
	ctx := context.Background()
	data := randomBytes(t, 3<<20+17) // several aws-chunked chunks
	key := "dir/a key+with ~odd chars €.bin"
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	got := obj.last()
	if got.payloadMode != streamingUnsignedTrailer {
		t.Errorf("payload mode %q, want %s", got.payloadMode, streamingUnsignedTrailer)
	}
	if got.contentLength != int64(len(data)) {
		t.Errorf("decoded content length %d", got.contentLength)
	}
	if want := checksumOf("CRC32", data); got.trailer.Get("X-Amz-Checksum-Crc32") != want {
		t.Errorf("trailer %v, want crc32 %s", got.trailer, want)
	}
	if got.identity.UserID != testUser {
		t.Errorf("identity %+v", got.identity)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(out.Body)
	if !bytes.Equal(back, data) {
		t.Fatalf("round trip: %d bytes back of %d", len(back), len(data))
	}
}

func TestE2ESDKChecksumAlgorithms(t *testing.T) {
	srv, obj := startServer(t, true)
	c := sdkClient(t, srv, testSecret, nil)
	data := randomBytes(t, 200_000)
	for _, algo := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmCrc64nvme,
		types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256} {
		t.Run(string(algo), func(t *testing.T) {
			_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
				Body: bytes.NewReader(data), ChecksumAlgorithm: algo})
			if err != nil {
				t.Fatal(err)
			}
			name := checksum.HeaderName(string(algo))
			if got, want := obj.last().trailer.Get(name), checksumOf(string(algo), data); got != want {
				t.Errorf("%s trailer %q, want %q", name, got, want)
			}
		})
	}
}

// TestE2ESDKPlainHTTPSignsPayload: without TLS the SDK signs the sha256 of
// the payload instead of using a trailer.
func TestE2ESDKPlainHTTPSignsPayload(t *testing.T) {
	srv, obj := startServer(t, false)
	c := sdkClient(t, srv, testSecret, nil)
	data := randomBytes(t, 100_000)
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("plain"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	if m := obj.last().payloadMode; len(m) != 64 {
		t.Errorf("payload mode %q, want a hex sha256", m)
	}
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("plain")})
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(out.Body)
	if !bytes.Equal(back, data) {
		t.Fatal("round trip mismatch")
	}
}

// corruptingClient flips one byte of every request body after the SDK
// signed it and computed its checksum, like a faulty network path.
type corruptingClient struct{ hc *http.Client }

func (c corruptingClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Method == http.MethodPut {
		body, _ := io.ReadAll(r.Body)
		// Flip a data byte well inside the body, past the chunk header.
		body[len(body)/2] ^= 0x01
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return c.hc.Do(r)
}

func TestE2ESDKRejects(t *testing.T) {
	for _, tls := range []bool{true, false} {
		name := map[bool]string{true: "tls trailer", false: "plain sha256"}[tls]
		t.Run(name+"/corrupted body", func(t *testing.T) {
			srv, obj := startServer(t, tls)
			c := sdkClient(t, srv, testSecret, corruptingClient{srv.Client()})
			_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("bad"),
				Body: bytes.NewReader(randomBytes(t, 300_000))})
			want := map[bool]string{true: "BadDigest", false: "XAmzContentSHA256Mismatch"}[tls]
			if apiCode(err) != want {
				t.Fatalf("err = %v, want %s", err, want)
			}
			if _, stored := obj.objects["/bkt/bad"]; stored {
				t.Error("corrupted body was stored")
			}
		})
	}
	srv, _ := startServer(t, true)
	_, err := sdkClient(t, srv, "not-the-secret", nil).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("x")})
	if apiCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestE2ESDKPresigned(t *testing.T) {
	srv, obj := startServer(t, true)
	c := sdkClient(t, srv, testSecret, nil)
	p := s3.NewPresignClient(c)
	ctx := context.Background()
	key := "presigned/obj with space"
	data := []byte("presigned body")

	put, err := p.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)},
		s3.WithPresignExpires(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(put.Method, put.URL, bytes.NewReader(data))
	for k, v := range put.SignedHeader {
		if k != "Host" {
			req.Header[k] = v
		}
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %s", resp.Status)
	}
	if obj.last().payloadMode != "" {
		t.Errorf("presigned PUT sent x-amz-content-sha256 %q", obj.last().payloadMode)
	}

	get, err := p.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	resp, err = srv.Client().Get(get.URL)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(back, data) {
		t.Fatalf("presigned GET: %s %q", resp.Status, back)
	}

	resp, err = srv.Client().Get(strings.Replace(get.URL, "obj%20with", "obj%20WITH", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("tampered presigned GET: %s", resp.Status)
	}
}

// botoScript exercises boto3 with SigV2 ("s3") and SigV4 ("s3v4"): PUT,
// GET, a sub-resource, a listing with query parameters, presigned GET and
// PUT, and a wrong secret.
const botoScript = `
import os, sys, urllib.request
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ep, ak, sk = os.environ["ENDPOINT"], os.environ["AK"], os.environ["SK"]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def client(sv, secret):
    return boto3.client("s3", endpoint_url=ep, aws_access_key_id=ak, aws_secret_access_key=secret,
                        region_name="us-east-1",
                        config=Config(signature_version=sv, s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}, proxies={}))

for sv in ("s3", "s3v4"):
    c = client(sv, sk)
    key = "boto/%s/a key+with ~odd chars \u00fc\u20ac.txt" % sv
    body = ("hello from boto3 " + sv).encode()
    c.put_object(Bucket="bkt", Key=key, Body=body, Metadata={"note": "  spaced   value "}, ContentType="text/plain")
    got = c.get_object(Bucket="bkt", Key=key)["Body"].read()
    assert got == body, (sv, got)
    c.get_object_acl(Bucket="bkt", Key=key)
    c.list_objects_v2(Bucket="bkt", Prefix="boto/ a+b", Delimiter="/", MaxKeys=10)

    url = c.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": key}, ExpiresIn=300)
    assert opener.open(url).read() == body, sv

    url = c.generate_presigned_url("put_object", ExpiresIn=300,
                                   Params={"Bucket": "bkt", "Key": key + ".2", "ContentType": "application/x-test"})
    req = urllib.request.Request(url, data=b"presigned", method="PUT", headers={"Content-Type": "application/x-test"})
    opener.open(req).read()
    assert c.get_object(Bucket="bkt", Key=key + ".2")["Body"].read() == b"presigned", sv

    try:
        client(sv, "wrong-secret").get_object(Bucket="bkt", Key=key)
        sys.exit("%s: wrong secret accepted" % sv)
    except ClientError as e:
        code = e.response["Error"]["Code"]
        assert code == "SignatureDoesNotMatch", (sv, code)
    print(sv, "ok")
`

func TestE2EBoto3(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import boto3").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("boto3 is required in CI (apt-get install python3-boto3): %v", err)
		}
		t.Skipf("boto3 not available: %v", err)
	}
	srv, _ := startServer(t, false)
	script := filepath.Join(t.TempDir(), "boto.py")
	if err := os.WriteFile(script, []byte(botoScript), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script)
	cmd.Env = append(os.Environ(), "ENDPOINT="+srv.URL, "AK="+testAK, "SK="+testSecret,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "s3 ok") || !strings.Contains(string(out), "s3v4 ok") {
		t.Fatalf("boto3 output: %s", out)
	}
}
