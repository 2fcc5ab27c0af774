package cli

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// pubsubCall sends a SigV4-signed PubSub API request as root; it must
// answer 200.
func pubsubCall(t *testing.T, srv *servertest.Running, method, path string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	creds := aws.Credentials{AccessKeyID: srv.RootAccessKey, SecretAccessKey: srv.RootSecretKey}
	if err := v4.NewSigner().SignHTTP(req.Context(), creds, req, emptySHA256, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
	}
}

// TestWatchSubscriptionAndAdmin drives a real subscription: `cairn watch
// --subscription` prints and acks what accumulated, resumes with what came
// while it was stopped, and `cairn admin subscription|counters` see it.
func TestWatchSubscriptionAndAdmin(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{PubSub: server.PubSubConfig{Enabled: true}})
	vars, admin := s3Env(srv), adminEnv(srv)
	ok(t, vars, "mb", "s3://psbk")
	pubsubCall(t, srv, "PUT", "/topics/t")
	pubsubCall(t, srv, "PUT", "/notifications/bucket/psbk?topic=t")
	pubsubCall(t, srv, "PUT", "/subscriptions/s?topic=t")
	src := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ok(t, vars, "cp", src, "s3://psbk/one.txt")
	ok(t, vars, "cp", src, "s3://psbk/two.txt")

	var page struct {
		IsTruncated string `json:"is_truncated"`
		Events      []struct {
			ID string `json:"id"`
		} `json:"events"`
	}
	decode(t, ok(t, admin, "admin", "subscription", "pull", "--uid", "root", "--subscription", "s"), &page)
	if len(page.Events) != 2 || page.IsTruncated != "false" {
		t.Fatalf("admin pull: %+v", page)
	}
	var sub struct {
		Topic string `json:"topic"`
		Dest  struct {
			BucketName string `json:"bucket_name"`
		} `json:"dest"`
	}
	decode(t, ok(t, admin, "admin", "subscription", "get", "--uid", "root", "--subscription", "s"), &sub)
	if sub.Topic != "t" || sub.Dest.BucketName != "pubsub-root-t" {
		t.Fatalf("admin get: %+v", sub)
	}
	var counters struct {
		PubSub map[string]int64 `json:"pubsub"`
	}
	decode(t, ok(t, admin, "admin", "counters"), &counters)
	if counters.PubSub["pubsub_store_ok"] != 2 || counters.PubSub["pubsub_events"] != 2 || counters.PubSub["pubsub_event_triggered"] != 2 {
		t.Fatalf("counters: %+v", counters.PubSub)
	}

	w := startWatch(t, vars, "--subscription", "s", "--json")
	w.waitOutput(t, "two.txt")
	w.stop(t)
	if !strings.Contains(w.stdout.String(), "one.txt") {
		t.Fatalf("watch printed %q", w.stdout.String())
	}
	// Printed events were acked: nothing is left.
	decode(t, ok(t, admin, "admin", "subscription", "pull", "--uid", "root", "--subscription", "s"), &page)
	if len(page.Events) != 0 {
		t.Fatalf("after watch: %+v", page)
	}
	// What arrives while no watch runs is printed by the next one.
	ok(t, vars, "cp", src, "s3://psbk/three.txt")
	w = startWatch(t, vars, "--subscription", "s")
	out := w.waitOutput(t, "three.txt")
	w.stop(t)
	if strings.Contains(out, "one.txt") {
		t.Fatalf("acked event printed again: %q", out)
	}

	ok(t, admin, "admin", "subscription", "ack", "--uid", "root", "--subscription", "s", "--event-id", "1.000000.00000000")
	ok(t, admin, "admin", "subscription", "rm", "--uid", "root", "--subscription", "s")
	if code := exitCode(t, admin, "admin", "subscription", "get", "--uid", "root", "--subscription", "s"); code != 2 {
		t.Fatalf("get of a removed subscription exited %d, want 2", code)
	}
}
