package metrics

import (
	"cmp"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
)

// point is one step of the history. Its slices are made once and never
// changed (readers copy points without the lock held).
type point struct {
	at                     time.Time
	requests, errors       []labelled // per second, busiest first, at most historyLabels+1
	latencyP50, latencyP99 float64    // ms, NaN without requests
	bytesIn, bytesOut      float64    // per second
	deliveryP50            float64    // ms, NaN without deliveries
	deliveryP99            float64
	queueDepth             float64 // events queued at the end of the step
}

type labelled struct {
	label string
	value float64
}

// derivePoint turns two samples into the rates and quantiles between them.
func derivePoint(prev, cur *totals) point {
	secs := cur.at.Sub(prev.at).Seconds()
	lat := cur.latency.since(prev.latency)
	del := cur.delivery.since(prev.delivery)
	return point{
		at:          cur.at,
		requests:    rates(prev.requests, cur.requests, secs),
		errors:      rates(prev.errors, cur.errors, secs),
		latencyP50:  lat.quantile(0.5) * 1000,
		latencyP99:  lat.quantile(0.99) * 1000,
		bytesIn:     increase(prev.bytesIn, cur.bytesIn) / secs,
		bytesOut:    increase(prev.bytesOut, cur.bytesOut) / secs,
		deliveryP50: del.quantile(0.5) * 1000,
		deliveryP99: del.quantile(0.99) * 1000,
		queueDepth:  cur.queueDepth,
	}
}

// rates are the per-second increases of the labels that grew: the
// busiest historyLabels of them, and the rest summed as OtherSeries.
func rates(prev, cur map[string]float64, secs float64) []labelled {
	var out []labelled
	for l, v := range cur {
		if d := increase(prev[l], v); d > 0 {
			out = append(out, labelled{l, d / secs})
		}
	}
	return foldTop(out, historyLabels)
}

// foldTop keeps the limit largest values (ties by label, so the choice is
// deterministic) and sums the others into one OtherSeries entry.
func foldTop(ls []labelled, limit int) []labelled {
	slices.SortFunc(ls, func(a, b labelled) int {
		if c := cmp.Compare(b.value, a.value); c != 0 {
			return c
		}
		return cmp.Compare(a.label, b.label)
	})
	if len(ls) <= limit {
		return ls
	}
	other := labelled{label: OtherSeries}
	for _, l := range ls[limit:] {
		other.value += l.value
	}
	return append(ls[:limit:limit], other)
}

// HistoryDoc is the history as the console's GET /api/metrics/history
// answers it: Points values per series, the first at Start, one every
// Step seconds.
type HistoryDoc struct {
	Step   float64       `json:"step"`  // seconds between points
	Start  int64         `json:"start"` // unix seconds of the first point
	Points int           `json:"points"`
	Series HistorySeries `json:"series"`
}

// HistorySeries are the charted series. Rates are per second, latencies
// in milliseconds; a quantile of a step without observations is null.
// Requests and Errors hold at most MaxHistorySeries labels plus
// OtherSeries.
type HistorySeries struct {
	Requests    map[string]Values `json:"requests"` // by operation
	LatencyP50  Values            `json:"latencyP50"`
	LatencyP99  Values            `json:"latencyP99"`
	Errors      map[string]Values `json:"errors"` // by S3 error code
	BytesIn     Values            `json:"bytesIn"`
	BytesOut    Values            `json:"bytesOut"`
	DeliveryP50 Values            `json:"deliveryP50"`
	DeliveryP99 Values            `json:"deliveryP99"`
	QueueDepth  Values            `json:"queueDepth"`
}

// MaxHistorySeries bounds the operations and codes a document lists (a
// chart with more lines cannot be read).
const MaxHistorySeries = 8

// Values are one series; NaN (no data) is written as null.
type Values []float64

// MarshalJSON writes the values with up to 6 significant digits.
func (v Values) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(v)*8)
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, x, 'g', 6, 64)
	}
	return append(b, ']'), nil
}

// Doc returns the history held now.
func (h *History) Doc() HistoryDoc {
	ps := h.points()
	doc := HistoryDoc{Step: h.step.Seconds(), Points: len(ps), Series: HistorySeries{
		Requests: labelledSeries(ps, func(p point) []labelled { return p.requests }),
		Errors:   labelledSeries(ps, func(p point) []labelled { return p.errors }),
	}}
	if len(ps) > 0 {
		doc.Start = ps[0].at.Unix()
	}
	s := &doc.Series
	for _, f := range []struct {
		dst *Values
		get func(point) float64
	}{
		{&s.LatencyP50, func(p point) float64 { return p.latencyP50 }},
		{&s.LatencyP99, func(p point) float64 { return p.latencyP99 }},
		{&s.BytesIn, func(p point) float64 { return p.bytesIn }},
		{&s.BytesOut, func(p point) float64 { return p.bytesOut }},
		{&s.DeliveryP50, func(p point) float64 { return p.deliveryP50 }},
		{&s.DeliveryP99, func(p point) float64 { return p.deliveryP99 }},
		{&s.QueueDepth, func(p point) float64 { return p.queueDepth }},
	} {
		*f.dst = make(Values, len(ps))
		for i, p := range ps {
			(*f.dst)[i] = f.get(p)
		}
	}
	return doc
}

// MarshalJSON writes Doc.
func (h *History) MarshalJSON() ([]byte, error) { return json.Marshal(h.Doc()) }

// JSON writes Doc to w (what the console serves).
func (h *History) JSON(w io.Writer) error { return json.NewEncoder(w).Encode(h.Doc()) }

// labelledSeries lists the MaxHistorySeries labels with the largest sum
// over the points, one series each, and everything else under
// OtherSeries. A label absent from a point is 0 there.
func labelledSeries(ps []point, get func(point) []labelled) map[string]Values {
	sums := map[string]float64{}
	for _, p := range ps {
		for _, l := range get(p) {
			sums[l.label] += l.value
		}
	}
	ranked := make([]labelled, 0, len(sums))
	for l, v := range sums {
		if l != OtherSeries {
			ranked = append(ranked, labelled{l, v})
		}
	}
	ranked = foldTop(ranked, MaxHistorySeries)
	shown := map[string]bool{}
	for _, l := range ranked {
		if l.label != OtherSeries {
			shown[l.label] = true
		}
	}
	out := map[string]Values{}
	for i, p := range ps {
		for _, l := range get(p) {
			name := l.label
			if !shown[name] {
				name = OtherSeries
			}
			if out[name] == nil {
				out[name] = make(Values, len(ps))
			}
			out[name][i] += l.value
		}
	}
	return out
}
