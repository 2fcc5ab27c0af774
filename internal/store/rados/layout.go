//go:build rados

package rados

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// Object names and omap rows (see doc.go).
const (
	metaOID = "cairn.meta"

	rowBucket  = "b/"
	rowKV      = "k/"
	rowSeq     = "s/seq"
	rowHead    = "c/"
	rowVersion = "v/"
	rowUpload  = "u/"
	rowPart    = "p/"
	rowRecord  = "e/"
	rowClosed  = "x/closed"
	rowFull    = "f/" // "f/<prefix>": the drainer's mark, records under prefix are over the shard's share
	rowEvented = "n/" // "n/<bucket id>" in cairn.meta: the index of Evented buckets (evented.go)

	// sep ends an escaped key inside a row name; it sorts before every
	// escaped byte, so rows of one key sort together and in key order.
	sep = "\x01\x01"
)

func shardOID(bucketID string, n int) string { return fmt.Sprintf("idx.%s.%d", bucketID, n) }

// bucketIDOfShard is the bucket id in an index shard's name.
func bucketIDOfShard(oid string) (string, bool) {
	rest, ok := strings.CutPrefix(oid, "idx.")
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return "", false
	}
	return rest[:i], true
}

// stripeOID names stripe n of a body: stripe 0 is the body's head object.
func stripeOID(dataID string, n int64) string { return fmt.Sprintf("d.%s.%d", dataID, n) }

// esc maps a key to a NUL-free string of the same order: omap keys pass
// through librados calls as C strings. 0x00 → 01 02, 0x01 → 01 03.
func esc(key string) string {
	if !strings.ContainsAny(key, "\x00\x01") {
		return key
	}
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		switch key[i] {
		case 0:
			b.WriteString("\x01\x02")
		case 1:
			b.WriteString("\x01\x03")
		default:
			b.WriteByte(key[i])
		}
	}
	return b.String()
}

func unesc(s string) string {
	if !strings.Contains(s, "\x01") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 1 && i+1 < len(s) {
			i++
			b.WriteByte(s[i] - 2)
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func headRow(key string) string { return rowHead + esc(key) }

// versionRow sorts a key's versions newest first.
func versionRow(key string, seq uint64) string {
	return rowVersion + esc(key) + sep + fmt.Sprintf("%016x", ^seq)
}

func versionRowsOf(key string) string { return rowVersion + esc(key) + sep }

func uploadRow(key, uploadID string) string { return rowUpload + esc(key) + sep + uploadID }

func partRow(uploadID string, n int) string { return fmt.Sprintf("%s%s/%05d", rowPart, uploadID, n) }

// shardOf places a key: fnv-1a of the key modulo the bucket's shard count.
func shardOf(key string, shards int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(shards))
}

// versionID is the public id of a non-null version, from its sequence.
func versionID(seq uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], ^seq)
	return hex.EncodeToString(b[:])
}

func parseVersionID(id string) (uint64, bool) {
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != 8 {
		return 0, false
	}
	return ^binary.BigEndian.Uint64(b), true
}

// bucketRecord is a bucket's row in the metadata object.
type bucketRecord struct {
	Bucket store.Bucket `json:"bucket"`
	ID     string       `json:"id"`     // names its index shards; new for every creation
	Shards int          `json:"shards"` // fixed at creation
	// Evented is set before the first commit that writes event records
	// to one of the bucket's shards, and never cleared: only such
	// buckets' shards are drained (drainUnits), so buckets without
	// notifications cost the gateways no leases and no polling. The write
	// that sets it also writes the bucket's row of the Evented index
	// (rowEvented), which the drain passes read instead of every record.
	Evented bool `json:"evented,omitempty"`
}

func (r *bucketRecord) shardOID(key string) string { return shardOID(r.ID, shardOf(key, r.Shards)) }

// segment is one stored body: its stripes hold Size bytes.
type segment struct {
	ID   string `json:"id"`
	Size int64  `json:"size"`
}

// version is the record of one object version or delete marker.
type version struct {
	Seq          uint64         `json:"seq"`
	Null         bool           `json:"null,omitempty"`
	DeleteMarker bool           `json:"dm,omitempty"`
	Size         int64          `json:"size"`
	ETag         string         `json:"etag,omitempty"`
	Modified     time.Time      `json:"mod"`
	Owner        string         `json:"owner,omitempty"`
	Meta         store.Metadata `json:"meta"`
	Parts        []store.Part   `json:"parts,omitempty"`
	Data         []segment      `json:"data,omitempty"`
	// Small bodies live in the version row itself (Options.InlineThreshold):
	// their PUT is one write. Inlined stays set in the head's copy, which
	// leaves the bytes out so that listings read small rows.
	Inlined bool   `json:"il,omitempty"`
	Inline  []byte `json:"in,omitempty"`
}

// headCopy is v as the head row keeps it: without inline bytes.
func headCopy(v *version) *version {
	if v == nil || v.Inline == nil {
		return v
	}
	c := *v
	c.Inline = nil
	return &c
}

func (v *version) id(vs store.Versioning) string {
	return store.ShownVersionID(v.Null, versionID(v.Seq), vs)
}

func (v *version) info(bucket, key string, vs store.Versioning, latest bool) store.ObjectInfo {
	return store.ObjectInfo{
		Bucket: bucket, Key: key, VersionID: v.id(vs), IsLatest: latest,
		DeleteMarker: v.DeleteMarker, Size: v.Size, ETag: v.ETag,
		LastModified: v.Modified, Owner: v.Owner, Meta: v.Meta, Parts: v.Parts,
	}
}

// keyHead is a key's head row: every change of the key rewrites it, so a
// guard on its bytes serialises the key's changes. Latest is a copy of the
// newest version (listings read heads only); Seq is the key's last change.
type keyHead struct {
	Seq     uint64   `json:"seq"`
	NullSeq uint64   `json:"null,omitempty"` // the null version's sequence, 0 if none
	Latest  *version `json:"latest"`
}
