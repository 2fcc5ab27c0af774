package probe

import (
	"math"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metric names. The first four keep the names of the probe they replace,
// so existing Grafana panels keep working; all carry a target label.
const (
	MetricDuration          = "s3_request_duration_seconds"
	MetricLastDuration      = "s3_request_last_duration_seconds"
	MetricDurationHistogram = "s3_request_duration_seconds_histogram"
	MetricFails             = "s3_requests_fails"
	MetricFailures          = "s3_probe_failures_total"
	MetricIntegrityFailures = "s3_probe_integrity_failures_total"
	MetricEventLatency      = "s3_probe_event_latency_seconds"
	MetricEventsMissing     = "s3_probe_events_missing_total"
)

// HistogramBuckets are the upper bounds of MetricDurationHistogram: 0.05,
// 0.1, …, 0.95, 1. They are computed in hundredths so each bound is the
// float nearest its decimal (prometheus.LinearBuckets accumulates error:
// 0.15000000000000002).
var HistogramBuckets = func() []float64 {
	b := make([]float64, 20)
	for i := range b {
		b[i] = math.Round(float64(i+1)*5) / 100
	}
	return b
}()

// metrics are the probe's collectors, on the probe's own registry.
type metrics struct {
	reg       *prometheus.Registry
	duration  *prometheus.SummaryVec
	last      *prometheus.GaugeVec
	histogram *prometheus.HistogramVec
	fails     *prometheus.CounterVec
	failures  *prometheus.CounterVec
	integrity *prometheus.CounterVec

	eventLatency  *prometheus.HistogramVec
	eventsMissing *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		duration: prometheus.NewSummaryVec(prometheus.SummaryOpts{
			Name:       MetricDuration,
			Help:       "Duration of successful S3 requests by task.",
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001},
		}, []string{"target", "task"}),
		last: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricLastDuration,
			Help: "Duration of the last successful S3 request by task.",
		}, []string{"target", "task"}),
		histogram: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    MetricDurationHistogram,
			Help:    "Duration of successful S3 requests by task.",
			Buckets: HistogramBuckets,
		}, []string{"target", "task"}),
		fails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricFails,
			Help: "Failed S3 requests.",
		}, []string{"target"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricFailures,
			Help: "Failed S3 requests by task and S3 error code (or connection, timeout, other).",
		}, []string{"target", "task", "code"}),
		integrity: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricIntegrityFailures,
			Help: "Objects read back with bytes other than those written.",
		}, []string{"target"}),
	}
	m.reg.MustRegister(m.duration, m.last, m.histogram, m.fails, m.failures, m.integrity)
	return m
}

// initEvents registers the event-delivery metrics (only with that check
// enabled) and creates their series for target.
func (m *metrics) initEvents(target string) {
	if m.eventLatency == nil {
		m.eventLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    MetricEventLatency,
			Help:    "Time from the start of a PUT to the arrival of its ObjectCreated event.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"target"})
		m.eventsMissing = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricEventsMissing,
			Help: "ObjectCreated events that did not arrive within the event timeout.",
		}, []string{"target"})
		m.reg.MustRegister(m.eventLatency, m.eventsMissing)
	}
	m.eventsMissing.WithLabelValues(target)
}

// init creates the series of a target so they are exported (at zero)
// before its first failure.
func (m *metrics) init(target string) {
	m.fails.WithLabelValues(target)
	m.integrity.WithLabelValues(target)
}

func (m *metrics) observe(target string, task Task, seconds float64) {
	m.duration.WithLabelValues(target, string(task)).Observe(seconds)
	m.last.WithLabelValues(target, string(task)).Set(seconds)
	m.histogram.WithLabelValues(target, string(task)).Observe(seconds)
}

func (m *metrics) fail(target string, task Task, code string) {
	m.fails.WithLabelValues(target).Inc()
	m.failures.WithLabelValues(target, string(task), code).Inc()
}

// handler serves the registry in the Prometheus exposition format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
