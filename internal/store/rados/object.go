//go:build rados

package rados

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// keyState is what a commit to one key decides on, read from its shard.
type keyState struct {
	rec  *bucketRecord
	oid  string
	raw  []byte   // the head row as stored; nil if the key has no version
	head *keyHead // nil if the key has no version
	rows map[string][]byte
	// exists is false if the shard is missing (its bucket was deleted).
	exists bool
}

// loadKey reads a key's bucket, head row and the extra rows of its shard
// (in the same read operation as the head row).
func (s *Store) loadKey(bucket, key string, extra ...string) (*keyState, error) {
	return s.loadKeyIn(nil, bucket, key, extra...)
}

// loadKeyIn is loadKey with the bucket's record, if the caller just read it.
// A shard found missing or closed may mean that the record (cached, or
// read before a deletion) is stale: the record is read again, once.
func (s *Store) loadKeyIn(rec *bucketRecord, bucket, key string, extra ...string) (*keyState, error) {
	var err error
	if rec == nil {
		if rec, err = s.bucket(bucket); err != nil {
			return nil, err
		}
	}
	ks, err := s.loadShardRows(rec, key, extra)
	if err == nil && (!ks.exists || ks.rows[rowClosed] != nil) {
		if rec, err = s.refreshBucket(bucket); err != nil {
			return nil, err
		}
		ks, err = s.loadShardRows(rec, key, extra)
	}
	if err != nil {
		return nil, err
	}
	if c := ks.rows[rowClosed]; c != nil && staleClosure(c) {
		// A writer would fail its guard until the deletion is resumed.
		s.resumeDelete(context.Background(), bucket)
	}
	if ks.raw = ks.rows[headRow(key)]; ks.raw != nil {
		ks.head = new(keyHead)
		if err := decodeRow(ks.raw, ks.head); err != nil {
			return nil, err
		}
	}
	return ks, nil
}

// loadShardRows reads key's head row, the shard's closed row and extra
// rows from key's shard of rec.
func (s *Store) loadShardRows(rec *bucketRecord, key string, extra []string) (*keyState, error) {
	ks := &keyState{rec: rec, oid: rec.shardOID(key)}
	var err error
	ks.rows, ks.exists, err = getRowsOf(s.io, ks.oid, append([]string{headRow(key), rowClosed}, extra...)...)
	return ks, err
}

func decodeRow(raw []byte, v any) error {
	data, err := unwrap(raw)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("rados: corrupt row: %w", err)
	}
	return nil
}

// latest is the key's newest version, nil if none.
func (ks *keyState) latest() *version {
	if ks.head == nil {
		return nil
	}
	return ks.head.Latest
}

func (ks *keyState) lastSeq() uint64 {
	if ks.head == nil {
		return 0
	}
	return ks.head.Seq
}

// readVersion reads the version row of seq, nil if absent.
func (s *Store) readVersion(oid, key string, seq uint64) (*version, error) {
	v, _, err := s.readVersionRaw(oid, key, seq)
	return v, err
}

// readVersionRaw is readVersion returning the row as stored as well, for a
// guard of a write that rests on the version's content.
func (s *Store) readVersionRaw(oid, key string, seq uint64) (*version, []byte, error) {
	raw, err := getRow(s.io, oid, versionRow(key, seq))
	if err != nil || raw == nil {
		return nil, nil, err
	}
	v := new(version)
	return v, raw, decodeRow(raw, v)
}

// byID resolves a version id of key; nil if there is no such version.
func (s *Store) byID(ks *keyState, key, id string) (*version, error) {
	var seq uint64
	if id == store.NullVersion {
		if ks.head == nil || ks.head.NullSeq == 0 {
			return nil, nil
		}
		seq = ks.head.NullSeq
	} else {
		var ok bool
		if seq, ok = parseVersionID(id); !ok {
			return nil, fmt.Errorf("%w: %q", store.ErrInvalidVersionID, id)
		}
	}
	if l := ks.latest(); l != nil && l.Seq == seq {
		return l, nil
	}
	return s.readVersion(ks.oid, key, seq)
}

// garbage records bodies a commit unreferences as rows of the same
// operation; they are removed after a grace period (collect), so that
// reads already under way finish, and a crash cannot leak them.
func (t *txn) garbage(segs []segment) error {
	if len(segs) == 0 {
		return nil
	}
	return t.setJSON(timedRow(rowGarbage, newID()), segmentsRow{Data: segs})
}

// Rows of the garbage collector, named by time so that a pass reads the
// oldest first: "g/" bodies a commit unreferenced, "w/" write intents.
const (
	rowGarbage = "g/"
	rowIntent  = "w/"
)

func timedRow(prefix, id string) string {
	return fmt.Sprintf("%s%016x/%s", prefix, time.Now().UnixNano(), id)
}

// errCollected means a body's intent row is gone: the garbage collector
// took the body of a write that outlived the intent's lifetime.
var errCollected = errors.New("rados: the body was collected before its commit")

// takeIntents guards t on the intent rows of its bodies being as read
// and removes them with the commit.
func takeIntents(t *txn, ks *keyState, intents []string) error {
	for _, row := range intents {
		raw := ks.rows[row]
		if raw == nil {
			return errCollected
		}
		t.op.omapEqual(row, raw)
		t.rmRow(row)
	}
	return nil
}

// segmentsRow is the value of garbage rows (and the data of part rows).
type segmentsRow struct {
	Data []segment `json:"data"`
}

func decodeSegments(raw []byte) ([]segment, error) {
	var r segmentsRow
	err := decodeRow(raw, &r)
	return r.Data, err
}

// newVersion describes a version to commit.
type newVersion struct {
	kind  store.ChangeKind
	meta  store.Metadata
	owner string
	size  int64
	etag  string
	parts []store.Part
	data  []segment
	// check, if set, vets the current latest version (preconditions).
	check store.Precondition
	// stage, if set, adds rows and guards to the commit (upload cleanup).
	stage func(t *txn, ks *keyState) error
	extra []string // rows stage needs, read with the head
	// intents are the intent rows of the bodies the version takes over.
	intents []string
	inline  []byte // a small body kept in the version row
	// rec, if set, is the bucket's record the caller just read, used by
	// the first attempt (saves a lookup per PUT).
	rec *bucketRecord
}

// commitVersion makes nv the latest version of key: one guarded write of
// the key's shard holding the version row, the head row, the garbage rows
// of a replaced null version and the hook's records.
func (s *Store) commitVersion(ctx context.Context, bucket, key string, nv newVersion) (store.ObjectInfo, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		info, err := s.tryCommitVersion(ctx, bucket, key, nv)
		if !errors.Is(err, errConflict) {
			return info, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return store.ObjectInfo{}, err
		}
		// The guard may have failed on the bucket (deleted, recreated,
		// being deleted): a retry reads its record from the cluster.
		if nv.rec, err = s.refreshBucket(bucket); err != nil {
			return store.ObjectInfo{}, err
		}
	}
	return store.ObjectInfo{}, fmt.Errorf("rados: commit %s/%s: %w", bucket, key, errConflict)
}

func (s *Store) tryCommitVersion(ctx context.Context, bucket, key string, nv newVersion) (store.ObjectInfo, error) {
	ks, err := s.loadKeyIn(nv.rec, bucket, key, append(nv.extra, nv.intents...)...)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	if nv.check != nil {
		if cur := ks.latest(); cur == nil || cur.DeleteMarker {
			err = nv.check(false, "")
		} else {
			err = nv.check(true, cur.ETag)
		}
		if err != nil {
			return store.ObjectInfo{}, err
		}
	}
	b := ks.rec.Bucket
	seq, err := s.seq.next(ks.lastSeq())
	if err != nil {
		return store.ObjectInfo{}, err
	}
	v := &version{Seq: seq, Null: b.Versioning != store.Enabled, Size: nv.size, ETag: nv.etag,
		Modified: time.Now().UTC(), Owner: nv.owner, Meta: nv.meta, Parts: nv.parts, Data: nv.data,
		Inlined: nv.inline != nil, Inline: nv.inline}
	t := s.newTxn(ctx, ks.oid, map[string][]byte{headRow(key): ks.raw})
	defer t.close()
	t.seq = seq
	if err := takeIntents(t, ks, nv.intents); err != nil {
		return store.ObjectInfo{}, err
	}
	if err := s.putVersion(t, ks, key, v); err != nil {
		return store.ObjectInfo{}, err
	}
	if nv.stage != nil {
		if err := nv.stage(t, ks); err != nil {
			return store.ObjectInfo{}, err
		}
	}
	info := v.info(bucket, key, b.Versioning, true)
	if err := t.change(nv.kind, b, info, nil, seq); err != nil {
		return store.ObjectInfo{}, err
	}
	return info, t.commit()
}

// putVersion adds v as key's newest version to t, replacing the null
// version if v is one.
func (s *Store) putVersion(t *txn, ks *keyState, key string, v *version) error {
	h := keyHead{Seq: v.Seq, Latest: headCopy(v)}
	if ks.head != nil {
		h.NullSeq = ks.head.NullSeq
	}
	if v.Null {
		if h.NullSeq != 0 {
			old, err := s.byID(ks, key, store.NullVersion)
			if err != nil {
				return err
			}
			t.rmRow(versionRow(key, h.NullSeq))
			if old != nil {
				if err := t.garbage(old.Data); err != nil {
					return err
				}
			}
		}
		h.NullSeq = v.Seq
	}
	if err := t.setJSON(versionRow(key, v.Seq), v); err != nil {
		return err
	}
	return t.setJSON(headRow(key), h)
}

// PutObject stores a new version of key from body.
func (s *Store) PutObject(ctx context.Context, bucket, key string, body io.Reader, opts store.PutOptions) (store.ObjectInfo, error) {
	if err := store.CheckKey(key); err != nil {
		return store.ObjectInfo{}, err
	}
	// Fail before reading a body that could not be stored.
	rec, err := s.bucket(bucket)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	nv := newVersion{kind: store.ChangePut, meta: opts.Meta, owner: opts.Owner,
		check: store.Preconditions(opts.IfMatch, opts.IfNoneMatch), rec: rec}
	withSums := func() {
		if opts.Checksums != nil {
			nv.meta.Checksums = store.MergeChecksums(nv.meta.Checksums, opts.Checksums())
		}
	}
	if opts.Size >= 0 && opts.Size <= int64(s.inline) {
		if err := s.receiveInline(ctx, body, opts.Size, opts.ContentMD5, &nv); err != nil {
			return store.ObjectInfo{}, err
		}
		if opts.MD5 != nil {
			nv.etag = hex.EncodeToString(opts.MD5())
		}
		withSums()
		return s.commitVersion(ctx, bucket, key, nv)
	}
	in, rec, err := s.receiveFor(ctx, rec, bucket, key, body, opts.Size, opts.ContentMD5)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	nv.rec = rec
	if opts.MD5 != nil {
		in.md5 = opts.MD5()
	}
	withSums()
	return s.commitBody(ctx, bucket, key, in, nv)
}

// receiveFor is receive into key's shard of rec. If that shard is gone,
// rec (cached) may have outlived its bucket: the body goes to the shard of
// the record read again, if any. The body is not read before its intent
// row is written, so the second attempt gets all of it.
func (s *Store) receiveFor(ctx context.Context, rec *bucketRecord, bucket, key string, body io.Reader, size int64, wantMD5 []byte) (received, *bucketRecord, error) {
	in, err := s.receive(ctx, rec.shardOID(key), body, size, wantMD5)
	if !errors.Is(err, errIndexGone) {
		return in, rec, err
	}
	if rec, err = s.refreshBucket(bucket); err != nil {
		return received{}, nil, err
	}
	in, err = s.receive(ctx, rec.shardOID(key), body, size, wantMD5)
	return in, rec, err
}

// commitBody commits a received body as a new version, or removes it.
func (s *Store) commitBody(ctx context.Context, bucket, key string, in received, nv newVersion) (store.ObjectInfo, error) {
	nv.size = in.seg.Size
	nv.etag = hex.EncodeToString(in.md5)
	nv.data = []segment{in.seg}
	nv.intents = []string{in.intent}
	info, err := s.commitVersion(ctx, bucket, key, nv)
	if err != nil {
		s.discard(in)
	}
	return info, err
}
