package pubsub

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// benchStore opens the real local store; with subscribe, every PUT appends
// an event to one log, as a bound subscription does.
func benchStore(b *testing.B, subscribe bool) (*local.Store, *Log) {
	var lg *Log
	var hook store.ChangeHook
	if subscribe {
		hook = func(_ context.Context, c store.Change, w store.RecordWriter) error {
			_, err := lg.Append(w, sub, "0badf00d", func(id string, _ time.Time) ([]byte, error) {
				return []byte(`{"id":"` + id + `","key":"` + c.Object.Key + `"}`), nil
			})
			return err
		}
	}
	st, err := local.Open(b.TempDir(), local.Options{Hook: hook})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if lg, err = New(st.KV(), time.Hour, nil); err != nil {
		b.Fatal(err)
	}
	if err := st.CreateBucket(context.Background(), store.Bucket{Name: "bench", Owner: "u"}); err != nil {
		b.Fatal(err)
	}
	return st, lg
}

// BenchmarkPut compares 1 KiB PUTs (8 writers) without and with a pull
// subscription: the event rides in the same synced commit.
func BenchmarkPut(b *testing.B) {
	for _, subscribe := range []bool{false, true} {
		b.Run(fmt.Sprintf("subscription=%v", subscribe), func(b *testing.B) {
			st, _ := benchStore(b, subscribe)
			body := strings.Repeat("x", 1024)
			var n atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					key := fmt.Sprintf("k%09d", n.Add(1))
					if _, err := st.PutObject(context.Background(), "bench", key, strings.NewReader(body), store.PutOptions{Size: 1024}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkPull pages through a log of 20,000 events, 1,000 per pull.
func BenchmarkPull(b *testing.B) {
	st, lg := benchStore(b, true)
	for i := range 20_000 {
		if _, err := st.PutObject(context.Background(), "bench", fmt.Sprintf("k%06d", i), strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	events := 0
	for b.Loop() {
		marker := ""
		for {
			p, err := lg.Pull(context.Background(), sub, PullOptions{Marker: marker, Max: 1000})
			if err != nil {
				b.Fatal(err)
			}
			events += len(p.Events)
			if !p.Truncated {
				break
			}
			marker = p.Events[len(p.Events)-1].ID
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
