package metrics

import (
	"cmp"
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// eventCollector exports the RGW notification counters under their RGW
// names (prefixed cairn_, with _total on counters).
type eventCollector func() EventCounts

var (
	descTriggered = prometheus.NewDesc("cairn_pubsub_event_triggered_total", "Changes with at least one matching notification (RGW pubsub_event_triggered).", nil, nil)
	descLost      = prometheus.NewDesc("cairn_pubsub_event_lost_total", "Changes whose event reached no endpoint (RGW pubsub_event_lost).", nil, nil)
	descPushOK    = prometheus.NewDesc("cairn_pubsub_push_ok_total", "Events acknowledged by their endpoint, synchronous and persistent (RGW pubsub_push_ok).", nil, nil)
	descPushFail  = prometheus.NewDesc("cairn_pubsub_push_failed_total", "Failed push attempts, synchronous and persistent (RGW pubsub_push_failed).", nil, nil)
	// descPushFailAlias is the name Ceph's documentation gives the same
	// counter (the spec allows the alias; dashboards written from the docs
	// use it).
	descPushFailAlias = prometheus.NewDesc("cairn_pubsub_push_fail_total", "Alias of cairn_pubsub_push_failed_total (the name in Ceph's documentation).", nil, nil)
	descPending       = prometheus.NewDesc("cairn_pubsub_push_pending", "Pushes in flight (RGW pubsub_push_pending).", nil, nil)
	descStoreOK       = prometheus.NewDesc("cairn_pubsub_store_ok_total", "Events stored into pull subscriptions (RGW pubsub_store_ok).", nil, nil)
	descStoreFail     = prometheus.NewDesc("cairn_pubsub_store_fail_total", "Failed stores into pull subscriptions; the change failed with them (RGW pubsub_store_fail).", nil, nil)
	descStored        = prometheus.NewDesc("cairn_pubsub_events", "Events stored in pull subscriptions, not yet acked or expired (RGW pubsub_events).", nil, nil)
)

func (c eventCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTriggered, descLost, descPushOK, descPushFail, descPushFailAlias, descPending,
		descStoreOK, descStoreFail, descStored} {
		ch <- d
	}
}

func (c eventCollector) Collect(ch chan<- prometheus.Metric) {
	e := c()
	ch <- prometheus.MustNewConstMetric(descTriggered, prometheus.CounterValue, float64(e.Triggered))
	ch <- prometheus.MustNewConstMetric(descLost, prometheus.CounterValue, float64(e.Lost))
	ch <- prometheus.MustNewConstMetric(descPushOK, prometheus.CounterValue, float64(e.PushOK))
	ch <- prometheus.MustNewConstMetric(descPushFail, prometheus.CounterValue, float64(e.PushFailed))
	ch <- prometheus.MustNewConstMetric(descPushFailAlias, prometheus.CounterValue, float64(e.PushFailed))
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(e.PushPending))
	ch <- prometheus.MustNewConstMetric(descStoreOK, prometheus.CounterValue, float64(e.StoreOK))
	ch <- prometheus.MustNewConstMetric(descStoreFail, prometheus.CounterValue, float64(e.StoreFail))
	ch <- prometheus.MustNewConstMetric(descStored, prometheus.GaugeValue, float64(e.Stored))
}

// queueCollector exports per-topic queue depth and oldest-pending age.
type queueCollector func() []QueueStats

// MaxQueues bounds the queue series: every tenant may create persistent
// topics, so one series per topic would grow without limit. The deepest
// MaxQueues queues get their own series; the others are summed (depth)
// and maxed (age) into one series labelled OtherQueues.
const MaxQueues = 256

// OtherQueues labels the series of the queues beyond MaxQueues. Queue
// names are "tenant:topic", so it names no queue.
const OtherQueues = "_others"

var (
	descDepth = prometheus.NewDesc("cairn_queue_depth", "Events queued on a persistent topic (RGW persistent_topic_len); the topics beyond the deepest 256 are summed under topic=\"_others\".", []string{"topic"}, nil)
	descAge   = prometheus.NewDesc("cairn_queue_oldest_age_seconds", "Age of the oldest event queued on a persistent topic (0 when empty); the oldest of the others under topic=\"_others\".", []string{"topic"}, nil)
)

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descDepth; ch <- descAge }

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	for _, q := range boundQueues(c(), MaxQueues) {
		ch <- prometheus.MustNewConstMetric(descDepth, prometheus.GaugeValue, float64(q.Depth), q.Topic)
		ch <- prometheus.MustNewConstMetric(descAge, prometheus.GaugeValue, q.OldestAge.Seconds(), q.Topic)
	}
}

// boundQueues keeps the limit deepest queues (the backlogs worth seeing;
// ties by name, so the choice is deterministic) and folds the rest into
// one OtherQueues entry.
func boundQueues(qs []QueueStats, limit int) []QueueStats {
	if len(qs) <= limit {
		return qs
	}
	qs = slices.Clone(qs)
	slices.SortFunc(qs, func(a, b QueueStats) int {
		if c := cmp.Compare(b.Depth, a.Depth); c != 0 {
			return c
		}
		return strings.Compare(a.Topic, b.Topic)
	})
	other := QueueStats{Topic: OtherQueues}
	for _, q := range qs[limit:] {
		other.Depth += q.Depth
		other.OldestAge = max(other.OldestAge, q.OldestAge)
	}
	return append(qs[:limit:limit], other)
}

// usageCollector counts storage usage at scrape time, reusing a count for
// ttl: a scrape costs at most one count per ttl however often it comes.
type usageCollector struct {
	count func(context.Context) (Usage, error)
	ttl   time.Duration
	now   func() time.Time

	mu   sync.Mutex
	last Usage
	at   time.Time
	ok   bool
}

var (
	descBuckets   = prometheus.NewDesc("cairn_storage_buckets", "Buckets in the store.", nil, nil)
	descObjects   = prometheus.NewDesc("cairn_storage_objects", "Current object versions in the store (counted at most once per cache period).", nil, nil)
	descBytes     = prometheus.NewDesc("cairn_storage_bytes", "Bytes of the current object versions (counted at most once per cache period).", nil, nil)
	descTruncated = prometheus.NewDesc("cairn_storage_count_truncated", "1 if the last usage count stopped at its limit (objects and bytes are then lower bounds).", nil, nil)
)

func (c *usageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descBuckets
	ch <- descObjects
	ch <- descBytes
	ch <- descTruncated
}

func (c *usageCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); !c.ok || now.Sub(c.at) >= c.ttl {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		u, err := c.count(ctx)
		cancel()
		if err == nil {
			c.last, c.at, c.ok = u, now, true
		}
	}
	if !c.ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(descBuckets, prometheus.GaugeValue, float64(c.last.Buckets))
	ch <- prometheus.MustNewConstMetric(descObjects, prometheus.GaugeValue, float64(c.last.Objects))
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(c.last.Bytes))
	t := 0.0
	if c.last.Truncated {
		t = 1
	}
	ch <- prometheus.MustNewConstMetric(descTruncated, prometheus.GaugeValue, t)
}

// MaxEndpoints bounds the endpoint series: results for further endpoints
// are not exported.
const MaxEndpoints = 256

// endpointCollector exports whether the last push to each endpoint
// succeeded, and when it last failed.
type endpointCollector struct {
	mu  sync.Mutex
	eps map[string]*endpointState
}

type endpointState struct {
	up        bool
	lastError time.Time
}

var (
	descUp      = prometheus.NewDesc("cairn_endpoint_up", "1 if the last push to the endpoint (scheme://host) succeeded.", []string{"endpoint"}, nil)
	descLastErr = prometheus.NewDesc("cairn_endpoint_last_error_timestamp_seconds", "When a push to the endpoint last failed (0: never).", []string{"endpoint"}, nil)
)

func newEndpointCollector() *endpointCollector {
	return &endpointCollector{eps: map[string]*endpointState{}}
}

func (c *endpointCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descUp; ch <- descLastErr }

func (c *endpointCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, s := range c.eps {
		up, last := 0.0, 0.0
		if s.up {
			up = 1
		}
		if !s.lastError.IsZero() {
			last = float64(s.lastError.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up, name)
		ch <- prometheus.MustNewConstMetric(descLastErr, prometheus.GaugeValue, last, name)
	}
}

// ObserveEndpoint records the result of one push to pushEndpoint (a topic's
// push-endpoint URI). Only its scheme and host are kept: never userinfo,
// path or query.
func (m *Metrics) ObserveEndpoint(pushEndpoint string, err error) {
	name := EndpointLabel(pushEndpoint)
	c := m.endpoints
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.eps[name]
	if s == nil {
		if len(c.eps) >= MaxEndpoints {
			return
		}
		s = &endpointState{}
		c.eps[name] = s
	}
	s.up = err == nil
	if err != nil {
		s.lastError = time.Now()
	}
}

// EndpointLabel is scheme://host[:port] of a push-endpoint URI, without
// credentials; "invalid" if it does not parse.
func EndpointLabel(pushEndpoint string) string {
	u, err := url.Parse(pushEndpoint)
	if err != nil || u.Scheme == "" {
		return "invalid"
	}
	// kafka and amqp URIs may list several hosts; keep them, they are
	// configuration, not data.
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}
