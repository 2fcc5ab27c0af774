package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/syncbuf"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

func sdkClient(srv *servertest.Running) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(srv.RootAccessKey, srv.RootSecretKey, ""),
		Retryer:      aws.NopRetryer{},
	})
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsEndpoint: SDK requests show up in GET /metrics on the S3
// listener and on the metrics listener, keys never become series, the
// "metrics" bucket is reserved, and the access log has one line per request.
func TestMetricsEndpoint(t *testing.T) {
	var access syncbuf.Buffer
	srv := servertest.Start(t, servertest.Options{
		Metrics:   server.MetricsConfig{Address: "127.0.0.1:0"},
		AccessLog: slog.New(slog.NewJSONHandler(&access, nil)),
	})
	c := sdkClient(srv)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt1")}); err != nil {
		t.Fatal(err)
	}
	const keys = 40
	for i := range keys {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt1"), Key: aws.String(fmt.Sprintf("key-%d", i)),
			Body: strings.NewReader("0123456789")}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("key-0")})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, out.Body)
	out.Body.Close()
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt1"), Key: aws.String("missing")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchKey" {
		t.Fatalf("GetObject missing: %v, want NoSuchKey", err)
	}
	// A bucket named "metrics" is reserved.
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("metrics")}); err == nil {
		t.Error(`CreateBucket "metrics" succeeded, want an error (reserved)`)
	}

	status, body := httpGet(t, srv.URL+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics = %d", status)
	}
	for _, want := range []string{
		`cairn_s3_requests_total{code="",op="PutObject",status="2xx"} 40`,
		`cairn_s3_requests_total{code="",op="GetObject",status="2xx"} 1`,
		`cairn_s3_requests_total{code="NoSuchKey",op="GetObject",status="4xx"} 1`,
		`cairn_s3_request_bytes_total{direction="in",op="PutObject"} 400`,
		`cairn_s3_request_bytes_total{direction="out",op="GetObject"}`,
		`cairn_s3_request_duration_seconds_bucket{op="PutObject",le="+Inf"} 40`,
		`cairn_s3_requests_in_flight 1`, // this scrape
		`cairn_storage_buckets 1`,
		`cairn_storage_objects 40`,
		`cairn_storage_bytes 400`,
		`cairn_pubsub_push_ok_total 0`,
		`cairn_pubsub_push_failed_total 0`,
		`cairn_pubsub_push_fail_total 0`,
		`cairn_pubsub_event_triggered_total 0`,
		`cairn_pubsub_event_lost_total 0`,
		`cairn_pubsub_push_pending 0`,
		`go_goroutines`,
		`process_cpu_seconds_total`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "key-1") || strings.Contains(body, `"bkt1"`) {
		t.Error("/metrics names a key or a bucket")
	}
	if n := strings.Count(body, "\ncairn_s3_requests_total{"); n > 6 {
		t.Errorf("%d request series after %d distinct keys, want a handful", n, keys)
	}

	// Only exactly GET /metrics is the metrics: a query makes it S3.
	if status, body := httpGet(t, srv.URL+"/metrics?list-type=2"); status == http.StatusOK || !strings.Contains(body, "<Error>") {
		t.Errorf("GET /metrics?list-type=2 = %d %q, want an S3 error", status, body)
	}
	// The metrics listener.
	addr := srv.Server.MetricsAddr()
	if addr == nil {
		t.Fatal("no metrics listener")
	}
	if status, body := httpGet(t, "http://"+addr.String()+"/metrics"); status != http.StatusOK || !strings.Contains(body, "cairn_s3_requests_total") {
		t.Errorf("metrics listener: %d", status)
	}

	// Access log: one JSON line per S3 request (not for /metrics).
	lines := strings.Split(strings.TrimSpace(access.String()), "\n")
	if want := 1 + keys + 2 + 1 + 1; len(lines) != want {
		t.Errorf("access log has %d lines, want %d", len(lines), want)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["op"] != "PutObject" || rec["bucket"] != "bkt1" || rec["status"] != float64(200) || rec["user"] != "root" ||
		rec["bytes_in"] != float64(10) || rec["request_id"] == "" || rec["duration_ms"] == nil {
		t.Errorf("access log line = %v", rec)
	}
}

// TestMetricsDisabled: with metrics off, /metrics is an S3 request.
func TestMetricsDisabled(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Metrics: server.MetricsConfig{Disabled: true}})
	if status, body := httpGet(t, srv.URL+"/metrics"); status == http.StatusOK || strings.Contains(body, "cairn_") {
		t.Errorf("GET /metrics with metrics disabled = %d", status)
	}
}
