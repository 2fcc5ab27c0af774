//go:build rados

package rados

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/cairn-s3/cairn/internal/store"
)

// find resolves a read of key at versionID ("" for the latest), applying
// the delete-marker rules of GetObject.
func (s *Store) find(bucket, key, versionID string) (*version, store.ObjectInfo, string, error) {
	var extra []string
	if seq, ok := parseVersionID(versionID); ok {
		extra = append(extra, versionRow(key, seq)) // one read for head and version
	}
	ks, err := s.loadKey(bucket, key, extra...)
	if err != nil {
		return nil, store.ObjectInfo{}, "", err
	}
	vs := ks.rec.Bucket.Versioning
	if versionID == "" {
		v := ks.latest()
		if v == nil {
			return nil, store.ObjectInfo{}, "", fmt.Errorf("%w: %s", store.ErrNoSuchKey, key)
		}
		info := v.info(bucket, key, vs, true)
		if v.DeleteMarker {
			return v, info, ks.oid, fmt.Errorf("%w: %s", store.ErrNoSuchKey, key)
		}
		return v, info, ks.oid, nil
	}
	var v *version
	if len(extra) > 0 {
		if raw := ks.rows[extra[0]]; raw != nil {
			v = new(version)
			if err := decodeRow(raw, v); err != nil {
				return nil, store.ObjectInfo{}, "", err
			}
		}
	} else if v, err = s.byID(ks, key, versionID); err != nil {
		return nil, store.ObjectInfo{}, "", err
	}
	if v == nil {
		return nil, store.ObjectInfo{}, "", fmt.Errorf("%w: %s %s", store.ErrNoSuchVersion, key, versionID)
	}
	l := ks.latest()
	info := v.info(bucket, key, vs, l != nil && l.Seq == v.Seq)
	if v.DeleteMarker {
		return v, info, ks.oid, fmt.Errorf("%w: %s %s", store.ErrMethodNotAllowed, key, versionID)
	}
	return v, info, ks.oid, nil
}

// HeadObject returns a version's info.
func (s *Store) HeadObject(ctx context.Context, bucket, key string, opts store.GetOptions) (store.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return store.ObjectInfo{}, err
	}
	v, info, _, err := s.find(bucket, key, opts.VersionID)
	if err != nil {
		return info, err
	}
	_, err = store.SelectRange(v.Size, v.Parts, info, opts)
	return info, err
}

// GetObject returns a version's info and a reader of the selected range.
// The bodies of versions a commit replaces stay for a grace period (see
// txn.garbage), so a read that found its version can finish.
func (s *Store) GetObject(ctx context.Context, bucket, key string, opts store.GetOptions) (store.ObjectInfo, io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return store.ObjectInfo{}, nil, err
	}
	for attempt := 0; ; attempt++ {
		v, info, oid, err := s.find(bucket, key, opts.VersionID)
		if err != nil {
			return info, nil, err
		}
		rng, err := store.SelectRange(v.Size, v.Parts, info, opts)
		if err != nil {
			return info, nil, err
		}
		if !v.Inlined {
			return info, s.newDataReader(ctx, v.Data, rng), nil
		}
		if v.Inline == nil { // the head's copy: the bytes are in the version row
			if v, err = s.readVersion(oid, key, v.Seq); err != nil {
				return info, nil, err
			}
			if v == nil || int64(len(v.Inline)) != v.Size {
				if attempt < maxAttempts {
					continue // replaced between the two reads: read again
				}
				return info, nil, fmt.Errorf("%w: inline body of %s", store.ErrDataCorrupt, key)
			}
		}
		return info, io.NopCloser(bytes.NewReader(v.Inline[rng.Offset : rng.Offset+rng.Length])), nil
	}
}
