//go:build rados

package rados

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/cairn-s3/cairn/internal/store"
)

// Figures for the closing note, not CI: 4 KiB PUT and GET against the
// test cluster, run with -bench and -cpu to vary the concurrency.
func BenchmarkPut4K(b *testing.B) {
	s, body := benchStore(b)
	var n atomic.Int64
	b.SetBytes(int64(len(body)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprint("k", n.Add(1))
			if _, err := s.PutObject(context.Background(), "b", key, bytes.NewReader(body), store.PutOptions{Size: int64(len(body))}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGet4K(b *testing.B) {
	s, body := benchStore(b)
	const keys = 64
	for i := range keys {
		if _, err := s.PutObject(context.Background(), "b", fmt.Sprint("k", i), bytes.NewReader(body), store.PutOptions{Size: int64(len(body))}); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, rc, err := s.GetObject(context.Background(), "b", fmt.Sprint("k", n.Add(1)%keys), store.GetOptions{})
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, rc)
			rc.Close()
		}
	})
}

func benchStore(b *testing.B) (*Store, []byte) {
	s := openFreshTB(b, nil)
	if err := s.CreateBucket(context.Background(), store.Bucket{Name: "b"}); err != nil {
		b.Fatal(err)
	}
	return s, bytes.Repeat([]byte("x"), 4<<10)
}
