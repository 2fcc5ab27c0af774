//go:build rados

package radosopen

import (
	"encoding/json"
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
	sender.addDrops("b", lost{changes: 5})
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
	r := &liveRelay{q: make(chan liveEvent, liveQueue), drops: map[string]lost{}} // no sender: nothing drains
	for range liveQueue {
		r.Send("hot", "o", notify.ObjectAccessedGet, "k", []byte(`{}`))
	}
	r.Send("other", "o", notify.ObjectCreatedPut, "k", []byte(`{}`))
	if n := r.takeDrops("other"); n != (lost{}) {
		t.Fatalf("a change of another bucket was lost behind %d queued reads", len(r.q))
	}
	if n := r.takeDrops("hot"); n.reads == 0 || n.changes != 0 {
		t.Fatalf("lost in the hot bucket: %+v, want reads only", n)
	}
}

// Reads the sender lost are a gap for the listeners of reads only: a
// listener of the bucket's changes missed nothing. The relayed batch
// carrying the losses is handed to the receiving gateway as its watch
// would.
func TestLiveRelayLostReadsAreNoGapForChangeListeners(t *testing.T) {
	hub, err := live.New(live.Config{})
	if err != nil {
		t.Fatal(err)
	}
	receiver := &liveRelay{gid: 1}
	receiver.Attach(hub)
	changes, err := hub.Subscribe("b", live.Filter{Events: []string{"s3:ObjectCreated:*"}})
	if err != nil {
		t.Fatal(err)
	}
	defer changes.Close()
	reads, err := hub.Subscribe("b", live.Filter{Events: []string{"s3:ObjectAccessed:*"}})
	if err != nil {
		t.Fatal(err)
	}
	defer reads.Close()

	sender := &liveRelay{gid: 2, q: make(chan liveEvent, liveQueue), drops: map[string]lost{}}
	for range liveQueue / 2 {
		sender.q <- liveEvent{bucket: "elsewhere"}
	}
	sender.Send("b", "o", notify.ObjectAccessedGet, "k", []byte(`{}`))
	sender.Send("b", "o", notify.ObjectAccessedHead, "k", []byte(`{}`))
	taken := sender.takeDrops("b")
	data, err := json.Marshal(liveBatch{From: sender.gid, Dropped: taken.changes, DroppedReads: taken.reads})
	if err != nil {
		t.Fatal(err)
	}
	receiver.deliver("b", data)
	if n := reads.Dropped(); n != 2 {
		t.Fatalf("the read listener was told of %d lost events, want 2", n)
	}
	if n := changes.Dropped(); n != 0 {
		t.Fatalf("the listener of changes was told of %d lost events, want none", n)
	}
}
