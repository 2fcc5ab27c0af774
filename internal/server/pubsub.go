package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/psapi"
	"github.com/cairn-s3/cairn/internal/pubsub"
	"github.com/cairn-s3/cairn/internal/s3api"
	"github.com/cairn-s3/cairn/internal/store/local"
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
func newPubSub(st *local.Store, cfg Config, n *notifications, api *s3api.API, log *slog.Logger) (*pubsub.Service, *psapi.API, error) {
	pc := cfg.PubSub
	svc, err := pubsub.NewService(st.KV(), n.disp.Topics(), pubsub.Options{
		Retention: pc.retention(), ExpireInterval: pc.ExpireInterval,
		DataBucketPrefix: pc.DataBucketPrefix, DataOIDPrefix: pc.DataOIDPrefix,
		Pusher: poolPusher{pool: n.pool}, Logger: log.With("component", "pubsub"),
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

// pubsubCounters returns the counters of pubsub.md §9 across notification
// pushes, the persistent queue and pull subscriptions.
func pubsubCounters(d *notify.Dispatcher, svc *pubsub.Service) map[string]int64 {
	dc := d.Counters()
	out := map[string]int64{
		"pubsub_event_triggered": dc.Triggered,
		"pubsub_event_lost":      dc.Lost,
		"pubsub_push_ok":         dc.PushOK,
		"pubsub_push_failed":     dc.PushFailed,
		"pubsub_push_pending":    dc.PushPending,
	}
	if svc != nil {
		c := svc.Counters()
		out["pubsub_event_triggered"] += int64(c.EventTriggered)
		out["pubsub_push_ok"] += int64(c.PushOK)
		out["pubsub_push_failed"] += int64(c.PushFailed)
		out["pubsub_push_pending"] += c.PushPending
		out["pubsub_store_ok"] = int64(c.StoreOK)
		out["pubsub_store_fail"] = int64(c.StoreFail)
		out["pubsub_events"] = c.Events
		out["pubsub_missing_conf"] = int64(c.MissingConf)
	}
	return out
}
