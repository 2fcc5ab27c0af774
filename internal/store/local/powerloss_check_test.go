package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cockroachdb/pebble"
)

// check verifies the reopened store: each worker's keys, versions and
// buckets, the data directory against the metadata, and that it still
// takes writes.
func (r *plRun) check() {
	for _, w := range r.workers {
		for i := range plKeys {
			r.checkPlain(w, fmt.Sprintf("w%d/k%d", w.id, i))
		}
		r.checkVersions(w)
		r.checkBuckets(w)
	}
	r.checkListed()
	r.checkEvents()
	r.checkDataFiles()
	r.checkWorks()
}

// read returns a whole object, verified block by block as it is read.
func (r *plRun) read(bucket, key, versionID string) ([]byte, error) {
	_, rc, err := r.s.GetObject(r.ctx, bucket, key, store.GetOptions{VersionID: versionID})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// checkPlain: a key holds its last acknowledged body (or is missing if
// that was a delete), or what the operation in flight at the crash wrote.
func (r *plRun) checkPlain(w *plWorker, key string) {
	got, err := r.read(plPlain, key, "")
	if errors.Is(err, store.ErrNoSuchKey) {
		got, err = nil, nil
	}
	if err != nil {
		r.t.Errorf("GET %s: %v", key, err)
		return
	}
	want, ok := w.acked.plain[key]
	b, put := w.pending.puts[key]
	switch {
	case ok && bytes.Equal(got, want), !ok && got == nil:
	case put && bytes.Equal(got, b):
	case got == nil && slices.Contains(w.pending.dels, key):
	default:
		r.t.Errorf("%s: %d bytes, want the acknowledged %d bytes (present %v) or the in-flight write's",
			key, len(got), len(want), ok)
		return
	}
	// What survived is what the next writes build on.
	if got == nil {
		delete(w.acked.plain, key)
	} else {
		w.acked.plain[key] = got
	}
}

// checkVersions: every acknowledged version is there and reads back;
// versions deleted are gone; the only version not acknowledged is the one
// in flight at the crash.
func (r *plRun) checkVersions(w *plWorker) {
	res, err := r.s.ListObjectVersions(r.ctx, plVersions, store.ListVersionsOptions{Prefix: fmt.Sprintf("w%d/", w.id)})
	if err != nil || res.IsTruncated {
		r.t.Fatalf("list versions: %v (truncated %v)", err, res.IsTruncated)
	}
	seen := map[string]plVersion{}
	unknown := 0
	for _, v := range res.Versions {
		want, ok := w.acked.versions[v.VersionID]
		if !ok {
			p := w.pending
			if unknown > 0 || p.vkey != v.Key || p.vmarker != v.DeleteMarker {
				r.t.Errorf("version %s of %s (marker %v) was never acknowledged", v.VersionID, v.Key, v.DeleteMarker)
				continue
			}
			unknown++
			want = plVersion{key: p.vkey, body: p.vbody, marker: p.vmarker}
		}
		if v.Key != want.key || v.DeleteMarker != want.marker {
			r.t.Errorf("version %s: key %s marker %v, want %s %v", v.VersionID, v.Key, v.DeleteMarker, want.key, want.marker)
			continue
		}
		seen[v.VersionID] = want
		if v.DeleteMarker {
			continue
		}
		got, err := r.read(plVersions, v.Key, v.VersionID)
		if err != nil || !bytes.Equal(got, want.body) {
			r.t.Errorf("version %s of %s: %d bytes, err %v; want %d bytes", v.VersionID, v.Key, len(got), err, len(want.body))
		}
	}
	for id, v := range w.acked.versions {
		if _, ok := seen[id]; !ok && id != w.pending.vdel {
			r.t.Errorf("acknowledged version %s of %s is lost", id, v.key)
		}
	}
	w.acked.versions = seen
}

// checkBuckets: every bucket the worker ever named exists with its
// acknowledged configuration, or is missing if it was never acknowledged
// or its deletion was, or shows the in-flight change.
func (r *plRun) checkBuckets(w *plWorker) {
	for i := range w.nbucket {
		name := fmt.Sprintf("w%d-b%d", w.id, i)
		inFlight := name == w.pending.bucket
		want, acked := w.acked.buckets[name]
		b, err := r.s.GetBucket(r.ctx, name)
		switch {
		case errors.Is(err, store.ErrNoSuchBucket) && (!acked || inFlight && w.pending.bdel):
			delete(w.acked.buckets, name)
		case err != nil:
			r.t.Errorf("bucket %s: %v", name, err)
		case acked && string(b.Config["tagging"]) == want:
		case inFlight && !w.pending.bdel && string(b.Config["tagging"]) == w.pending.config:
			w.acked.buckets[name] = w.pending.config
		default:
			r.t.Errorf("bucket %s: config %q, want the acknowledged %q (present %v) or the in-flight %q",
				name, b.Config["tagging"], want, acked, w.pending.config)
		}
	}
}

// checkListed: nothing but the workers' keys and buckets is listed.
func (r *plRun) checkListed() {
	res, err := r.s.ListObjects(r.ctx, plPlain, store.ListOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, o := range res.Objects {
		var w, k int
		if _, err := fmt.Sscanf(o.Key, "w%d/k%d", &w, &k); err != nil || w >= plWorkers || k >= plKeys {
			r.t.Errorf("unexpected key %q", o.Key)
		}
	}
	bs, err := r.s.ListBuckets(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, b := range bs {
		var w, n int
		if _, err := fmt.Sscanf(b.Name, "w%d-b%d", &w, &n); err != nil && b.Name != plPlain && b.Name != plVersions {
			r.t.Errorf("unexpected bucket %q", b.Name)
		}
	}
}

// checkDataFiles: tmp is empty, and the data files and the metadata's
// references to them match one to one.
func (r *plRun) checkDataFiles() {
	if names, err := r.s.fs.ReadDir(filepath.Join(r.s.dir, "tmp")); err != nil || len(names) > 0 {
		r.t.Errorf("tmp after recovery: %v %v", names, err)
	}
	refs := map[uint64]bool{}
	it, err := r.s.db.NewIter(&pebble.IterOptions{LowerBound: tagFile, UpperBound: prefixEnd(tagFile)})
	if err != nil {
		r.t.Fatal(err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		refs[seqOf(it.Key()[len(tagFile):])] = true
	}
	it.Close()
	for i := range 256 {
		dir := filepath.Join(r.s.dir, "data", fmt.Sprintf("%02x", i))
		names, err := r.s.fs.ReadDir(dir)
		if err != nil {
			r.t.Fatal(err)
		}
		for _, n := range names {
			seq, err := strconv.ParseUint(n, 16, 64)
			if err != nil || !refs[seq] {
				r.t.Errorf("orphaned data file %s/%s", dir, n)
			}
			delete(refs, seq)
		}
	}
	for seq := range refs {
		r.t.Errorf("referenced data file %016x is missing", seq)
	}
}

func seqOf(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// checkWorks: the reopened store takes and serves writes, small and large.
func (r *plRun) checkWorks() {
	for _, n := range []int{10, 3 * DefaultInlineThreshold} {
		body := []byte(strings.Repeat("z", n))
		if _, err := r.s.PutObject(r.ctx, plPlain, "after", bytes.NewReader(body), store.PutOptions{Size: int64(n)}); err != nil {
			r.t.Fatalf("PUT after the crash: %v", err)
		}
		if got, err := r.read(plPlain, "after", ""); err != nil || !bytes.Equal(got, body) {
			r.t.Fatalf("GET after the crash: %d bytes, %v", len(got), err)
		}
	}
	if _, err := r.s.DeleteObject(r.ctx, plPlain, "after", store.DeleteOptions{}); err != nil {
		r.t.Fatalf("DELETE after the crash: %v", err)
	}
}

// plEventHook records an event per created version in the version's
// commit, as the notification and pull-subscription hooks do.
func plEventHook(_ context.Context, c store.Change, w store.RecordWriter) error {
	if c.Kind == store.ChangeDelete {
		return nil
	}
	return w.Put(plEventKey(c.Bucket.Name, c.Object), []byte(c.Kind.String()))
}

func plEventKey(bucket string, o store.ObjectInfo) []byte {
	vid := ""
	if bucket == plVersions {
		vid = o.VersionID
	}
	return []byte(strings.Join([]string{"plev", bucket, o.Key, vid, o.ETag}, "\x00"))
}

// checkEvents: every visible object and version has the event of its
// creation (an event exists if its change does).
func (r *plRun) checkEvents() {
	res, err := r.s.ListObjects(r.ctx, plPlain, store.ListOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	vres, err := r.s.ListObjectVersions(r.ctx, plVersions, store.ListVersionsOptions{})
	if err != nil || res.IsTruncated || vres.IsTruncated {
		r.t.Fatalf("list: %v", err)
	}
	check := func(bucket string, o store.ObjectInfo) {
		if _, err := r.s.KV().Get(r.ctx, plEventKey(bucket, o)); err != nil {
			r.t.Errorf("the event of %s/%s version %q etag %s: %v", bucket, o.Key, o.VersionID, o.ETag, err)
		}
	}
	for _, o := range res.Objects {
		check(plPlain, o)
	}
	for _, o := range vres.Versions {
		check(plVersions, o)
	}
}
