package binrec

import (
	"encoding/binary"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	now := time.Unix(0, 1_700_000_000_123_456_789)
	b := AppendString(nil, "héllo")
	b = AppendTime(b, now)
	b = AppendTime(b, time.Time{})
	b = binary.AppendUvarint(b, 42)
	d := NewDecoder(b)
	s, t1, t0, n := d.String(), d.Time(), d.Time(), d.Uvarint()
	if err := d.Done(); err != nil || s != "héllo" || !t1.Equal(now) || !t0.IsZero() || n != 42 {
		t.Fatalf("got %q %v %v %d, err %v", s, t1, t0, n, err)
	}
}

func TestCorrupt(t *testing.T) {
	for name, b := range map[string][]byte{
		"string longer than record": {5, 'a'},
		"truncated varint":          {0x80},
		"trailing bytes":            append(AppendString(nil, "x"), 0),
	} {
		d := NewDecoder(b)
		_ = d.String()
		if d.Done() == nil {
			t.Errorf("%s: Done() = nil, want ErrCorrupt", name)
		}
	}
	d := NewDecoder(binary.AppendUvarint(nil, 1))
	_ = d.Uvarint()
	d.Fail()
	if d.Done() == nil {
		t.Error("Fail did not mark the record corrupt")
	}
}
