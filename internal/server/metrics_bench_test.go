package server_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// BenchmarkPut4KiBMetrics measures 4 KiB PUT throughput through the real
// server (SDK client, SigV4, local store) with metrics on and off, to
// report the overhead of the instrumentation.
func BenchmarkPut4KiBMetrics(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  server.MetricsConfig
	}{{"on", server.MetricsConfig{}}, {"off", server.MetricsConfig{Disabled: true}}} {
		b.Run("metrics="+c.name, func(b *testing.B) {
			srv := servertest.Start(b, servertest.Options{Metrics: c.cfg})
			cl := sdkClient(srv)
			ctx := context.Background()
			if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
				b.Fatal(err)
			}
			body := bytes.Repeat([]byte("x"), 4<<10)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; b.Loop(); i++ {
				if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(fmt.Sprintf("k%d", i%1000)),
					Body: bytes.NewReader(body)}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
		})
	}
}
