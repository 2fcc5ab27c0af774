package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// send signs req with aws-sdk-go-v2's SigV4 signer (UNSIGNED-PAYLOAD) and
// sends it.
func send(t *testing.T, creds aws.Credentials, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, body, err := trySend(http.DefaultClient, creds, req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func trySend(c *http.Client, creds aws.Credentials, req *http.Request) (*http.Response, []byte, error) {
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := v4.NewSigner().SignHTTP(req.Context(), creds, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
		return nil, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func rootCreds(r *servertest.Running) aws.Credentials {
	return aws.Credentials{AccessKeyID: r.RootAccessKey, SecretAccessKey: r.RootSecretKey}
}

// TestGracefulShutdownFinishesInFlightPut cancels the server's context while
// a PUT's body is still trickling in, and checks that the PUT completes with
// 200, that shutdown waits for it, and that the object is there after a
// restart.
func TestGracefulShutdownFinishesInFlightPut(t *testing.T) {
	dir := t.TempDir()
	srv := servertest.Start(t, servertest.Options{DataDir: dir})
	creds := rootCreds(srv)
	if resp, body := send(t, creds, newRequest(t, "PUT", srv.URL+"/bkt", nil)); resp.StatusCode != 200 {
		t.Fatalf("create bucket: %d %s", resp.StatusCode, body)
	}

	payload := bytes.Repeat([]byte("cairn-"), 20000) // 120000 bytes
	pr, pw := io.Pipe()
	req := newRequest(t, "PUT", srv.URL+"/bkt/slow", pr)
	req.ContentLength = int64(len(payload))
	// With Expect: 100-continue the server answers "100 Continue" when the
	// handler starts reading the body: then the request is surely in flight
	// (not merely queued in the listen backlog, which a shutdown resets).
	req.Header.Set("Expect", "100-continue")
	reading := make(chan struct{})
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		Got100Continue: func() { close(reading) },
	}))
	type result struct {
		status int
		body   []byte
		err    error
	}
	putDone := make(chan result, 1)
	go func() {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, ExpectContinueTimeout: time.Minute}}
		resp, body, err := trySend(c, creds, req)
		if err != nil {
			putDone <- result{err: err}
			return
		}
		putDone <- result{status: resp.StatusCode, body: body}
	}()
	select {
	case <-reading:
	case r := <-putDone:
		t.Fatalf("PUT finished before its body was sent: %d %s %v", r.status, r.body, r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("no 100 Continue from the server")
	}
	half := len(payload) / 2
	if _, err := pw.Write(payload[:half]); err != nil {
		t.Fatal(err)
	}

	stopped := make(chan struct{})
	go func() {
		srv.Stop() // cancels Run's context and waits for Run
		close(stopped)
	}()

	// Shutdown must wait for the PUT.
	select {
	case <-stopped:
		t.Fatal("server stopped while a PUT was in flight")
	case r := <-putDone:
		t.Fatalf("PUT finished before its body was sent: %d %s %v", r.status, r.body, r.err)
	case <-time.After(300 * time.Millisecond):
	}

	if _, err := pw.Write(payload[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	select {
	case r := <-putDone:
		if r.err != nil || r.status != 200 {
			t.Fatalf("in-flight PUT: got %d %s %v, want 200", r.status, r.body, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("in-flight PUT did not finish")
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop after the PUT finished")
	}

	// The object survived the shutdown intact.
	srv2 := servertest.Start(t, servertest.Options{DataDir: dir})
	resp, body := send(t, rootCreds(srv2), newRequest(t, "GET", srv2.URL+"/bkt/slow", nil))
	if resp.StatusCode != 200 || !bytes.Equal(body, payload) {
		t.Errorf("GET after restart: %d, %d bytes (want 200, %d bytes)", resp.StatusCode, len(body), len(payload))
	}
}

func TestRouting(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	creds := rootCreds(srv)

	resp, body := send(t, creds, newRequest(t, "GET", srv.URL+"/admin/user?format=json&uid=root", nil))
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"user_id":"root"`) || !strings.Contains(string(body), `"admin":true`) {
		t.Errorf("admin user info: %d %s", resp.StatusCode, body)
	}
	resp, body = send(t, creds, newRequest(t, "GET", srv.URL+"/admin/user?format=json&uid=nobody", nil))
	if resp.StatusCode != 404 || !strings.Contains(string(body), `"Code":"NoSuchUser"`) {
		t.Errorf("admin error is not RGW JSON: %d %s", resp.StatusCode, body)
	}
	resp, body = send(t, creds, newRequest(t, "GET", srv.URL+"/", nil))
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<ListAllMyBucketsResult") {
		t.Errorf("S3 ListBuckets: %d %s", resp.StatusCode, body)
	}
	// "admin" would be a bucket whose path-style URLs reach the admin API.
	resp, body = send(t, creds, newRequest(t, "PUT", srv.URL+"/admin", nil))
	if resp.StatusCode != 400 || !strings.Contains(string(body), "<Code>InvalidBucketName</Code>") {
		t.Errorf("creating a bucket named admin: %d %s", resp.StatusCode, body)
	}
}

func TestRootBootstrap(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	start := func(t *testing.T, cfg server.Config) server.Root {
		t.Helper()
		cfg.Address, cfg.Logger = "127.0.0.1:0", quiet
		srv, err := server.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := srv.Close(); err != nil {
				t.Error(err)
			}
		}()
		return srv.Root()
	}

	t.Run("generated", func(t *testing.T) {
		dir := t.TempDir()
		first := start(t, server.Config{DataDir: dir})
		if !first.Created || !first.Generated || first.FromConfig || len(first.AccessKey) != 20 || len(first.SecretKey) != 40 {
			t.Fatalf("first start: %+v", first)
		}
		second := start(t, server.Config{DataDir: dir})
		if second.Created || second.Generated || second.SecretKey != "" || second.AccessKey != first.AccessKey {
			t.Errorf("second start must not report the secret again: %+v", second)
		}
		// Keys from the config are added to an existing root user.
		third := start(t, server.Config{DataDir: dir, RootAccessKey: "ENVKEY", RootSecretKey: "envsecret"})
		if !third.FromConfig || third.Generated || third.AccessKey != "ENVKEY" {
			t.Errorf("start with config keys: %+v", third)
		}
	})

	t.Run("from config", func(t *testing.T) {
		dir := t.TempDir()
		cfg := server.Config{DataDir: dir, RootAccessKey: "ENVKEY", RootSecretKey: "envsecret"}
		first := start(t, cfg)
		if !first.Created || first.Generated || !first.FromConfig || first.AccessKey != "ENVKEY" || first.SecretKey != "envsecret" {
			t.Fatalf("first start: %+v", first)
		}
		// A changed secret in the config replaces the stored one.
		srv := servertest.Start(t, servertest.Options{DataDir: dir, RootAccessKey: "ENVKEY", RootSecretKey: "newsecret"})
		resp, body := send(t, rootCreds(srv), newRequest(t, "GET", srv.URL+"/admin/user?format=json&uid=root", nil))
		if resp.StatusCode != 200 {
			t.Errorf("admin request with the new config secret: %d %s", resp.StatusCode, body)
		}
		old := aws.Credentials{AccessKeyID: "ENVKEY", SecretAccessKey: "envsecret"}
		if resp, _ := send(t, old, newRequest(t, "GET", srv.URL+"/admin/user?format=json&uid=root", nil)); resp.StatusCode != 403 {
			t.Errorf("old secret still works: %d", resp.StatusCode)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	if err := server.Default().Validate(); err != nil {
		t.Errorf("Default() is invalid: %v", err)
	}
	tests := []struct {
		name   string
		modify func(*server.Config)
		want   string
	}{
		{"no port", func(c *server.Config) { c.Address = "127.0.0.1" }, "address"},
		{"empty data dir", func(c *server.Config) { c.DataDir = "" }, "data dir"},
		{"domain with scheme", func(c *server.Config) { c.Domain = "http://x" }, "domain"},
		{"half a key pair", func(c *server.Config) { c.RootAccessKey = "A" }, "together"},
		{"empty region", func(c *server.Config) { c.Region = "" }, "region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := server.Default()
			tt.modify(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error about %q", err, tt.want)
			}
		})
	}
	// All problems are reported together.
	c := server.Config{Address: "nope"}
	err := c.Validate()
	for _, want := range []string{"data dir", "address", "region"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%+v) = %v, missing %q", c, err, want)
		}
	}
}

func TestRunTwice(t *testing.T) {
	srv, err := server.New(server.Config{DataDir: t.TempDir(), Address: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.Run(ctx); err != nil {
		t.Fatalf("Run with a done context: %v", err)
	}
	if err := srv.Run(ctx); err == nil {
		t.Error("second Run succeeded")
	}
	if err := srv.Close(); err == nil {
		t.Error("Close after Run succeeded")
	}
}
