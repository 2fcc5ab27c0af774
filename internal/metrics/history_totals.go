package metrics

import (
	"math"
	"slices"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// The families the history reads (the names metrics.New registers).
const (
	familyRequests   = Namespace + "_s3_requests_total"
	familyDuration   = Namespace + "_s3_request_duration_seconds"
	familyBytes      = Namespace + "_s3_request_bytes_total"
	familyDelivery   = Namespace + "_pubsub_delivery_seconds"
	familyQueueDepth = "cairn_queue_depth" // descDepth
)

// totals is one sample: counters and histogram buckets since the start,
// gauges as they are.
type totals struct {
	at                time.Time
	requests          map[string]float64 // by op
	errors            map[string]float64 // by S3 error code
	bytesIn, bytesOut float64
	latency, delivery buckets
	queueDepth        float64
}

// buckets are a histogram's cumulative counts by upper bound (+Inf
// included, as the sample count), summed over the series of a family.
type buckets map[float64]float64

func readTotals(mfs []*dto.MetricFamily, at time.Time) *totals {
	t := &totals{at: at, requests: map[string]float64{}, errors: map[string]float64{},
		latency: buckets{}, delivery: buckets{}}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			t.add(mf.GetName(), m)
		}
	}
	return t
}

func (t *totals) add(family string, m *dto.Metric) {
	switch family {
	case familyRequests:
		v := m.GetCounter().GetValue()
		t.requests[label(m, "op")] += v
		if code := label(m, "code"); code != "" {
			t.errors[code] += v
		}
	case familyBytes:
		if label(m, "direction") == "in" {
			t.bytesIn += m.GetCounter().GetValue()
		} else {
			t.bytesOut += m.GetCounter().GetValue()
		}
	case familyDuration:
		t.latency.add(m.GetHistogram())
	case familyDelivery:
		t.delivery.add(m.GetHistogram())
	case familyQueueDepth:
		t.queueDepth += m.GetGauge().GetValue()
	}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func (b buckets) add(h *dto.Histogram) {
	for _, bk := range h.GetBucket() {
		b[bk.GetUpperBound()] += float64(bk.GetCumulativeCount())
	}
	b[math.Inf(1)] += float64(h.GetSampleCount())
}

// increase is a counter's growth from prev to cur; a counter that went
// down was reset (as Prometheus' rate assumes), so all of cur is new.
func increase(prev, cur float64) float64 {
	if cur < prev {
		return cur
	}
	return cur - prev
}

// since is the histogram of the observations made after prev.
func (b buckets) since(prev buckets) buckets {
	d := make(buckets, len(b))
	for ub, c := range b {
		d[ub] = increase(prev[ub], c)
	}
	return d
}

// quantile estimates the q-quantile as Prometheus' histogram_quantile
// does: linear interpolation inside the bucket holding the rank, the
// highest finite bound for ranks in the +Inf bucket. NaN when empty.
func (b buckets) quantile(q float64) float64 {
	total := b[math.Inf(1)]
	if total <= 0 {
		return math.NaN()
	}
	bounds := make([]float64, 0, len(b))
	for ub := range b {
		bounds = append(bounds, ub)
	}
	slices.Sort(bounds)
	rank := q * total
	lower, below := 0.0, 0.0
	for _, ub := range bounds {
		c := b[ub]
		if c >= rank && c > below {
			if math.IsInf(ub, 1) {
				return lower
			}
			return lower + (ub-lower)*(rank-below)/(c-below)
		}
		lower, below = ub, c
	}
	return lower
}
