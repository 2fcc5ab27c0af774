package server_test

// Request bodies that stall, on the real server with a short idle timeout,
// driven over raw TCP connections so that the test controls every byte and
// every pause: a stalled body gets RequestTimeout, its connection is
// closed and nothing is stored; a slow body that keeps progressing is
// never cut; unauthenticated bodies beyond the bound get SlowDown at once.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// failSafe bounds every raw connection of these tests: it only keeps a
// broken server from hanging the test, no outcome depends on it.
const failSafe = time.Minute

// rawRequest is a request written by hand on its own connection.
type rawRequest struct {
	conn net.Conn
	br   *bufio.Reader
	req  *http.Request
}

// openRaw sends the request line and headers of req (whose body is not
// sent), plus the first bytes of the body.
func openRaw(t *testing.T, srv *servertest.Running, req *http.Request, first []byte) *rawRequest {
	t.Helper()
	u, _ := url.Parse(srv.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(failSafe))
	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.Method, req.URL.RequestURI(), u.Host, req.ContentLength)
	if err := req.Header.Write(&head); err != nil {
		t.Fatal(err)
	}
	head.WriteString("\r\n")
	head.Write(first)
	if _, err := conn.Write(head.Bytes()); err != nil {
		t.Fatal(err)
	}
	return &rawRequest{conn: conn, br: bufio.NewReader(conn), req: req}
}

func (rr *rawRequest) send(t *testing.T, b []byte) {
	t.Helper()
	if _, err := rr.conn.Write(b); err != nil {
		t.Fatal(err)
	}
}

// response reads the server's answer: status, S3 error code and message.
func (rr *rawRequest) response(t *testing.T) (*http.Response, s3Error) {
	t.Helper()
	resp, err := http.ReadResponse(rr.br, rr.req)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e s3Error
	_ = xml.Unmarshal(body, &e)
	return resp, e
}

type s3Error struct {
	Code, Message string
}

// wantClosed fails unless the server has closed the connection.
func (rr *rawRequest) wantClosed(t *testing.T) {
	t.Helper()
	if _, err := rr.br.ReadByte(); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("connection still open after the answer (read: %v)", err)
	}
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}

// signedPut returns a SigV4-signed PUT of body (signed over all of it).
func signedPut(t *testing.T, srv *servertest.Running, path string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", payload)
	creds := aws.Credentials{AccessKeyID: srv.RootAccessKey, SecretAccessKey: srv.RootSecretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// formPost returns an anonymous POST form upload of key and its body.
func formPost(t *testing.T, srv *servertest.Running, bucket, key string, file []byte) (*http.Request, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("key", key)
	fw, _ := mw.CreateFormFile("file", "f.bin")
	_, _ = fw.Write(file)
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/"+bucket, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.ContentLength = int64(buf.Len())
	return req, buf.Bytes()
}

func startBodies(t *testing.T, idle time.Duration, maxAnon int) (*servertest.Running, *s3.Client) {
	t.Helper()
	srv := servertest.Start(t, servertest.Options{BodyIdleTimeout: idle, MaxAnonymousBodies: maxAnon})
	c := sdkClient(srv)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("bodies"),
		ACL: types.BucketCannedACLPublicReadWrite}); err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func wantAbsent(t *testing.T, c *s3.Client, key string) {
	t.Helper()
	if _, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("bodies"), Key: aws.String(key)}); err == nil {
		t.Fatalf("%s was stored", key)
	}
}

func wantRequestTimeout(t *testing.T, rr *rawRequest) {
	t.Helper()
	resp, e := rr.response(t)
	if resp.StatusCode != http.StatusBadRequest || e.Code != "RequestTimeout" ||
		e.Message != "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed." {
		t.Fatalf("got %d %s %q, want 400 RequestTimeout", resp.StatusCode, e.Code, e.Message)
	}
	if !resp.Close {
		t.Error("the answer does not close the connection")
	}
	rr.wantClosed(t)
}

func TestBodyStalledSignedPut(t *testing.T) {
	srv, c := startBodies(t, time.Second, 0)
	body := bytes.Repeat([]byte("x"), 100_000)
	rr := openRaw(t, srv, signedPut(t, srv, "/bodies/stalled", body), body[:30_000])
	wantRequestTimeout(t, rr) // the rest of the body never comes
	wantAbsent(t, c, "stalled")
}

func TestBodyStalledPostForm(t *testing.T) {
	srv, c := startBodies(t, time.Second, 0)
	req, body := formPost(t, srv, "bodies", "posted", bytes.Repeat([]byte("y"), 50_000))
	// Stalled inside the file, and before it (among the fields).
	for _, cut := range []int{len(body) - 10_000, bytes.Index(body, []byte("posted")) + 2} {
		rr := openRaw(t, srv, req, body[:cut])
		wantRequestTimeout(t, rr)
		wantAbsent(t, c, "posted")
	}
}

// TestBodySlowButSteady sends a body in small pieces, each well within the
// idle timeout, for longer than the timeout in all: it is stored whole.
func TestBodySlowButSteady(t *testing.T) {
	srv, c := startBodies(t, time.Second, 0)
	const pieces = 20
	body := bytes.Repeat([]byte("0123456789"), pieces*100)
	rr := openRaw(t, srv, signedPut(t, srv, "/bodies/steady", body), nil)
	step := len(body) / pieces
	for i := 0; i < len(body); i += step {
		time.Sleep(100 * time.Millisecond)
		rr.send(t, body[i:i+step])
	}
	if resp, e := rr.response(t); resp.StatusCode != http.StatusOK {
		t.Fatalf("steady upload: %d %s %s", resp.StatusCode, e.Code, e.Message)
	}
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bodies"), Key: aws.String("steady")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("stored %d bytes, want %d", len(got), len(body))
	}
}

// TestAnonymousBodiesBound: with two unauthenticated bodies being read, a
// third is answered 503 SlowDown at once, while signed uploads go on; once
// one of the two ends, an unauthenticated upload is served again.
func TestAnonymousBodiesBound(t *testing.T) {
	srv, c := startBodies(t, time.Minute, 2) // stalls hold their slot
	req, body := formPost(t, srv, "bodies", "held", []byte("held"))
	held := []*rawRequest{openRaw(t, srv, req, body[:20]), openRaw(t, srv, req, body[:20])}
	waitAnonymous(t, srv, 2)

	third, thirdBody := formPost(t, srv, "bodies", "third", []byte("third"))
	rr := openRaw(t, srv, third, thirdBody)
	if resp, e := rr.response(t); resp.StatusCode != http.StatusServiceUnavailable || e.Code != "SlowDown" {
		t.Fatalf("third anonymous body: %d %s, want 503 SlowDown", resp.StatusCode, e.Code)
	}
	wantAbsent(t, c, "third")
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bodies"), Key: aws.String("signed"),
		Body: strings.NewReader("signed")}); err != nil {
		t.Fatalf("signed upload while the bound is reached: %v", err)
	}

	held[0].conn.Close()
	waitAnonymous(t, srv, 1)
	rr = openRaw(t, srv, third, thirdBody)
	if resp, e := rr.response(t); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("anonymous body below the bound: %d %s %s", resp.StatusCode, e.Code, e.Message)
	}
}

func waitAnonymous(t *testing.T, srv *servertest.Running, n int) {
	t.Helper()
	for range 1000 {
		if srv.Server.AnonymousBodies() == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("anonymous bodies: %d, want %d", srv.Server.AnonymousBodies(), n)
}

// TestHeadersStalled: a client that stops within its headers is
// disconnected too (the header timeout is the body idle timeout, here 1s;
// the connection's own bound of 15s only tells that from the former fixed
// 30s).
func TestHeadersStalled(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{BodyIdleTimeout: time.Second})
	u, _ := url.Parse(srv.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(conn, "PUT /bodies/k HTTP/1.1\r\nHost: "+u.Host+"\r\nX-Amz-"); err != nil {
		t.Fatal(err)
	}
	// Whatever the server writes (net/http may answer 408), it then closes.
	_, err = io.Copy(io.Discard, conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept a connection stalled in its headers open")
	}
}

// TestBodyStalledOutsideS3: the admin API (RGW's and MinIO's paths) and
// the metrics on the S3 port are served on the same connections; a body
// stalled there is cut too, not held until the client gives up (net/http
// reads what a handler left unread before answering).
func TestBodyStalledOutsideS3(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{BodyIdleTimeout: time.Second})
	for _, path := range []string{"/admin/user?uid=x", "/minio/admin/v3/info", "/metrics"} {
		method := http.MethodPut
		if path == "/metrics" {
			method = http.MethodGet
		}
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = 100_000
		rr := openRaw(t, srv, req, []byte("0123456789"))
		_ = rr.conn.SetDeadline(time.Now().Add(15 * time.Second)) // 15 idle timeouts
		_, err = io.Copy(io.Discard, rr.conn)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("%s %s: a stalled body kept its connection open", method, path)
		}
	}
}

// TestBodyStalledUnreadByLargeAnswer: a GET of a public object that comes
// with a body the handler never reads. net/http discards that body when
// the answer's header goes out, which for a large answer is inside the
// handler: the stalled body must be cut there too, or an anonymous client
// holds the connection (and one of the unauthenticated bodies' slots)
// forever.
func TestBodyStalledUnreadByLargeAnswer(t *testing.T) {
	srv, c := startBodies(t, time.Second, 0)
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bodies"), Key: aws.String("public"),
		Body: bytes.NewReader(bytes.Repeat([]byte("p"), 200_000)), ACL: types.ObjectCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/bodies/public", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 100_000
	rr := openRaw(t, srv, req, []byte("0123456789"))
	_ = rr.conn.SetDeadline(time.Now().Add(15 * time.Second)) // 15 idle timeouts
	_, err = io.Copy(io.Discard, rr.conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("a stalled body the handler never read kept its connection open")
	}
	waitAnonymous(t, srv, 0)
}
