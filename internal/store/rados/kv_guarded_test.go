//go:build rados

package rados

import (
	"errors"
	"testing"

	"github.com/cairn-s3/cairn/internal/kv"
)

// CompareEachAndApply writes only if every guarded key still holds what
// was read (nil: absent), and writes nothing otherwise.
func TestKVCompareEachAndApply(t *testing.T) {
	ctx := t.Context()
	s := openFresh(t, nil).KV().(kvStore)
	var b kv.Batch
	b.Put([]byte("g/a"), []byte("1"))
	b.Put([]byte("g/b"), []byte("2"))
	if err := s.Apply(ctx, &b); err != nil {
		t.Fatal(err)
	}
	try := func(guards []kv.Pair, key string) bool {
		t.Helper()
		var w kv.Batch
		w.Put([]byte(key), []byte("x"))
		done, err := s.CompareEachAndApply(ctx, guards, &w)
		if err != nil {
			t.Fatal(err)
		}
		_, gerr := s.Get(ctx, []byte(key))
		if written := gerr == nil; written != done {
			t.Fatalf("guards %q: done %v but %s written %v (%v)", guards, done, key, written, gerr)
		}
		if gerr != nil && !errors.Is(gerr, kv.ErrNotFound) {
			t.Fatal(gerr)
		}
		return done
	}
	pair := func(k, v string) kv.Pair {
		p := kv.Pair{Key: []byte(k)}
		if v != "" {
			p.Value = []byte(v)
		}
		return p
	}
	if !try([]kv.Pair{pair("g/a", "1"), pair("g/b", "2"), pair("g/none", "")}, "w/1") {
		t.Fatal("guards that hold: not applied")
	}
	if try([]kv.Pair{pair("g/a", "1"), pair("g/b", "changed")}, "w/2") {
		t.Fatal("a changed value: applied")
	}
	if try([]kv.Pair{pair("g/a", "")}, "w/3") {
		t.Fatal("a key guarded absent exists: applied")
	}
	if err := kv.Delete(ctx, s, []byte("g/a")); err != nil {
		t.Fatal(err)
	}
	if try([]kv.Pair{pair("g/a", "1")}, "w/4") {
		t.Fatal("a key removed since it was read: applied")
	}
}
