package queue

import (
	"bytes"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	for _, ev := range []Event{
		{},
		{ID: "id", Topic: "t", Key: "b/k", Body: []byte(`{"Records":[]}`), Enqueued: time.Unix(1700000000, 123), Attempts: 3, LastError: "HTTP 503"},
		{ID: "x", Topic: "tenant:t/1%", Key: "\x00\xff", Body: bytes.Repeat([]byte{0}, 1000)},
	} {
		last := time.Unix(1700000001, 5)
		got, gotLast, err := decode(encode(&ev, last))
		if err != nil {
			t.Fatalf("decode(encode(%+v)): %v", ev, err)
		}
		if ev.Body == nil {
			ev.Body = []byte{}
		}
		if got.ID != ev.ID || got.Topic != ev.Topic || got.Key != ev.Key || !bytes.Equal(got.Body, ev.Body) ||
			!got.Enqueued.Equal(ev.Enqueued) || got.Attempts != ev.Attempts || got.LastError != ev.LastError || !gotLast.Equal(last) {
			t.Errorf("round trip: got %+v (last %v), want %+v (last %v)", got, gotLast, ev, last)
		}
	}
}

func TestKeys(t *testing.T) {
	for _, topic := range []string{"t", "a-b", "tenant:t/1%", "a/b"} {
		for _, seq := range []uint64{0, 1, 0xff, 1<<64 - 1} {
			k := seqKey(topicPrefix(queueRoot, topic), seq)
			gotTopic, gotSeq, err := parseKey(k[len(queueRoot):])
			if err != nil || gotTopic != topic || gotSeq != seq {
				t.Errorf("parseKey(%q) = %q, %d, %v; want %q, %d", k, gotTopic, gotSeq, err, topic, seq)
			}
		}
	}
	// Key order is sequence order, and one topic's prefix never covers another's.
	p := topicPrefix(queueRoot, "a")
	if bytes.Compare(seqKey(p, 9), seqKey(p, 10)) >= 0 {
		t.Error("seqKey does not sort numerically")
	}
	if bytes.HasPrefix(topicPrefix(queueRoot, "a/b"), p) || bytes.HasPrefix(topicPrefix(queueRoot, "a-b"), p) {
		t.Error("a topic prefix covers another topic's keys")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(&Event{ID: "i", Topic: "t", Key: "k", Body: []byte("b"), Attempts: 2}, time.Unix(1, 0)))
	f.Add([]byte{recordVersion, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, last, err := decode(b)
		if err != nil {
			return
		}
		ev2, last2, err := decode(encode(&ev, last))
		if err != nil || ev2.ID != ev.ID || !bytes.Equal(ev2.Body, ev.Body) || !last2.Equal(last) {
			t.Fatalf("re-encoding a decoded record changed it: %+v -> %+v, %v", ev, ev2, err)
		}
	})
}
