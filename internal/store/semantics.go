package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// This file holds the S3 rules every backend applies the same way, so that
// a backend only decides where bytes and rows live, never what S3 means.

// ETagsEqual reports whether two ETags name the same entity: S3 compares
// them without their surrounding quotes (clients send both forms) and
// without regard to the case of the hex digits.
func ETagsEqual(a, b string) bool {
	return strings.EqualFold(strings.Trim(a, `"`), strings.Trim(b, `"`))
}

// Precondition checks a conditional write against the key's current latest
// version: exists is false when there is none (or it is a delete marker),
// etag is its ETag otherwise.
type Precondition func(exists bool, etag string) error

// Preconditions returns the check of a write's If-Match / If-None-Match
// headers, or nil when the write is unconditional. As in S3: If-Match on a
// missing object fails with ErrNoSuchKey; If-Match with another ETag, and
// If-None-Match ("*" or the current ETag) on an existing object, fail with
// ErrPreconditionFailed.
func Preconditions(ifMatch, ifNoneMatch string) Precondition {
	if ifMatch == "" && ifNoneMatch == "" {
		return nil
	}
	return func(exists bool, etag string) error {
		if ifMatch != "" {
			if !exists {
				return fmt.Errorf("%w: if-match on a missing object", ErrNoSuchKey)
			}
			if ifMatch != "*" && !ETagsEqual(ifMatch, etag) {
				return fmt.Errorf("%w: if-match", ErrPreconditionFailed)
			}
		}
		if ifNoneMatch != "" && exists && (ifNoneMatch == "*" || ETagsEqual(ifNoneMatch, etag)) {
			return fmt.Errorf("%w: if-none-match", ErrPreconditionFailed)
		}
		return nil
	}
}

// MergeChecksums returns a's checksums with b's added, b winning on the
// same algorithm: checksums that arrive in a trailer (PutOptions.Checksums)
// complete or override the ones the headers declared. a is returned as is
// (not copied) when b is empty, and neither map is modified.
func MergeChecksums(a, b map[string]string) map[string]string {
	if len(b) == 0 {
		return a
	}
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// SelectRange resolves the byte range a GET or HEAD covers in an object of
// size bytes made of parts (nil for a single-part object), as S3 does:
//   - partNumber N reads part N; a single-part object has exactly part 1;
//     a part beyond the last, or a negative number, is ErrInvalidPartNumber;
//   - otherwise opts.RangeFunc (called with info) or opts.Range picks the
//     range; none means the whole object;
//   - a range starting at or beyond the end (or negative) is
//     ErrInvalidRange; one running past the end is cut at the end.
//
// The whole object's range is returned along with any error.
func SelectRange(size int64, parts []Part, info ObjectInfo, opts GetOptions) (Range, error) {
	whole := Range{Offset: 0, Length: size}
	var rng *Range
	switch {
	case opts.PartNumber > 0:
		return selectPart(whole, parts, opts.PartNumber)
	case opts.PartNumber < 0:
		return whole, ErrInvalidPartNumber
	case opts.RangeFunc != nil:
		var err error
		if rng, err = opts.RangeFunc(info); err != nil {
			return whole, err
		}
	default:
		rng = opts.Range
	}
	if rng == nil {
		return whole, nil
	}
	if rng.Offset < 0 || rng.Length < 0 || rng.Offset >= size {
		return whole, fmt.Errorf("%w: %d+%d of %d bytes", ErrInvalidRange, rng.Offset, rng.Length, size)
	}
	out := *rng
	if out.Length > size-out.Offset {
		out.Length = size - out.Offset
	}
	return out, nil
}

// selectPart is the range of part n (n > 0) of an object.
func selectPart(whole Range, parts []Part, n int) (Range, error) {
	if len(parts) == 0 {
		if n != 1 {
			return whole, fmt.Errorf("%w: object has one part", ErrInvalidPartNumber)
		}
		return whole, nil
	}
	if n > len(parts) {
		return whole, fmt.Errorf("%w: object has %d parts", ErrInvalidPartNumber, len(parts))
	}
	var off int64
	for _, p := range parts[:n-1] {
		off += p.Size
	}
	return Range{Offset: off, Length: parts[n-1].Size}, nil
}

// CopyMeta returns the metadata a CopyObject gives its new version, from the
// source's metadata and the request's options, as S3 does:
//   - COPY (the default) keeps the source's metadata; tags are replaced when
//     the tagging directive is REPLACE or tags were sent;
//   - REPLACE takes the request's metadata, but keeps the source's checksums
//     when the request names none, and the source's tags unless the tagging
//     directive is REPLACE or tags were sent;
//   - a COMPOSITE checksum describes parts, and a copy has none: it is
//     dropped.
func CopyMeta(src Metadata, opts CopyOptions) Metadata {
	meta := src
	if opts.ReplaceMeta {
		meta = opts.Meta
		if opts.Meta.Checksums == nil {
			meta.Checksums, meta.ChecksumType = src.Checksums, src.ChecksumType
		}
		if !opts.ReplaceTags && opts.Meta.Tags == nil {
			meta.Tags = src.Tags
		}
	} else if opts.ReplaceTags || opts.Meta.Tags != nil {
		meta.Tags = opts.Meta.Tags
	}
	if meta.ChecksumType == "COMPOSITE" {
		meta.Checksums, meta.ChecksumType = nil, ""
	}
	return meta
}

// CheckCompleteList applies S3's rules for the part list of a
// CompleteMultipartUpload request that need no stored part: the list is not
// empty (ErrInvalidPart) and its part numbers strictly ascend
// (ErrInvalidPartOrder).
func CheckCompleteList(list []CompletePart) error {
	if len(list) == 0 {
		return fmt.Errorf("%w: no parts", ErrInvalidPart)
	}
	for i := 1; i < len(list); i++ {
		if list[i].Number <= list[i-1].Number {
			return fmt.Errorf("%w: part %d after %d", ErrInvalidPartOrder, list[i].Number, list[i-1].Number)
		}
	}
	return nil
}

// ReadFull reads a request body into buf until buf is full or r ends
// (eof), checking ctx between reads so that a cancelled request stops
// consuming its body. A body cut short by the client (io.ErrUnexpectedEOF,
// e.g. an aws-chunked body missing its last chunk) is ErrIncompleteBody; a
// cancelled ctx returns ctx's error unwrapped.
func ReadFull(ctx context.Context, r io.Reader, buf []byte) (n int, eof bool, err error) {
	for n < len(buf) {
		if err := ctx.Err(); err != nil {
			return n, false, err
		}
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			return n, true, nil
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return n, false, fmt.Errorf("%w: %w", ErrIncompleteBody, err)
			}
			return n, false, fmt.Errorf("read body: %w", err)
		}
	}
	return n, false, nil
}

// CheckKey applies S3's rules for an object key a write names: at most
// MaxKeyLength bytes (ErrKeyTooLong), and not empty (ErrNoSuchKey).
func CheckKey(key string) error {
	if len(key) > MaxKeyLength {
		return fmt.Errorf("%w: %d bytes", ErrKeyTooLong, len(key))
	}
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrNoSuchKey)
	}
	return nil
}

// ShownVersionID is the version id S3 shows for a version whose own id is
// id: a non-null version shows id; the null version shows "" while the
// bucket has never had versioning, and NullVersion ("null") once it has.
func ShownVersionID(null bool, id string, vs Versioning) string {
	switch {
	case !null:
		return id
	case vs == Unversioned:
		return ""
	default:
		return NullVersion
	}
}

// ObjectGetter is the part of an ObjectStore a copy reads its source with.
type ObjectGetter interface {
	GetObject(ctx context.Context, bucket, key string, opts GetOptions) (ObjectInfo, io.ReadCloser, error)
}

// OpenCopySource opens the source version of a CopyObject and applies the
// request's x-amz-copy-source-if-* conditions (check, may be nil) to the
// very version opened, before anything is written. On error nothing is left
// open.
func OpenCopySource(ctx context.Context, objects ObjectGetter, src CopySource, check func(ObjectInfo) error) (ObjectInfo, io.ReadCloser, error) {
	info, rc, err := objects.GetObject(ctx, src.Bucket, src.Key, GetOptions{VersionID: src.VersionID})
	if err != nil {
		return ObjectInfo{}, nil, err
	}
	if check != nil {
		if err := check(info); err != nil {
			rc.Close()
			return ObjectInfo{}, nil, err
		}
	}
	return info, rc, nil
}

// Relabel is the metadata update of TransitionObject: the version's
// storage class becomes class if check (when set) accepts the version.
func Relabel(class string, check func(ObjectInfo) error) func(*ObjectInfo) error {
	return func(info *ObjectInfo) error {
		if check != nil {
			if err := check(*info); err != nil {
				return err
			}
		}
		info.Meta.StorageClass = class
		return nil
	}
}
