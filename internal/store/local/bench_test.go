package local

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/cairn-s3/cairn/internal/store"
)

var benchSizes = []struct {
	name string
	n    int
}{
	{"4KiB", 4 << 10},
	{"1MiB", 1 << 20},
	{"16MiB", 16 << 20},
}

// benchKeys bounds the disk a PUT benchmark uses: writes cycle over this
// many keys, so overwrites reclaim the old bodies.
const benchKeys = 16

func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.CreateBucket(context.Background(), store.Bucket{Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkPutObject(b *testing.B) {
	for _, sz := range benchSizes {
		body := bytes.Repeat([]byte("a"), sz.n)
		b.Run(sz.name, func(b *testing.B) {
			s := benchStore(b)
			ctx := context.Background()
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				key := fmt.Sprintf("k%d", i%benchKeys)
				if _, err := s.PutObject(ctx, "bench", key, bytes.NewReader(body), store.PutOptions{Size: int64(sz.n)}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(sz.name+"/parallel", func(b *testing.B) {
			s := benchStore(b)
			ctx := context.Background()
			var next atomic.Int64
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			// Writers wait on fsync, not CPU: more of them than cores
			// shows whether their commits share syncs.
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					key := fmt.Sprintf("k%d", next.Add(1)%benchKeys)
					if _, err := s.PutObject(ctx, "bench", key, bytes.NewReader(body), store.PutOptions{Size: int64(sz.n)}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkGetObject(b *testing.B) {
	for _, sz := range benchSizes {
		body := bytes.Repeat([]byte("a"), sz.n)
		get := func(b *testing.B, s *Store, buf []byte) {
			_, rc, err := s.GetObject(context.Background(), "bench", "k", store.GetOptions{})
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{rc}, buf)
			rc.Close()
			if err != nil || n != int64(sz.n) {
				b.Fatalf("read %d bytes: %v", n, err)
			}
		}
		setup := func(b *testing.B) *Store {
			s := benchStore(b)
			if _, err := s.PutObject(context.Background(), "bench", "k", bytes.NewReader(body), store.PutOptions{Size: int64(sz.n)}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			return s
		}
		b.Run(sz.name, func(b *testing.B) {
			s := setup(b)
			buf := make([]byte, 256<<10)
			for b.Loop() {
				get(b, s, buf)
			}
		})
		b.Run(sz.name+"/parallel", func(b *testing.B) {
			s := setup(b)
			b.RunParallel(func(pb *testing.PB) {
				buf := make([]byte, 256<<10)
				for pb.Next() {
					get(b, s, buf)
				}
			})
		})
	}
}

// BenchmarkDeleteObjects deletes 1,000 small objects per operation, as one
// DeleteObjects request does: "per-key" commits each delete on its own (as
// the S3 handler did before DeleteObjects), "batch" in one commit.
func BenchmarkDeleteObjects(b *testing.B) {
	const n = 1000
	entries := make([]store.DeleteEntry, n)
	for i := range entries {
		entries[i].Key = fmt.Sprintf("obj-%04d", i)
	}
	for _, mode := range []string{"per-key", "batch"} {
		b.Run(mode, func(b *testing.B) {
			s := benchStore(b)
			ctx := context.Background()
			body := []byte("small object")
			for b.Loop() {
				b.StopTimer()
				for _, e := range entries {
					if _, err := s.PutObject(ctx, "bench", e.Key, bytes.NewReader(body), store.PutOptions{Size: int64(len(body))}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if mode == "batch" {
					for _, o := range s.DeleteObjects(ctx, "bench", entries) {
						if o.Err != nil {
							b.Fatal(o.Err)
						}
					}
					continue
				}
				for _, e := range entries {
					if _, err := s.DeleteObject(ctx, "bench", e.Key, e.Options); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
