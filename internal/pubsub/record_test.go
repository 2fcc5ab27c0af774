package pubsub

import (
	"bytes"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	r := record{ID: "1.000001.abcd", Time: time.Unix(5, 6), Deliveries: 3, InvisibleUntil: time.Unix(7, 8), Body: []byte("body")}
	got, err := decodeRecord(r.encode())
	if err != nil || got.ID != r.ID || !got.Time.Equal(r.Time) || got.Deliveries != 3 ||
		!got.InvisibleUntil.Equal(r.InvisibleUntil) || !bytes.Equal(got.Body, r.Body) {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := decodeRecord(r.encode()[:5]); err == nil {
		t.Fatal("truncated record decoded")
	}
	m, err := decodeMeta(meta{High: 9, Expired: 4}.encode())
	if err != nil || m.High != 9 || m.Expired != 4 {
		t.Fatalf("%+v %v", m, err)
	}
}
