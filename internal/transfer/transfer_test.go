package transfer_test

import (
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server/servertest"
	"github.com/cairn-s3/cairn/internal/transfer"
)

// partCounter is an http.RoundTripper that records the part numbers of
// UploadPart requests the server accepted.
type partCounter struct {
	mu   sync.Mutex
	sent map[string]int // partNumber → accepted UploadPart requests
}

func (pc *partCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	q := req.URL.Query()
	if err == nil && req.Method == http.MethodPut && q.Has("uploadId") && q.Has("partNumber") && resp.StatusCode == http.StatusOK {
		pc.mu.Lock()
		pc.sent[q.Get("partNumber")]++
		pc.mu.Unlock()
	}
	return resp, err
}

func newS3(srv *servertest.Running, rt http.RoundTripper) *s3.Client {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		BaseEndpoint:               aws.String(srv.URL),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(srv.RootAccessKey, srv.RootSecretKey, ""),
		HTTPClient:                 &http.Client{Transport: rt, Timeout: 2 * time.Minute},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// writeRandom writes size pseudo-random bytes to a new file in dir and
// returns its path and SHA-256.
func writeRandom(t testing.TB, dir string, size int64) (string, [32]byte) {
	t.Helper()
	path := filepath.Join(dir, "src.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	r := rand.NewChaCha8([32]byte{1})
	if _, err := io.CopyN(io.MultiWriter(f, h), r, size); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return path, sum
}

func fileSHA(t testing.TB, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

func mkBucket(t testing.TB, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

func TestUploadDownload256MiB(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	c := newS3(srv, nil)
	mkBucket(t, c, "big")
	dir := t.TempDir()
	src, want := writeRandom(t, dir, 256<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var moved atomic.Int64
	tc := transfer.New(c, transfer.Options{Parallel: 8, StateDir: t.TempDir(), Progress: func(n int64) { moved.Add(n) }})
	if err := tc.Upload(ctx, src, "big", "dir/obj.bin"); err != nil {
		t.Fatal(err)
	}
	if moved.Load() != 256<<20 {
		t.Errorf("progress reported %d bytes", moved.Load())
	}
	dst := filepath.Join(dir, "back.bin")
	if err := tc.Download(ctx, "big", "dir/obj.bin", dst); err != nil {
		t.Fatal(err)
	}
	if fileSHA(t, dst) != want {
		t.Fatal("downloaded file differs")
	}

	// s3→s3: CopyObject, then a multipart UploadPartCopy.
	if err := tc.Copy(ctx, "big", "dir/obj.bin", "big", "copy1"); err != nil {
		t.Fatal(err)
	}
	mp := transfer.New(c, transfer.Options{Parallel: 4, PartSize: 32 << 20, CopyThreshold: 1})
	if err := mp.Copy(ctx, "big", "dir/obj.bin", "big", "copy 2"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"copy1", "copy 2"} {
		out := filepath.Join(dir, k)
		if err := tc.Download(ctx, "big", k, out); err != nil {
			t.Fatal(err)
		}
		if fileSHA(t, out) != want {
			t.Fatalf("%s differs", k)
		}
	}
}

func TestSmallAndEmpty(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	c := newS3(srv, nil)
	mkBucket(t, c, "small")
	dir := t.TempDir()
	tc := transfer.New(c, transfer.Options{StateDir: t.TempDir()})
	ctx := context.Background()
	for _, size := range []int64{0, 1, 1 << 20} {
		src, want := writeRandom(t, dir, size)
		if err := tc.Upload(ctx, src, "small", "k"); err != nil {
			t.Fatal(size, err)
		}
		dst := filepath.Join(dir, "out")
		if err := tc.Download(ctx, "small", "k", dst); err != nil {
			t.Fatal(size, err)
		}
		if fileSHA(t, dst) != want {
			t.Fatalf("size %d: differs", size)
		}
	}
}

func TestResume(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	dir, state := t.TempDir(), t.TempDir()
	const partSize, size = 5 << 20, 64<<20 + 123 // 13 parts
	src, want := writeRandom(t, dir, size)

	first := &partCounter{sent: map[string]int{}}
	c1 := newS3(srv, first)
	mkBucket(t, c1, "res")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var done atomic.Int32
	tc := transfer.New(c1, transfer.Options{Parallel: 2, PartSize: partSize, StateDir: state, PartDone: func(int32) {
		if done.Add(1) == 4 {
			cancel()
		}
	}})
	if err := tc.Upload(ctx, src, "res", "obj"); err == nil {
		t.Fatal("interrupted upload succeeded")
	}
	if len(first.sent) < 4 || len(first.sent) >= 13 {
		t.Fatalf("first run sent %d parts, want 4..12", len(first.sent))
	}

	second := &partCounter{sent: map[string]int{}}
	c2 := newS3(srv, second)
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	if err := transfer.New(c2, transfer.Options{Parallel: 2, PartSize: partSize, StateDir: state}).Upload(ctx2, src, "res", "obj"); err != nil {
		t.Fatal(err)
	}
	for p := range first.sent {
		if second.sent[p] > 0 {
			t.Errorf("part %s was sent again", p)
		}
	}
	// A part whose response raced with the cancel can be stored by the
	// server without the counter seeing its 200; the resumed upload finds
	// it through ListParts. With 2 in flight, at most one such part.
	if n := len(first.sent) + len(second.sent); n < 12 || n > 13 {
		t.Errorf("parts sent: %d then %d, want 12 or 13 in all", len(first.sent), len(second.sent))
	}
	dst := filepath.Join(dir, "out")
	if err := transfer.New(c2, transfer.Options{}).Download(ctx2, "res", "obj", dst); err != nil {
		t.Fatal(err)
	}
	if fileSHA(t, dst) != want {
		t.Fatal("resumed upload differs")
	}
	if ents, _ := os.ReadDir(state); len(ents) != 0 {
		t.Errorf("state dir not cleaned: %v", ents)
	}
}

func TestPartSize(t *testing.T) {
	for _, tc := range []struct {
		size, want, ps int64
		ok             bool
	}{
		{100 << 20, 0, 8 << 20, true},
		{100 << 30, 0, 16 << 20, true},
		{1 << 40, 0, 128 << 20, true},
		{10 << 20, 1 << 20, 0, false},
		{10 << 20, 6 << 30, 0, false},
		{60 << 40, 0, 0, false},
	} {
		ps, err := transfer.PartSize(tc.size, tc.want)
		if (err == nil) != tc.ok || ps != tc.ps {
			t.Errorf("PartSize(%d, %d) = %d, %v", tc.size, tc.want, ps, err)
		}
	}
	if _, err := transfer.ParseLocation("s3:///k"); err == nil {
		t.Error("no bucket accepted")
	}
	if l, _ := transfer.ParseLocation("s3://b/a/b"); l.Bucket != "b" || l.Key != "a/b" {
		t.Errorf("got %+v", l)
	}
}
