package pubsub

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/cairn-s3/cairn/internal/binrec"
)

const (
	root          = "psub/"
	posDigits     = 16
	recordVersion = 1
	metaVersion   = 1
)

var errCorrupt = errors.New("pubsub: corrupt record")

// subPrefix returns psub/<escaped sub>/.
func subPrefix(sub string) []byte { return []byte(root + url.PathEscape(sub) + "/") }

func eventPrefix(sub string) []byte { return append(subPrefix(sub), "e/"...) }

func metaKey(sub string) []byte { return append(subPrefix(sub), 'm') }

func hexPos(pos uint64) string { return fmt.Sprintf("%016x", pos) }

func eventKey(sub string, pos uint64) []byte { return append(eventPrefix(sub), hexPos(pos)...) }

func keyPos(key []byte) (uint64, error) {
	if len(key) < posDigits {
		return 0, fmt.Errorf("pubsub: malformed key %q", key)
	}
	return strconv.ParseUint(string(key[len(key)-posDigits:]), 16, 64)
}

// record is the stored form of an event (its position lives in the key):
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
	High    uint64 // no position at or below it will be allocated again
	Expired uint64 // the highest position removed by retention (0: none)
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
