package server

import (
	"context"
	"errors"
	"time"

	"github.com/cairn-s3/cairn/internal/adminapi"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// ScrubConfig configures the background scrub, which verifies every stored
// object's data files at a bounded rate so that damage to data nobody
// reads is found too (reads verify what they serve).
type ScrubConfig struct {
	// Interval between the start of one scrub and the next; the first
	// starts one interval after the server. Zero turns it off.
	Interval time.Duration
	// Rate bounds the bytes read per second (0: unlimited).
	Rate int64
}

// errScrubUnsupported answers a scrub of a store that has none of its own.
var errScrubUnsupported = errors.New("scrub: this store has no scrub of its own: Ceph's deep scrub verifies the RADOS objects")

// scrubAPI is fn for a store with a scrub of its own, and nil (the admin
// API answers NotImplemented) for one without (RADOS).
func scrubAPI(st Backend, fn adminapi.Scrubber) adminapi.Scrubber {
	if _, ok := st.(scrubber); !ok {
		return nil
	}
	return fn
}

// scrubNow runs one scrub and logs its summary; damaged files were logged
// and counted one by one as they were found.
func (s *Server) scrubNow(ctx context.Context, opts local.ScrubOptions) (local.ScrubReport, error) {
	sc, ok := s.store.(scrubber)
	if !ok { // RADOS scrubs its objects itself (Ceph's deep scrub)
		return local.ScrubReport{}, errScrubUnsupported
	}
	rep, err := sc.Scrub(ctx, opts)
	if err != nil {
		s.log.Warn("scrub stopped", "err", err, "objects", rep.Objects, "damaged", rep.DamagedCount)
		return rep, err
	}
	level := s.log.Info
	if rep.DamagedCount > 0 {
		level = s.log.Error
	}
	level("scrub done", "objects", rep.Objects, "files", rep.Files, "bytes", rep.Bytes,
		"damaged", rep.DamagedCount, "legacy", rep.LegacyCount, "upgraded", rep.Upgraded, "took", rep.Finished.Sub(rep.Started).Round(time.Millisecond))
	return rep, nil
}

// startScrub runs the background scrub until the returned func is called
// (which waits for it to stop).
func (s *Server) startScrub(ctx context.Context) (stop func()) {
	every := s.cfg.Scrub.Interval
	if _, ok := s.store.(scrubber); every <= 0 || !ok {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := s.scrubNow(ctx, local.ScrubOptions{Rate: s.cfg.Scrub.Rate}); errors.Is(err, context.Canceled) {
				return
			}
		}
	}()
	return func() { cancel(); <-done }
}
