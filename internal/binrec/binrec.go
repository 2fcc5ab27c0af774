// Package binrec holds the few primitives of Cairn's compact binary
// records (the persistent queue's events, the pull-subscription log):
// uvarint-length strings, varint times, and a decoder that remembers the
// first error so a record is parsed field by field and checked once.
package binrec

import (
	"encoding/binary"
	"errors"
	"time"
)

// ErrCorrupt is returned by Decoder.Done for a record that does not parse.
var ErrCorrupt = errors.New("binrec: corrupt record")

// AppendString appends s as uvarint length + bytes.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendTime appends t as varint Unix nanoseconds (0 for the zero time).
func AppendTime(b []byte, t time.Time) []byte {
	return binary.AppendVarint(b, UnixNano(t))
}

// UnixNano is t in Unix nanoseconds, 0 for the zero time.
func UnixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromUnixNano inverts UnixNano.
func FromUnixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Decoder reads fields from a record; after the first malformed field every
// read returns a zero value and Done reports ErrCorrupt.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder reads b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Fail marks the record corrupt (for a field that parsed but is out of range).
func (d *Decoder) Fail() { d.err = ErrCorrupt }

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.Fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Varint reads a signed varint.
func (d *Decoder) Varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.Fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// String reads a uvarint-length string.
func (d *Decoder) String() string {
	n := d.Uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.Fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// Time reads a time written by AppendTime.
func (d *Decoder) Time() time.Time { return FromUnixNano(d.Varint()) }

// Done reports ErrCorrupt if any field was malformed or bytes are left over.
func (d *Decoder) Done() error {
	if d.err != nil || len(d.b) != 0 {
		return ErrCorrupt
	}
	return nil
}
