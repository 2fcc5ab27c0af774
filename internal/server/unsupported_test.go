package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/syncbuf"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestUnsupportedIsNotAnError: probing a sub-resource Cairn does not serve
// answers 501 NotImplemented and logs nothing at ERROR level (nothing failed
// in the gateway); an anonymous probe is refused before it learns that.
func TestUnsupportedIsNotAnError(t *testing.T) {
	var logs syncbuf.Buffer
	srv := servertest.Start(t, servertest.Options{
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	creds := rootCreds(srv)
	if resp, body := send(t, creds, newRequest(t, "PUT", srv.URL+"/probe", nil)); resp.StatusCode != 200 {
		t.Fatalf("create bucket: %d %s", resp.StatusCode, body)
	}
	resp, body := send(t, creds, newRequest(t, "GET", srv.URL+"/probe?replication", nil))
	if resp.StatusCode != http.StatusNotImplemented || !strings.Contains(string(body), "<Code>NotImplemented</Code>") {
		t.Fatalf("GET ?replication: %d %s", resp.StatusCode, body)
	}
	resp, err := http.Get(srv.URL + "/probe?replication")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous GET ?replication: %d, want 403", resp.StatusCode)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("an unsupported sub-resource was logged as an error:\n%s", logs.String())
	}
}

// TestAdminAuthenticatesFirst: an admin path Cairn does not serve is
// refused to an anonymous caller (403), not answered 501.
func TestAdminAuthenticatesFirst(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	resp, err := http.Get(srv.URL + "/admin/log?format=json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"Code":"AccessDenied"`) {
		t.Errorf("anonymous GET /admin/log: %d %s, want 403 AccessDenied", resp.StatusCode, body)
	}
	resp, body = send(t, rootCreds(srv), newRequest(t, "GET", srv.URL+"/admin/log?format=json", nil))
	if resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("admin GET /admin/log: %d %s, want 501", resp.StatusCode, body)
	}
}

// TestMinIOAdminPaths: mc admin's requests (MinIO's admin API, signed by
// madmin with service "s3" and an empty region) answer NotImplemented in
// the admin API's JSON, not a signature error; "minio" is reserved.
func TestMinIOAdminPaths(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	req := newRequest(t, "GET", srv.URL+"/minio/admin/v3/info", nil)
	const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	req.Header.Set("X-Amz-Content-Sha256", emptySHA)
	if err := v4.NewSigner().SignHTTP(context.Background(), rootCreds(srv), req, emptySHA, "s3", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var doc struct{ Code string }
	if resp.StatusCode != http.StatusNotImplemented || json.Unmarshal(body, &doc) != nil || doc.Code != "NotImplemented" {
		t.Errorf("mc admin info: %d %s, want 501 NotImplemented", resp.StatusCode, body)
	}
	resp2, body2 := send(t, aws.Credentials{AccessKeyID: srv.RootAccessKey, SecretAccessKey: srv.RootSecretKey},
		newRequest(t, "PUT", srv.URL+"/minio", nil))
	if resp2.StatusCode != http.StatusBadRequest || !strings.Contains(string(body2), "<Code>InvalidBucketName</Code>") {
		t.Errorf("creating a bucket named minio: %d %s", resp2.StatusCode, body2)
	}
}
