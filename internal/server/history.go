package server

import (
	"context"
	"log/slog"

	"github.com/cairn-s3/cairn/internal/console"
	"github.com/cairn-s3/cairn/internal/metrics"
)

// newHistory keeps the last hour of the server's own metrics for the
// console's charts; nil when metrics are disabled.
func newHistory(m *metrics.Metrics, cfg MetricsConfig, log *slog.Logger) *metrics.History {
	if m == nil {
		return nil
	}
	return metrics.NewHistory(m.HistorySource(), metrics.HistoryOptions{
		Step: cfg.HistoryStep, Logger: log.With("component", "history")})
}

// History returns the server's metrics history, nil when metrics are
// disabled.
func (s *Server) History() *metrics.History { return s.history }

// consoleHistory is the history for the console: a nil interface (not a
// nil *metrics.History) when metrics are disabled.
func (s *Server) consoleHistory() console.History {
	if s.history == nil {
		return nil
	}
	return s.history
}

// startHistory samples the history while the server runs, until the
// returned func is called (which waits for the sampler to stop).
func (s *Server) startHistory(ctx context.Context) (stop func()) {
	if s.history == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.history.Run(ctx)
	}()
	return func() { cancel(); <-done }
}
