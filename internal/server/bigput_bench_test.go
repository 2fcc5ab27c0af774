package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// BenchmarkPut16MiB measures 16 MiB PUTs through the real server with 8
// clients at a time, signed as warp signs them (minio-go over plain HTTP
// streams the body as aws-chunked with a signature per chunk), so the run
// includes chunk verification (SHA-256), the ETag's MD5, the block
// checksums, the data-file write and its fsync. Writes cycle over 16 keys
// so the disk used stays bounded. The client runs in the same process and
// takes its share of the CPU; compare runs, not absolutes.
//
//	go test -run '^$' -bench Put16MiB -count 6 ./internal/server | benchstat -
func BenchmarkPut16MiB(b *testing.B) {
	const size, keys = 16 << 20, 16
	srv := servertest.Start(b, servertest.Options{})
	u, err := url.Parse(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	mc, err := minio.New(u.Host, &minio.Options{Creds: miniocreds.NewStaticV4(srv.RootAccessKey, srv.RootSecretKey, ""),
		Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := mc.MakeBucket(ctx, "bench", minio.MakeBucketOptions{}); err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte("cairn-16MiB-put."), size/16)
	var next atomic.Int64
	b.SetBytes(size)
	b.ReportAllocs()
	b.SetParallelism(4) // 8 clients on 2 cores, as warp --concurrent 8
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprint("k", next.Add(1)%keys)
			if _, err := mc.PutObject(ctx, "bench", key, bytes.NewReader(body), size, minio.PutObjectOptions{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
