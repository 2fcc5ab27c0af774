package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// pubsub sends a SigV4-signed PubSub API request as root and returns the
// status and body.
func (s *server) pubsub(method, path string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequestWithContext(s.t.Context(), method, s.URL()+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	creds := aws.Credentials{AccessKeyID: rootAccessKey, SecretAccessKey: rootSecretKey}
	if err := v4.NewSigner().SignHTTP(req.Context(), creds, req, emptySHA256, "s3", "us-east-1", time.Now()); err != nil {
		s.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func (s *server) pubsubOK(method, path string) []byte {
	s.t.Helper()
	status, body := s.pubsub(method, path)
	if status != http.StatusOK {
		s.t.Fatalf("%s %s: %d %s\nlog:\n%s", method, path, status, body, s.log())
	}
	return body
}

// pullAll pages through a subscription with markers and returns how many
// events each key has.
func (s *server) pullAll(sub string) map[string]int {
	s.t.Helper()
	keys := map[string]int{}
	marker := ""
	for range 10_000 {
		var p struct {
			NextMarker  string `json:"next_marker"`
			IsTruncated string `json:"is_truncated"`
			Events      []struct {
				Info struct {
					Key struct{ Name string } `json:"key"`
				} `json:"info"`
			} `json:"events"`
		}
		if err := json.Unmarshal(s.pubsubOK("GET", "/subscriptions/"+sub+"?events&max-entries=1000&marker="+marker), &p); err != nil {
			s.t.Fatal(err)
		}
		for _, e := range p.Events {
			keys[e.Info.Key.Name]++
		}
		if p.IsTruncated != "true" {
			return keys
		}
		marker = p.NextMarker
	}
	s.t.Fatal("paging did not end")
	return nil
}

// TestPubSubCrash kills the cairn process with SIGKILL while 8 clients PUT
// into a bucket bound to a pull subscription, restarts it, and checks that
// the subscription holds an event for every acknowledged PUT, none twice.
func TestPubSubCrash(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, dataDir, "--pubsub")
	ctx := context.Background()
	client := srv.s3Client(func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("psbkt")}); err != nil {
		t.Fatal(err)
	}
	srv.pubsubOK("PUT", "/topics/crash")
	srv.pubsubOK("PUT", "/notifications/bucket/psbkt?topic=crash&events=OBJECT_CREATE")
	srv.pubsubOK("PUT", "/subscriptions/crash-sub?topic=crash")

	acked := putUntilKilled(t, srv, client, "psbkt", 600)

	srv.start()
	got := srv.pullAll("crash-sub")
	var missing []string
	for _, k := range acked {
		if got[k] == 0 {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged PUTs have no event after the restart (first %s)", len(missing), len(acked), missing[0])
	}
	for k, n := range got {
		if n != 1 {
			t.Fatalf("%s has %d events", k, n)
		}
	}
	// The log goes on after the restart.
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("psbkt"), Key: aws.String("after"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if n := srv.pullAll("crash-sub")["after"]; n != 1 {
		t.Fatalf("event after restart: %d", n)
	}
	t.Logf("FIGURES acknowledged=%d events=%d (incl. committed but unacknowledged)", len(acked), len(got))
}

// TestWatchBinary runs the built `cairn watch` against the built server
// and checks it prints the PUT it waited for.
func TestWatchBinary(t *testing.T) {
	srv := startServer(t, t.TempDir())
	ctx := context.Background()
	client := srv.s3Client()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("watched")}); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	var mu sync.Mutex
	cmd := exec.Command(cairnBin, "watch", "s3://watched", "--json", "--endpoint", srv.URL())
	cmd.Env = []string{"AWS_ACCESS_KEY_ID=" + rootAccessKey, "AWS_SECRET_ACCESS_KEY=" + rootSecretKey, "AWS_REGION=us-east-1"}
	cmd.Stdout, cmd.Stderr = &lockedWriter{mu: &mu, w: &out}, &lockedWriter{mu: &mu, w: &errOut}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// The watch connects at some point: PUT until one of the PUTs shows.
	for i := range 300 {
		key := fmt.Sprintf("awaited-%d.txt", i)
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("watched"), Key: aws.String(key), Body: strings.NewReader("hello")}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		printed := out.String()
		mu.Unlock()
		if strings.Contains(printed, `"key":"`+key+`"`) {
			return
		}
	}
	mu.Lock()
	defer mu.Unlock()
	t.Fatalf("cairn watch printed no PUT; stdout %q, stderr %q", out.String(), errOut.String())
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
