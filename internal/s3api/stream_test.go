package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// patternReader is a seekable body of a given size generated on the fly
// from a small random block, so a test can send a huge object without
// holding it (the SDK seeks to hash the payload before sending it).
type patternReader struct {
	block     []byte
	size, off int64
}

func newPatternReader(size int64) *patternReader {
	block := make([]byte, 64<<10+7) // odd length: the pattern does not align with buffers
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range block {
		block[i] = byte(rng.Uint32())
	}
	return &patternReader{block: block, size: size}
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.size-p.off)]
	n := 0
	for n < len(b) {
		n += copy(b[n:], p.block[(p.off+int64(n))%int64(len(p.block)):])
	}
	p.off += int64(n)
	return n, nil
}

func (p *patternReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += p.off
	case io.SeekEnd:
		offset += p.size
	}
	if offset < 0 {
		return 0, errors.New("negative seek")
	}
	p.off = offset
	return offset, nil
}

// heapSampler records the peak HeapInuse while a transfer runs.
type heapSampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func startHeapSampler() *heapSampler {
	s := &heapSampler{stop: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			s.peak = max(s.peak, m.HeapInuse)
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the peak.
func (s *heapSampler) Stop() uint64 {
	close(s.stop)
	s.wg.Wait()
	return s.peak
}

// TestStreamingMemory puts and gets a 1 GiB object through the whole stack
// (SDK client, HTTP, auth, checksums, store) and checks that the heap does
// not grow with the object: bodies must stream.
func TestStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 1 GiB through the stack")
	}
	const size = 1 << 30
	const bound = 64 << 20
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "big")

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	sampler := startHeapSampler()

	put, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("big"), Key: aws.String("gib"), Body: newPatternReader(size), ContentLength: aws.Int64(size),
	})
	if err != nil {
		sampler.Stop()
		t.Fatalf("PutObject: %v", err)
	}
	out, err := ts.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("big"), Key: aws.String("gib")})
	if err != nil {
		sampler.Stop()
		t.Fatalf("GetObject: %v", err)
	}
	h := md5.New()
	n, err := io.Copy(h, out.Body)
	out.Body.Close()
	peak := sampler.Stop()
	if err != nil || n != size {
		t.Fatalf("GET body: %d bytes, %v", n, err)
	}
	if got, want := `"`+hex.EncodeToString(h.Sum(nil))+`"`, aws.ToString(put.ETag); got != want {
		t.Fatalf("GET md5 %s, PUT ETag %s", got, want)
	}

	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	growth := int64(peak) - int64(before.HeapInuse)
	t.Logf("heap in use: %d MiB before, %d MiB peak (growth %d MiB); allocated during transfer: %d MiB",
		before.HeapInuse>>20, peak>>20, growth>>20, (after.TotalAlloc-before.TotalAlloc)>>20)
	if growth > bound {
		t.Fatalf("heap grew by %d MiB moving a 1 GiB object, bound %d MiB", growth>>20, bound>>20)
	}
}

// benchmarkObject is the body size of the object benchmarks.
const benchmarkObject = 4 << 10

// BenchmarkPutObject4K measures a 4 KiB PutObject through the SDK, HTTP on
// loopback, signature and checksum verification, and a durable store commit.
func BenchmarkPutObject4K(b *testing.B) {
	ts := newTestServer(b)
	ctx := context.Background()
	ts.CreateBucket(b, ts.Root, "bench")
	body := bytes.Repeat([]byte("b"), benchmarkObject)
	b.SetBytes(benchmarkObject)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String("bench"), Key: aws.String("obj"), Body: bytes.NewReader(body),
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetObject4K measures a 4 KiB GetObject with the SDK's default
// response checksum validation.
func BenchmarkGetObject4K(b *testing.B) {
	ts := newTestServer(b)
	ctx := context.Background()
	ts.CreateBucket(b, ts.Root, "bench")
	ts.PutObject(b, ts.Root, "bench", "obj", bytes.Repeat([]byte("b"), benchmarkObject))
	b.SetBytes(benchmarkObject)
	b.ReportAllocs()
	for b.Loop() {
		out, err := ts.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String("obj")})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, out.Body); err != nil {
			b.Fatal(err)
		}
		out.Body.Close()
	}
}
