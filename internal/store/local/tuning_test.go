package local

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/store"
)

// TestMetadataBloomFilters: point reads of keys a table does not hold (the
// null row of a key PUT for the first time) are answered by the table's
// bloom filter, without searching its blocks.
func TestMetadataBloomFilters(t *testing.T) {
	s := openTest(t, Options{})
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	put := func(key string) {
		if _, err := s.PutObject(ctx, "b", key, bytes.NewReader([]byte("x")), store.PutOptions{Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		put(fmt.Sprint("old", i))
	}
	if err := s.db.Flush(); err != nil { // into a table, which has a filter
		t.Fatal(err)
	}
	before := s.db.Metrics().Filter.Hits
	for i := range 100 {
		put(fmt.Sprint("new", i))
	}
	if hits := s.db.Metrics().Filter.Hits - before; hits < 100 {
		t.Errorf("%d point reads answered by bloom filters, want ≥ 100 (one null-row miss per new key)", hits)
	}
}

// TestMetadataOptionsInForce: the options Pebble records for the metadata
// DB are the tuned ones (Pebble's defaults were an 8 MB block cache and a
// 4 MB memtable).
func TestMetadataOptionsInForce(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	files, err := filepath.Glob(filepath.Join(dir, "meta", "OPTIONS-*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no OPTIONS file: %v", err)
	}
	data, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{fmt.Sprint("cache_size=", metaBlockCacheSize), fmt.Sprint("mem_table_size=", metaMemTableSize),
		"filter_policy=rocksdb.BuiltinBloomFilter"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("OPTIONS lacks %q:\n%s", want, data)
		}
	}
}
