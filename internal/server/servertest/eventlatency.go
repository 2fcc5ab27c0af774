package servertest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// EventLoad is a paced PUT load whose event records a consumer receives,
// for MeasureEventLatency.
type EventLoad struct {
	// Rate is how many PUTs start per second (at most; a PUT waits for a
	// free client).
	Rate int
	// Clients bounds the PUTs in flight (64 if zero).
	Clients int
	// Put writes the object key; i numbers the PUTs from 0 (to spread them
	// over gateways, say).
	Put func(ctx context.Context, i int, key string) error
	// Arrivals receives the object key of every record the consumer gets,
	// as it gets it.
	Arrivals <-chan string
	// Within bounds the wait for the next record (30 s if zero).
	Within time.Duration
}

// MeasureEventLatency runs b.N paced PUTs of load and reports, over the
// first arrival of each PUT's record: p50-ms/p99-ms (PUT acknowledged →
// record at the consumer; 0 when it came first), p50-put-ms/p99-put-ms
// (PUT started → record at the consumer), max-put-ms, puts/s achieved and
// dups (records received more than once).
func MeasureEventLatency(b *testing.B, load EventLoad) {
	b.Helper()
	clients, within := load.Clients, load.Within
	if clients <= 0 {
		clients = 64
	}
	if within <= 0 {
		within = 30 * time.Second
	}
	st := &latencyStamps{start: make(map[string]time.Time, b.N), acked: make(map[string]time.Time, b.N)}
	arrived := make(chan latencies, 1)
	go func() { arrived <- st.consume(b, load.Arrivals, within) }()

	ctx := context.Background()
	tick := time.NewTicker(time.Second / time.Duration(load.Rate))
	defer tick.Stop()
	sem := make(chan struct{}, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	begin := time.Now()
	for i := range b.N {
		<-tick.C
		sem <- struct{}{}
		key := fmt.Sprintf("k%07d", i)
		wg.Go(func() {
			defer func() { <-sem }()
			st.stamp(st.start, key)
			if err := load.Put(ctx, i, key); err != nil {
				b.Errorf("PUT %s: %v", key, err)
				return
			}
			st.stamp(st.acked, key)
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)
	lat := <-arrived
	b.StopTimer()
	if len(lat.put) == 0 {
		return
	}
	slices.Sort(lat.ack)
	slices.Sort(lat.put)
	b.ReportMetric(percentile(lat.ack, 0.50), "p50-ms")
	b.ReportMetric(percentile(lat.ack, 0.99), "p99-ms")
	b.ReportMetric(percentile(lat.put, 0.50), "p50-put-ms")
	b.ReportMetric(percentile(lat.put, 0.99), "p99-put-ms")
	b.ReportMetric(percentile(lat.put, 1), "max-put-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "puts/s")
	b.ReportMetric(float64(lat.dups), "dups")
}

// latencyStamps are the start and acknowledgement times of the PUTs by key.
type latencyStamps struct {
	mu           sync.Mutex
	start, acked map[string]time.Time
}

func (s *latencyStamps) stamp(m map[string]time.Time, key string) {
	now := time.Now()
	s.mu.Lock()
	m[key] = now
	s.mu.Unlock()
}

type latencies struct {
	ack, put []time.Duration
	dups     int
}

// consume reads arrivals until every one of b.N PUTs' records came (or
// none came within), measuring each key's first arrival.
func (s *latencyStamps) consume(b *testing.B, arrivals <-chan string, within time.Duration) latencies {
	lat := latencies{ack: make([]time.Duration, 0, b.N), put: make([]time.Duration, 0, b.N)}
	seen := make(map[string]bool, b.N)
	timer := time.NewTimer(within)
	defer timer.Stop()
	for len(seen) < b.N {
		select {
		case key := <-arrivals:
			now := time.Now()
			if seen[key] {
				lat.dups++
				continue
			}
			s.mu.Lock()
			start, acked := s.start[key], s.acked[key]
			s.mu.Unlock()
			if start.IsZero() {
				b.Errorf("a record of %q, which no PUT wrote", key)
				continue
			}
			seen[key] = true
			if !acked.IsZero() && now.After(acked) {
				lat.ack = append(lat.ack, now.Sub(acked))
			} else {
				lat.ack = append(lat.ack, 0) // arrived before the response was read
			}
			lat.put = append(lat.put, now.Sub(start))
			timer.Reset(within)
		case <-timer.C:
			b.Errorf("consumer: %d of %d records, none more within %v", len(seen), b.N, within)
			return lat
		}
	}
	return lat
}

// percentile is the p-quantile of sorted d in milliseconds.
func percentile(d []time.Duration, p float64) float64 {
	return float64(d[min(len(d)-1, int(float64(len(d))*p))].Microseconds()) / 1000
}
