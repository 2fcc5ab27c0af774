package queue

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/cairn-s3/cairn/internal/binrec"
	"net/url"
	"strconv"
	"time"
)

// Root prefixes of the queue's keys in the kv namespace.
const (
	queueRoot = "queue/"
	dlqRoot   = "dlq/"
)

// seqDigits is the width of the hex sequence at the end of every key.
const seqDigits = 16

// recordVersion is the first byte of every stored record.
const recordVersion = 1

// maxErrorLen bounds the LastError kept with a record.
const maxErrorLen = 512

// topicPrefix returns root + escaped topic + "/".
func topicPrefix(root, topic string) []byte {
	return []byte(root + url.PathEscape(topic) + "/")
}

// seqKey returns prefix + the fixed-width hex form of seq.
func seqKey(prefix []byte, seq uint64) []byte {
	k := make([]byte, 0, len(prefix)+seqDigits)
	k = append(k, prefix...)
	var buf [seqDigits]byte
	s := strconv.AppendUint(buf[:0], seq, 16)
	for i := len(s); i < seqDigits; i++ {
		k = append(k, '0')
	}
	return append(k, s...)
}

// parseKey splits a queue or dlq key (without its root) into the topic and
// the sequence.
func parseKey(rest []byte) (topic string, seq uint64, err error) {
	if len(rest) < seqDigits+2 || rest[len(rest)-seqDigits-1] != '/' {
		return "", 0, fmt.Errorf("queue: malformed key %q", rest)
	}
	seq, err = strconv.ParseUint(string(rest[len(rest)-seqDigits:]), 16, 64)
	if err != nil {
		return "", 0, fmt.Errorf("queue: malformed key %q: %w", rest, err)
	}
	topic, err = url.PathUnescape(string(rest[:len(rest)-seqDigits-1]))
	if err != nil {
		return "", 0, fmt.Errorf("queue: malformed key %q: %w", rest, err)
	}
	return topic, seq, nil
}

// keySeq returns the sequence at the end of a key.
func keySeq(key []byte) (uint64, error) {
	if len(key) < seqDigits {
		return 0, fmt.Errorf("queue: malformed key %q", key)
	}
	return strconv.ParseUint(string(key[len(key)-seqDigits:]), 16, 64)
}

// encode serialises an event (its Seq lives in the key):
//
//	version:1 | id | topic | key | enqueued:varint unix ns | attempts:uvarint
//	| lastError | lastAttempt:varint unix ns | body
//
// where every string is uvarint length + bytes.
func encode(ev *Event, lastAttempt time.Time) []byte {
	n := 1 + 5*binary.MaxVarintLen64 + 3*binary.MaxVarintLen64 +
		len(ev.ID) + len(ev.Topic) + len(ev.Key) + len(ev.LastError) + len(ev.Body)
	b := make([]byte, 0, n)
	b = append(b, recordVersion)
	b = binrec.AppendString(b, ev.ID)
	b = binrec.AppendString(b, ev.Topic)
	b = binrec.AppendString(b, ev.Key)
	b = binrec.AppendTime(b, ev.Enqueued)
	b = binary.AppendUvarint(b, uint64(max(ev.Attempts, 0)))
	b = binrec.AppendString(b, ev.LastError)
	b = binrec.AppendTime(b, lastAttempt)
	b = binary.AppendUvarint(b, uint64(len(ev.Body)))
	return append(b, ev.Body...)
}

var errCorrupt = errors.New("queue: corrupt record")

// decode parses a record written by encode.
func decode(b []byte) (ev Event, lastAttempt time.Time, err error) {
	if len(b) == 0 || b[0] != recordVersion {
		return ev, lastAttempt, errCorrupt
	}
	d := binrec.NewDecoder(b[1:])
	ev.ID = d.String()
	ev.Topic = d.String()
	ev.Key = d.String()
	ev.Enqueued = d.Time()
	attempts := d.Uvarint()
	if attempts > 1<<31 {
		d.Fail()
	}
	ev.Attempts = int(attempts)
	ev.LastError = d.String()
	lastAttempt = d.Time()
	body := d.String()
	if d.Done() != nil {
		return Event{}, time.Time{}, errCorrupt
	}
	ev.Body = []byte(body)
	return ev, lastAttempt, nil
}
