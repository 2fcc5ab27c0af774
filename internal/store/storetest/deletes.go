package storetest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cairn-s3/cairn/internal/store"
)

var deleteObjectsTests = []test{
	{"Unversioned", testDeleteObjectsUnversioned},
	{"Versioned", testDeleteObjectsVersioned},
	{"EntriesIndependent", testDeleteObjectsIndependent},
	{"MissingBucket", testDeleteObjectsMissingBucket},
	{"CheckHidden", testDeleteCheckHidden},
}

func (e *env) deleteObjects(bucket string, entries ...store.DeleteEntry) []store.DeleteOutcome {
	e.t.Helper()
	out := e.b.DeleteObjects(e.ctx, bucket, entries)
	if len(out) != len(entries) {
		e.t.Fatalf("DeleteObjects returned %d outcomes for %d entries", len(out), len(entries))
	}
	return out
}

func del(key string) store.DeleteEntry { return store.DeleteEntry{Key: key} }

// Entries are deleted as DeleteObject deletes each, in order: a missing key
// succeeds, a key named twice is deleted once and then found missing.
func testDeleteObjectsUnversioned(e *env) {
	e.mkbucket("b", store.Unversioned)
	for i := range 20 {
		e.put("b", fmt.Sprintf("k%02d", i), data(100*i, uint64(i)))
	}
	var entries []store.DeleteEntry
	for i := range 20 {
		entries = append(entries, del(fmt.Sprintf("k%02d", i)))
	}
	entries = append(entries, del("missing"), del("k03"))
	for i, o := range e.deleteObjects("b", entries...) {
		if o.Err != nil || o.Result.DeleteMarker || o.Result.VersionID != "" {
			e.t.Errorf("entry %d (%s): %+v", i, entries[i].Key, o)
		}
	}
	for i := range 20 {
		e.absent("b", fmt.Sprintf("k%02d", i))
	}
	if vs := e.versions("b", ""); len(vs) != 0 {
		e.t.Errorf("versions left: %+v", vs)
	}
}

// In a versioned bucket a plain entry adds a delete marker, one with a
// version id removes that version; a key named twice gets two markers.
func testDeleteObjectsVersioned(e *env) {
	e.mkbucket("b", store.Enabled)
	v1 := e.put("b", "a", []byte("a1"))
	e.put("b", "a", []byte("a2"))
	e.put("b", "b", []byte("b1"))
	out := e.deleteObjects("b",
		store.DeleteEntry{Key: "a", Options: store.DeleteOptions{VersionID: v1.VersionID}},
		del("b"), del("b"), del("c"))
	if o := out[0]; o.Err != nil || o.Result.DeleteMarker || o.Result.VersionID != v1.VersionID {
		e.t.Errorf("version delete: %+v", o)
	}
	for i := 1; i < 4; i++ {
		if o := out[i]; o.Err != nil || !o.Result.DeleteMarker || o.Result.VersionID == "" {
			e.t.Errorf("entry %d: %+v, want a delete marker", i, o)
		}
	}
	if out[1].Result.VersionID == out[2].Result.VersionID {
		e.t.Errorf("two deletes of b made one marker %s", out[1].Result.VersionID)
	}
	e.mustGet("b", "a", "", []byte("a2"))
	e.absent("b", "b")
	e.absent("b", "c")
	markers := 0
	for _, v := range e.versions("b", "") {
		if v.DeleteMarker {
			markers++
		}
	}
	if markers != 3 {
		e.t.Errorf("%d delete markers, want 3 (b twice, c)", markers)
	}
}

// One entry failing (its Check refuses) fails only that entry.
func testDeleteObjectsIndependent(e *env) {
	e.mkbucket("b", store.Unversioned)
	for _, k := range []string{"x", "locked", "y"} {
		e.put("b", k, []byte(k))
	}
	refuse := store.DeleteOptions{Check: func(store.ObjectInfo) error { return errTest }}
	out := e.deleteObjects("b", del("x"), store.DeleteEntry{Key: "locked", Options: refuse}, del("y"))
	if out[0].Err != nil || out[2].Err != nil {
		e.t.Errorf("entries beside a failing one: %+v, %+v", out[0], out[2])
	}
	if !errors.Is(out[1].Err, errTest) {
		e.t.Errorf("refused entry: %v, want the Check's error", out[1].Err)
	}
	e.absent("b", "x")
	e.absent("b", "y")
	e.mustGet("b", "locked", "", []byte("locked"))
}

func testDeleteObjectsMissingBucket(e *env) {
	for _, o := range e.deleteObjects("nope", del("a"), del("b")) {
		if !errors.Is(o.Err, store.ErrNoSuchBucket) {
			e.t.Errorf("outcome %+v, want ErrNoSuchBucket", o)
		}
	}
}

// CheckHidden sees the version a delete marker would hide (nil when the
// key has none) and can refuse the marker; a suspended bucket's marker,
// which replaces the null version, is refused the same way.
func testDeleteCheckHidden(e *env) {
	errStale := errors.New("not the version judged")
	for _, vs := range []store.Versioning{store.Enabled, store.Suspended} {
		bucket := "hidden-" + strings.ToLower(string(vs))
		e.mkbucket(bucket, vs)
		judged := e.put(bucket, "k", []byte("old"))
		e.put(bucket, "k", []byte("new")) // written after judged was listed
		var seen *store.ObjectInfo
		_, err := e.b.DeleteObject(e.ctx, bucket, "k", store.DeleteOptions{CheckHidden: func(h *store.ObjectInfo) error {
			seen = h
			if h == nil || h.VersionID != judged.VersionID || h.ETag != judged.ETag {
				return errStale
			}
			return nil
		}})
		if !errors.Is(err, errStale) {
			e.t.Errorf("%s: delete hiding a newer version: %v, want the check's error", vs, err)
		}
		if seen == nil || !seen.IsLatest || seen.Size != 3 {
			e.t.Errorf("%s: CheckHidden saw %+v, want the current version", vs, seen)
		}
		e.mustGet(bucket, "k", "", []byte("new"))
		var none bool
		if _, err := e.b.DeleteObject(e.ctx, bucket, "absent", store.DeleteOptions{CheckHidden: func(h *store.ObjectInfo) error {
			none = h == nil
			return nil
		}}); err != nil || !none {
			e.t.Errorf("%s: marker for a key without versions: err %v, check saw nil: %v", vs, err, none)
		}
	}
}
