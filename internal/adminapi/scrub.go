package adminapi

import (
	"context"
	"errors"
)

// Scrubber verifies every stored object's data at up to rate bytes per
// second (0: unlimited), rewriting legacy data files with checksums if
// upgradeLegacy, and returns the report (the local store's ScrubReport)
// to answer with.
type Scrubber func(ctx context.Context, rate int64, upgradeLegacy bool) (any, error)

// scrub: POST /admin/scrub[?rate=BYTES_PER_SECOND][&upgrade-legacy]
// verifies every object version's data files and lists the damaged ones.
// It answers when done;
// the caller's timeout must allow for the store's size (or give a rate
// and a long timeout). Cancelling the request stops it.
func (a *API) scrub(ctx context.Context, q query) (any, error) {
	if a.scrubFn == nil {
		return nil, errNotImplemented
	}
	rate, err := q.integer("rate")
	if err != nil {
		return nil, err
	}
	var r int64
	if rate != nil {
		if *rate < 0 {
			return nil, errInvalidArgument.with(errors.New("rate: want bytes per second, 0 for unlimited"))
		}
		r = int64(*rate)
	}
	upgrade, _, err := q.boolean("upgrade-legacy")
	if err != nil {
		return nil, err
	}
	return a.scrubFn(ctx, r, upgrade)
}
