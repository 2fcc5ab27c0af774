package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// BenchmarkObject4KiB measures 4 KiB PUTs (each to a new key, as warp's put
// does) and GETs (of 1,000 keys) through the real server, with 8 clients
// at a time. The client runs in the same process, so B/op and allocs/op
// include the SDK's; compare runs, not absolutes.
//
//	go test -run '^$' -bench Object4KiB -count 6 ./internal/server | benchstat -
func BenchmarkObject4KiB(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 4<<10)
	setup := func(b *testing.B) (*s3.Client, context.Context) {
		srv := servertest.Start(b, servertest.Options{})
		cl := sdkClient(srv)
		ctx := context.Background()
		if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
			b.Fatal(err)
		}
		return cl, ctx
	}
	put := func(b *testing.B, cl *s3.Client, ctx context.Context, key string) {
		if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(key),
			Body: bytes.NewReader(body)}); err != nil {
			b.Error(err)
		}
	}
	b.Run("put", func(b *testing.B) {
		cl, ctx := setup(b)
		var next atomic.Int64
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		b.SetParallelism(4) // 8 clients on 2 cores: PUTs wait on fsync
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				put(b, cl, ctx, fmt.Sprint("k", next.Add(1)))
			}
		})
	})
	b.Run("get", func(b *testing.B) {
		const keys = 1000
		cl, ctx := setup(b)
		for i := range keys {
			put(b, cl, ctx, fmt.Sprint("k", i))
		}
		var next atomic.Int64
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		b.ResetTimer()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"),
					Key: aws.String(fmt.Sprint("k", next.Add(1)%keys))})
				if err != nil {
					b.Error(err)
					return
				}
				n, err := io.Copy(io.Discard, out.Body)
				out.Body.Close()
				if err != nil || n != int64(len(body)) {
					b.Errorf("read %d bytes: %v", n, err)
					return
				}
			}
		})
	})
}
