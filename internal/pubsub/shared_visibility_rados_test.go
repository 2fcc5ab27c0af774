//go:build rados

package pubsub

import (
	"context"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
)

// guardedApplier forwards to the store's CompareEachAndApply after the
// race, as racingKV does for the other writes.
func (s *racingKV) CompareEachAndApply(ctx context.Context, guards []kv.Pair, b *kv.Batch) (bool, error) {
	s.runRace()
	return s.Store.(guardedApplier).CompareEachAndApply(ctx, guards, b)
}

// racingPull returns gateway B's log over a racingKV whose next write
// first runs race, with the retention pair's clock.
func racingPull(t *testing.T, p *retentionPair, race func()) (*Log, *racingKV) {
	t.Helper()
	r := &racingKV{Store: p.b.st.KV(), race: race}
	b, err := New(r, p.opts.Retention, p.opts.Now)
	if err != nil {
		t.Fatal(err)
	}
	b.shared = true
	return b, r
}

func raced(t *testing.T, r *racingKV) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.race != nil {
		t.Fatal("the other gateway's write never ran")
	}
}

// storedIDs returns the ids of the events of the log, as a plain pull
// through A reads them.
func storedIDs(t *testing.T, p *retentionPair) map[string]bool {
	t.Helper()
	page, err := p.a.svc.Log().Pull(t.Context(), p.log, PullOptions{Max: MaxEntries})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, e := range page.Events {
		ids[e.ID] = true
	}
	return ids
}

// A pull with a visibility timeout through B reads an event, then A acks
// it: B's write hiding the event must not bring it back.
func TestSharedPullVisibilityKeepsOtherGatewaysAck(t *testing.T) {
	p := newRetentionPair(t, 0)
	acked := p.young[0].ID
	b, r := racingPull(t, p, func() {
		if n, err := p.a.svc.Log().Ack(t.Context(), p.log, acked); err != nil || n != 1 {
			t.Errorf("A acked %d, %v", n, err)
		}
	})
	page, err := b.Pull(t.Context(), p.log, PullOptions{Max: 1, Visibility: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	raced(t, r)
	if storedIDs(t, p)[acked] {
		t.Fatalf("the event %s A acked is stored again after B's pull (which returned %d events)", acked, len(page.Events))
	}
}

// Pulls with a visibility timeout through A and B at once: an event is
// handed to one of them only.
func TestSharedPullVisibilityHidesFromOtherGateway(t *testing.T) {
	p := newRetentionPair(t, 0)
	var got []Event
	b, r := racingPull(t, p, func() {
		page, err := p.a.svc.Log().Pull(t.Context(), p.log, PullOptions{Max: 1, Visibility: time.Minute})
		if err != nil || len(page.Events) != 1 {
			t.Errorf("A pulled %d events, %v", len(page.Events), err)
		}
		got = page.Events
	})
	page, err := b.Pull(t.Context(), p.log, PullOptions{Max: 1, Visibility: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	raced(t, r)
	for _, e := range page.Events {
		for _, g := range got {
			if e.ID == g.ID {
				t.Fatalf("A and B both pulled %s within its visibility timeout", e.ID)
			}
		}
	}
}

// A nack through B finds an event, then A acks it: the nack must not
// bring it back.
func TestSharedNackKeepsOtherGatewaysAck(t *testing.T) {
	p := newRetentionPair(t, 0)
	id := p.young[0].ID
	b, r := racingPull(t, p, func() {
		if n, err := p.a.svc.Log().Ack(t.Context(), p.log, id); err != nil || n != 1 {
			t.Errorf("A acked %d, %v", n, err)
		}
	})
	if _, err := b.Nack(t.Context(), p.log, id); err != nil {
		t.Fatal(err)
	}
	raced(t, r)
	if storedIDs(t, p)[id] {
		t.Fatalf("the event %s A acked is stored again after B's nack", id)
	}
}
