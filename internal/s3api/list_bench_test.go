package s3api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkListObjectsV2 pages through 10,000 keys (10 pages of 1,000)
// over loopback HTTP with the SDK: one op is one full listing.
func BenchmarkListObjectsV2(b *testing.B) {
	ts := newTestServer(b)
	ts.CreateBucket(b, ts.Root, "bench")
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = fmt.Sprintf("dir%02d/object-%05d", i%20, i)
	}
	fillBucket(b, ts, "bench", keys)
	ctx := context.Background()
	for _, delim := range []string{"", "/"} {
		b.Run(fmt.Sprintf("delimiter=%q", delim), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				p := s3.NewListObjectsV2Paginator(ts.Root, &s3.ListObjectsV2Input{Bucket: aws.String("bench"), Delimiter: aws.String(delim)})
				for p.HasMorePages() {
					out, err := p.NextPage(ctx)
					if err != nil {
						b.Fatal(err)
					}
					n += int(aws.ToInt32(out.KeyCount))
				}
				if want := map[string]int{"": 10000, "/": 20}[delim]; n != want {
					b.Fatalf("listed %d entries, want %d", n, want)
				}
			}
		})
	}
	// The server's share: one 1,000-key page handled in process, without
	// the network and the SDK's parsing.
	b.Run("server-page", func(b *testing.B) {
		req := signedRequest(b, userRoot, http.MethodGet, "/bench?list-type=2&start-after=dir05%2F", nil)
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			ts.API.ServeHTTP(rec, req.Clone(ctx))
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}
