package local

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/cairn-s3/cairn/internal/store"
)

// Key schema of the metadata DB. Every key starts with a one-byte table tag
// and a '/' so that tables never interleave and a prefix scan of one table
// cannot see another:
//
//	b/<bucket>                                   bucket record (JSON store.Bucket)
//	o/<bucket>\x00<ekey>\x00\x01<^seq:8>          object version record, newest first per key
//	n/<bucket>\x00<ekey>                          seq of the key's null version (8 bytes)
//	x/<seq:8>                                     inline body of a blob
//	f/<seq:8>                                     a data file exists and is referenced (empty value)
//	u/<bucket>\x00<ekey>\x00\x01<uploadID>        in-progress upload record, by key then initiation
//	m/<uploadID>                                  upload id -> bucket\x00key, to find an upload by id
//	p/<uploadID>\x00<part:4>                      part record
//	s/seqlease                                    upper bound of sequence numbers handed out
//	k/<kv key>                                    the kv namespace (kv.Store and hook records)
//
// <ekey> is the object key with every 0x00 byte escaped as 0x00 0xff, and
// keys end with the terminator 0x00 0x01. The escape and terminator sort
// below every other byte, so the byte order of encoded keys equals the byte
// order of the object keys ("a" < "a/b" < "a0") and the versions of one key
// are contiguous. Bucket names never hold 0x00 (S3 restricts them).
//
// Versions are indexed by the bitwise complement of their sequence number,
// so the first entry under a key's prefix is its latest version and a
// forward scan lists versions newest first, as ListObjectVersions wants.
var (
	tagBucket   = []byte("b/")
	tagObject   = []byte("o/")
	tagNull     = []byte("n/")
	tagInline   = []byte("x/")
	tagFile     = []byte("f/")
	tagUpload   = []byte("u/")
	tagUpID     = []byte("m/")
	tagPart     = []byte("p/")
	tagDoneUp   = []byte("c/")
	tagKV       = []byte("k/")
	keySeqLease = []byte("s/seqlease")
)

// terminator ends an encoded object key.
var terminator = []byte{0, 1}

func bucketKey(bucket string) []byte {
	return append(append([]byte(nil), tagBucket...), bucket...)
}

// appendEscaped appends key with 0x00 escaped, without the terminator.
func appendEscaped(dst []byte, key string) []byte {
	for i := 0; i < len(key); i++ {
		c := key[i]
		dst = append(dst, c)
		if c == 0 {
			dst = append(dst, 0xff)
		}
	}
	return dst
}

// unescapeKey decodes an escaped key (without terminator).
func unescapeKey(b []byte) string {
	if !strings.Contains(string(b), "\x00") {
		return string(b)
	}
	var sb strings.Builder
	for i := 0; i < len(b); i++ {
		sb.WriteByte(b[i])
		if b[i] == 0 && i+1 < len(b) && b[i+1] == 0xff {
			i++
		}
	}
	return sb.String()
}

// tablePrefix returns tag<bucket>\x00, the prefix of a bucket's rows in an
// object-keyed table (o/, n/, u/).
func tablePrefix(tag []byte, bucket string) []byte {
	k := make([]byte, 0, len(tag)+len(bucket)+1)
	k = append(k, tag...)
	k = append(k, bucket...)
	return append(k, 0)
}

// keyPrefix returns tag<bucket>\x00<ekey>; with partial false it also
// appends the terminator, giving the prefix of exactly one key's rows.
// With partial true it is the prefix of every key starting with key.
func keyPrefix(tag []byte, bucket, key string, partial bool) []byte {
	k := tablePrefix(tag, bucket)
	k = appendEscaped(k, key)
	if !partial {
		k = append(k, terminator...)
	}
	return k
}

func versionKey(bucket, key string, seq uint64) []byte {
	k := keyPrefix(tagObject, bucket, key, false)
	return binary.BigEndian.AppendUint64(k, ^seq)
}

func nullKey(bucket, key string) []byte {
	return keyPrefix(tagNull, bucket, key, false)
}

func seqKey(tag []byte, seq uint64) []byte {
	k := append([]byte(nil), tag...)
	return binary.BigEndian.AppendUint64(k, seq)
}

func uploadKey(bucket, key, uploadID string) []byte {
	return append(keyPrefix(tagUpload, bucket, key, false), uploadID...)
}

func uploadIDKey(uploadID string) []byte {
	return append(append([]byte(nil), tagUpID...), uploadID...)
}

func partPrefix(uploadID string) []byte {
	k := append(append([]byte(nil), tagPart...), uploadID...)
	return append(k, 0)
}

func partKey(uploadID string, n int) []byte {
	return binary.BigEndian.AppendUint32(partPrefix(uploadID), uint32(n))
}

func kvKey(key []byte) []byte {
	return append(append(make([]byte, 0, len(tagKV)+len(key)), tagKV...), key...)
}

// splitKeyed splits a row key of an object-keyed table, whose table prefix
// (tag<bucket>\x00) has length plen, into the object key and the suffix after
// the terminator.
func splitKeyed(k []byte, plen int) (key string, suffix []byte, ok bool) {
	rest := k[plen:]
	for i := 0; i+1 < len(rest); i++ {
		if rest[i] != 0 {
			continue
		}
		switch rest[i+1] {
		case 0xff:
			i++
		case 1:
			return unescapeKey(rest[:i]), rest[i+2:], true
		default:
			return "", nil, false
		}
	}
	return "", nil, false
}

// prefixEnd returns the smallest key greater than every key with prefix p,
// or nil if there is none.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// Version ids are the 16 hex digits of the complemented sequence number,
// so they sort newest first as strings too and map back to the index key
// without a lookup.
func versionID(seq uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], ^seq)
	return hex.EncodeToString(b[:])
}

// parseVersionID returns the sequence number of a non-null version id.
func parseVersionID(id string) (uint64, error) {
	if len(id) != 16 {
		return 0, fmt.Errorf("%w: %q", store.ErrInvalidVersionID, id)
	}
	var b [8]byte
	if _, err := hex.Decode(b[:], []byte(id)); err != nil {
		return 0, fmt.Errorf("%w: %q", store.ErrInvalidVersionID, id)
	}
	return ^binary.BigEndian.Uint64(b[:]), nil
}

// completedUploadKey records which object version an upload became, so a
// repeated CompleteMultipartUpload (a client retrying after a lost answer)
// succeeds as in S3 instead of failing with NoSuchUpload.
func completedUploadKey(uploadID string) []byte {
	return append(append([]byte(nil), tagDoneUp...), uploadID...)
}
