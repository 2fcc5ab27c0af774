package local

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble"

	"github.com/cairn-s3/cairn/internal/store"
)

const defaultMaxKeys = 1000

// scanner walks the rows of one bucket in an object-keyed table (o/ or u/)
// in key order, rolling keys up into common prefixes.
type scanner struct {
	it        *pebble.Iterator
	tag       []byte
	bucket    string
	plen      int // length of tag<bucket>\x00
	prefix    string
	delimiter string
	valid     bool
}

func (s *Store) newScanner(tag []byte, bucket, prefix, delimiter string) (*scanner, error) {
	lo := keyPrefix(tag, bucket, prefix, true)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	return &scanner{
		it: it, tag: tag, bucket: bucket, plen: len(tablePrefix(tag, bucket)),
		prefix: prefix, delimiter: delimiter,
	}, nil
}

func (sc *scanner) close() error { return sc.it.Close() }

// seek positions at the first row at or after k.
func (sc *scanner) seek(k []byte) { sc.valid = sc.it.SeekGE(k) }

// seekAfterKey positions after every row of key.
func (sc *scanner) seekAfterKey(key string) {
	sc.seekEnd(keyPrefix(sc.tag, sc.bucket, key, false))
}

// seekAfterPrefix positions after every row whose key starts with p.
func (sc *scanner) seekAfterPrefix(p string) {
	sc.seekEnd(keyPrefix(sc.tag, sc.bucket, p, true))
}

func (sc *scanner) seekEnd(p []byte) {
	end := prefixEnd(p)
	if end == nil {
		sc.valid = false
		return
	}
	sc.valid = sc.it.SeekGE(end)
}

// skipKey moves past the remaining rows of the current key; one Next is
// usually enough (one version per key), so Seek only when it is not.
func (sc *scanner) skipKey(key string) {
	p := keyPrefix(sc.tag, sc.bucket, key, false)
	if sc.valid = sc.it.Next(); sc.valid && bytes.HasPrefix(sc.it.Key(), p) {
		sc.seekEnd(p)
	}
}

// row returns the current row's key, suffix, common prefix (if the key
// rolls up into one) and value.
func (sc *scanner) row() (key string, suffix []byte, cp string, err error) {
	key, suffix, ok := splitKeyed(sc.it.Key(), sc.plen)
	if !ok {
		return "", nil, "", fmt.Errorf("local: corrupt index key %q", sc.it.Key())
	}
	if sc.delimiter != "" {
		if i := strings.Index(key[len(sc.prefix):], sc.delimiter); i >= 0 {
			cp = key[:len(sc.prefix)+i+len(sc.delimiter)]
		}
	}
	return key, suffix, cp, nil
}

func maxOr(n int) int {
	if n <= 0 {
		return defaultMaxKeys
	}
	return n
}

// ListObjects lists the latest versions of a bucket's objects, skipping
// keys whose latest version is a delete marker.
func (s *Store) ListObjects(ctx context.Context, bucket string, opts store.ListOptions) (store.ListResult, error) {
	var res store.ListResult
	if _, err := s.readBucket(reader{db: s.db}, bucket); err != nil {
		return res, err
	}
	sc, err := s.newScanner(tagObject, bucket, opts.Prefix, opts.Delimiter)
	if err != nil {
		return res, err
	}
	defer sc.close()
	max := maxOr(opts.MaxKeys)
	sc.seek(keyPrefix(tagObject, bucket, opts.Prefix, true))
	if opts.Marker != "" && opts.Marker >= opts.Prefix {
		sc.seekAfterKey(opts.Marker)
	}
	n := 0
	for sc.valid {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		key, _, cp, err := sc.row()
		if err != nil {
			return res, err
		}
		if cp != "" {
			// A prefix at or before the marker was returned on an
			// earlier page.
			if opts.Marker == "" || cp > opts.Marker {
				if n == max {
					res.IsTruncated = true
					break
				}
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				res.NextMarker = cp
				n++
			}
			sc.seekAfterPrefix(cp)
			continue
		}
		v, err := decodeVersion(sc.it.Value())
		if err != nil {
			return res, err
		}
		if !v.DeleteMarker {
			if n == max {
				res.IsTruncated = true
				break
			}
			// The bucket's versioning state only changes how a null
			// version is named; listings of latest versions don't show ids.
			info := v.info(bucket, key, store.Unversioned, true)
			info.VersionID = ""
			res.Objects = append(res.Objects, info)
			res.NextMarker = key
			n++
		}
		sc.skipKey(key)
	}
	if err := sc.it.Error(); err != nil {
		return res, fmt.Errorf("local: %w", err)
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
	r := reader{db: s.db}
	b, err := s.readBucket(r, bucket)
	if err != nil {
		return res, err
	}
	sc, err := s.newScanner(tagObject, bucket, opts.Prefix, opts.Delimiter)
	if err != nil {
		return res, err
	}
	defer sc.close()
	max := maxOr(opts.MaxKeys)
	sc.seek(keyPrefix(tagObject, bucket, opts.Prefix, true))
	prevKey, started := "", false
	if opts.KeyMarker != "" && opts.KeyMarker >= opts.Prefix {
		seq, resume := uint64(0), false
		if opts.VersionIDMarker != "" {
			if opts.VersionIDMarker == store.NullVersion {
				seq, resume, err = s.nullSeq(r, bucket, opts.KeyMarker)
				if err != nil {
					return res, fmt.Errorf("local: %w", err)
				}
			} else {
				if seq, err = parseVersionID(opts.VersionIDMarker); err != nil {
					return res, err
				}
				resume = true
			}
		}
		if resume {
			// Continue strictly after the marker version of the same key;
			// the rest of that key's versions are not the latest.
			sc.seek(append(versionKey(bucket, opts.KeyMarker, seq), 0))
			prevKey, started = opts.KeyMarker, true
		} else {
			sc.seekAfterKey(opts.KeyMarker)
		}
	}
	n := 0
	for sc.valid {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		key, _, cp, err := sc.row()
		if err != nil {
			return res, err
		}
		if cp != "" {
			if opts.KeyMarker == "" || cp > opts.KeyMarker {
				if n == max {
					res.IsTruncated = true
					break
				}
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				res.NextKeyMarker, res.NextVersionIDMarker = cp, ""
				n++
			}
			sc.seekAfterPrefix(cp)
			continue
		}
		if n == max {
			res.IsTruncated = true
			break
		}
		v, err := decodeVersion(sc.it.Value())
		if err != nil {
			return res, err
		}
		latest := !started || key != prevKey
		prevKey, started = key, true
		info := v.info(bucket, key, b.Versioning, latest)
		res.Versions = append(res.Versions, info)
		res.NextKeyMarker, res.NextVersionIDMarker = key, info.VersionID
		if info.VersionID == "" {
			res.NextVersionIDMarker = store.NullVersion
		}
		n++
		sc.valid = sc.it.Next()
	}
	if err := sc.it.Error(); err != nil {
		return res, fmt.Errorf("local: %w", err)
	}
	if !res.IsTruncated {
		res.NextKeyMarker, res.NextVersionIDMarker = "", ""
	}
	return res, nil
}
