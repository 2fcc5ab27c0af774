package server

import (
	"context"
	"log/slog"

	"github.com/cairn-s3/cairn/internal/adminapi"
	"github.com/cairn-s3/cairn/internal/cephstatus"
	"github.com/cairn-s3/cairn/internal/metrics"
)

// clusterAPI serves GET /admin/cluster from the store's cluster status
// (nil: a store without a cluster, which the admin API refuses).
func clusterAPI(fn ClusterStatus) adminapi.ClusterStatuser {
	if fn == nil {
		return nil
	}
	return func(ctx context.Context) (any, error) { return fn(ctx) }
}

// enableClusterMetrics exports the cairn_ceph_* metrics of the store's
// cluster, read at scrape time at most every cephstatus.MinCacheTTL.
func enableClusterMetrics(m *metrics.Metrics, fn ClusterStatus, log *slog.Logger) {
	if m == nil || fn == nil {
		return
	}
	m.Registry().MustRegister(cephstatus.NewCollector(fn, cephstatus.MinCacheTTL, log.With("component", "ceph-metrics")))
}
