package cephstatus

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// MinCacheTTL is the shortest time a scrape's status is reused: scrapes
// (from several Prometheus servers, every few seconds) must not each cost
// the monitors four commands.
const MinCacheTTL = 10 * time.Second

// scrapeTimeout bounds the commands of one scrape.
const scrapeTimeout = 10 * time.Second

// Collector exports the cluster's figures at scrape time:
//
//	cairn_ceph_health_status        0 HEALTH_OK, 1 HEALTH_WARN, 2 HEALTH_ERR
//	cairn_ceph_osds{state}          up, in, total
//	cairn_ceph_pool_stored_bytes{pool}
//	cairn_ceph_pgs{state}           PGs in each of Ceph's PG states (a PG
//	                                "active+clean" counts under both)
//
// Labels stay bounded: pools are few and PG states are Ceph's fixed set.
type Collector struct {
	fetch func(ctx context.Context) (Status, error)
	ttl   time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	at      time.Time
	last    Status
	lastErr error
}

// NewCollector returns a collector reading the cluster through fetch at
// most once per ttl (at least MinCacheTTL).
func NewCollector(fetch func(ctx context.Context) (Status, error), ttl time.Duration, log *slog.Logger) *Collector {
	if ttl < MinCacheTTL {
		ttl = MinCacheTTL
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Collector{fetch: fetch, ttl: ttl, log: log}
}

var (
	descHealth = prometheus.NewDesc("cairn_ceph_health_status",
		"Ceph's health: 0 HEALTH_OK, 1 HEALTH_WARN, 2 HEALTH_ERR.", nil, nil)
	descOSDs = prometheus.NewDesc("cairn_ceph_osds", "Ceph OSDs up, in and in all.", []string{"state"}, nil)
	descPool = prometheus.NewDesc("cairn_ceph_pool_stored_bytes",
		"Bytes of user data stored in the pool (before replication).", []string{"pool"}, nil)
	descPGs = prometheus.NewDesc("cairn_ceph_pgs", "Placement groups in each PG state.", []string{"state"}, nil)
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHealth, descOSDs, descPool, descPGs} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A cluster that does not answer
// leaves the cairn_ceph_* series out of the scrape (and logs why).
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.status()
	if err != nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descHealth, healthValue(st.Health.Status))
	gauge(descOSDs, float64(st.OSDs.Up), "up")
	gauge(descOSDs, float64(st.OSDs.In), "in")
	gauge(descOSDs, float64(st.OSDs.Total), "total")
	for _, p := range st.Pools {
		gauge(descPool, float64(p.StoredBytes), p.Name)
	}
	for state, n := range splitStates(st.PGs.ByState) {
		gauge(descPGs, float64(n), state)
	}
}

// status returns the cached status, fetching it again once it is older
// than the TTL (a failure is cached too, so a dead cluster is not asked
// at every scrape).
func (c *Collector) status() (Status, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < c.ttl {
		return c.last, c.lastErr
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	c.last, c.lastErr = c.fetch(ctx)
	c.at = time.Now()
	if c.lastErr != nil {
		c.log.Warn("ceph status for the metrics failed", "err", c.lastErr)
	}
	return c.last, c.lastErr
}

// healthValue maps Ceph's health onto the mgr prometheus module's values.
func healthValue(s string) float64 {
	switch s {
	case "HEALTH_OK":
		return 0
	case "HEALTH_WARN":
		return 1
	}
	return 2
}

// splitStates counts PGs per single state: combined states such as
// "active+clean+scrubbing" are unbounded combinations, single states are
// Ceph's fixed set.
func splitStates(byState map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for combined, n := range byState {
		for _, s := range strings.Split(combined, "+") {
			out[s] += n
		}
	}
	return out
}
