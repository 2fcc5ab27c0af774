package lua

import (
	"context"
	"testing"
)

// BenchmarkExecution is the cost of one postrequest execution alone: a
// fresh state, the globals and the script.
func BenchmarkExecution(b *testing.B) {
	for _, tc := range []struct{ name, src string }{
		{"empty", "-- nothing"},
		{"fields", `local n = Request.RGWOp .. Request.Bucket.Name .. Request.Object.Name .. Request.HTTP.Method`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e, s, _ := testEngine(b, Config{})
			e.chunks.interval = DefaultRefreshInterval
			s.Put("postrequest", "", tc.src)
			req := testRequest()
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				e.PostRequest(context.Background(), req)
			}
			if e.Counters()["lua_script_fail"] != 0 {
				b.Fatal("script failed")
			}
		})
	}
}
