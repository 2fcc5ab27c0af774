package transfer_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server/servertest"
	"github.com/cairn-s3/cairn/internal/transfer"
)

// BenchmarkUpload256MiB compares a parallel multipart upload (8 parts in
// flight, as `cairn cp --parallel 8`) with a single PutObject of the same
// 256 MiB file on the same server. Run it once:
//
//	go test ./internal/transfer -run '^$' -bench Upload256MiB -benchtime 1x
func BenchmarkUpload256MiB(b *testing.B) {
	const size = 256 << 20
	srv := servertest.Start(b, servertest.Options{})
	c := newS3(srv, nil)
	mkBucket(b, c, "bench")
	src, _ := writeRandom(b, b.TempDir(), size)
	ctx := context.Background()

	b.Run("cp-parallel-8", func(b *testing.B) {
		b.SetBytes(size)
		tc := transfer.New(c, transfer.Options{Parallel: 8, StateDir: b.TempDir()})
		for b.Loop() {
			if err := tc.Upload(ctx, src, "bench", "multi"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("single-put", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			f, err := os.Open(src)
			if err != nil {
				b.Fatal(err)
			}
			_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("single"), Body: f, ContentLength: aws.Int64(size)})
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
