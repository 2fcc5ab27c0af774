package storetest

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/cairn-s3/cairn/internal/store"
)

var concurrencyTests = []test{
	{"SameKey", testConcurrentSameKey},
	{"SameKeyVersioned", testConcurrentSameKeyVersioned},
	{"DifferentKeys", testConcurrentDifferentKeys},
}

// concSizes mixes inline-sized and file-sized bodies.
var concSizes = []int{0, 100, 5000, 70 << 10, 300 << 10}

// readConsistent reads key until stop closes, checking that every body it
// gets matches the ETag returned with it: a reader never sees a torn object.
func (e *env) readConsistent(bucket, key string, stop <-chan struct{}, errs chan<- error) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		info, rc, err := e.b.GetObject(e.ctx, bucket, key, store.GetOptions{})
		if errors.Is(err, store.ErrNoSuchKey) {
			continue
		}
		if err != nil {
			errs <- fmt.Errorf("GetObject: %w", err)
			return
		}
		h := md5.New()
		n, err := io.Copy(h, rc)
		rc.Close()
		if err != nil {
			errs <- fmt.Errorf("read: %w", err)
			return
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != info.ETag || n != info.Size {
			errs <- fmt.Errorf("torn read: %d bytes with md5 %s, info says %d bytes, ETag %s", n, got, info.Size, info.ETag)
			return
		}
	}
}

func (e *env) hammer(bucket string, keyOf func(w, i int) string, writers, each int) map[string]bool {
	stop := make(chan struct{})
	errs := make(chan error, 64)
	var readers sync.WaitGroup
	for r := 0; r < 2; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			e.readConsistent(bucket, keyOf(0, 0), stop, errs)
		}()
	}
	var mu sync.Mutex
	etags := map[string]bool{}
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				body := data(concSizes[(w+i)%len(concSizes)], uint64(w*1000+i))
				info, err := e.b.PutObject(e.ctx, bucket, keyOf(w, i), &chunkReader{b: body, n: 7000}, store.PutOptions{Size: int64(len(body))})
				if err != nil {
					errs <- fmt.Errorf("PutObject: %w", err)
					return
				}
				mu.Lock()
				etags[info.ETag] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		e.t.Error(err)
	}
	return etags
}

// chunkReader returns its data in small reads, as a network body does.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[n:]
	return n, nil
}

func testConcurrentSameKey(e *env) {
	e.mkbucket("b", store.Unversioned)
	etags := e.hammer("b", func(int, int) string { return "hot" }, 6, 8)
	info, err := e.b.HeadObject(e.ctx, "b", "hot", store.GetOptions{})
	if err != nil || !etags[info.ETag] {
		e.t.Errorf("final object %+v, %v: not one of the writes", info, err)
	}
	if vs := e.versions("b", ""); len(vs) != 1 {
		e.t.Errorf("%d versions of an unversioned key, want 1", len(vs))
	}
}

func testConcurrentSameKeyVersioned(e *env) {
	e.mkbucket("b", store.Enabled)
	e.hammer("b", func(int, int) string { return "hot" }, 6, 8)
	vs := e.versions("b", "")
	if len(vs) != 48 {
		e.t.Fatalf("%d versions, want 48", len(vs))
	}
	ids := map[string]bool{}
	for i, v := range vs {
		if ids[v.VersionID] || v.IsLatest != (i == 0) {
			e.t.Errorf("version %d: %+v", i, v)
		}
		ids[v.VersionID] = true
	}
	// The latest version is the newest in the index.
	info, err := e.b.HeadObject(e.ctx, "b", "hot", store.GetOptions{})
	if err != nil || info.VersionID != vs[0].VersionID {
		e.t.Errorf("latest %+v, %v; index head %s", info, err, vs[0].VersionID)
	}
}

func testConcurrentDifferentKeys(e *env) {
	e.mkbucket("b", store.Unversioned)
	keyOf := func(w, i int) string { return fmt.Sprintf("k/%02d/%02d", w, i) }
	e.hammer("b", keyOf, 6, 8)
	res, err := e.b.ListObjects(e.ctx, "b", store.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res.Objects) != 48 {
		e.t.Fatalf("%d objects listed, want 48", len(res.Objects))
	}
	for w := 0; w < 6; w++ {
		for i := 0; i < 8; i++ {
			e.mustGet("b", keyOf(w, i), "", data(concSizes[(w+i)%len(concSizes)], uint64(w*1000+i)))
		}
	}
}
