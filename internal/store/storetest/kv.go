package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cairn-s3/cairn/internal/kv"
)

// RunKV runs the conformance suite of kv.Store against the stores open
// returns; each must be fresh and empty.
func RunKV(t *testing.T, open func(t *testing.T) kv.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s kv.Store)
	}{
		{"GetMissing", testKVGetMissing},
		{"PutGetDelete", testKVPutGetDelete},
		{"EmptyValue", testKVEmptyValue},
		{"BatchAtomic", testKVBatch},
		{"Scan", testKVScan},
		{"ScanStop", testKVScanStop},
		{"Cancelled", testKVCancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

var bg = context.Background()

func kvGet(t *testing.T, s kv.Store, key string) ([]byte, error) {
	t.Helper()
	return s.Get(bg, []byte(key))
}

func testKVGetMissing(t *testing.T, s kv.Store) {
	_, err := kvGet(t, s, "users/nobody")
	wantErr(t, "Get of a missing key", err, kv.ErrNotFound)
}

func testKVPutGetDelete(t *testing.T, s kv.Store) {
	if err := kv.Put(bg, s, []byte("users/alice"), []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := kv.Put(bg, s, []byte("users/alice"), []byte("v2")); err != nil {
		t.Fatal(err)
	}
	got, err := kvGet(t, s, "users/alice")
	if err != nil || string(got) != "v2" {
		t.Fatalf("Get = %q, %v; want v2", got, err)
	}
	// The returned slice belongs to the caller.
	got[0] = 'X'
	if again, _ := kvGet(t, s, "users/alice"); string(again) != "v2" {
		t.Errorf("modifying a returned value changed the store: %q", again)
	}
	if err := kv.Delete(bg, s, []byte("users/alice")); err != nil {
		t.Fatal(err)
	}
	_, err = kvGet(t, s, "users/alice")
	wantErr(t, "Get after Delete", err, kv.ErrNotFound)
	if err := kv.Delete(bg, s, []byte("users/alice")); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
}

func testKVEmptyValue(t *testing.T, s kv.Store) {
	if err := kv.Put(bg, s, []byte("flags/x"), []byte{}); err != nil {
		t.Fatal(err)
	}
	got, err := kvGet(t, s, "flags/x")
	if err != nil || len(got) != 0 {
		t.Errorf("Get of an empty value = %q, %v", got, err)
	}
}

func testKVBatch(t *testing.T, s kv.Store) {
	if err := kv.Put(bg, s, []byte("q/old"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	var b kv.Batch
	b.Put([]byte("q/1"), []byte("one"))
	b.Put([]byte("q/2"), []byte("two"))
	b.Delete([]byte("q/old"))
	b.Put([]byte("q/1"), []byte("uno")) // later writes win
	if err := s.Apply(bg, &b); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"q/1": "uno", "q/2": "two"} {
		if got, err := kvGet(t, s, k); err != nil || string(got) != want {
			t.Errorf("Get(%s) = %q, %v; want %q", k, got, err, want)
		}
	}
	_, err := kvGet(t, s, "q/old")
	wantErr(t, "Get of a key deleted in a batch", err, kv.ErrNotFound)
	if err := s.Apply(bg, &kv.Batch{}); err != nil {
		t.Errorf("Apply of an empty batch: %v", err)
	}
}

func scanAll(t *testing.T, s kv.Store, prefix, start string) []string {
	t.Helper()
	var out []string
	for p, err := range s.Scan(bg, []byte(prefix), []byte(start)) {
		if err != nil {
			t.Fatalf("Scan(%q, %q): %v", prefix, start, err)
		}
		out = append(out, string(p.Key)+"="+string(p.Value))
	}
	return out
}

func testKVScan(t *testing.T, s kv.Store) {
	var b kv.Batch
	for _, k := range []string{"topics/b", "topics/a", "topics/c/1", "topicsx", "topic", "users/a", "t", "topics/\xff"} {
		b.Put([]byte(k), []byte("v"+k))
	}
	if err := s.Apply(bg, &b); err != nil {
		t.Fatal(err)
	}
	got := scanAll(t, s, "topics/", "")
	want := []string{"topics/a=vtopics/a", "topics/b=vtopics/b", "topics/c/1=vtopics/c/1", "topics/\xff=vtopics/\xff"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Scan(topics/) = %q, want %q", got, want)
	}
	if got := scanAll(t, s, "topics/", "topics/b"); len(got) != 3 || got[0] != "topics/b=vtopics/b" {
		t.Errorf("Scan(topics/, start topics/b) = %q", got)
	}
	if got := scanAll(t, s, "topics/", "topics/bb"); len(got) != 2 || got[0] != "topics/c/1=vtopics/c/1" {
		t.Errorf("Scan(topics/, start topics/bb) = %q", got)
	}
	if got := scanAll(t, s, "nothing/", ""); len(got) != 0 {
		t.Errorf("Scan of an empty prefix = %q", got)
	}
	if got := scanAll(t, s, "", ""); len(got) != 8 {
		t.Errorf("Scan of everything = %d pairs, want 8", len(got))
	}
}

func testKVScanStop(t *testing.T, s kv.Store) {
	var b kv.Batch
	for i := 0; i < 10; i++ {
		b.Put(fmt.Appendf(nil, "n/%02d", i), []byte{byte(i)})
	}
	if err := s.Apply(bg, &b); err != nil {
		t.Fatal(err)
	}
	n := 0
	for p, err := range s.Scan(bg, []byte("n/"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p.Value, []byte{byte(n)}) {
			t.Errorf("pair %d = %v", n, p)
		}
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("stopped after %d pairs, want 3", n)
	}
}

func testKVCancelled(t *testing.T, s kv.Store) {
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := kv.Put(ctx, s, []byte("x/y"), []byte("z")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: %v", err)
	}
	if _, err := kvGet(t, s, "x/y"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("cancelled Put was applied: %v", err)
	}
}
