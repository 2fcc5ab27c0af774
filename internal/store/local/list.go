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

// page is the loop every listing shares: from the current position it
// emits, up to max entries, the common prefixes after marker (through
// prefix) and the rows that row accepts, and reports whether entries were
// left over. row gets each row that does not roll up into a prefix, must
// move the scanner past it, and reports whether it is an entry; when full
// is true it must return at an entry without adding it.
func (sc *scanner) page(ctx context.Context, marker string, max int, prefix func(cp string), row func(key string, full bool) (entry bool, err error)) (truncated bool, err error) {
	n := 0
	for sc.valid {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		key, _, cp, err := sc.row()
		if err != nil {
			return false, err
		}
		if cp != "" {
			// A prefix at or before the marker was returned on an
			// earlier page.
			if marker == "" || cp > marker {
				if n == max {
					truncated = true
					break
				}
				prefix(cp)
				n++
			}
			sc.seekAfterPrefix(cp)
			continue
		}
		entry, err := row(key, n == max)
		if err != nil {
			return false, err
		}
		if entry {
			if n == max {
				truncated = true
				break
			}
			n++
		}
	}
	if err := sc.it.Error(); err != nil {
		return false, fmt.Errorf("local: %w", err)
	}
	return truncated, nil
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
	res.IsTruncated, err = sc.page(ctx, opts.Marker, max, func(cp string) {
		res.CommonPrefixes = append(res.CommonPrefixes, cp)
		res.NextMarker = cp
	}, func(key string, full bool) (bool, error) {
		v, err := decodeVersion(sc.it.Value())
		if err != nil {
			return false, err
		}
		if v.DeleteMarker {
			sc.skipKey(key)
			return false, nil
		}
		if full {
			return true, nil
		}
		// The bucket's versioning state only changes how a null
		// version is named; listings of latest versions don't show ids.
		info := v.info(bucket, key, store.Unversioned, true)
		info.VersionID = ""
		res.Objects = append(res.Objects, info)
		res.NextMarker = key
		sc.skipKey(key)
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
	res.IsTruncated, err = sc.page(ctx, opts.KeyMarker, max, func(cp string) {
		res.CommonPrefixes = append(res.CommonPrefixes, cp)
		res.NextKeyMarker, res.NextVersionIDMarker = cp, ""
	}, func(key string, full bool) (bool, error) {
		if full {
			return true, nil
		}
		v, err := decodeVersion(sc.it.Value())
		if err != nil {
			return false, err
		}
		latest := !started || key != prevKey
		prevKey, started = key, true
		info := v.info(bucket, key, b.Versioning, latest)
		res.Versions = append(res.Versions, info)
		res.NextKeyMarker, res.NextVersionIDMarker = key, info.VersionID
		if info.VersionID == "" {
			res.NextVersionIDMarker = store.NullVersion
		}
		sc.valid = sc.it.Next()
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
