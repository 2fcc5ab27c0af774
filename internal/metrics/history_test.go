package metrics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-s3/cairn/internal/metrics"
)

var t0 = time.Unix(1_800_000_000, 0)

// historyOf builds the collectors on a real registry, with two queues of
// depth 5 and 7, and a history of them.
func historyOf(t *testing.T, o metrics.HistoryOptions) (*metrics.Metrics, *metrics.History) {
	t.Helper()
	m := metrics.New(prometheus.NewRegistry(), metrics.Sources{Queues: func() []metrics.QueueStats {
		return []metrics.QueueStats{{Topic: "a", Depth: 5}, {Topic: "t:b", Depth: 7}}
	}})
	return m, metrics.NewHistory(m.HistorySource(), o)
}

func TestHistoryRatesAndQuantiles(t *testing.T) {
	m, h := historyOf(t, metrics.HistoryOptions{})
	h.Sample(t0)
	if d := h.Doc(); d.Points != 0 || len(d.Series.LatencyP50) != 0 {
		t.Fatalf("a baseline alone is no point: %+v", d)
	}
	for range 20 {
		m.ObserveRequest(metrics.Request{Op: "PutObject", Status: 200, BytesIn: 100, Duration: 10 * time.Millisecond})
	}
	for range 10 {
		m.ObserveRequest(metrics.Request{Op: "GetObject", Status: 404, Code: "NoSuchKey", BytesOut: 50, Duration: 10 * time.Millisecond})
	}
	m.ObserveDelivery(200 * time.Millisecond)
	h.Sample(t0.Add(10 * time.Second))
	h.Sample(t0.Add(20 * time.Second)) // a quiet step

	d := h.Doc()
	if d.Points != 2 || d.Step != 10 || d.Start != t0.Add(10*time.Second).Unix() {
		t.Fatalf("points %d step %v start %d", d.Points, d.Step, d.Start)
	}
	s := d.Series
	want := map[string][]float64{
		"requests PutObject": {2, 0}, "requests GetObject": {1, 0}, "errors NoSuchKey": {1, 0},
		"bytesIn": {200, 0}, "bytesOut": {50, 0}, "queueDepth": {12, 12},
		// All 30 took 10 ms, in the (5 ms, 10 ms] bucket: interpolated
		// as histogram_quantile does. A quiet step has no quantile.
		"latencyP50": {7.5, math.NaN()}, "latencyP99": {9.95, math.NaN()},
		// One delivery of 200 ms, in the (100 ms, 250 ms] bucket.
		"deliveryP50": {175, math.NaN()},
	}
	got := map[string][]float64{
		"requests PutObject": s.Requests["PutObject"], "requests GetObject": s.Requests["GetObject"],
		"errors NoSuchKey": s.Errors["NoSuchKey"], "bytesIn": s.BytesIn, "bytesOut": s.BytesOut,
		"queueDepth": s.QueueDepth, "latencyP50": s.LatencyP50, "latencyP99": s.LatencyP99, "deliveryP50": s.DeliveryP50,
	}
	for name, w := range want {
		if !sameValues(got[name], w) {
			t.Errorf("%s = %v, want %v", name, got[name], w)
		}
	}
	if len(s.Requests) != 2 || len(s.Errors) != 1 {
		t.Errorf("requests %v errors %v: only what was served", s.Requests, s.Errors)
	}
}

func sameValues(got, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) || !math.IsNaN(want[i]) && math.Abs(got[i]-want[i]) > 1e-9 {
			return false
		}
	}
	return true
}

// The JSON is the console contract's: these names, null for no data.
func TestHistoryJSON(t *testing.T) {
	m, h := historyOf(t, metrics.HistoryOptions{})
	h.Sample(t0)
	m.ObserveRequest(metrics.Request{Op: "PutObject", Status: 200, Duration: time.Millisecond})
	h.Sample(t0.Add(10 * time.Second))
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Step   float64                    `json:"step"`
		Start  int64                      `json:"start"`
		Points int                        `json:"points"`
		Series map[string]json.RawMessage `json:"series"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	for _, k := range []string{"requests", "latencyP50", "latencyP99", "errors", "bytesIn", "bytesOut",
		"deliveryP50", "deliveryP99", "queueDepth"} {
		if _, ok := doc.Series[k]; !ok {
			t.Errorf("series %q missing: %s", k, b)
		}
	}
	if got := string(doc.Series["deliveryP99"]); got != "[null]" {
		t.Errorf("deliveryP99 = %s, want [null]", got)
	}
	if got := string(doc.Series["errors"]); got != "{}" {
		t.Errorf("errors = %s, want {}", got)
	}
}

// However many points are sampled and however many operations and codes
// are served, the history holds its ring and lists a bounded number of
// series, with nothing lost from the totals.
func TestHistoryBounded(t *testing.T) {
	m, h := historyOf(t, metrics.HistoryOptions{Points: 3})
	h.Sample(t0)
	for i := 1; i <= 10; i++ {
		for op := range 40 {
			for range op + 1 {
				m.ObserveRequest(metrics.Request{Op: fmt.Sprintf("Op%02d", op), Status: 500,
					Code: fmt.Sprintf("Code%02d", op), Duration: time.Millisecond})
			}
		}
		h.Sample(t0.Add(time.Duration(i) * 10 * time.Second))
	}
	d := h.Doc()
	if d.Points != 3 || d.Start != t0.Add(80*time.Second).Unix() {
		t.Fatalf("points %d start %d, want the last 3", d.Points, d.Start)
	}
	const total = 40 * 41 / 2 / 10.0 // requests per second in every step
	for name, series := range map[string]map[string]metrics.Values{"requests": d.Series.Requests, "errors": d.Series.Errors} {
		if len(series) != metrics.MaxHistorySeries+1 || series[metrics.OtherSeries] == nil || series["Op39"] == nil && series["Code39"] == nil {
			t.Errorf("%s: %d series, want the %d busiest and %s", name, len(series), metrics.MaxHistorySeries, metrics.OtherSeries)
		}
		for i := range d.Points {
			sum := 0.0
			for _, v := range series {
				sum += v[i]
			}
			if math.Abs(sum-total) > 1e-9 {
				t.Errorf("%s point %d sums to %v, want %v", name, i, sum, total)
			}
		}
	}
}

// Run samples until its context ends, then returns.
func TestHistoryRunStops(t *testing.T) {
	_, h := historyOf(t, metrics.HistoryOptions{Step: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	for i := 0; h.Doc().Points == 0 && i < 5000; i++ {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if h.Doc().Points == 0 {
		t.Error("Run made no point")
	}
}

// Sampling reads only the charted collectors: never the storage usage
// count (a listing of the store) that a scrape runs.
func TestHistorySourceSkipsUsage(t *testing.T) {
	counts := 0
	m := metrics.New(prometheus.NewRegistry(), metrics.Sources{Usage: func(context.Context) (metrics.Usage, error) {
		counts++
		return metrics.Usage{}, nil
	}})
	h := metrics.NewHistory(m.HistorySource(), metrics.HistoryOptions{})
	for i := range 3 {
		h.Sample(t0.Add(time.Duration(i) * time.Minute))
	}
	if counts != 0 {
		t.Errorf("sampling counted the storage usage %d times", counts)
	}
	if _, err := m.Registry().Gather(); err != nil || counts != 1 {
		t.Errorf("a scrape counted it %d times (%v), want 1", counts, err)
	}
}
