package s3api

// The shared end-to-end harness: the real API over the real local store and
// the real signature verifier, served on 127.0.0.1 and driven by
// aws-sdk-go-v2 clients with their default checksum behaviour.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// testRegion is the region the harness's gateway and clients use.
const testRegion = "us-east-1"

// testUser is one account of the harness's fixture.
type testUser struct {
	ID, AccessKey, SecretKey string
}

// The two users every test server knows.
var (
	userRoot = testUser{ID: "root", AccessKey: "ROOTACCESSKEY0000001", SecretKey: "root-secret-key/0000000000000000000000"}
	userAlt  = testUser{ID: "alt", AccessKey: "ALTACCESSKEY00000001", SecretKey: "alt-secret-key/00000000000000000000000"}
)

// staticCredentials is an auth.Credentials over a fixed set of users.
type staticCredentials []testUser

func (c staticCredentials) Lookup(_ context.Context, accessKey string) (string, string, error) {
	for _, u := range c {
		if u.AccessKey == accessKey {
			return u.ID, u.SecretKey, nil
		}
	}
	return "", "", auth.ErrUnknownAccessKey
}

var _ auth.Credentials = staticCredentials(nil)

// testServer is a running gateway with clients for both users.
type testServer struct {
	URL   string
	API   *API
	Store store.Backend
	HTTP  *httptest.Server
	// Root and Alt are SDK clients signed as userRoot and userAlt.
	Root, Alt *s3.Client
}

// newTestServer starts a gateway over a fresh store in t.TempDir(). It is
// closed when the test ends.
func newTestServer(t testing.TB) *testServer {
	t.Helper()
	st, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	verifier := auth.New(staticCredentials{userRoot, userAlt}, auth.Options{Region: testRegion, MaxSkew: 15 * time.Minute})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := New(st, verifier, Config{Region: testRegion, Logger: log, Users: testUsers{}})
	hs := httptest.NewServer(api) // listens on 127.0.0.1
	t.Cleanup(func() {
		hs.Close()
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	ts := &testServer{URL: hs.URL, API: api, Store: st, HTTP: hs}
	ts.Root = ts.Client(userRoot)
	ts.Alt = ts.Client(userAlt)
	return ts
}

// Client returns an SDK client for a user: path-style, region us-east-1,
// default checksum behaviour, no retries (so error assertions see the
// first answer).
func (ts *testServer) Client(u testUser, optFns ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:                     testRegion,
		BaseEndpoint:               aws.String(ts.URL),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(u.AccessKey, u.SecretKey, ""),
		Retryer:                    aws.NopRetryer{},
		HTTPClient:                 ts.HTTP.Client(),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}, optFns...)
}

// AnonymousClient returns an SDK client that sends unsigned requests.
func (ts *testServer) AnonymousClient() *s3.Client {
	return ts.Client(testUser{}, func(o *s3.Options) { o.Credentials = aws.AnonymousCredentials{} })
}

// Do sends a raw request signed with SigV4 as u (or unsigned if u has no
// access key), for what SDK clients cannot send (malformed documents,
// odd parameters). path includes the query string.
func (ts *testServer) Do(t testing.TB, u testUser, method, path string, body []byte, header http.Header) *http.Response {
	t.Helper()
	req := signedRequestWithHeader(t, u, method, ts.URL+path, body, header)
	resp, err := ts.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// signedRequest builds a request signed with SigV4 as u (unsigned if u has
// no access key). url may be a path only, for in-process ServeHTTP calls.
func signedRequest(t testing.TB, u testUser, method, url string, body []byte) *http.Request {
	t.Helper()
	return signedRequestWithHeader(t, u, method, url, body, nil)
}

// signedRequestWithHeader is signedRequest with extra headers, which are
// signed too.
func signedRequestWithHeader(t testing.TB, u testUser, method, url string, body []byte, header http.Header) *http.Request {
	t.Helper()
	if strings.HasPrefix(url, "/") {
		url = "http://127.0.0.1" + url
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if u.AccessKey == "" {
		return req
	}
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", payload)
	creds := aws.Credentials{AccessKeyID: u.AccessKey, SecretAccessKey: u.SecretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, "s3", testRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// CreateBucket creates a bucket as the client's user, failing the test on error.
func (ts *testServer) CreateBucket(t testing.TB, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// PutObject stores a small object, failing the test on error.
func (ts *testServer) PutObject(t testing.TB, c *s3.Client, bucket, key string, body []byte) *s3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return out
}

// errCode returns the S3 error code of an SDK error, or "" if err is nil
// or carries none.
func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// errStatus returns the HTTP status of an SDK error, or 0.
func errStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// wantErr fails the test unless err is the S3 error code with the status.
// HEAD responses have no body, so for them the SDK reports the status text
// as the code; pass code "" to check only the status.
func wantErr(t testing.TB, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %s (%d)", code, status)
	}
	if code != "" && errCode(err) != code {
		t.Fatalf("error code = %q, want %q (err: %v)", errCode(err), code, err)
	}
	if errStatus(err) != status {
		t.Fatalf("status = %d, want %d (err: %v)", errStatus(err), status, err)
	}
}

// readAll reads and closes a body.
func readAll(t testing.TB, rc io.ReadCloser) []byte {
	t.Helper()
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// xmlCode extracts the <Code> of an S3 error document.
func xmlCode(body []byte) string {
	s := string(body)
	i := strings.Index(s, "<Code>")
	j := strings.Index(s, "</Code>")
	if i < 0 || j < i {
		return ""
	}
	return s[i+len("<Code>") : j]
}

// storeDeleteLatest deletes the latest version (a delete marker in
// versioned buckets).
var storeDeleteLatest = store.DeleteOptions{}

// putStoreObject writes an object through the store directly, owned by
// userRoot: fast setup for tests about other operations.
func putStoreObject(t testing.TB, ts *testServer, bucket, key, body string) store.ObjectInfo {
	t.Helper()
	o, err := ts.Store.PutObject(context.Background(), bucket, key, strings.NewReader(body), store.PutOptions{
		Size: int64(len(body)), Owner: userRoot.ID,
	})
	if err != nil {
		t.Fatalf("store put %s/%s: %v", bucket, key, err)
	}
	return o
}

// storePut returns store options for a direct store write of size bytes
// owned by userRoot.
func storePut(size int64) store.PutOptions {
	return store.PutOptions{Size: size, Owner: userRoot.ID}
}

// testUsers is the user directory of the test server: userRoot and
// userAlt, whose email is altEmail.
type testUsers struct{}

const altEmail = "alt@example.com"

func (testUsers) DisplayName(_ context.Context, id string) (string, bool) {
	switch id {
	case userRoot.ID, userAlt.ID:
		return id + "-name", true
	}
	return "", false
}

func (testUsers) ByEmail(_ context.Context, email string) (string, bool) {
	if strings.EqualFold(email, altEmail) {
		return userAlt.ID, true
	}
	return "", false
}
