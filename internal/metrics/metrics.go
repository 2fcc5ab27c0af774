// Package metrics holds Cairn's Prometheus collectors. Everything is
// registered on a registry the caller injects (never the default one), and
// every label is bounded: S3 requests are labelled by operation (the
// s3api Op, a fixed table), status class and S3 error code; queues by
// topic, at most MaxQueues of them; endpoints by scheme and host, at most
// MaxEndpoints. No tenant, bucket, key or user ever becomes a label.
//
// The package knows no other Cairn package: the server feeds it through
// the typed Observe* methods and the Sources functions.
package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Namespace prefixes every metric of Cairn's own.
const Namespace = "cairn"

// EventCounts are the RGW notification counters (totals since start, but
// Pending, which is current).
type EventCounts struct {
	Triggered, Lost    int64 // pubsub_event_triggered, pubsub_event_lost
	PushOK, PushFailed int64 // pubsub_push_ok, pubsub_push_failed
	PushPending        int64 // pubsub_push_pending
	StoreOK, StoreFail int64 // pubsub_store_ok, pubsub_store_fail
	Stored             int64 // pubsub_events: stored in pull subscriptions now
	MissingConf        int64 // pubsub_missing_conf
}

// QueueStats describe one persistent topic's queue.
type QueueStats struct {
	Topic     string
	Depth     int64
	OldestAge time.Duration
}

// Usage is what the store holds.
type Usage struct {
	Buckets, Objects, Bytes int64
	// Truncated is set when the count stopped at Sources.UsageLimit.
	Truncated bool
}

// Sources are read at scrape time; nil ones are not exported.
type Sources struct {
	Events func() EventCounts
	Queues func() []QueueStats
	// Usage computes the storage usage; its result is cached for
	// UsageTTL (DefaultUsageTTL) so that scrapes cost at most one count
	// per TTL.
	Usage    func(ctx context.Context) (Usage, error)
	UsageTTL time.Duration
}

// DefaultUsageTTL is how long a storage usage count is reused.
const DefaultUsageTTL = 30 * time.Second

// Request is one served S3 request.
type Request struct {
	Op       string // the s3api Op name; "" is reported as "Unknown"
	Status   int
	Code     string // S3 error code, "" on success
	BytesIn  int64
	BytesOut int64
	Duration time.Duration
}

// Metrics are Cairn's collectors on one registry.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	bytes     *prometheus.CounterVec
	inflight  prometheus.Gauge
	integrity prometheus.Counter
	lcObjects *prometheus.CounterVec
	lcBytes   *prometheus.CounterVec
	delivery  prometheus.Histogram
	endpoints *endpointCollector
	queues    prometheus.Collector // nil without Sources.Queues
}

// New registers Cairn's collectors, the Go runtime and the process
// collectors on reg.
func New(reg *prometheus.Registry, src Sources) *Metrics {
	f := promauto.With(reg)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		reg: reg,
		requests: f.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "s3", Name: "requests_total",
			Help: "S3 requests served, by operation, status class (2xx, 4xx, ...) and S3 error code (empty on success)."},
			[]string{"op", "status", "code"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "s3", Name: "request_duration_seconds",
			Help:    "Time from request start to the handler's return, by operation.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}},
			[]string{"op"}),
		bytes: f.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "s3", Name: "request_bytes_total",
			Help: "Request body bytes read (direction=in) and response bytes written (direction=out), by operation."},
			[]string{"op", "direction"}),
		inflight: f.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "s3", Name: "requests_in_flight",
			Help: "Requests being served."}),
		delivery: f.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "pubsub", Name: "delivery_seconds",
			Help:    "Persistent events: time from the commit that queued them to the endpoint's acknowledgement.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}}),
		integrity: f.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "integrity_errors_total",
			Help: "Stored data that failed verification (block checksum, header, truncated or missing data file), on reads and scrubs."}),
		lcObjects: f.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "lifecycle", Name: "objects_total",
			Help: "Object versions, delete markers and uploads lifecycle rules expired, transitioned or aborted, by action."},
			[]string{"action"}),
		lcBytes: f.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "lifecycle", Name: "bytes_total",
			Help: "Bytes of the object versions lifecycle rules expired or transitioned, by action."},
			[]string{"action"}),
		endpoints: newEndpointCollector(),
	}
	reg.MustRegister(m.endpoints)
	if src.Events != nil {
		reg.MustRegister(eventCollector(src.Events))
	}
	if src.Queues != nil {
		m.queues = queueCollector(src.Queues)
		reg.MustRegister(m.queues)
	}
	if src.Usage != nil {
		ttl := src.UsageTTL
		if ttl <= 0 {
			ttl = DefaultUsageTTL
		}
		reg.MustRegister(&usageCollector{count: src.Usage, ttl: ttl, now: time.Now})
	}
	return m
}

// Registry returns the registry the collectors are on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// HistorySource gathers the collectors a History charts (requests,
// durations, bytes, deliveries, queues) and no others: sampling every few
// seconds must not run the storage usage count or the runtime collectors
// a scrape does.
func (m *Metrics) HistorySource() prometheus.Gatherer {
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.requests, m.duration, m.bytes, m.delivery)
	if m.queues != nil {
		reg.MustRegister(m.queues)
	}
	return reg
}

// Begin counts a request in flight; call the returned func when it is done.
func (m *Metrics) Begin() (done func()) {
	m.inflight.Inc()
	return m.inflight.Dec
}

// ObserveRequest records one served S3 request.
func (m *Metrics) ObserveRequest(r Request) {
	op := r.Op
	if op == "" {
		op = "Unknown"
	}
	m.requests.WithLabelValues(op, StatusClass(r.Status), r.Code).Inc()
	m.duration.WithLabelValues(op).Observe(r.Duration.Seconds())
	if r.BytesIn > 0 {
		m.bytes.WithLabelValues(op, "in").Add(float64(r.BytesIn))
	}
	if r.BytesOut > 0 {
		m.bytes.WithLabelValues(op, "out").Add(float64(r.BytesOut))
	}
}

// ObserveIntegrityError counts one integrity error of the store.
func (m *Metrics) ObserveIntegrityError() { m.integrity.Inc() }

// ObserveLifecycle counts one lifecycle action ("expire",
// "transition" or "abort") on a version of size bytes.
func (m *Metrics) ObserveLifecycle(action string, size int64) {
	m.lcObjects.WithLabelValues(action).Inc()
	if action != "abort" {
		m.lcBytes.WithLabelValues(action).Add(float64(max(size, 0)))
	}
}

// ObserveDelivery records the commit→ack latency of one persistent event.
func (m *Metrics) ObserveDelivery(latency time.Duration) {
	m.delivery.Observe(max(latency, 0).Seconds())
}

// StatusClass is "2xx" for 200..299 and so on; "0xx" for a status never set.
func StatusClass(status int) string {
	if status < 100 || status > 599 {
		return "0xx"
	}
	return strconv.Itoa(status/100) + "xx"
}
