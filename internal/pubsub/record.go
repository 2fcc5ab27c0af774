package pubsub

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/cairn-s3/cairn/internal/binrec"
	"net/url"
	"strconv"
	"time"
)

const (
	root          = "psub/"
	seqDigits     = 16
	recordVersion = 1
	metaVersion   = 1
)

var errCorrupt = errors.New("pubsub: corrupt record")

// subPrefix returns psub/<escaped sub>/.
func subPrefix(sub string) []byte { return []byte(root + url.PathEscape(sub) + "/") }

func eventPrefix(sub string) []byte { return append(subPrefix(sub), "e/"...) }

func indexKey(sub, id string) []byte { return append(append(subPrefix(sub), "i/"...), id...) }

func metaKey(sub string) []byte { return append(subPrefix(sub), 'm') }

func hexSeq(seq uint64) string {
	s := strconv.FormatUint(seq, 16)
	for len(s) < seqDigits {
		s = "0" + s
	}
	return s
}

func eventKey(sub string, seq uint64) []byte { return append(eventPrefix(sub), hexSeq(seq)...) }

func keySeq(key []byte) (uint64, error) {
	if len(key) < seqDigits {
		return 0, fmt.Errorf("pubsub: malformed key %q", key)
	}
	return strconv.ParseUint(string(key[len(key)-seqDigits:]), 16, 64)
}

// record is the stored form of an event (its Seq lives in the key):
//
//	version:1 | id | time:varint unix ns | deliveries:uvarint
//	| invisibleUntil:varint unix ns | body
//
// where strings are uvarint length + bytes.
type record struct {
	ID             string
	Time           time.Time
	Deliveries     int
	InvisibleUntil time.Time
	Body           []byte
}

func (r *record) encode() []byte {
	b := make([]byte, 0, 1+5*binary.MaxVarintLen64+len(r.ID)+len(r.Body))
	b = append(b, recordVersion)
	b = binrec.AppendString(b, r.ID)
	b = binrec.AppendTime(b, r.Time)
	b = binary.AppendUvarint(b, uint64(max(r.Deliveries, 0)))
	b = binrec.AppendTime(b, r.InvisibleUntil)
	b = binary.AppendUvarint(b, uint64(len(r.Body)))
	return append(b, r.Body...)
}

func decodeRecord(b []byte) (r record, err error) {
	if len(b) == 0 || b[0] != recordVersion {
		return r, errCorrupt
	}
	d := binrec.NewDecoder(b[1:])
	r.ID = d.String()
	r.Time = d.Time()
	n := d.Uvarint()
	if n > 1<<31 {
		d.Fail()
	}
	r.Deliveries = int(n)
	r.InvisibleUntil = d.Time()
	body := d.String()
	if d.Done() != nil {
		return record{}, errCorrupt
	}
	r.Body = []byte(body)
	return r, nil
}

// meta is the per-subscription record: version:1 | high:uvarint | expired:uvarint.
type meta struct {
	High    uint64 // no sequence at or below it will be allocated again
	Expired uint64 // the highest sequence removed by retention (0: none)
}

func (m meta) encode() []byte {
	b := []byte{metaVersion}
	b = binary.AppendUvarint(b, m.High)
	return binary.AppendUvarint(b, m.Expired)
}

func decodeMeta(b []byte) (m meta, err error) {
	if len(b) == 0 || b[0] != metaVersion {
		return m, errCorrupt
	}
	d := binrec.NewDecoder(b[1:])
	m.High = d.Uvarint()
	m.Expired = d.Uvarint()
	if d.Done() != nil {
		return meta{}, errCorrupt
	}
	return m, nil
}

// Markers are opaque to clients: "s" + the 16-hex sequence of the last event
// returned.
func markerOf(seq uint64) string { return "s" + hexSeq(seq) }

// ErrBadMarker is returned by Pull and Wait for a marker they did not make.
var ErrBadMarker = errors.New("pubsub: invalid marker")

func parseMarker(m string) (uint64, error) {
	if m == "" {
		return 0, nil
	}
	if len(m) != 1+seqDigits || m[0] != 's' {
		return 0, ErrBadMarker
	}
	v, err := strconv.ParseUint(m[1:], 16, 64)
	if err != nil {
		return 0, ErrBadMarker
	}
	return v, nil
}
