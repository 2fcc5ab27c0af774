package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/cairn-s3/cairn/internal/metrics"
	"github.com/cairn-s3/cairn/internal/psapi"
	"github.com/cairn-s3/cairn/internal/pubsub"
	"github.com/cairn-s3/cairn/internal/s3api"
)

// PubSubConfig enables and tunes the pull-mode PubSub API (RGW's pubsub
// zone; the tier-config keys of pubsub.md §1).
type PubSubConfig struct {
	// Enabled serves /topics, /subscriptions and /notifications and makes
	// S3 notifications create subscriptions. Off, those paths are buckets
	// like any other (as on RGW Reef and later).
	Enabled bool
	// RetentionDays keeps unacked events that many days
	// (events_retention_days, 7).
	RetentionDays int
	// Retention, if set, overrides RetentionDays with a finer duration.
	Retention time.Duration
	// ExpireInterval is how often retention runs (one minute).
	ExpireInterval time.Duration
	// DataBucketPrefix and DataOIDPrefix name where GET /subscriptions
	// says events are stored (data_bucket_prefix "pubsub-",
	// data_oid_prefix "").
	DataBucketPrefix string
	DataOIDPrefix    string
}

func (c PubSubConfig) retention() time.Duration {
	if c.Retention > 0 {
		return c.Retention
	}
	if c.RetentionDays > 0 {
		return time.Duration(c.RetentionDays) * 24 * time.Hour
	}
	return pubsub.DefaultRetention
}

// newPubSub builds the PubSub service over the store and installs its API
// on the S3 adapter.
func newPubSub(st Backend, cfg Config, n *notifications, api *s3api.API, log *slog.Logger) (*pubsub.Service, *psapi.API, error) {
	pc := cfg.PubSub
	svc, err := pubsub.NewService(st.KV(), n.disp.Topics(), pubsub.Options{
		Retention: pc.retention(), ExpireInterval: pc.ExpireInterval,
		DataBucketPrefix: pc.DataBucketPrefix, DataOIDPrefix: pc.DataOIDPrefix,
		S3Notifications: n.disp, Pusher: poolPusher{pool: n.pool}, Logger: log.With("component", "pubsub"),
		Shared: n.shared,
	})
	if err != nil {
		return nil, nil, err
	}
	rest := psapi.New(psapi.Config{Service: svc, Options: *n.disp.Options(), Queues: n.queue, Buckets: st,
		Logger: log.With("component", "psapi")})
	rest.Install(api)
	api.ObserveNotifications(svc)
	return svc, rest, nil
}

// runPubSub runs retention until ctx ends; a nil service does nothing.
func runPubSub(ctx context.Context, svc *pubsub.Service) error {
	if svc == nil {
		return nil
	}
	return svc.Run(ctx)
}

// eventCounts are the counters of pubsub.md §9 across synchronous pushes,
// the persistent queue and pull subscriptions: one computation for the
// metrics and the admin API.
func (n *notifications) eventCounts() metrics.EventCounts {
	d, q := n.disp.Counters(), n.queue.Counters()
	e := metrics.EventCounts{
		Triggered: d.Triggered, Lost: d.Lost,
		PushOK: d.PushOK + q.Delivered, PushFailed: d.PushFailed + q.Failed,
		PushPending: d.PushPending + q.Pending,
	}
	if n.pubsub != nil {
		c := n.pubsub.Counters()
		e.Triggered += int64(c.EventTriggered)
		e.PushOK += int64(c.PushOK)
		e.PushFailed += int64(c.PushFailed)
		e.PushPending += c.PushPending
		e.StoreOK, e.StoreFail = int64(c.StoreOK), int64(c.StoreFail)
		e.Stored, e.MissingConf = c.Events, int64(c.MissingConf)
	}
	return e
}

// counters renders eventCounts with RGW's counter names (GET
// /admin/counters).
func (n *notifications) counters() map[string]int64 {
	e := n.eventCounts()
	return map[string]int64{
		"pubsub_event_triggered": e.Triggered, "pubsub_event_lost": e.Lost,
		"pubsub_store_ok": e.StoreOK, "pubsub_store_fail": e.StoreFail, "pubsub_events": e.Stored,
		"pubsub_push_ok": e.PushOK, "pubsub_push_failed": e.PushFailed, "pubsub_push_pending": e.PushPending,
		"pubsub_missing_conf": e.MissingConf,
	}
}
