package server

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-s3/cairn/internal/live"
	"github.com/cairn-s3/cairn/internal/metrics"
	"github.com/cairn-s3/cairn/internal/s3api"
)

// LiveConfig tunes the live event stream (GET /{bucket}?events, `cairn
// watch`). Zero values take package live's defaults.
type LiveConfig struct {
	// MaxListeners bounds the concurrent streams of all buckets; more are
	// refused with 503 SlowDown (1000).
	MaxListeners int
	// Buffer is how many events one stream may lag behind before events
	// are dropped for it and reported as a gap (1024).
	Buffer int
}

// newLive builds the live event hub. It is fed by the store's change hook
// after the notification dispatcher (so a change the dispatcher refuses is
// never published) and publishes only once a commit is durable.
func newLive(cfg Config, log *slog.Logger) (*live.Hub, error) {
	return live.New(live.Config{
		MaxListeners: cfg.Live.MaxListeners,
		Buffer:       cfg.Live.Buffer,
		Logger:       log.With("component", "live"),
	})
}

// enableLive serves the stream on the S3 API and exports the number of
// listeners.
func enableLive(api *s3api.API, hub *live.Hub, m *metrics.Metrics) {
	api.EnableLiveEvents(hub)
	if m == nil {
		return
	}
	m.Registry().MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: metrics.Namespace, Subsystem: "live", Name: "listeners",
		Help: "Clients currently streaming a bucket's events.",
	}, func() float64 { return float64(hub.Listeners()) }))
}

// LiveListeners returns the number of live event streams open now (tests
// poll it to know a watcher is registered before they write).
func (s *Server) LiveListeners() int { return s.live.Listeners() }
