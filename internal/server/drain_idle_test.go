package server_test

import (
	"bytes"
	"context"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/notify/notifytest"
	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// scanLog is a kv.Store that notes when its queue rows are scanned (a
// shard consumer's poll).
type scanLog struct {
	kv.Store
	mu    sync.Mutex
	scans []time.Time
}

func (s *scanLog) Scan(ctx context.Context, prefix, start []byte) iter.Seq2[kv.Pair, error] {
	if bytes.Equal(prefix, []byte("queue/")) {
		s.mu.Lock()
		s.scans = append(s.scans, time.Now())
		s.mu.Unlock()
	}
	return s.Store.Scan(ctx, prefix, start)
}

func (s *scanLog) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.scans...)
}

// An idle shard whose watch stands (every commit writing to it wakes its
// consumer) is polled less and less often: each look finding nothing
// doubles the wait, where the consumer used to reread it every
// PollInterval for as long as it held it.
func TestDrainShardIdlePollBacksOff(t *testing.T) {
	st, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	shard := &scanLog{Store: notifytest.NewMemKV()}
	const poll = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- server.RunDrainShard(ctx, st, poll, server.DrainedShard{
			Name: "idle", KV: shard, Shares: 1, Wake: make(chan struct{}),
			Watched:  func() bool { return true },
			SyncFull: func(context.Context, map[string]bool) error { return nil },
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	// Scans: the queue's opening, then looks waiting 2, 4, 8 polls.
	var scans []time.Time
	for range 300 {
		if scans = shard.times(); len(scans) >= 5 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(scans) < 5 {
		t.Fatalf("%d looks at the shard, want 5", len(scans))
	}
	// Timers never fire early: the lower bounds hold on any machine.
	t.Logf("looks: %v", scans)
	if gap := scans[4].Sub(scans[3]); gap < 8*poll {
		t.Errorf("wait before the 4th look at an idle watched shard: %v, want ≥ %v (backed off)", gap, 8*poll)
	}
}
