package lifecycle

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// TestWalkResumesEveryEntry walks a versioned bucket one entry per step,
// with a new worker (a restart) before every step, on the local store: the
// cursor alone must carry the walk's memory (noncurrent ranks, the age of
// each noncurrent version, a current delete marker whose key's next entry
// is on the next page), so the outcome is that of one uninterrupted walk
// and each removal is counted once.
func TestWalkResumesEveryEntry(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	cfg := `<LifecycleConfiguration><Rule><ID>r</ID><Filter></Filter><Status>Enabled</Status>` +
		`<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>` +
		`<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>` +
		`</Rule></LifecycleConfiguration>`
	if err := st.CreateBucket(ctx, store.Bucket{Name: "b", Created: time.Now(), Versioning: store.Enabled,
		Config: map[string][]byte{ConfigKey: []byte(cfg)}}); err != nil {
		t.Fatal(err)
	}
	put := func(key string) store.ObjectInfo {
		oi, err := st.PutObject(ctx, "b", key, strings.NewReader("x"), store.PutOptions{Size: 1})
		if err != nil {
			t.Fatal(err)
		}
		return oi
	}
	var a []store.ObjectInfo
	for range 5 {
		a = append(a, put("a"))
	}
	lone := put("b")
	if _, err := st.DeleteObject(ctx, "b", "b", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeleteObject(ctx, "b", "b", store.DeleteOptions{VersionID: lone.VersionID}); err != nil {
		t.Fatal(err)
	}
	put("c")

	later := time.Now().Add(time.Hour)
	opts := Options{Day: time.Second, PageSize: 1, Now: func() time.Time { return later }}
	for step, done := 0, false; !done; step++ {
		if step > 50 {
			t.Fatal("the walk does not end")
		}
		w := New(st, st.KV(), opts) // a restart before every step
		var err error
		if done, err = w.advance(ctx, "b", step == 0); err != nil {
			t.Fatal(err)
		}
	}
	res, err := st.ListObjectVersions(ctx, "b", store.ListVersionsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range res.Versions {
		got = append(got, v.Key+" "+v.VersionID)
	}
	want := []string{"a " + a[4].VersionID, "a " + a[3].VersionID, "a " + a[2].VersionID, "c " + res.Versions[len(res.Versions)-1].VersionID}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("left %v, want %v (the current a, its 2 newest noncurrent versions, c)", got, want)
	}
	s, err := loadState(ctx, st.KV(), "b")
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusComplete || s.Removed != 3 || s.Totals.Removed != 3 {
		t.Errorf("state %+v, want COMPLETE with 3 removed (a's 2 oldest, b's lone marker)", s)
	}
}

// TestForgetGoneBuckets: the cursor of a deleted bucket is dropped, and a
// bucket re-created under the name starts afresh.
func TestForgetGoneBuckets(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	cfg := map[string][]byte{ConfigKey: []byte(`<LifecycleConfiguration><Rule><ID>r</ID><Prefix></Prefix><Status>Enabled</Status>` +
		`<Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`)}
	if err := st.CreateBucket(ctx, store.Bucket{Name: "gone", Created: time.Now(), Config: cfg}); err != nil {
		t.Fatal(err)
	}
	w := New(st, st.KV(), Options{Day: time.Hour})
	if err := w.walkAll(ctx, false); err != nil {
		t.Fatal(err)
	}
	if s, err := loadState(ctx, st.KV(), "gone"); err != nil || s.Status != StatusComplete {
		t.Fatalf("state %+v, %v; want a complete pass", s, err)
	}
	if err := st.DeleteBucket(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := w.walkAll(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := st.KV().Get(ctx, stateKey("gone")); err == nil {
		t.Error("the deleted bucket's cursor is still there")
	}
}

// openStore opens a local store in a fresh directory, closed when the
// test ends.
func openStore(t *testing.T) *local.Store {
	t.Helper()
	st, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
