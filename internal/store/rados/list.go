//go:build rados

package rados

import (
	"context"
	"strings"

	"github.com/cairn-s3/cairn/internal/store"
)

const defaultMaxKeys = 1000

// scanner walks the rows of one table (c/, v/ or u/) of all of a bucket's
// shards as one sequence in key order, rolling keys up into common
// prefixes.
type scanner struct {
	m         merged
	tag       string
	prefix    string
	delimiter string
	lastCP    string
}

func (s *Store) newScanner(rec *bucketRecord, tag, prefix, delimiter string) *scanner {
	sc := &scanner{tag: tag, prefix: prefix, delimiter: delimiter}
	for n := range rec.Shards {
		sc.m = append(sc.m, newCursor(s.io, shardOID(rec.ID, n), tag+esc(prefix), ""))
	}
	return sc
}

// keyRows is where the rows of key begin in the table (the head table has
// one row per key, the others a separator and a suffix).
func (sc *scanner) keyRows(key string) string {
	if sc.tag == rowHead {
		return rowHead + esc(key)
	}
	return sc.tag + esc(key) + sep
}

// seekAfterKey positions after every row of key.
func (sc *scanner) seekAfterKey(key string) {
	if sc.tag == rowHead {
		sc.m.seek(sc.keyRows(key))
		return
	}
	sc.m.seek(sc.keyRows(key) + "\xff")
}

// seekAfterPrefix positions after (almost) every row whose key starts with
// p; rows it misses roll up into the prefix just emitted and are skipped.
func (sc *scanner) seekAfterPrefix(p string) { sc.m.seek(sc.tag + esc(p) + "\xff\xff\xff\xff") }

// next returns the current row, its key and common prefix (if the key
// rolls up into one); ok is false at the end.
func (sc *scanner) next() (r row, key, cp string, ok bool, err error) {
	r, _, ok, err = sc.m.peek()
	if err != nil || !ok {
		return row{}, "", "", false, err
	}
	body := r.Key[len(sc.tag):]
	if sc.tag != rowHead {
		if j := strings.Index(body, sep); j >= 0 {
			body = body[:j]
		}
	}
	key = unesc(body)
	if sc.delimiter != "" && strings.HasPrefix(key, sc.prefix) {
		if j := strings.Index(key[len(sc.prefix):], sc.delimiter); j >= 0 {
			cp = key[:len(sc.prefix)+j+len(sc.delimiter)]
		}
	}
	return r, key, cp, true, nil
}

func (sc *scanner) advance() {
	if _, i, ok, _ := sc.m.peek(); ok {
		sc.m[i].next()
	}
}

func maxOr(n int) int {
	if n <= 0 {
		return defaultMaxKeys
	}
	return n
}

// page is the loop every listing shares: from the current position it
// emits, up to max entries, the common prefixes after marker and the rows
// that entry accepts, and reports whether entries were left over. entry
// gets each row that does not roll up into a prefix, must move past it,
// and reports whether it is an entry; when full is true it must return at
// an entry without adding it.
func (sc *scanner) page(ctx context.Context, marker string, max int, prefix func(cp string), entry func(r row, key string, full bool) (bool, error)) (truncated bool, err error) {
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		r, key, cp, ok, err := sc.next()
		if err != nil {
			return false, err
		}
		if !ok {
			return false, nil
		}
		if cp != "" {
			if cp == sc.lastCP {
				sc.advance()
				continue
			}
			// A prefix at or before the marker was returned on an
			// earlier page.
			if marker == "" || cp > marker {
				if n == max {
					return true, nil
				}
				prefix(cp)
				n++
			}
			sc.lastCP = cp
			sc.seekAfterPrefix(cp)
			continue
		}
		isEntry, err := entry(r, key, n == max)
		if err != nil {
			return false, err
		}
		if isEntry {
			if n == max {
				return true, nil
			}
			n++
		}
	}
}

// ListObjects lists the latest versions of a bucket's objects from the
// key heads of its shards, skipping keys whose latest version is a delete
// marker.
func (s *Store) ListObjects(ctx context.Context, bucket string, opts store.ListOptions) (store.ListResult, error) {
	var res store.ListResult
	rec, err := s.bucket(bucket)
	if err != nil {
		return res, err
	}
	sc := s.newScanner(rec, rowHead, opts.Prefix, opts.Delimiter)
	if opts.Marker != "" && opts.Marker >= opts.Prefix {
		sc.seekAfterKey(opts.Marker)
	}
	res.IsTruncated, err = sc.page(ctx, opts.Marker, maxOr(opts.MaxKeys), func(cp string) {
		res.CommonPrefixes = append(res.CommonPrefixes, cp)
		res.NextMarker = cp
	}, func(r row, key string, full bool) (bool, error) {
		var h keyHead
		if err := decodeRow(r.Value, &h); err != nil {
			return false, err
		}
		if h.Latest == nil || h.Latest.DeleteMarker {
			sc.advance()
			return false, nil
		}
		if full {
			return true, nil
		}
		info := h.Latest.info(bucket, key, store.Unversioned, true)
		info.VersionID = ""
		res.Objects = append(res.Objects, info)
		res.NextMarker = key
		sc.advance()
		return true, nil
	})
	if err != nil {
		return res, err
	}
	if !res.IsTruncated {
		res.NextMarker = ""
	}
	return res, nil
}

// ListObjectVersions lists every version and delete marker, by key, newest
// first per key.
func (s *Store) ListObjectVersions(ctx context.Context, bucket string, opts store.ListVersionsOptions) (store.ListVersionsResult, error) {
	var res store.ListVersionsResult
	rec, err := s.bucket(bucket)
	if err != nil {
		return res, err
	}
	vs := rec.Bucket.Versioning
	sc := s.newScanner(rec, rowVersion, opts.Prefix, opts.Delimiter)
	prevKey, started := "", false
	if opts.KeyMarker != "" && opts.KeyMarker >= opts.Prefix {
		seq, resume := uint64(0), false
		switch opts.VersionIDMarker {
		case "":
		case store.NullVersion:
			ks, err := s.loadKey(bucket, opts.KeyMarker)
			if err != nil {
				return res, err
			}
			if ks.head != nil && ks.head.NullSeq != 0 {
				seq, resume = ks.head.NullSeq, true
			}
		default:
			var ok bool
			if seq, ok = parseVersionID(opts.VersionIDMarker); !ok {
				return res, store.ErrInvalidVersionID
			}
			resume = true
		}
		if resume {
			// Continue strictly after the marker version of the same key;
			// the rest of that key's versions are not the latest.
			sc.m.seek(versionRow(opts.KeyMarker, seq))
			prevKey, started = opts.KeyMarker, true
		} else {
			sc.seekAfterKey(opts.KeyMarker)
		}
	}
	res.IsTruncated, err = sc.page(ctx, opts.KeyMarker, maxOr(opts.MaxKeys), func(cp string) {
		res.CommonPrefixes = append(res.CommonPrefixes, cp)
		res.NextKeyMarker, res.NextVersionIDMarker = cp, ""
	}, func(r row, key string, full bool) (bool, error) {
		if full {
			return true, nil
		}
		var v version
		if err := decodeRow(r.Value, &v); err != nil {
			return false, err
		}
		latest := !started || key != prevKey
		prevKey, started = key, true
		info := v.info(bucket, key, vs, latest)
		res.Versions = append(res.Versions, info)
		res.NextKeyMarker, res.NextVersionIDMarker = key, info.VersionID
		if info.VersionID == "" {
			res.NextVersionIDMarker = store.NullVersion
		}
		sc.advance()
		return true, nil
	})
	if err != nil {
		return res, err
	}
	if !res.IsTruncated {
		res.NextKeyMarker, res.NextVersionIDMarker = "", ""
	}
	return res, nil
}
