package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/cairn-s3/cairn/internal/server/servertest"
	"github.com/cairn-s3/cairn/internal/tmpfstest"
)

// testBallast is the reserve of the disk-full tests: small, so that the
// tmpfs (testDiskSize) holds a few reserves and some data, yet more than the
// metadata store may have to replay from its WAL at a start (two 8 MiB
// memtables and a margin).
const testBallast = 24 << 20

// testDiskSize is the size of the tmpfs the disk-full tests fill.
const testDiskSize = 160 << 20

// fullDisk is a server whose data directory sits on a small tmpfs, with what
// it acknowledged.
type fullDisk struct {
	t     *testing.T
	mount string
	srv   *servertest.Running
	acked map[string][]byte // key → body of every PUT answered 200
}

func newFullDisk(t *testing.T) *fullDisk {
	mount := tmpfstest.Mount(t, fmt.Sprintf("%dk", testDiskSize>>10))
	d := &fullDisk{t: t, mount: mount, acked: map[string][]byte{}}
	d.start()
	resp, body := send(t, rootCreds(d.srv), newRequest(t, http.MethodPut, d.srv.URL+"/full", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create bucket: %d %s", resp.StatusCode, body)
	}
	return d
}

func (d *fullDisk) start() {
	d.srv = servertest.Start(d.t, servertest.Options{DataDir: filepath.Join(d.mount, "data"), BallastSize: testBallast})
}

func (d *fullDisk) restart() {
	d.srv.Stop()
	d.start()
}

// put answers the status and the S3 error code of one PUT.
func (d *fullDisk) put(key string, body []byte) (int, string) {
	resp, out := send(d.t, rootCreds(d.srv), newRequest(d.t, http.MethodPut, d.srv.URL+"/full/"+key, bytes.NewReader(body)))
	switch resp.StatusCode {
	case http.StatusOK:
		d.acked[key] = body
		return resp.StatusCode, ""
	case http.StatusInsufficientStorage:
		if !bytes.Contains(out, []byte("<Code>XMinioStorageFull</Code>")) {
			d.t.Fatalf("PUT %s: 507 without the storage-full code: %s", key, out)
		}
		return resp.StatusCode, "XMinioStorageFull"
	}
	d.t.Fatalf("PUT %s (%d bytes): %d %s, want 200 or 507", key, len(body), resp.StatusCode, out)
	return 0, ""
}

// fill PUTs objects of size bytes until the server refuses one, and
// returns how many it took.
func (d *fullDisk) fill(prefix string, size, limit int) int {
	for i := range limit {
		if status, _ := d.put(fmt.Sprintf("%s%05d", prefix, i), randomBody(size)); status != http.StatusOK {
			return i
		}
	}
	d.t.Fatalf("%d PUTs of %d bytes on a %d MiB disk: none refused", limit, size, testDiskSize>>20)
	return 0
}

// verify GETs every acknowledged object.
func (d *fullDisk) verify() {
	for key, want := range d.acked {
		resp, got := send(d.t, rootCreds(d.srv), newRequest(d.t, http.MethodGet, d.srv.URL+"/full/"+key, nil))
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
			d.t.Fatalf("GET %s: %d, %d bytes (want 200, %d identical bytes)", key, resp.StatusCode, len(got), len(want))
		}
	}
}

// deleteSome deletes every n-th acknowledged object.
func (d *fullDisk) deleteSome(n int) {
	i := 0
	for key := range d.acked {
		if i++; i%n != 0 {
			continue
		}
		resp, body := send(d.t, rootCreds(d.srv), newRequest(d.t, http.MethodDelete, d.srv.URL+"/full/"+key, nil))
		if resp.StatusCode != http.StatusNoContent {
			d.t.Fatalf("DELETE %s on a full disk: %d %s", key, resp.StatusCode, body)
		}
		delete(d.acked, key)
	}
}

// fillForeign fills the rest of the disk with a file outside the data
// directory, as another program would, and returns a func that removes it.
func (d *fullDisk) fillForeign() func() {
	path := filepath.Join(d.mount, "filler")
	f, err := os.Create(path)
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for range testDiskSize / len(chunk) { // at most the disk's size in chunks
		if _, err = f.Write(chunk); err != nil {
			break
		}
	}
	if !errors.Is(err, syscall.ENOSPC) {
		d.t.Fatalf("filling the disk: %v, want ENOSPC", err)
	}
	return func() {
		if err := os.Remove(path); err != nil {
			d.t.Fatal(err)
		}
	}
}

func randomBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return b
}

// TestDiskFull fills a real small disk through the S3 API, once with data
// files and once with bodies kept inline in the metadata store: writes are
// refused with 507 XMinioStorageFull (never a 500 or a crash), reads and
// deletes keep working, deletes make room for writes again, the server
// restarts on a disk another program filled, and every acknowledged object
// reads back identical.
func TestDiskFull(t *testing.T) {
	for _, tc := range []struct {
		name  string
		size  int
		limit int
	}{
		{"data files", 2 << 20, 80},
		{"inline", 48 << 10, 4000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newFullDisk(t)
			if n := d.fill("a", tc.size, tc.limit); n == 0 {
				t.Fatal("the first PUT was refused on an empty disk")
			}
			d.verify()

			d.deleteSome(2)
			// Deleted inline bodies free their space when a compaction
			// drops them (the refusal asked for the flush that starts
			// one): the PUT is retried a bounded number of times meanwhile.
			status := 0
			for range 60 {
				if status, _ = d.put("after-deletes", randomBody(tc.size)); status != http.StatusInsufficientStorage {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			if status != http.StatusOK {
				t.Fatalf("PUT after deleting half the objects: %d, want 200", status)
			}

			// Another program takes the rest of the disk: deletes still
			// commit (the ballast gives the metadata store room), and the
			// server restarts.
			unfill := d.fillForeign()
			if status, _ := d.put("on-full-disk", randomBody(tc.size)); status != http.StatusInsufficientStorage {
				t.Fatalf("PUT on a full disk: %d, want 507", status)
			}
			d.deleteSome(3)
			d.restart()
			d.verify()
			d.deleteSome(3)
			unfill()
			d.fill("b", tc.size, tc.limit)

			// The disk fills while the server is down, its ballast in
			// place: the start releases it before the metadata store
			// replays its log.
			if _, err := os.Stat(filepath.Join(d.srv.DataDir, "ballast")); err != nil {
				t.Fatalf("ballast not re-created once space was back: %v", err)
			}
			d.srv.Stop()
			unfill = d.fillForeign()
			d.start()
			d.verify()
			d.deleteSome(3)
			unfill()
			if status, _ := d.put("after-restart", randomBody(tc.size)); status != http.StatusOK {
				t.Fatalf("PUT once space was back: %d, want 200", status)
			}
			d.restart()
			d.verify()
		})
	}
}

// TestDiskFullNotRetried checks that an SDK gives up on 507 at once: the
// refusal reaches the caller as XMinioStorageFull after one attempt.
func TestDiskFullNotRetried(t *testing.T) {
	d := newFullDisk(t)
	unfill := d.fillForeign()
	defer unfill()
	var attempts int
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(d.srv.URL), Region: "us-east-1", UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return rootCreds(d.srv), nil }),
		HTTPClient:  countingClient{&attempts},
	})
	_, err := client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("full"), Key: aws.String("k"), Body: strings.NewReader("x")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "XMinioStorageFull" {
		t.Fatalf("PutObject on a full disk: %v, want XMinioStorageFull", err)
	}
	if attempts != 1 {
		t.Fatalf("the SDK sent %d attempts, want 1 (507 must not be retried)", attempts)
	}
}

type countingClient struct{ n *int }

func (c countingClient) Do(r *http.Request) (*http.Response, error) {
	*c.n++
	return http.DefaultClient.Do(r)
}
