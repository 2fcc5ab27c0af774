package local

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"

	"github.com/cairn-s3/cairn/internal/store"
)

// plEffect is what one operation does if it takes effect.
type plEffect struct {
	puts    map[string][]byte // plain key -> new body
	dels    []string          // plain keys deleted
	vkey    string            // versioned key given a new version ...
	vbody   []byte            // ... with this body
	vmarker bool              // ... or a delete marker
	vid     string            // the new version's id (known once acknowledged)
	vdel    string            // versioned version id removed
	bucket  string            // bucket created or updated ...
	config  string            // ... to this configuration value
	bdel    bool              // ... or deleted
}

// plState is what a worker's acknowledged writes left.
type plState struct {
	plain    map[string][]byte    // plain key -> body; absent keys are missing
	versions map[string]plVersion // version id -> version
	buckets  map[string]string    // bucket -> configuration value
}

type plVersion struct {
	key    string
	body   []byte
	marker bool
}

func (st *plState) apply(e plEffect) {
	for k, b := range e.puts {
		st.plain[k] = b
	}
	for _, k := range e.dels {
		delete(st.plain, k)
	}
	if e.vkey != "" {
		st.versions[e.vid] = plVersion{key: e.vkey, body: e.vbody, marker: e.vmarker}
	}
	if e.vdel != "" {
		delete(st.versions, e.vdel)
	}
	switch {
	case e.bdel:
		delete(st.buckets, e.bucket)
	case e.bucket != "":
		st.buckets[e.bucket] = e.config
	}
}

// plWorker writes its own keys and buckets only, one operation at a time,
// so what each key must hold after the crash follows from its history.
type plWorker struct {
	id      int
	rng     *rand.Rand
	acked   plState
	pending plEffect // the operation in flight at the crash
	nbucket int
}

func newPLWorker(id int, rng *rand.Rand) *plWorker {
	return &plWorker{id: id, rng: rng, acked: plState{
		plain: map[string][]byte{}, versions: map[string]plVersion{}, buckets: map[string]string{}}}
}

func (w *plWorker) key() string { return fmt.Sprintf("w%d/k%d", w.id, w.rng.IntN(plKeys)) }

// body is small (inline in the metadata) or large (a data file of several
// checksummed blocks), and never empty so that every write is told apart.
func (w *plWorker) body() []byte {
	n := 1 + w.rng.IntN(DefaultInlineThreshold)
	if w.rng.IntN(2) == 0 {
		n = DefaultInlineThreshold + 1 + w.rng.IntN(4*DefaultInlineThreshold)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(w.rng.Uint32())
	}
	return b
}

// step runs one random operation.
func (w *plWorker) step(ctx context.Context, s *Store) (string, plEffect, error) {
	switch w.rng.IntN(12) {
	case 10:
		return w.copy(ctx, s)
	case 11:
		return w.abortedUpload(ctx, s)
	case 0, 1, 2:
		k, b := w.key(), w.body()
		_, err := s.PutObject(ctx, plPlain, k, bytes.NewReader(b), store.PutOptions{Size: int64(len(b))})
		return "put " + k, plEffect{puts: map[string][]byte{k: b}}, err
	case 3:
		return w.multipart(ctx, s)
	case 4:
		k := w.key()
		_, err := s.DeleteObject(ctx, plPlain, k, store.DeleteOptions{})
		return "delete " + k, plEffect{dels: []string{k}}, err
	case 5:
		return w.deleteObjects(ctx, s)
	case 6, 7:
		k, b := w.key(), w.body()
		info, err := s.PutObject(ctx, plVersions, k, bytes.NewReader(b), store.PutOptions{Size: int64(len(b))})
		return "versioned put " + k, plEffect{vkey: k, vbody: b, vid: info.VersionID}, err
	case 8:
		return w.deleteVersion(ctx, s)
	default:
		return w.bucketOp(ctx, s)
	}
}

func (w *plWorker) multipart(ctx context.Context, s *Store) (string, plEffect, error) {
	k, b := w.key(), w.body()
	eff := plEffect{puts: map[string][]byte{k: b}}
	up, err := s.CreateMultipartUpload(ctx, plPlain, k, store.PutOptions{})
	if err != nil {
		return "create upload " + k, eff, err
	}
	part, err := s.UploadPart(ctx, plPlain, k, up.UploadID, 1, bytes.NewReader(b), store.PartOptions{Size: int64(len(b))})
	if err != nil {
		return "upload part " + k, eff, err
	}
	_, err = s.CompleteMultipartUpload(ctx, plPlain, k, up.UploadID,
		[]store.CompletePart{{Number: 1, ETag: part.ETag}}, store.CompleteOptions{})
	return "complete " + k, eff, err
}

func (w *plWorker) deleteObjects(ctx context.Context, s *Store) (string, plEffect, error) {
	var eff plEffect
	var entries []store.DeleteEntry
	for range 1 + w.rng.IntN(3) {
		k := w.key()
		eff.dels = append(eff.dels, k)
		entries = append(entries, store.DeleteEntry{Key: k})
	}
	for i, o := range s.DeleteObjects(ctx, plPlain, entries) {
		if o.Err != nil {
			return "delete objects " + entries[i].Key, eff, o.Err
		}
	}
	return fmt.Sprintf("delete objects %v", eff.dels), eff, nil
}

// deleteVersion removes an acknowledged version, or adds a delete marker.
func (w *plWorker) deleteVersion(ctx context.Context, s *Store) (string, plEffect, error) {
	for id, v := range w.acked.versions { // a random one: map order
		if w.rng.IntN(2) == 0 {
			break
		}
		_, err := s.DeleteObject(ctx, plVersions, v.key, store.DeleteOptions{VersionID: id})
		return "delete version " + id, plEffect{vdel: id}, err
	}
	k := w.key()
	res, err := s.DeleteObject(ctx, plVersions, k, store.DeleteOptions{})
	return "delete marker " + k, plEffect{vkey: k, vmarker: true, vid: res.VersionID}, err
}

// bucketOp creates a bucket, or changes an existing one's configuration,
// or deletes it (the worker's buckets stay empty).
func (w *plWorker) bucketOp(ctx context.Context, s *Store) (string, plEffect, error) {
	value := fmt.Sprint(w.rng.Uint64())
	names := slices.Sorted(maps.Keys(w.acked.buckets))
	if len(names) > 0 && w.rng.IntN(3) > 0 {
		name := names[w.rng.IntN(len(names))]
		if w.rng.IntN(3) == 0 {
			return "delete bucket " + name, plEffect{bucket: name, bdel: true}, s.DeleteBucket(ctx, name)
		}
		err := s.UpdateBucket(ctx, name, func(b *store.Bucket) error {
			b.Config = map[string][]byte{"tagging": []byte(value)}
			return nil
		})
		return "update bucket " + name, plEffect{bucket: name, config: value}, err
	}
	name := fmt.Sprintf("w%d-b%d", w.id, w.nbucket)
	w.nbucket++
	err := s.CreateBucket(ctx, store.Bucket{Name: name, Config: map[string][]byte{"tagging": []byte(value)}})
	return "create bucket " + name, plEffect{bucket: name, config: value}, err
}

// copy copies one of the worker's objects onto another of its keys.
func (w *plWorker) copy(ctx context.Context, s *Store) (string, plEffect, error) {
	src, dst := w.key(), w.key()
	body, ok := w.acked.plain[src]
	if !ok {
		return w.multipart(ctx, s)
	}
	_, err := s.CopyObject(ctx, store.CopySource{Bucket: plPlain, Key: src}, plPlain, dst, store.CopyOptions{})
	return "copy " + src + " to " + dst, plEffect{puts: map[string][]byte{dst: body}}, err
}

// abortedUpload uploads a part and aborts the upload: it changes no key,
// and its part's data file must not outlive it.
func (w *plWorker) abortedUpload(ctx context.Context, s *Store) (string, plEffect, error) {
	k, b := w.key(), w.body()
	up, err := s.CreateMultipartUpload(ctx, plPlain, k, store.PutOptions{})
	if err != nil {
		return "create upload " + k, plEffect{}, err
	}
	if _, err := s.UploadPart(ctx, plPlain, k, up.UploadID, 1, bytes.NewReader(b), store.PartOptions{Size: int64(len(b))}); err != nil {
		return "upload part " + k, plEffect{}, err
	}
	return "abort upload " + k, plEffect{}, s.AbortMultipartUpload(ctx, plPlain, k, up.UploadID)
}
