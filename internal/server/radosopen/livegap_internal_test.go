//go:build rados

package radosopen

import (
	"log/slog"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/live"
	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// openRelay opens a gateway's live relay on pool (a connection of its own:
// its own instance id) with a hub attached.
func openRelay(t *testing.T, pool string) (*liveRelay, *live.Hub) {
	t.Helper()
	conn := radostest.Conn(t)
	io, err := conn.OpenIOContext(pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(io.Destroy)
	r, err := newLiveRelay(io, conn.GetInstanceID(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.close)
	h, err := live.New(live.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h.SetRelay(r)
	r.Attach(h)
	return r, h
}

// Events of a watched bucket the sender lost last (its queue was full, or
// a notify failed) are followed by none that could carry their count: the
// sender must still tell the watching gateway once it has nothing else to
// send, or the listener never learns of the gap.
func TestLiveRelayReportsTrailingDrops(t *testing.T) {
	pool := radostest.Pool(t, radostest.Conn(t))
	sender, _ := openRelay(t, pool)
	_, hub := openRelay(t, pool)
	l, err := hub.Subscribe("b", live.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !sender.Wanted("b") {
		t.Fatal("the sender does not know of the listener after Subscribe")
	}
	sender.addDrops("b", 5)
	// Wake the sender with an event of a bucket nobody watches: once it
	// is sent the sender has nothing left to do.
	sender.Send("elsewhere", "o", notify.ObjectCreatedPut, "k", []byte(`{"Records":[]}`))
	for i := 0; l.Dropped() != 5; i++ {
		if i == 500 {
			t.Fatalf("the listener was told of %d lost events, want 5", l.Dropped())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Reads (far more frequent than changes, and relayed as soon as one
// listener anywhere asks for them) must not fill the relay's queue, which
// every watched bucket's changes share: with half of it taken, reads are
// counted lost and changes still get in.
func TestLiveRelayQueueKeepsRoomForChanges(t *testing.T) {
	r := &liveRelay{q: make(chan liveEvent, liveQueue), drops: map[string]int64{}} // no sender: nothing drains
	for range liveQueue {
		r.Send("hot", "o", notify.ObjectAccessedGet, "k", []byte(`{}`))
	}
	r.Send("other", "o", notify.ObjectCreatedPut, "k", []byte(`{}`))
	if n := r.takeDrops("other"); n != 0 {
		t.Fatalf("a change of another bucket was lost behind %d queued reads", len(r.q))
	}
	if n := r.takeDrops("hot"); n == 0 {
		t.Fatal("no read was counted lost")
	}
}
