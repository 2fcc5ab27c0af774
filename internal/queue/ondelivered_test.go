package queue_test

import (
	"sync"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/queue"
)

// TestOnDelivered: every positive ack is reported once, with its topic and
// a latency from the commit.
func TestOnDelivered(t *testing.T) {
	var mu sync.Mutex
	var lat []time.Duration
	cfg := testConfig()
	cfg.OnDelivered = func(topic string, d time.Duration) {
		if topic != testTopic {
			t.Errorf("OnDelivered topic = %q, want %q", topic, testTopic)
		}
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
	}
	s := newRecSender()
	e := newEnv(t, "", cfg, queue.Policy{}, s)
	const n = 20
	putAll(t, e, n, 5, 2)
	e.run()
	waitFor(t, 10*time.Second, "all delivered", func() bool { return s.ackedCount() == n })
	waitFor(t, 5*time.Second, "all reported", func() bool { mu.Lock(); defer mu.Unlock(); return len(lat) == n })
	mu.Lock()
	defer mu.Unlock()
	for _, d := range lat {
		if d < 0 || d > 10*time.Second {
			t.Errorf("latency %v out of range", d)
		}
	}
}
