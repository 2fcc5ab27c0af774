package lifecycle_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/lifecycle"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// BenchmarkPass is the lifecycle benchmark (not run in CI): one
// pass over CAIRN_LC_BENCH_OBJECTS small objects (100,000 by default; the
// issue's figure is 1,000,000) of which 10 % expire, on the local store,
// while 4 writers PUT 4 KiB objects. It reports the pass's time, the peak
// Go heap and RSS during the pass (which must not grow with the object
// count; the RSS includes Pebble's cache, which is bounded) and
// the PUT rate during the pass beside the rate before it.
//
//	CAIRN_LC_BENCH_OBJECTS=1000000 go test -run '^$' -bench Pass -benchtime 1x ./internal/lifecycle/
func BenchmarkPass(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("CAIRN_LC_BENCH_OBJECTS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	st, err := local.Open(b.TempDir(), local.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateBucket(ctx, store.Bucket{Name: "bench", Created: time.Now(), Config: map[string][]byte{lifecycle.ConfigKey: []byte(
		`<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix>exp/</Prefix></Filter><Status>Enabled</Status>` +
			`<Expiration><Date>2020-01-01T00:00:00Z</Date></Expiration></Rule></LifecycleConfiguration>`)}}); err != nil {
		b.Fatal(err)
	}
	fill(b, st, n)
	w := lifecycle.New(st, st.KV(), lifecycle.Options{})
	for range b.N {
		before := putRate(ctx, st, time.Second)
		var peak atomic.Uint64
		stop := sampleHeap(&peak)
		var puts atomic.Int64
		pctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		startWriters(pctx, st, &wg, &puts)
		resetPeakRSS()
		start := time.Now()
		b.ResetTimer()
		if err := w.Process(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		cancel()
		wg.Wait()
		stop()
		b.ReportMetric(took.Seconds(), "s/pass")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		if rss := peakRSS(); rss > 0 {
			b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
		}
		b.ReportMetric(before, "puts/s-before")
		b.ReportMetric(float64(puts.Load())/took.Seconds(), "puts/s-during")
	}
}

// fill writes n one-byte objects, every tenth under exp/.
func fill(b *testing.B, st *local.Store, n int) {
	ctx := context.Background()
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				key := fmt.Sprintf("keep/%09d", i)
				if i%10 == 0 {
					key = fmt.Sprintf("exp/%09d", i)
				}
				if _, err := st.PutObject(ctx, "bench", key, strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func startWriters(ctx context.Context, st *local.Store, wg *sync.WaitGroup, puts *atomic.Int64) {
	body := strings.Repeat("p", 4096)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				if _, err := st.PutObject(ctx, "bench", fmt.Sprintf("put/%d/%d", g, i), strings.NewReader(body), store.PutOptions{Size: 4096}); err == nil {
					puts.Add(1)
				}
			}
		}()
	}
}

// putRate measures the 4-writer PUT rate for d.
func putRate(ctx context.Context, st *local.Store, d time.Duration) float64 {
	var puts atomic.Int64
	pctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	startWriters(pctx, st, &wg, &puts)
	wg.Wait()
	return float64(puts.Load()) / d.Seconds()
}

// sampleHeap records the largest HeapInuse until stop is called.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// resetPeakRSS restarts the kernel's count of the peak RSS (Linux).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM in bytes since resetPeakRSS, or 0 where unknown.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
