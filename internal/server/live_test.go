package server_test

// Tests of the live event stream on the real server: minio-go's
// ListenBucketNotification, Server-Sent Events, filters, errors and the
// guarantee that nothing is published for a failed write.

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/notification"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

type liveGateway struct {
	srv *servertest.Running
	s3  *s3.Client
}

func startLive(t *testing.T, lc server.LiveConfig, bucket string) *liveGateway {
	t.Helper()
	srv := servertest.Start(t, servertest.Options{Live: lc})
	cp := credentials.NewStaticCredentialsProvider(srv.RootAccessKey, srv.RootSecretKey, "")
	g := &liveGateway{srv: srv, s3: s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true, Credentials: cp, RetryMaxAttempts: 1})}
	if _, err := g.s3.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return g
}

func (g *liveGateway) put(t *testing.T, bucket, key, body string) {
	t.Helper()
	if _, err := g.s3.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader(body)}); err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
}

// waitListeners polls until n live streams are registered (bounded).
func waitListeners(t *testing.T, srv *server.Server, n int) {
	t.Helper()
	for range 1000 {
		if srv.LiveListeners() == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("live listeners: %d, want %d", srv.LiveListeners(), n)
}

// openStream sends a SigV4-signed GET /{bucket}?<query> and returns the
// response, whose body is the stream.
func openStream(t *testing.T, ctx context.Context, g *liveGateway, bucket string, q url.Values, accept string, hc *http.Client) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.srv.URL+"/"+bucket+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	creds := aws.Credentials{AccessKeyID: g.srv.RootAccessKey, SecretAccessKey: g.srv.RootSecretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptySHA256, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", req.URL, err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// liveRecord is what the tests read of a record.
type liveRecord struct {
	EventName string `json:"eventName"`
	S3        struct {
		Bucket struct{ Name string } `json:"bucket"`
		Object struct {
			Key  string `json:"key"`
			Size int64  `json:"size"`
		} `json:"object"`
	} `json:"s3"`
}

// ndjsonMessage is one line of the MinIO-compatible stream.
type ndjsonMessage struct {
	Records []liveRecord
	Err     *struct {
		Code    string
		Dropped int64
	}
}

func TestLiveMinioListen(t *testing.T) {
	const bucket = "live-minio"
	g := startLive(t, server.LiveConfig{}, bucket)
	u, _ := url.Parse(g.srv.URL)
	mc, err := minio.New(u.Host, &minio.Options{Creds: miniocreds.NewStaticV4(g.srv.RootAccessKey, g.srv.RootSecretKey, ""),
		Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := mc.ListenBucketNotification(ctx, bucket, "in/", ".txt", []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"})
	waitListeners(t, g.srv.Server, 1)

	g.put(t, bucket, "out/skip.txt", "x") // prefix does not match
	g.put(t, bucket, "in/skip.bin", "x")  // suffix does not match
	g.put(t, bucket, "in/a.txt", "hello") // delivered
	if _, err := g.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("in/a.txt")}); err != nil {
		t.Fatal(err)
	}
	nextEvents(t, ch, bucket, []listenWant{{"ObjectCreated:Put", "in/a.txt", 5}, {"ObjectRemoved:Delete", "in/a.txt", -1}})
	cancel()
	waitListeners(t, g.srv.Server, 0)
}

func TestLiveSSE(t *testing.T) {
	const bucket = "live-sse"
	g := startLive(t, server.LiveConfig{}, bucket)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	resp := openStream(t, ctx, g, bucket, url.Values{"events": {"s3:ObjectCreated:Put"}, "ping": {"1"}}, "text/event-stream", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	waitListeners(t, g.srv.Server, 1)
	g.put(t, bucket, "sse/key", "abc")

	sc := bufio.NewScanner(resp.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue // keep-alive comments and blank separators
		}
		if event != "s3" {
			t.Fatalf("event %q before data %s", event, data)
		}
		var m ndjsonMessage
		if err := json.Unmarshal([]byte(data), &m); err != nil || len(m.Records) != 1 {
			t.Fatalf("data %s: %v", data, err)
		}
		if k := m.Records[0].S3.Object.Key; k != "sse/key" {
			t.Fatalf("key %q, want sse/key", k)
		}
		return
	}
	t.Fatalf("stream ended without the event: %v", sc.Err())
}

func TestLiveErrors(t *testing.T) {
	const bucket = "live-errors"
	g := startLive(t, server.LiveConfig{MaxListeners: 1}, bucket)
	ctx := t.Context()
	for _, tc := range []struct {
		name, bucket string
		q            url.Values
		status       int
		code         string
	}{
		{"bad event", bucket, url.Values{"events": {"s3:ObjectCreated:Bogus"}}, 400, "InvalidArgument"},
		{"bad ping", bucket, url.Values{"events": {""}, "ping": {"0"}}, 400, "InvalidArgument"},
		{"no bucket", "live-missing", url.Values{"events": {""}}, 404, "NoSuchBucket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := openStream(t, ctx, g, tc.bucket, tc.q, "", nil)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(body), "<Code>"+tc.code+"</Code>") {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
		})
	}
	t.Run("too many listeners", func(t *testing.T) {
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		first := openStream(t, sctx, g, bucket, url.Values{"events": {""}}, "", nil)
		if first.StatusCode != http.StatusOK {
			t.Fatalf("first stream: %d", first.StatusCode)
		}
		waitListeners(t, g.srv.Server, 1)
		resp := openStream(t, ctx, g, bucket, url.Values{"events": {""}}, "", nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "<Code>SlowDown</Code>") {
			t.Fatalf("got %d %s, want 503 SlowDown", resp.StatusCode, body)
		}
	})
}

// TestLiveNoEventForFailedWrite checks that a write the store refused
// publishes nothing: the first event the stream carries is the next good PUT.
func TestLiveNoEventForFailedWrite(t *testing.T) {
	const bucket = "live-failed"
	g := startLive(t, server.LiveConfig{}, bucket)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	resp := openStream(t, ctx, g, bucket, url.Values{"events": {""}}, "", nil)
	waitListeners(t, g.srv.Server, 1)

	wrong := md5.Sum([]byte("something else"))
	_, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("bad"),
		Body: strings.NewReader("body"), ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrong[:]))})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "BadDigest" {
		t.Fatalf("PUT with a wrong Content-MD5: %v, want BadDigest", err)
	}
	g.put(t, bucket, "good", "body")

	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var m ndjsonMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if len(m.Records) == 0 {
			continue
		}
		if k := m.Records[0].S3.Object.Key; k != "good" {
			t.Fatalf("first event is for %q, want good", k)
		}
		return
	}
	t.Fatalf("stream ended: %v", sc.Err())
}

// TestLiveShutdown checks that an open stream does not hold the server's
// shutdown for its ShutdownTimeout: Stop returns (it would fail the test
// through servertest if the graceful shutdown timed out).
func TestLiveShutdown(t *testing.T) {
	const bucket = "live-stop"
	srv := servertest.Start(t, servertest.Options{ShutdownTimeout: time.Hour})
	g := &liveGateway{srv: srv, s3: s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.RootAccessKey, srv.RootSecretKey, "")})}
	if _, err := g.s3.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	resp := openStream(t, t.Context(), g, bucket, url.Values{"events": {""}}, "", nil)
	waitListeners(t, srv.Server, 1)
	srv.Stop()
	// The stream ended: the body reaches its end instead of blocking.
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Logf("stream ended with %v", err)
	}
}

// listenWant is one event a listener must see next: its name (suffix),
// key, and object size (-1: not checked).
type listenWant struct {
	name, key string
	size      int64
}

// nextEvents reads one record per want from a minio-go listen channel, in
// order, waiting a bounded time for each.
func nextEvents(t *testing.T, ch <-chan notification.Info, bucket string, want []listenWant) {
	t.Helper()
	for _, w := range want {
		select {
		case info, ok := <-ch:
			if !ok {
				t.Fatal("stream closed")
			}
			if info.Err != nil {
				t.Fatalf("listen: %v", info.Err)
			}
			if len(info.Records) != 1 {
				t.Fatalf("got %d records, want 1", len(info.Records))
			}
			r := info.Records[0]
			if !strings.HasSuffix(r.EventName, w.name) || r.S3.Object.Key != w.key || r.S3.Bucket.Name != bucket {
				t.Fatalf("got %s %s/%s, want %s %s/%s", r.EventName, r.S3.Bucket.Name, r.S3.Object.Key, w.name, bucket, w.key)
			}
			if w.size >= 0 && r.S3.Object.Size != w.size {
				t.Errorf("%s: size %d, want %d", w.name, r.S3.Object.Size, w.size)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no event for %s %s", w.name, w.key)
		}
	}
}
