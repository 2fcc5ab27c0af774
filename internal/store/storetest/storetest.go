// Package storetest is the conformance suite of store backends, in the
// manner of testing/fstest: it is the executable definition of the
// semantics documented in package store.
//
// A backend's test calls
//
//	storetest.Run(t, func(t *testing.T) store.Backend { ... })
//	storetest.RunHooks(t, func(t *testing.T, h store.ChangeHook) (store.Backend, kv.Store) { ... })
//	storetest.RunKV(t, func(t *testing.T) kv.Store { ... })
//
// Every open call must return a fresh, empty store; the suite closes it.
// Subtests run in parallel.
package storetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// Run runs the conformance suite against the backends open returns.
func Run(t *testing.T, open func(t *testing.T) store.Backend) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Bucket", bucketTests},
		{"Object", objectTests},
		{"List", listTests},
		{"Versioning", versioningTests},
		{"Copy", copyTests},
		{"Multipart", multipartTests},
		{"Concurrency", concurrencyTests},
		{"ObjectLock", objectLockTests},
		{"DeleteObjects", deleteObjectsTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(newEnv(t, open(t)))
				})
			}
		})
	}
}

type test struct {
	name string
	fn   func(e *env)
}

// env is one test's backend with helpers that fail the test on error.
type env struct {
	t   *testing.T
	b   store.Backend
	ctx context.Context
}

func newEnv(t *testing.T, b store.Backend) *env {
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &env{t: t, b: b, ctx: context.Background()}
}

func (e *env) mkbucket(name string, vs store.Versioning) {
	e.t.Helper()
	if err := e.b.CreateBucket(e.ctx, store.Bucket{Name: name, Owner: "owner"}); err != nil {
		e.t.Fatalf("CreateBucket(%s): %v", name, err)
	}
	if vs != store.Unversioned {
		e.setVersioning(name, vs)
	}
}

func (e *env) setVersioning(name string, vs store.Versioning) {
	e.t.Helper()
	if err := e.b.UpdateBucket(e.ctx, name, func(b *store.Bucket) error { b.Versioning = vs; return nil }); err != nil {
		e.t.Fatalf("UpdateBucket(%s, %s): %v", name, vs, err)
	}
}

func (e *env) put(bucket, key string, body []byte) store.ObjectInfo {
	e.t.Helper()
	return e.putOpts(bucket, key, body, store.PutOptions{Size: int64(len(body))})
}

func (e *env) putOpts(bucket, key string, body []byte, opts store.PutOptions) store.ObjectInfo {
	e.t.Helper()
	info, err := e.b.PutObject(e.ctx, bucket, key, bytes.NewReader(body), opts)
	if err != nil {
		e.t.Fatalf("PutObject(%s/%s, %d bytes): %v", bucket, key, len(body), err)
	}
	if want := md5hex(body); info.ETag != want {
		e.t.Errorf("PutObject(%s/%s) ETag = %q, want %q", bucket, key, info.ETag, want)
	}
	return info
}

// get reads a whole object version.
func (e *env) get(bucket, key string, opts store.GetOptions) (store.ObjectInfo, []byte, error) {
	e.t.Helper()
	info, rc, err := e.b.GetObject(e.ctx, bucket, key, opts)
	if err != nil {
		if rc != nil {
			e.t.Errorf("GetObject(%s/%s) returned a reader with error %v", bucket, key, err)
			rc.Close()
		}
		return info, nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	return info, data, err
}

// mustGet reads an object and checks its body.
func (e *env) mustGet(bucket, key, versionID string, want []byte) store.ObjectInfo {
	e.t.Helper()
	info, got, err := e.get(bucket, key, store.GetOptions{VersionID: versionID})
	if err != nil {
		e.t.Fatalf("GetObject(%s/%s@%q): %v", bucket, key, versionID, err)
	}
	if !bytes.Equal(got, want) {
		e.t.Fatalf("GetObject(%s/%s@%q) body: got %d bytes (md5 %s), want %d bytes (md5 %s)",
			bucket, key, versionID, len(got), md5hex(got), len(want), md5hex(want))
	}
	if info.Size != int64(len(want)) {
		e.t.Errorf("GetObject(%s/%s@%q) Size = %d, want %d", bucket, key, versionID, info.Size, len(want))
	}
	return info
}

// absent checks that key has no readable latest version.
func (e *env) absent(bucket, key string) {
	e.t.Helper()
	if info, err := e.b.HeadObject(e.ctx, bucket, key, store.GetOptions{}); !errors.Is(err, store.ErrNoSuchKey) {
		e.t.Fatalf("HeadObject(%s/%s) = %+v, %v; want ErrNoSuchKey", bucket, key, info, err)
	}
	if _, _, err := e.get(bucket, key, store.GetOptions{}); !errors.Is(err, store.ErrNoSuchKey) {
		e.t.Fatalf("GetObject(%s/%s) error = %v; want ErrNoSuchKey", bucket, key, err)
	}
}

// versions lists every version of a bucket in one call.
func (e *env) versions(bucket, prefix string) []store.ObjectInfo {
	e.t.Helper()
	res, err := e.b.ListObjectVersions(e.ctx, bucket, store.ListVersionsOptions{Prefix: prefix, MaxKeys: 1000})
	if err != nil {
		e.t.Fatalf("ListObjectVersions(%s): %v", bucket, err)
	}
	if res.IsTruncated {
		e.t.Fatalf("ListObjectVersions(%s) truncated", bucket)
	}
	return res.Versions
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want %v", what, err, target)
	}
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func md5sum(b []byte) []byte {
	s := md5.Sum(b)
	return s[:]
}

// data returns n deterministic pseudo-random bytes.
func data(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// recent reports whether t is within a minute of now, as a modification
// time written by this test must be.
func recent(t time.Time) bool {
	d := time.Since(t)
	return d > -time.Minute && d < time.Minute
}

// failingReader yields data and then fails with err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// funcReader yields data, calling at once after `after` bytes were read.
type funcReader struct {
	data  []byte
	after int
	at    func()
	read  int
}

func (r *funcReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if r.at != nil && r.read >= r.after {
		r.at()
		r.at = nil
	}
	if r.read < r.after && r.read+len(p) > r.after {
		p = p[:r.after-r.read]
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	r.read += n
	return n, nil
}
