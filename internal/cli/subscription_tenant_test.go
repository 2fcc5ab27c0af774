package cli

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// pubsubCallAs sends a SigV4-signed PubSub API request with the given
// key; it must answer 200.
func pubsubCallAs(t *testing.T, srv *servertest.Running, key, secret, method, path string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(req.Context(), creds, req, emptySHA256, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s as %s: %d", method, path, key, resp.StatusCode)
	}
}

// TestAdminSubscriptionTenants: acme$bob and bob each have a subscription
// "s" of their own bucket "bkt"; `subscription pull|rm --tenant acme --uid
// bob` reach acme's only. It needs tenant bucket names (issue 11's "core"
// part) and per-tenant subscriptions ("events").
func TestAdminSubscriptionTenants(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{PubSub: server.PubSubConfig{Enabled: true}})
	vars := adminEnv(srv)
	src := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, tenant := range []string{"", "acme"} {
		key := []string{"BOB", "ACMEBOB"}[i]
		ok(t, vars, "admin", "user", "create", "--tenant", tenant, "--uid", "bob", "--display-name", "B", "--access-key", key, "--secret", "s")
		ok(t, userEnv(srv, key, "s"), "mb", "s3://bkt")
		pubsubCallAs(t, srv, key, "s", "PUT", "/topics/t")
		pubsubCallAs(t, srv, key, "s", "PUT", "/notifications/bucket/bkt?topic=t")
		pubsubCallAs(t, srv, key, "s", "PUT", "/subscriptions/s?topic=t")
		for _, obj := range []string{"one", "two"}[:i+1] {
			ok(t, userEnv(srv, key, "s"), "cp", src, "s3://bkt/"+obj)
		}
	}
	pull := func(args ...string) int {
		var page struct {
			Events []struct {
				ID string `json:"id"`
			} `json:"events"`
		}
		decode(t, ok(t, vars, append([]string{"admin", "subscription", "pull", "--subscription", "s"}, args...)...), &page)
		return len(page.Events)
	}
	if n := pull("--tenant", "acme", "--uid", "bob"); n != 2 {
		t.Errorf("pull --tenant acme: %d events, want 2", n)
	}
	if n := pull("--uid", "acme$bob"); n != 2 {
		t.Errorf("pull --uid acme$bob: %d events, want 2", n)
	}
	if n := pull("--uid", "bob"); n != 1 {
		t.Errorf("pull --uid bob: %d events, want 1", n)
	}
	ok(t, vars, "admin", "subscription", "rm", "--tenant", "acme", "--uid", "bob", "--subscription", "s")
	if code := exitCode(t, vars, "admin", "subscription", "get", "--tenant", "acme", "--uid", "bob", "--subscription", "s"); code != 2 {
		t.Errorf("get of acme's removed subscription exited %d, want 2", code)
	}
	ok(t, vars, "admin", "subscription", "get", "--uid", "bob", "--subscription", "s")
}
