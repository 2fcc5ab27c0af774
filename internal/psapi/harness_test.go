package psapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// gateway is a real Cairn server with PubSub enabled and two users, alice
// and bob, besides root.
type gateway struct {
	t   *testing.T
	srv *servertest.Running
}

func start(t *testing.T, ps server.PubSubConfig, dataDir string) *gateway {
	t.Helper()
	ps.Enabled = true
	g := &gateway{t: t, srv: servertest.Start(t, servertest.Options{PubSub: ps, DataDir: dataDir})}
	return g
}

// startUsers starts a gateway and creates alice and bob.
func startUsers(t *testing.T, ps server.PubSubConfig) *gateway {
	g := start(t, ps, "")
	root := g.as(g.srv.RootAccessKey, g.srv.RootSecretKey)
	for _, u := range []string{"alice", "bob"} {
		root.ok("PUT", fmt.Sprintf("/admin/user?format=json&uid=%s&display-name=%s&access-key=%sKEY&secret-key=%s-secret", u, u, strings.ToUpper(u), u), nil)
	}
	return g
}

// user is a signed HTTP client of one user.
type user struct {
	g     *gateway
	creds aws.Credentials
}

func (g *gateway) as(key, secret string) *user {
	return &user{g: g, creds: aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}}
}

func (g *gateway) alice() *user { return g.as("ALICEKEY", "alice-secret") }
func (g *gateway) bob() *user   { return g.as("BOBKEY", "bob-secret") }

// signed returns a SigV4-signed request without a body (anonymous for a
// user without keys).
func (u *user) signed(method, path string) *http.Request {
	u.g.t.Helper()
	req, err := http.NewRequestWithContext(u.g.t.Context(), method, u.g.srv.URL+path, nil)
	if err != nil {
		u.g.t.Fatal(err)
	}
	if u.creds.AccessKeyID != "" {
		sum := sha256.Sum256(nil)
		hash := hex.EncodeToString(sum[:])
		req.Header.Set("X-Amz-Content-Sha256", hash)
		if err := v4.NewSigner().SignHTTP(req.Context(), u.creds, req, hash, "s3", "us-east-1", time.Now()); err != nil {
			u.g.t.Fatal(err)
		}
	}
	return req
}

// do sends a signed request and returns status and body.
func (u *user) do(method, path string) (int, []byte) {
	u.g.t.Helper()
	req := u.signed(method, path)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		u.g.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		u.g.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// ok sends a request that must answer 200 and decodes a JSON body into v
// (if not nil); it returns the raw body.
func (u *user) ok(method, path string, v any) []byte {
	u.g.t.Helper()
	status, body := u.do(method, path)
	if status != http.StatusOK {
		u.g.t.Fatalf("%s %s: %d %s", method, path, status, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			u.g.t.Fatalf("%s %s: %v in %s", method, path, err, body)
		}
	}
	return body
}

// fails sends a request that must fail with status and S3 error code.
func (u *user) fails(method, path string, status int, code string) {
	u.g.t.Helper()
	got, body := u.do(method, path)
	if got != status || !bytes.Contains(body, []byte("<Code>"+code+"</Code>")) {
		u.g.t.Fatalf("%s %s: %d %s, want %d %s", method, path, got, body, status, code)
	}
}

// s3 returns an aws-sdk-go-v2 S3 client of the user.
func (u *user) s3() *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(u.g.srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(u.creds.AccessKeyID, u.creds.SecretAccessKey, "")})
}

func (u *user) mkbucket(name string) {
	u.g.t.Helper()
	if _, err := u.s3().CreateBucket(u.g.t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		u.g.t.Fatal(err)
	}
}

// bind creates a bucket and a topic and binds them with a PubSub
// notification of every creation and removal.
func (u *user) bind(bucket, topic string) {
	u.g.t.Helper()
	u.mkbucket(bucket)
	u.ok("PUT", "/topics/"+topic, nil)
	u.ok("PUT", "/notifications/bucket/"+bucket+"?topic="+topic, nil)
}

func (u *user) put(bucket, key string) {
	u.g.t.Helper()
	if _, err := u.s3().PutObject(u.g.t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader("data of " + key)}); err != nil {
		u.g.t.Fatal(err)
	}
}

func (u *user) del(bucket, key string) {
	u.g.t.Helper()
	if _, err := u.s3().DeleteObject(u.g.t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		u.g.t.Fatal(err)
	}
}

// page is a pull response.
type page struct {
	NextMarker  string            `json:"next_marker"`
	IsTruncated string            `json:"is_truncated"`
	Events      []json.RawMessage `json:"events"`
	Records     []json.RawMessage `json:"Records"`
}

// event is the "events" format.
type event struct {
	ID         string `json:"id"`
	Event      string `json:"event"`
	Timestamp  string `json:"timestamp"`
	Deliveries int    `json:"deliveries"`
	Info       struct {
		Bucket struct {
			Name     string `json:"name"`
			Tenant   string `json:"tenant"`
			BucketID string `json:"bucket_id"`
		} `json:"bucket"`
		Key struct {
			Name     string `json:"name"`
			Instance string `json:"instance"`
		} `json:"key"`
		Mtime string         `json:"mtime"`
		Attrs map[string]any `json:"attrs"`
	} `json:"info"`
}

func (u *user) pull(sub, query string) page {
	u.g.t.Helper()
	var p page
	u.ok("GET", "/subscriptions/"+sub+"?events"+query, &p)
	return p
}

func events(t *testing.T, p page) []event {
	t.Helper()
	out := make([]event, len(p.Events))
	for i, raw := range p.Events {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func keysOf(evs []event) string {
	var ks []string
	for _, e := range evs {
		ks = append(ks, e.Event+":"+e.Info.Key.Name)
	}
	return strings.Join(ks, ",")
}
