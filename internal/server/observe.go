package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/cairn-s3/cairn/internal/metrics"
	"github.com/cairn-s3/cairn/internal/s3api"
	"github.com/cairn-s3/cairn/internal/store"
)

// MetricsPath is where the S3 listener (and the metrics listener) serve
// the Prometheus metrics. A bucket named "metrics" is reserved for it.
const MetricsPath = "/metrics"

// maxUsageObjects bounds one storage usage count (see usage).
const maxUsageObjects = 1_000_000

// newMetrics builds the collectors. Sources read n when scraped: n is
// filled in by New before the server serves anything.
func newMetrics(st Backend, n **notifications) *metrics.Metrics {
	return metrics.New(prometheus.NewRegistry(), metrics.Sources{
		Events: func() metrics.EventCounts { return (*n).eventCounts() },
		Queues: func() []metrics.QueueStats {
			q := (*n).queue
			names := q.Topics()
			out := make([]metrics.QueueStats, 0, len(names))
			for _, t := range names {
				s := q.Stats(t)
				out = append(out, metrics.QueueStats{Topic: t, Depth: s.Depth, OldestAge: s.OldestAge})
			}
			return out
		},
		Usage: func(ctx context.Context) (metrics.Usage, error) { return usage(ctx, st, maxUsageObjects) },
	})
}

// usage counts buckets and the current versions of their objects by
// listing them, stopping after limit objects. The metrics cache the result
// (metrics.DefaultUsageTTL), so the cost is at most one listing of up to
// limit keys per cache period, however often Prometheus scrapes.
func usage(ctx context.Context, st store.Backend, limit int64) (metrics.Usage, error) {
	bs, err := st.ListBuckets(ctx)
	if err != nil {
		return metrics.Usage{}, err
	}
	u := metrics.Usage{Buckets: int64(len(bs))}
	for _, b := range bs {
		opts := store.ListOptions{MaxKeys: 1000}
		for {
			if u.Objects >= limit {
				u.Truncated = true
				return u, nil
			}
			res, err := st.ListObjects(ctx, b.Name, opts)
			if errors.Is(err, store.ErrNoSuchBucket) {
				break // deleted meanwhile
			}
			if err != nil {
				return metrics.Usage{}, err
			}
			for _, o := range res.Objects {
				u.Objects++
				u.Bytes += o.Size
			}
			if !res.IsTruncated || res.NextMarker == "" {
				break
			}
			opts.Marker = res.NextMarker
		}
	}
	return u, nil
}

// observer reports each S3 request to the metrics and the access log
// (either may be nil).
func observer(m *metrics.Metrics, access *slog.Logger) func(s3api.RequestRecord) {
	if m == nil && access == nil {
		return nil
	}
	return func(r s3api.RequestRecord) {
		if m != nil {
			m.ObserveRequest(metrics.Request{Op: string(r.Op), Status: r.Status, Code: r.Code,
				BytesIn: r.BytesIn, BytesOut: r.BytesOut, Duration: r.Duration})
		}
		if access != nil {
			access.LogAttrs(context.Background(), slog.LevelInfo, "request",
				slog.String("request_id", r.ID), slog.String("user", r.User), slog.String("op", string(r.Op)),
				slog.String("bucket", r.Bucket), slog.String("key", r.Key), slog.Int("status", r.Status), slog.String("code", r.Code),
				slog.Int64("bytes_in", r.BytesIn), slog.Int64("bytes_out", r.BytesOut),
				slog.Float64("duration_ms", float64(r.Duration.Microseconds())/1000))
		}
	}
}

// metricsHandler serves the registry in the Prometheus exposition format:
// all of it on the metrics listener (--metrics-address), which only the
// operator reaches; on the S3 listener, which anyone reaches (another
// tenant, an anonymous client), without the series that name tenants'
// resources.
func metricsHandler(m *metrics.Metrics, log *slog.Logger, public bool) http.Handler {
	var g prometheus.Gatherer = m.Registry()
	if public {
		g = publicGatherer{g}
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn), ErrorHandling: promhttp.ContinueOnError,
	})
}

// publicGatherer drops the metric families labelled by a persistent
// topic ("tenant:name") or an endpoint host: their label values tell who
// the tenants are, what their topics are called, where their events go
// and how busy they are.
type publicGatherer struct{ prometheus.Gatherer }

func (g publicGatherer) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := g.Gatherer.Gather()
	public := mfs[:0]
	for _, mf := range mfs {
		if !namesTenantResource(mf) {
			public = append(public, mf)
		}
	}
	return public, err
}

func namesTenantResource(mf *dto.MetricFamily) bool {
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if n := l.GetName(); n == "topic" || n == "endpoint" {
				return true
			}
		}
	}
	return false
}

// isMetricsRequest is exactly "GET /metrics", path-style, without a query:
// anything else (a query, a key, another method, a virtual-hosted bucket)
// stays an S3 request.
func isMetricsRequest(api *s3api.API, r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Path == MetricsPath && r.URL.RawQuery == "" &&
		api.VirtualHostBucket(r) == ""
}
