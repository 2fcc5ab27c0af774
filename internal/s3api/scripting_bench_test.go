package s3api

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/lua"
)

// BenchmarkLuaPut4KiB compares 4 KiB PUTs through the real server over
// loopback without scripting, with an engine but no script, with an empty
// postrequest script and with one reading a few fields (SDK client in the
// same process: compare runs, not absolutes).
//
//	go test -run '^$' -bench LuaPut4KiB -count 6 ./internal/s3api | benchstat -
func BenchmarkLuaPut4KiB(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 4<<10)
	for _, tc := range []struct{ name, script string }{
		{"no-engine", ""}, {"no-script", ""}, {"empty-postrequest", "-- nothing"},
		{"fields-postrequest", `local n = Request.RGWOp .. Request.Bucket.Name .. Request.Object.Name .. Request.HTTP.Method`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var cl *s3.Client
			if tc.name == "no-engine" {
				cl = newTestServer(b).Root
			} else {
				ss := newScriptServer(b, lua.Config{RefreshInterval: lua.DefaultRefreshInterval})
				if tc.script != "" {
					ss.Scripts.Put("postrequest", "", tc.script)
				}
				cl = ss.Root
			}
			ctx := context.Background()
			if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(fmt.Sprint("k", i)),
					Body: bytes.NewReader(body)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
