package queue_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/queue"
)

// latencySender acks at once and records commit -> send latency.
type latencySender struct {
	committed sync.Map // id -> time.Time
	mu        sync.Mutex
	lat       []time.Duration
	acked     atomic.Int64
}

func (s *latencySender) Send(ctx context.Context, ev queue.Event) error {
	now := time.Now()
	if v, ok := s.committed.LoadAndDelete(ev.ID); ok {
		s.mu.Lock()
		s.lat = append(s.lat, now.Sub(v.(time.Time)))
		s.mu.Unlock()
	}
	s.acked.Add(1)
	return nil
}

func (s *latencySender) report(b *testing.B) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lat) == 0 {
		return
	}
	slices.Sort(s.lat)
	q := func(p float64) float64 {
		return float64(s.lat[min(int(p*float64(len(s.lat))), len(s.lat)-1)].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}

func benchEnv(b *testing.B, s queue.Sender) *env {
	return newEnv(b, "", queue.Config{}, queue.Policy{Capacity: -1}, s)
}

// BenchmarkLatency500 offers 500 object changes per second through the
// local store (4 producers) and measures commit -> Send latency with an
// endpoint that acks at once.
func BenchmarkLatency500(b *testing.B) {
	s := &latencySender{}
	e := benchEnv(b, s)
	fn := func(id string) { s.committed.Store(id, time.Now()) }
	e.onCommit.Store(&fn)
	e.run()
	const producers, rate = 4, 500
	interval := time.Second * producers / rate
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := time.Now().Add(time.Duration(p) * interval / producers)
			for i := p; i < b.N; i += producers {
				time.Sleep(time.Until(next))
				next = next.Add(interval)
				if err := e.put(fmt.Sprintf("p%d/k%d", p, i%50)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	waitDelivered(b, s, int64(b.N))
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	s.report(b)
}

// BenchmarkThroughput writes object changes as fast as 16 producers can
// commit them and measures end-to-end events/s (commit included).
func BenchmarkThroughput(b *testing.B) {
	s := &latencySender{}
	e := benchEnv(b, s)
	e.run()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for p := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if err := e.put(fmt.Sprintf("p%d/k%d", p, i%100)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	waitDelivered(b, s, int64(b.N))
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkDrain measures delivery alone: b.N events are queued while no
// worker runs, then one topic's worker drains them (1,000 keys).
func BenchmarkDrain(b *testing.B) {
	s := &latencySender{}
	e := benchEnv(b, s)
	ctx := context.Background()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				ev := queue.Event{Topic: testTopic, Key: fmt.Sprintf("k%d", i%1000), Body: make([]byte, 512)}
				if err := e.q.EnqueueDirect(ctx, ev); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ResetTimer()
	start := time.Now()
	e.run()
	waitDelivered(b, s, int64(b.N))
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

func waitDelivered(b *testing.B, s *latencySender, n int64) {
	deadline := time.Now().Add(5 * time.Minute)
	for s.acked.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("delivered %d of %d", s.acked.Load(), n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}
