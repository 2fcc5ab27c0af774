package live

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/reqctx"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// commit is a store.RecordWriter that records what a hook did with the
// commit, and runs the AfterCommit functions when told.
type commit struct {
	puts  int
	after []func()
}

func (c *commit) Put(key, value []byte) error { c.puts++; return nil }
func (c *commit) AfterCommit(fn func())       { c.after = append(c.after, fn) }
func (c *commit) AfterAbort(func())           {}
func (c *commit) done() {
	for _, fn := range c.after {
		fn()
	}
}

func newHub(t *testing.T, cfg Config) *Hub {
	t.Helper()
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func change(kind store.ChangeKind, bucket, key string) store.Change {
	return store.Change{Kind: kind, Bucket: store.Bucket{Name: bucket, Owner: "alice"},
		Object: store.ObjectInfo{Bucket: bucket, Key: key, Size: 3, ETag: "abc"}, Time: time.Unix(1700000000, 0)}
}

// apply runs the hook for a change and then commits it.
func apply(t *testing.T, h *Hub, c store.Change) *commit {
	t.Helper()
	ctx := reqctx.With(t.Context(), &reqctx.Info{Op: "PutObject", UserID: "alice", RequestID: "R1"})
	w := &commit{}
	if err := h.Hook(ctx, c, w); err != nil {
		t.Fatal(err)
	}
	w.done()
	return w
}

func keyOf(t *testing.T, ev Event) (name, key string) {
	t.Helper()
	var m struct {
		Records []struct {
			EventName string `json:"eventName"`
			S3        struct {
				Object struct{ Key string } `json:"object"`
			} `json:"s3"`
		}
	}
	if err := json.Unmarshal(ev.Record, &m); err != nil || len(m.Records) != 1 {
		t.Fatalf("record %s: %v", ev.Record, err)
	}
	return m.Records[0].EventName, m.Records[0].S3.Object.Key
}

func TestFilter(t *testing.T) {
	h := newHub(t, Config{})
	l, err := h.Subscribe("b", Filter{Prefix: "img/", Suffix: ".jpg", Events: []string{"s3:ObjectCreated:*"}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, c := range []store.Change{
		change(store.ChangePut, "b", "img/no.png"),
		change(store.ChangePut, "b", "doc/no.jpg"),
		change(store.ChangePut, "other", "img/no.jpg"),
		change(store.ChangeDelete, "b", "img/no.jpg"),
		change(store.ChangePut, "b", "img/yes.jpg"),
	} {
		apply(t, h, c)
	}
	select {
	case ev := <-l.Events():
		if name, key := keyOf(t, ev); name != "ObjectCreated:Put" || key != "img/yes.jpg" {
			t.Errorf("got %s %s, want ObjectCreated:Put img/yes.jpg", name, key)
		}
	default:
		t.Fatal("no event")
	}
	if n := len(l.Events()); n != 0 {
		t.Errorf("%d more events, want none", n)
	}
}

// TestOnlyAfterCommit checks that nothing is published before the commit is
// durable, nothing for a commit that failed, and that no record is written.
func TestOnlyAfterCommit(t *testing.T) {
	h := newHub(t, Config{})
	l, _ := h.Subscribe("b", Filter{})
	defer l.Close()
	ctx := t.Context()
	w := &commit{}
	if err := h.Hook(ctx, change(store.ChangePut, "b", "k"), w); err != nil {
		t.Fatal(err)
	}
	if len(l.Events()) != 0 {
		t.Fatal("event published before the commit")
	}
	if w.puts != 0 {
		t.Fatalf("hook wrote %d records, want 0", w.puts)
	}
	// A failed commit never runs its AfterCommit functions: nothing comes.
	w.done()
	if len(l.Events()) != 1 {
		t.Fatalf("got %d events after the commit, want 1", len(l.Events()))
	}
}

func TestGap(t *testing.T) {
	h := newHub(t, Config{Buffer: 4})
	l, _ := h.Subscribe("b", Filter{})
	defer l.Close()
	for range 10 {
		apply(t, h, change(store.ChangePut, "b", "k"))
	}
	if got := l.Dropped(); got != 6 {
		t.Fatalf("dropped %d, want 6", got)
	}
	if got := l.TakeGap(); got != 0 {
		t.Fatalf("gap reported ahead of buffered events: %d", got)
	}
	for range 4 {
		if ev := <-l.Events(); ev.Dropped != 0 {
			t.Fatalf("buffered event carries a gap of %d", ev.Dropped)
		}
	}
	apply(t, h, change(store.ChangePut, "b", "after"))
	ev := <-l.Events()
	if _, key := keyOf(t, ev); ev.Dropped != 6 || key != "after" {
		t.Fatalf("got gap %d before %q, want 6 before after", ev.Dropped, key)
	}
	// Drops followed by silence are reported once the buffer is empty.
	for range 5 {
		apply(t, h, change(store.ChangePut, "b", "k"))
	}
	for range 4 {
		<-l.Events()
	}
	if got := l.TakeGap(); got != 1 {
		t.Fatalf("idle gap %d, want 1", got)
	}
	if got := l.TakeGap(); got != 0 {
		t.Fatalf("gap reported twice: %d", got)
	}
}

func TestLimits(t *testing.T) {
	h := newHub(t, Config{MaxListeners: 2})
	a, _ := h.Subscribe("b", Filter{})
	b, _ := h.Subscribe("c", Filter{})
	if _, err := h.Subscribe("b", Filter{}); !errors.Is(err, ErrTooManyListeners) || !errors.Is(err, s3err.SlowDown) {
		t.Fatalf("third listener: %v, want SlowDown", err)
	}
	a.Close()
	a.Close()
	if h.Listeners() != 1 {
		t.Fatalf("listeners %d, want 1", h.Listeners())
	}
	c, err := h.Subscribe("b", Filter{})
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed by Close")
	}
	if _, err := h.Subscribe("b", Filter{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
	b.Close()
	c.Close()
}

func TestParseEvents(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		ok   bool
		want string // an event that must match
	}{
		{nil, true, "ObjectRemoved:Delete"},
		{[]string{""}, true, "ObjectCreated:Put"},
		{[]string{"s3:ObjectCreated:*"}, true, "ObjectCreated:Copy"},
		{[]string{"s3:ObjectCreated:Put,s3:ObjectRemoved:Delete"}, true, "ObjectRemoved:Delete"},
		{[]string{"s3:ObjectCreated:Put", "s3:Bogus"}, false, ""},
		{[]string{"s3:ObjectCreated:*", "s3:ObjectAccessed:*"}, true, "ObjectAccessed:Head"},
		{[]string{"s3:ObjectAccessed:Get"}, true, "ObjectAccessed:Get"},
		{[]string{"ObjectAccessed:Head"}, true, "ObjectAccessed:Head"},
		{[]string{"s3:ObjectAccessed:Bogus"}, false, ""},
	} {
		mask, err := ParseEvents(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseEvents(%q) error %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, s3err.InvalidArgument) {
				t.Errorf("ParseEvents(%q) = %v, want InvalidArgument", tc.in, err)
			}
			continue
		}
		if mask&mustEvent(t, tc.want) == 0 {
			t.Errorf("ParseEvents(%q) does not select %s", tc.in, tc.want)
		}
	}
}

// TestParseEventsAccessed: reads come only to who names them, and only the
// live stream knows their names (notification configurations reject them,
// as RGW's do).
func TestParseEventsAccessed(t *testing.T) {
	for _, in := range [][]string{nil, {""}, {"s3:ObjectCreated:*"}} {
		mask, err := ParseEvents(in)
		if err != nil || mask&notify.ObjectAccessed != 0 {
			t.Errorf("ParseEvents(%q) = %b, %v: selects reads", in, mask, err)
		}
	}
	mask, err := ParseEvents([]string{"s3:ObjectAccessed:Get"})
	if err != nil || mask&notify.ObjectAccessedHead != 0 || mask&notify.ObjectCreated != 0 {
		t.Errorf("ParseEvents(ObjectAccessed:Get) = %b, %v", mask, err)
	}
	if _, ok := notify.ParseEvent("s3:ObjectAccessed:Get"); ok {
		t.Error("notify.ParseEvent accepts s3:ObjectAccessed:Get; notification configurations must reject it")
	}
}

// TestHookIdleNoAlloc checks that writes to buckets nobody watches pay
// nothing for the live stream.
func TestHookIdleNoAlloc(t *testing.T) {
	h := newHub(t, Config{})
	l, _ := h.Subscribe("watched", Filter{})
	defer l.Close()
	c := change(store.ChangePut, "quiet", "k")
	w := &commit{}
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { _ = h.Hook(ctx, c, w) }); n != 0 {
		t.Fatalf("Hook allocates %v times per idle change, want 0", n)
	}
}

func BenchmarkHookIdle(b *testing.B) {
	h, _ := New(Config{})
	c := change(store.ChangePut, "quiet", "k")
	w := &commit{}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Hook(ctx, c, w)
	}
}
