package console_test

import (
	"crypto/sha256"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// pattern is an endless, deterministic byte stream that allocates nothing.
type pattern struct{ n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(p.n*7 + p.n>>11)
		p.n++
	}
	return len(b), nil
}

// heapPeak samples the heap in use until stop is called, and returns the
// largest growth over the heap at the start.
func heapPeak(t *testing.T) (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > base && ms.HeapInuse-base > peak {
					peak = ms.HeapInuse - base
				}
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

// TestLargeBodyStreams: a 256 MiB upload and download through the console
// stream: the process's heap grows by far less than the body (it is never
// buffered whole), and the bytes arrive intact.
func TestLargeBodyStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("256 MiB through the console")
	}
	const size = 256 << 20
	const bound = 64 << 20
	srv := startServer(t, servertest.Options{})
	c := rootClient(t, srv)
	c.expect(200, "PUT", "/api/s3/big-bucket", nil, nil)

	want := sha256.New()
	stop := heapPeak(t)
	req, _ := http.NewRequest("PUT", srv.ConsoleURL+"/api/s3/big-bucket/big", io.TeeReader(io.LimitReader(&pattern{}, size), want))
	req.ContentLength = size
	req.Header.Set("X-Cairn-CSRF", c.csrf)
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}
	if peak := stop(); peak > bound {
		t.Errorf("the heap grew by %d MiB during a %d MiB upload", peak>>20, size>>20)
	}

	stop = heapPeak(t)
	resp = c.do("GET", "/api/s3/big-bucket/big", nil, nil)
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	resp.Body.Close()
	if err != nil || n != size || string(got.Sum(nil)) != string(want.Sum(nil)) {
		t.Errorf("GET: %d bytes, %v, same bytes: %v", n, err, string(got.Sum(nil)) == string(want.Sum(nil)))
	}
	if peak := stop(); peak > bound {
		t.Errorf("the heap grew by %d MiB during a %d MiB download", peak>>20, size>>20)
	}
}
