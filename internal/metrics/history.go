package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// History keeps the last hour of a few of the server's own metrics in
// memory, sampled from a Prometheus gatherer, so that the console can draw
// charts without a Prometheus server. Counters become per-second rates
// over each step and histograms p50/p99 over each step.
//
// Memory is bounded whatever the label cardinality: a fixed ring of
// points, and in each point at most historyLabels operations and error
// codes (the busiest; the rest summed under OtherSeries).
type History struct {
	src  prometheus.Gatherer
	step time.Duration
	log  *slog.Logger

	mu   sync.Mutex
	last *totals // the previous sample, nil before the first
	ring []point // the points, oldest at next once full
	next int     // where the next point goes
	n    int     // points held (≤ len(ring))
}

// DefaultHistoryStep and DefaultHistoryPoints make one hour at 10 s.
const (
	DefaultHistoryStep   = 10 * time.Second
	DefaultHistoryPoints = 360
)

// historyLabels bounds the operations and error codes one point keeps.
const historyLabels = 16

// OtherSeries names the sum of the operations or codes a point or a
// document does not list one by one. Operations and codes are CamelCase
// words, so it names none of them.
const OtherSeries = "_others"

// HistoryOptions tune a History; zero values take the defaults.
type HistoryOptions struct {
	Step   time.Duration // DefaultHistoryStep
	Points int           // DefaultHistoryPoints
	Logger *slog.Logger  // discards if nil
}

// NewHistory returns an empty history of src (typically
// Metrics.HistorySource()). Run samples it; Sample may also be called
// directly.
func NewHistory(src prometheus.Gatherer, o HistoryOptions) *History {
	if o.Step <= 0 {
		o.Step = DefaultHistoryStep
	}
	if o.Points <= 0 {
		o.Points = DefaultHistoryPoints
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &History{src: src, step: o.Step, log: o.Logger, ring: make([]point, o.Points)}
}

// Step is the time between two samples.
func (h *History) Step() time.Duration { return h.step }

// Run samples at once (the baseline of the first rates), then every step
// until ctx is done.
func (h *History) Run(ctx context.Context) {
	h.Sample(time.Now())
	t := time.NewTicker(h.step)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			h.Sample(now)
		}
	}
}

// Sample gathers the source's metrics as of at and, if an earlier sample
// exists, appends the point of the interval between them. A failed
// gather still uses the families it returned (a collector failing alone
// leaves the others' series intact).
func (h *History) Sample(at time.Time) {
	mfs, err := h.src.Gather()
	if err != nil {
		h.log.Debug("metrics history: gather", "err", err)
	}
	cur := readTotals(mfs, at)
	h.mu.Lock()
	defer h.mu.Unlock()
	prev := h.last
	h.last = cur
	if prev == nil || !at.After(prev.at) {
		return
	}
	h.ring[h.next] = derivePoint(prev, cur)
	h.next = (h.next + 1) % len(h.ring)
	h.n = min(h.n+1, len(h.ring))
}

// points returns the held points, oldest first (a copy of the ring's
// order; the points' slices are never changed after they are made).
func (h *History) points() []point {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]point, 0, h.n)
	first := (h.next - h.n + len(h.ring)) % len(h.ring)
	for i := range h.n {
		out = append(out, h.ring[(first+i)%len(h.ring)])
	}
	return out
}
